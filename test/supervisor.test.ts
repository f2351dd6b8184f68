/** The embedded stack's supervisor: a crashed worker comes back, and shutdown stops everything. */
import pino from 'pino';
import { Supervisor } from '../scripts/supervisor';

const silent = pino({ level: 'silent' });

describe('Supervisor', () => {
  it('restarts a service that crashes and stops it on shutdown', async () => {
    const supervisor = new Supervisor(silent);
    // Crashes on the first run (no marker file yet), then stays up.
    const marker = `/tmp/closetflow-supervisor-${process.pid}-${Date.now()}`;
    supervisor.start({
      name: 'flaky',
      command: process.execPath,
      args: ['-e', `const fs=require('fs');if(!fs.existsSync('${marker}')){fs.writeFileSync('${marker}','');process.exit(3)}setInterval(()=>{},1000)`],
    });
    const deadline = Date.now() + 10_000;
    while (supervisor.restarts().flaky < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(supervisor.restarts().flaky).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    const pid = supervisor.pid('flaky')!;
    expect(() => process.kill(pid, 0)).not.toThrow();

    await supervisor.stopAll(5_000);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(supervisor.restarts().flaky).toBe(1);
  });

  it('kills a service that ignores SIGTERM once the grace period is over', async () => {
    const supervisor = new Supervisor(silent);
    supervisor.start({ name: 'stubborn', command: process.execPath, args: ['-e', "process.on('SIGTERM',()=>{});setInterval(()=>{},1000)"] });
    await new Promise((r) => setTimeout(r, 500));
    const pid = supervisor.pid('stubborn')!;
    const started = Date.now();
    await supervisor.stopAll(500);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
