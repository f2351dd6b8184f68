import * as fs from 'node:fs';
import { testGlobals } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const g = testGlobals();
  const errors: unknown[] = [];
  if (g.temporalEnv) {
    await g.temporalEnv.teardown().catch((e) => errors.push(e));
    g.temporalEnv = undefined;
  }
  if (g.mail) {
    await g.mail.close().catch((e) => errors.push(e));
    g.mail = undefined;
  }
  if (g.pg) {
    await g.pg.stop().catch((e) => errors.push(e));
    g.pg = undefined;
  }
  if (g.tmpDir) {
    fs.rmSync(g.tmpDir, { recursive: true, force: true });
    g.tmpDir = undefined;
  }
  if (errors.length) console.error('[test-teardown] errors during teardown:', errors);
}
