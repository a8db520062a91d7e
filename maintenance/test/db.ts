/** A fresh database per test file with the ledger (market days, for hashprice) and the maintenance schema. */
import { createTestDatabase, type TestDatabase } from '../../billing/test/pg';
import { migrateMaintenance } from '../src/db';

export async function createMaintenanceDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(`mnt_${prefix}`);
  await migrateMaintenance(db.pool);
  return db;
}
