/** The one migration runner: the ledger's schema, then the portal's, each file once, also when started twice at once. */
import { readdirSync } from 'node:fs';
import { MIGRATIONS_DIR, migrate, migratePortal } from '../src/db';
import { createTestDatabase, type TestDatabase } from './pg';

const ledgerFiles = readdirSync(MIGRATIONS_DIR).filter((f) => /^0\d*_.+\.sql$/.test(f)).sort();
const portalFiles = readdirSync(MIGRATIONS_DIR).filter((f) => /^1\d*_.+\.sql$/.test(f)).sort();

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('migrate'); // applies the ledger's schema
});
afterAll(async () => db.drop());

test('the ledger schema is applied once; the portal schema comes after it, by the same runner', async () => {
  expect(ledgerFiles.length).toBeGreaterThan(0);
  expect(portalFiles.length).toBeGreaterThan(0);
  expect(await migrate(db.pool)).toEqual([]);
  const tables = async (): Promise<string[]> =>
    (await db.pool.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_name LIKE 'portal_%' ORDER BY 1`)).rows.map((r) => r.t);
  expect(await tables()).toEqual([]);
  // Two portals starting at once: each file runs once in all.
  const [a, b] = await Promise.all([migratePortal(db.pool), migratePortal(db.pool)]);
  expect([...a, ...b].sort()).toEqual(portalFiles);
  expect(await tables()).toEqual(expect.arrayContaining(['portal_users', 'portal_login_audit']));
  expect(await migratePortal(db.pool)).toEqual([]);
  const recorded = await db.pool.query<{ name: string }>('SELECT name FROM billing_migrations ORDER BY name');
  expect(recorded.rows.map((r) => r.name)).toEqual([...ledgerFiles, ...portalFiles]);
});

test('a migration that fails is named in the error, and the files after it do not run', async () => {
  const fresh = await createTestDatabase('migrate_fresh');
  try {
    // Forget what was applied (the tables stay): running 0001_ledger.sql again fails on its existing tables.
    await fresh.pool.query('DROP TABLE billing_migrations');
    await expect(migratePortal(fresh.pool)).rejects.toThrow(/^billing migration 0001_ledger\.sql failed: /);
    const portal = await fresh.pool.query(`SELECT 1 FROM information_schema.tables WHERE table_name LIKE 'portal_%'`);
    expect(portal.rowCount).toBe(0);
  } finally {
    await fresh.drop();
  }
});
