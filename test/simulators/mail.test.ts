/** The mail simulator as a real HTTP service: idempotent sends, the inbox, the fault knobs. */
import { createMailSimulator, type MailRunningServer, type MailSimulator } from '../../simulators/mail/server';

let simulator: MailSimulator;
let server: MailRunningServer;

beforeEach(async () => {
  simulator = createMailSimulator();
  server = await simulator.start(0);
});
afterEach(async () => {
  await server?.close();
});

const send = (key: string | undefined, body: unknown) =>
  fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
    body: JSON.stringify(body),
  });
const message = (to: string, text = 'hello') => ({ to, subject: 'Hi', text, tag: 'test' });
const inbox = async (to: string) =>
  (
    (await (await fetch(`${server.url}/admin/messages?to=${encodeURIComponent(to)}`)).json()) as {
      messages: { messageId: string; text: string; idempotencyKey: string }[];
    }
  ).messages;
const setFaults = (faults: unknown) =>
  fetch(`${server.url}/admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });

describe('the mail simulator', () => {
  it('accepts a message once per Idempotency-Key: a retry replays the answer and delivers nothing twice', async () => {
    const first = await send('k1', message('ada@example.test'));
    expect(first.status).toBe(202);
    const accepted = await first.json();
    expect(accepted).toEqual({ messageId: expect.stringMatching(/^msg_/), status: 'accepted', acceptedAt: expect.any(String) });
    const again = await send('k1', message('ada@example.test'));
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(accepted);
    expect(await inbox('ada@example.test')).toHaveLength(1);
    expect(simulator.requestsByKey.get('k1')).toBe(2);
  });

  it('refuses a reused key with another message (422), a missing key and an invalid message (400)', async () => {
    await send('k2', message('ada@example.test', 'one'));
    expect((await send('k2', message('ada@example.test', 'two'))).status).toBe(422);
    expect(await (await send(undefined, message('ada@example.test'))).json()).toEqual({ error: 'missing_idempotency_key', detail: expect.any(String) });
    expect((await send('k3', { ...message('not-an-address'), extra: 1 })).status).toBe(400);
  });

  it("lists one recipient's messages newest first, whatever the address's case", async () => {
    await send('a', message('Grace@Example.test', 'first'));
    await send('b', message('someone@example.test', 'other'));
    await send('c', message('grace@example.test', 'second'));
    expect((await inbox('GRACE@example.test')).map((m) => m.text)).toEqual(['second', 'first']);
  });

  it('answers 503 during an outage or a failure, stores nothing, and takes the same key again afterwards', async () => {
    expect((await setFaults({ outageUntil: '2999-01-01T00:00:00Z' })).status).toBe(200);
    const down = await send('k4', message('ada@example.test'));
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: 'outage' });
    await setFaults({ outageUntil: null, failureRate: 1 });
    expect(await (await send('k4', message('ada@example.test'))).json()).toEqual({ error: 'unavailable' });
    expect(await inbox('ada@example.test')).toHaveLength(0);
    await setFaults({ failureRate: 0 });
    expect((await send('k4', message('ada@example.test'))).status).toBe(202);
    expect(await inbox('ada@example.test')).toHaveLength(1);
    expect((await setFaults({ failureRate: 2 })).status).toBe(400);
  });
});
