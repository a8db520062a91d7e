/** PostgreSQL plumbing for billing: the pool, the one migration runner (every schema) and the transaction helper. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Pool, type PoolClient, type PoolConfig } from 'pg';

export const MIGRATIONS_DIR = path.join(__dirname, '..', 'migrations');

/** Any advisory lock id works as long as it is constant; this one is "FLYMIGR" in ASCII. */
const MIGRATION_LOCK_ID = 0x464c594d49475200n;

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

/**
 * The one migration runner: applies the migration files of the given schemas (default: the ledger) in name
 * order, each once, each in its own transaction. Safe to call from several processes at once: an advisory lock
 * makes them take turns. Returns the names it applied.
 */
export async function migrate(pool: Pool, schemas: readonly Schema[] = ['ledger']): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => schemas.some((schema) => SCHEMAS[schema].test(f)))
    .sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID.toString()]);
    await client.query(`CREATE TABLE IF NOT EXISTS billing_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM billing_migrations')).rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO billing_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        const what = SCHEMAS.portal.test(file) ? 'portal' : 'billing';
        throw new Error(`${what} migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID.toString()]).catch(() => undefined);
    client.release();
  }
  return applied;
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

/** Runs fn inside BEGIN/COMMIT on one client; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** bigint columns arrive as strings; satoshi amounts stay far below 2^53 (21e14 sat exist), so numbers are exact. */
export function satoshi(value: string | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`satoshi amount ${String(value)} is not a safe integer`);
  return n;
}
