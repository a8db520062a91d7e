/** Staff record a contract's purchase price with `flymining billing add-contract --purchase-price-usd`; the portal reads it. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { createInvestor } from '../../src/api';
import { migratePortal } from '../../src/db';
import { engineLedger } from '../../src/portal/ledger-adapter';
import { createTestDatabase, type TestDatabase } from '../pg';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'flymining.js');
let db: TestDatabase;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'billing', ...args], { env: { ...process.env, FLYMINING_PG_URL: db.url }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  db = await createTestDatabase('purchase-price-cli');
  await migratePortal(db.pool);
  await createInvestor(db.pool, { id: 'alice', name: 'Alice' });
});
afterAll(async () => {
  await db.drop();
});

test('the purchase price is recorded with the contract; a malformed one is refused naming the option', async () => {
  const ok = await cli('add-contract', '--id', 'a1', '--investor', 'alice', '--ths', '100', '--start', '2026-01-01', '--end', '2026-12-31', '--purchase-price-usd', '5000.50');
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ id: 'a1', purchasePriceUsd: '5000.50' });
  const bad = await cli('add-contract', '--id', 'a2', '--investor', 'alice', '--ths', '100', '--start', '2026-01-01', '--end', '2026-12-31', '--purchase-price-usd', '5,000');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('purchasePriceUsd');
  const contracts = await engineLedger(db.pool).contractsOf('alice');
  expect(contracts.map((c) => [c.id, c.purchasePriceUsd])).toEqual([['a1', '5000.50']]);
});
