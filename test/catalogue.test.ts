/**
 * The event catalogue follows the code, and today's event schemas can still read the last
 * release's events. No Temporal or PostgreSQL here: the catalogue is built from the registry the
 * workers load (scripts/catalogue.ts), the files compared with what is on disk, and the schemas
 * with docs/event-schemas/ (scripts/event-compat.ts). The comparison is also run on deliberately
 * broken schemas, so a check that stopped finding breaks would fail here too.
 */
import YAML from 'yaml';
import { z } from 'zod';
import { loadRegistry } from '../workers/registry';
import { orderCancelledData, orderPlacedData, addressSchema, SHIPPING_OPTIONS } from '../workflows/orders/contract';
import {
  GENERATE_COMMAND,
  buildCatalogue,
  currentSchemas,
  dataSchema,
  generatedFiles,
  latestSnapshot,
  readRepoFile,
  renderAsyncApi,
  staleFiles,
} from '../scripts/catalogue';
import { compareEventSchemas, describeIncompatibility, type JsonSchema } from '../scripts/event-compat';

const catalogue = buildCatalogue();

describe('the generated event catalogue', () => {
  it.each(generatedFiles(catalogue).map((f) => f.file))('fails when %s is not what the code generates', (file) => {
    expect(staleFiles(catalogue).filter((line) => line.startsWith(`${file} `))).toEqual([]);
  });

  it('names the stale file, the first differing line and the command to run', () => {
    // Every file as generated, but one subscriber renamed by hand in architecture.md.
    const fresh = new Map(generatedFiles(catalogue).map((f) => [f.file, f.render(readRepoFile(f.file))]));
    const edited = fresh.get('docs/architecture.md')?.replace('| `orders.track-shipment.delivered` |', '| `orders.track-shipment.arrived` |');
    expect(edited).not.toBe(fresh.get('docs/architecture.md'));
    const stale = staleFiles(catalogue, (file) => (file === 'docs/architecture.md' ? edited : fresh.get(file)));
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatch(/^docs\/architecture\.md is not what the code generates \(line \d+: expected ".*orders\.track-shipment\.delivered.*"\)/);
    expect(stale[0]).toContain(GENERATE_COMMAND);
  });

  it('regenerates byte for byte from unchanged code', () => {
    expect(renderAsyncApi(buildCatalogue())).toBe(renderAsyncApi(catalogue));
  });

  it('describes every event and every subscription the bus delivers, with references that resolve', () => {
    const registry = loadRegistry();
    const doc = YAML.parse(renderAsyncApi(catalogue)) as {
      asyncapi: string;
      channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
      operations: Record<string, { action: string; channel: { $ref: string }; messages: { $ref: string }[] }>;
      components: { messages: Record<string, unknown> };
    };
    expect(doc.asyncapi).toBe('3.0.0');
    expect(Object.keys(doc.channels).sort()).toEqual([...registry.events.keys()].sort());
    const receives = Object.entries(doc.operations).filter(([, op]) => op.action === 'receive');
    expect(receives.map(([name]) => name).sort()).toEqual(registry.subscriptions.map((s) => s.name).sort());
    expect(Object.values(doc.operations).filter((op) => op.action === 'send')).toHaveLength(registry.events.size);
    const resolve = (ref: string): unknown =>
      ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
    for (const [name, op] of Object.entries(doc.operations)) {
      expect([name, resolve(op.channel.$ref) !== undefined]).toEqual([name, true]);
      for (const message of op.messages) expect([name, resolve(message.$ref) !== undefined]).toEqual([name, true]);
    }
    for (const channel of Object.values(doc.channels)) for (const m of Object.values(channel.messages)) expect(resolve(m.$ref)).toBeDefined();
  });

  it('says who publishes an event and how each subscriber is reached', () => {
    const doc = YAML.parse(renderAsyncApi(catalogue)) as { operations: Record<string, Record<string, unknown>> };
    expect(doc.operations['publish.order.placed']['x-publisher']).toEqual({ domain: 'orders' });
    expect(doc.operations['payment.charge-express-shipping']['x-subscriber']).toEqual({
      domain: 'payment',
      taskQueue: 'payment',
      workflowType: 'chargeWorkflow',
      delivery: 'start',
      reopen: false,
      workflowId: 'charge:shipping:<orderId>',
      when: "e.data.shipping === 'express' && !!e.data.shippingFeeCents",
      scope: 'order',
    });
    expect(doc.operations['accounting.book-item-sold']['x-subscriber']).toMatchObject({
      delivery: 'start',
      reopen: true,
      workflowId: 'ledger:<customerId>',
      scope: 'customer',
    });
    expect(doc.operations['orders.track-shipment.shipped']['x-subscriber']).toMatchObject({
      delivery: 'signal',
      workflowId: 'order:<correlationId>',
      when: null,
    });
  });
});

describe('event schemas against the last release', () => {
  const snapshot = latestSnapshot();
  if (!snapshot) throw new Error(`no docs/event-schemas/v<version>.json: take one with \`${GENERATE_COMMAND} -- --snapshot\``);
  const today = currentSchemas(catalogue);
  // The deliberate breaks below are measured from today's schemas, so they hold whatever the snapshot says.
  /** Today's schemas with one event's data schema replaced, as if its contract.ts had been edited. */
  const edited = (type: string, schema: z.ZodType): Record<string, JsonSchema> => ({ ...today, [type]: dataSchema(schema) });

  it(`fails when an event's schema is incompatible with ${snapshot.file}`, () => {
    expect(compareEventSchemas(snapshot.events, today).map(describeIncompatibility)).toEqual([]);
  });

  it('reports a removed field with the event type and field path', () => {
    expect(compareEventSchemas(today, edited('order.placed', orderPlacedData.omit({ size: true })))).toEqual([
      { eventType: 'order.placed', path: 'data.size', change: 'field removed', detail: 'was required' },
    ]);
    const nested = edited('order.placed', orderPlacedData.extend({ address: addressSchema.omit({ line2: true }) }));
    expect(compareEventSchemas(today, nested)).toEqual([
      { eventType: 'order.placed', path: 'data.address.line2', change: 'field removed', detail: 'was optional' },
    ]);
  });

  it('reports a retyped field with the event type and field path', () => {
    expect(compareEventSchemas(today, edited('order.placed', orderPlacedData.extend({ itemCount: z.string() })))).toEqual([
      { eventType: 'order.placed', path: 'data.itemCount', change: 'type changed', detail: 'integer → string' },
    ]);
  });

  it('reports a removed event type, an optional field made required and a removed enum value', () => {
    const { ['order.placed']: _removed, ...withoutOrderPlaced } = today;
    expect(compareEventSchemas(today, withoutOrderPlaced).map((i) => [i.eventType, i.change])).toEqual([['order.placed', 'event removed']]);
    expect(compareEventSchemas(today, edited('order.placed', orderPlacedData.extend({ shipping: z.enum(SHIPPING_OPTIONS) })))).toEqual([
      expect.objectContaining({ eventType: 'order.placed', path: 'data.shipping', change: 'made required' }),
    ]);
    expect(compareEventSchemas(today, edited('order.cancelled', orderCancelledData.extend({ cancelledBy: z.enum(['customer']) })))).toEqual([
      { eventType: 'order.cancelled', path: 'data.cancelledBy', change: 'enum value removed', detail: '"system"' },
    ]);
  });

  it('reports a new required field and a tightened bound, but not the same bound written another way', () => {
    const stricter = orderPlacedData.extend({ giftNote: z.string(), itemCount: z.number().int().min(2) });
    expect(compareEventSchemas(today, edited('order.placed', stricter)).map((i) => [i.path, i.change])).toEqual([
      ['data.itemCount', 'constraint tightened'],
      ['data.giftNote', 'required field added'],
    ]);
    // .positive() on an integer is exclusiveMinimum 0, .min(1) is minimum 1: the same integers.
    expect(compareEventSchemas(today, edited('order.placed', orderPlacedData.extend({ shippingFeeCents: z.number().int().min(1).optional() })))).toEqual([]);
  });

  it('accepts a new optional field, a new enum value, a widened type and a new event', () => {
    const wider = orderCancelledData.extend({ cancelledBy: z.enum(['customer', 'system', 'ops']), reason: z.string().nullable(), note: z.string().optional() });
    expect(compareEventSchemas(today, { ...edited('order.cancelled', wider), 'order.gifted': dataSchema(z.object({ orderId: z.string() })) })).toEqual([]);
  });

  it('reports a schema it cannot compare instead of passing it', () => {
    expect(compareEventSchemas(today, { ...today, 'order.placed': { $ref: '#/definitions/OrderPlaced' } })).toEqual([
      expect.objectContaining({ eventType: 'order.placed', path: 'data', change: 'not understood' }),
    ]);
  });
});
