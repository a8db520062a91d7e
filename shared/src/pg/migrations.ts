/**
 * The one PostgreSQL migration runner. Each component keeps its schema's SQL files in a folder of its own and a
 * table of the names applied; files apply in name order, each once, each in its own transaction. Several processes
 * may start at once: an advisory lock makes them take turns.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';

/** Any advisory lock id works as long as it is constant; this one is "FLYMIGR" in ASCII. */
const MIGRATION_LOCK_ID = 0x464c594d49475200n;

export interface MigrationSet {
  /** Folder of the SQL files. */
  dir: string;
  /** Which files of the folder belong to this set (default: every *.sql). */
  match?: RegExp;
  /** Table recording applied names, e.g. `billing_migrations` or `maintenance.migrations`. */
  table: string;
  /** Runs before the table is made (e.g. CREATE SCHEMA IF NOT EXISTS maintenance). */
  prelude?: string;
  /** Names the component in errors: "<what> migration 0001_x.sql failed: ...". */
  describe: (file: string) => string;
}

/** Applies what is not yet applied; returns the names it applied. */
export async function applyMigrations(pool: Pool, set: MigrationSet): Promise<string[]> {
  const match = set.match ?? /\.sql$/;
  const files = readdirSync(set.dir)
    .filter((f) => match.test(f))
    .sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID.toString()]);
    if (set.prelude) await client.query(set.prelude);
    await client.query(`CREATE TABLE IF NOT EXISTS ${set.table} (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ name: string }>(`SELECT name FROM ${set.table}`)).rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = readFileSync(path.join(set.dir, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query(`INSERT INTO ${set.table} (name) VALUES ($1)`, [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`${set.describe(file)} migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID.toString()]).catch(() => undefined);
    client.release();
  }
  return applied;
}
