/**
 * The JWT signing secret when `JWT_SECRET` is not configured: generated once and kept in
 * `<DATA_DIR>/jwt-secret` (mode 0600), so restarting the API keeps issued tokens valid.
 */
import { loadOrCreateSecret } from '../../config/secrets';

export const JWT_SECRET_FILE = 'jwt-secret';

/** Reads `<dataDir>/jwt-secret`, creating it (exclusively, 0600) with 48 random bytes if absent. */
export function loadOrCreateJwtSecret(dataDir: string): string {
  return loadOrCreateSecret({ dataDir, file: JWT_SECRET_FILE });
}
