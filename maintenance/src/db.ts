/** The maintenance schema's migrations (maintenance/migrations, recorded in maintenance.migrations). */
import path from 'node:path';
import type { Pool } from 'pg';
import { applyMigrations } from '@flymining/shared/src/pg/migrations';

export const MIGRATIONS_DIR = path.join(__dirname, '..', 'migrations');

export function migrateMaintenance(pool: Pool): Promise<string[]> {
  return applyMigrations(pool, {
    dir: MIGRATIONS_DIR,
    table: 'maintenance.migrations',
    prelude: 'CREATE SCHEMA IF NOT EXISTS maintenance',
    describe: () => 'maintenance',
  });
}

export { inTransaction } from '@flymining/shared/src/pg/transaction';
