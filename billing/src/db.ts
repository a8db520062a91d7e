/** PostgreSQL plumbing for billing: the pool, the one migration runner (every schema) and the transaction helper. */
import path from 'node:path';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { applyMigrations } from '@flymining/shared/src/pg/migrations';

export const MIGRATIONS_DIR = path.join(__dirname, '..', 'migrations');

export function openPool(url = process.env.FLYMINING_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/flymining', extra: PoolConfig = {}): Pool {
  const pool = new Pool({ connectionString: url, max: 10, ...extra });
  // An idle connection dropped by the server (restart, failover) must not crash a long-running scheduler: the
  // pool replaces it on the next query, and that query reports any lasting outage.
  pool.on('error', (err) => process.stderr.write(`billing: idle PostgreSQL connection lost: ${err.message}
`));
  return pool;
}

/**
 * The schemas billing keeps in billing/migrations/, by file-name prefix: the ledger's 0*.sql, then the investor
 * portal's own tables 1*.sql. All are applied by the one runner below and recorded in billing_migrations.
 */
export const SCHEMAS = { ledger: /^0\d*_.+\.sql$/, portal: /^1\d*_.+\.sql$/ } as const;
export type Schema = keyof typeof SCHEMAS;

/** Applies the migration files of the given schemas (default: the ledger) through the shared runner. */
export function migrate(pool: Pool, schemas: readonly Schema[] = ['ledger']): Promise<string[]> {
  return applyMigrations(pool, {
    dir: MIGRATIONS_DIR,
    match: new RegExp(schemas.map((schema) => SCHEMAS[schema].source).join('|')),
    table: 'billing_migrations',
    describe: (file) => (SCHEMAS.portal.test(file) ? 'portal' : 'billing'),
  });
}

/** The ledger's and the investor portal's tables: what the portal, its CLI and demo seed need. */
export function migratePortal(pool: Pool): Promise<string[]> {
  return migrate(pool, ['ledger', 'portal']);
}

/** Anything that runs a query: the pool (each statement on its own) or a client inside a transaction. */
export type Queryable = Pool | PoolClient;

/**
 * A client inside BEGIN ... COMMIT, handed out by inTransaction. Services that must be atomic take one of these,
 * so the caller decides the transaction's scope.
 */
export type Tx = PoolClient;

export { inTransaction } from '@flymining/shared/src/pg/transaction';

/** bigint columns arrive as strings; satoshi amounts stay far below 2^53 (21e14 sat exist), so numbers are exact. */
export function satoshi(value: string | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`satoshi amount ${String(value)} is not a safe integer`);
  return n;
}
