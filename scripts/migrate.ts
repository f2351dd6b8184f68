/** `npm run db:migrate`: applies the committed SQL migrations to DATABASE_URL. */
import { loadConfig } from '../config';
import { migrateDatabase } from '../db/client';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is required (npm start runs migrations itself for the embedded database)');
  await migrateDatabase(config.DATABASE_URL);
  process.stdout.write('migrations applied\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
