/**
 * The portal's own tables (billing/migrations/1*.sql) after the ledger's (0*.sql, applied by the engine's
 * migrate()). Recorded in the same billing_migrations table, so each file still runs once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { MIGRATIONS_DIR, inTransaction, migrate } from '../db';

/** Distinct from the ledger's lock: both runners may be waiting at once. */
const PORTAL_MIGRATION_LOCK_ID = '5064314897100288001';

export async function migratePortal(pool: Pool): Promise<string[]> {
  const applied = await migrate(pool);
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^1\d*_.+\.sql$/.test(f)).sort();
  for (const file of files) {
    const ran = await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PORTAL_MIGRATION_LOCK_ID]);
      const done = await client.query('SELECT 1 FROM billing_migrations WHERE name = $1', [file]);
      if (done.rowCount) return false;
      await client.query(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'));
      await client.query('INSERT INTO billing_migrations (name) VALUES ($1)', [file]);
      return true;
    }).catch((err: Error) => {
      throw new Error(`portal migration ${file} failed: ${err.message}`);
    });
    if (ran) applied.push(file);
  }
  return applied;
}
