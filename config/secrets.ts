/**
 * Shared secrets with no public default. A process that needs one refuses to start without it
 * (and refuses a value that was ever published in this repository); `npm start` and
 * scripts/api-stack.ts generate one into DATA_DIR once and hand it to what they launch.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './index';

/** Where `npm start` keeps the WMS webhook secret it generated, under DATA_DIR. */
export const WMS_WEBHOOK_SECRET_FILE = 'wms-webhook-secret';

/** Values that were defaults in this public repository: anyone can sign with them. */
const PUBLISHED_WMS_WEBHOOK_SECRETS: readonly string[] = ['closetflow-local-wms-webhook-secret'];

/** The WMS webhook secret, or a ConfigError naming WMS_WEBHOOK_SECRET when it is unset or a published value. */
export function requireWmsWebhookSecret(secret: string | undefined): string {
  if (!secret) {
    throw new ConfigError(
      'WMS_WEBHOOK_SECRET is not set: set it to a random value of 16+ characters shared with the WMS (npm start generates one into DATA_DIR)',
    );
  }
  if (PUBLISHED_WMS_WEBHOOK_SECRETS.includes(secret)) {
    throw new ConfigError('WMS_WEBHOOK_SECRET is the former public default, which anyone can sign webhooks with: set a random value of 16+ characters');
  }
  return secret;
}

/**
 * Reads `<dataDir>/<file>`, creating it first (exclusively, mode 0600) with 48 random bytes if
 * absent, so every start of the same DATA_DIR gets the same secret.
 */
export function loadOrCreateSecret({ dataDir, file }: { dataDir: string; file: string }): string {
  const where = path.join(dataDir, file);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists, so two processes starting together cannot overwrite each other.
    fs.writeFileSync(where, `${randomBytes(48).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Tighten a file someone created with looser permissions.
  if ((fs.statSync(where).mode & 0o077) !== 0) fs.chmodSync(where, 0o600);
  const secret = fs.readFileSync(where, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${where} holds a secret shorter than 32 characters; delete it to generate a new one`);
  return secret;
}
