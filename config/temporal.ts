/** Temporal connection options from the validated config: local dev server, self-hosted TLS, or Temporal Cloud. */
import fs from 'node:fs';
import type { Config } from './index';

/** Options accepted by both `Connection.connect` (client) and `NativeConnection.connect` (worker). */
export function temporalConnectionOptions(config: Config) {
  const tls =
    config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
      ? { clientCertPair: { crt: fs.readFileSync(config.TEMPORAL_TLS_CERT_PATH), key: fs.readFileSync(config.TEMPORAL_TLS_KEY_PATH) } }
      : config.TEMPORAL_API_KEY
        ? true
        : undefined;
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}
