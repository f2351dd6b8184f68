import * as fs from 'node:fs';
import { testGlobals } from './global-setup';
import { recordAllHistories, recordingDir } from './history-recorder';

export default async function globalTeardown(): Promise<void> {
  const g = testGlobals();
  const errors: unknown[] = [];
  if (g.temporalEnv) {
    // Recording for the replay gate (npm run histories:record): the dev server's histories, before it stops.
    if (recordingDir()) await recordAllHistories(g.temporalEnv.client, 'dev server').catch((e) => errors.push(e));
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
