/** A fresh PostgreSQL database per test file, migrated; dropped again at the end. */
import { Client, Pool } from 'pg';
import { migrate } from '../src/db';

export function testPgUrl(): string {
  return process.env.FLYMINING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function urlForDatabase(name: string): string {
  const url = new URL(testPgUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `billing_${prefix}_${process.pid}_${Date.now().toString(36)}`.toLowerCase();
  const admin = new Client({ connectionString: testPgUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = urlForDatabase(name);
  const pool = new Pool({ connectionString: url, max: 8 });
  await migrate(pool);
  return {
    name,
    url,
    pool,
    async drop() {
      // Backends still closing when DROP ... FORCE terminates them report it on the pool; expected here.
      pool.on('error', () => undefined);
      await pool.end();
      const c = new Client({ connectionString: testPgUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
