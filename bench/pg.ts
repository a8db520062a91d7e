/** The benches' throwaway PostgreSQL databases: on FLYMINING_TEST_PG_URL's server (else FLYMINING_PG_URL's, else local). */
import { Client } from 'pg';

const baseUrl = process.env.FLYMINING_TEST_PG_URL ?? process.env.FLYMINING_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of one database on the benches' server. */
export function benchPgUrl(database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs one statement as the server's admin (CREATE / DROP DATABASE). */
export async function pgAdmin(sql: string): Promise<void> {
  const c = new Client({ connectionString: benchPgUrl('postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
