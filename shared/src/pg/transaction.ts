/** PostgreSQL transactions: one helper for every component that keeps tables. */
import type { Pool, PoolClient } from 'pg';

/** Runs fn inside BEGIN/COMMIT on one client; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
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
