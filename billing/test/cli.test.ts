/** `flymining billing` as staff use it: set-up, CSV imports, the run, the statement, recompute, refusals. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InfluxStore } from '@flymining/shared';
import { getBalance, requestPayout } from '../src/api';
import { addDays, utcToday } from '../src/run';
import { openTestStore, testInfluxUrl } from '../../shared/test/influx/helpers';
import { ADDRESSES } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

const BIN = path.join(__dirname, '..', '..', 'bin', 'flymining.js');
const day = addDays(utcToday(), -1);
const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-billing-cli-'));
let db: TestDatabase;
let store: InfluxStore;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, FLYMINING_PG_URL: db.url, FLYMINING_INFLUX_URL: testInfluxUrl(), FLYMINING_INFLUX_DB: store.config.database };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'billing', ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  db = await createTestDatabase('cli');
  store = await openTestStore('billing_cli');
  const start = Date.parse(`${day}T00:00:00Z`);
  for (let h = 0; h < 24; h++) {
    store.write([
      `miner,site=s,container=C01,miner=m1 hashrate_ths=100,nominal_ths=100 ${start + h * 3_600_000}`,
      `miner_up,site=s,container=C01,miner=m1 reachable=1i,hashing=1i ${start + h * 3_600_000}`,
    ]);
  }
  await store.flush();
});
afterAll(async () => {
  await db.drop();
  await store.close();
});

test('set-up, imports, run and statement from the command line', async () => {
  expect((await cli('add-investor', '--id', 'alice', '--name', 'Alice A.')).code).toBe(0);
  expect((await cli('add-contract', '--id', 'alice-1', '--investor', 'alice', '--ths', '60', '--start', addDays(day, -5), '--end', addDays(day, 30))).code).toBe(0);
  expect((await cli('add-investor', '--id', 'bob', '--name', 'Bob')).code).toBe(0);
  expect((await cli('add-contract', '--id', 'bob-1', '--investor', 'bob', '--ths', '20', '--start', day, '--end', day, '--revenue-fee-pct', '10')).code).toBe(0);

  const payouts = path.join(dir, 'payouts.csv');
  writeFileSync(payouts, `date,pool,amount_btc\n${day},braiins,0.00400000\n${day},ocean,0.00100000\n`);
  const market = path.join(dir, 'market.csv');
  writeFileSync(market, `date,difficulty,subsidy_btc,fees_btc,btc_price_usd\n${day},102289407543323,3.125,0.05,97000\n`);
  expect(await cli('import', 'payouts', payouts)).toMatchObject({ code: 0, stdout: `2 line(s) recorded from ${payouts}\n` });
  expect((await cli('import', 'market', market)).code).toBe(0);

  const run = await cli('run', '--date', day);
  expect(run.code).toBe(0);
  // 60 + 20 of 100 delivered TH/s share 500,000 sat; the farm keeps the unsold 20 %.
  expect(JSON.parse(run.stdout)).toMatchObject({ status: 'done', contracts: 2, revenueSat: 500_000, creditedSat: 400_000, farmSat: 100_000 });
  expect(JSON.parse((await cli('run', '--date', day)).stdout)).toMatchObject({ status: 'already-done', postedNow: 0 });

  await requestPayout(db.pool, { investorId: 'alice', amountSat: 100_000, address: ADDRESSES.p2wpkh });
  const statement = await cli('statement', '--investor', 'alice', '--from', addDays(day, -5), '--to', utcToday());
  expect(statement.code).toBe(0);
  const [header, ...lines] = statement.stdout.trim().split('\n');
  const columns = header!.split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v])));
  expect(rows).toHaveLength(2);
  expect(rows[0]).toMatchObject({ date: day, type: 'credit', contract: 'alice-1', gross_sat: '300000', net_sat: '300000', revenue_source: 'pool', sold_ths: '80', farm_delivered_ths: '100' });
  expect(rows[1]).toMatchObject({ type: 'payout_request', net_sat: '-100000' });
  expect(Number(rows[1]!.period_net_sat)).toBe((await getBalance(db.pool, 'alice')).availableSat);

  const [requested] = JSON.parse((await cli('list', 'payouts', '--status', 'requested')).stdout) as Array<{ id: number }>;
  expect((await cli('mark-sent', String(requested!.id), '--txid', 'ef'.repeat(32), '--staff', 'carol')).stderr).toContain('is requested, not approved');
  expect(JSON.parse((await cli('approve', String(requested!.id), '--staff', 'carol')).stdout)).toMatchObject({ status: 'approved', approvedBy: 'carol' });
  expect(JSON.parse((await cli('mark-sent', String(requested!.id), '--txid', 'ef'.repeat(32), '--staff', 'carol')).stdout)).toMatchObject({ status: 'sent', btcTxid: 'ef'.repeat(32) });
  expect(await getBalance(db.pool, 'alice')).toMatchObject({ pendingPayoutSat: 0, paidOutSat: 100_000 });

  const recompute = await cli('recompute', '--date', day);
  expect(recompute.stdout).toContain('0 credit(s) differ');
  expect((await cli('verify')).code).toBe(0);
  // A dozen CLI runs, each loading the billing code and connecting afresh: about 55 s on 2 busy cores.
}, 180_000);

test('refusals name the problem and exit 2, recording nothing', async () => {
  const bad = path.join(dir, 'bad.csv');
  writeFileSync(bad, `date,pool,amount_btc\n${day},later,0.1\n2026-02-30,x,0.1\n`);
  const imported = await cli('import', 'payouts', bad);
  expect(imported.code).toBe(2);
  expect(imported.stderr).toContain(`${bad}:3: day: not a calendar day`);
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pool_payouts WHERE pool = 'later'`);
  expect(rows[0].n).toBe(0);

  const contract = await cli('add-contract', '--id', 'x', '--investor', 'alice', '--ths', '5', '--start', '2026-05-02', '--end', '2026-05-01');
  expect(contract).toMatchObject({ code: 2, stderr: expect.stringContaining('endDay: endDay is before startDay') });
  const future = await cli('run', '--date', utcToday());
  expect(future).toMatchObject({ code: 2, stderr: expect.stringContaining('is not over yet') });
  const noInputs = await cli('run', '--date', addDays(day, -3));
  expect(noInputs).toMatchObject({ code: 2, stderr: expect.stringContaining('no pool payout and no difficulty recorded') });
});

test("record-fx and set-currency: an investor's pages in EUR at a recorded rate; bad input names the field", async () => {
  expect((await cli('add-investor', '--id', 'fx-inv', '--name', 'FX Investor')).code).toBe(0);
  const ok = await cli('record-fx', '--date', day, '--currency', 'EUR', '--per-usd', '0.92', '--source', 'ECB reference rate');
  expect([ok.code, ok.stderr]).toEqual([0, '']);
  const rows = await db.pool.query<{ per_usd: string; source: string }>('SELECT per_usd, source FROM fx_rates WHERE day = $1 AND currency = $2', [day, 'EUR']);
  expect(rows.rows).toEqual([{ per_usd: '0.92000000', source: 'ECB reference rate' }]);
  const usd = await cli('record-fx', '--date', day, '--currency', 'USD', '--per-usd', '1', '--source', 'x');
  expect(usd.code).not.toBe(0);
  expect(usd.stderr).toMatch(/currency: USD is the base/);
  expect((await cli('set-currency', '--investor', 'fx-inv', '--currency', 'EUR')).code).toBe(0);
  expect((await db.pool.query<{ currency: string }>('SELECT currency FROM investors WHERE id = $1', ['fx-inv'])).rows[0]?.currency).toBe('EUR');
  const unknown = await cli('set-currency', '--investor', 'nobody', '--currency', 'EUR');
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain('no investor "nobody"');
});
