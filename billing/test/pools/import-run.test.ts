/**
 * Imported pool revenue and network figures feeding the daily run (real PostgreSQL, the jest InfluxDB, a local
 * fake pool server): the frozen inputs name each figure's source and request; a gap between the farm's measured
 * hashrate and the pool's worker sum blocks the day before anything is frozen, tells staff, and can be accepted
 * with a reason; the scheduled import runs before the daily run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InfluxStore } from '@flymining/shared';
import { createContract, createInvestor, listDailyRuns } from '../../src/api';
import { InfluxHashrateSource } from '../../src/hashrate';
import { verifyLedger } from '../../src/ledger';
import { BraiinsImporter, FoundryImporter, importNetwork, importPool, listHashrateChecks, MempoolNetworkSource, PoolHashrateGapError } from '../../src/pools';
import { addDays, runDay, utcToday, type SourcedRunInputs } from '../../src/run';
import { startBillingScheduler } from '../../src/scheduler';
import { openTestStore, testInfluxUrl } from '../../../shared/test/influx/helpers';
import { ledgerSnapshot } from '../fixtures';
import { createTestDatabase, type TestDatabase } from '../pg';
import { revenueSat, startFakePools, TOKENS, type FakePools } from './fake-pools';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'flymining.js');
const today = utcToday();
const dayA = addDays(today, -1);
const dayB = addDays(today, -2);
const dayC = addDays(today, -3);

/** Two miners hashing 50 TH/s each all day: the farm measures 100 TH/s delivered. */
function farmLines(day: string): string[] {
  const start = Date.parse(`${day}T00:00:00Z`);
  const lines: string[] = [];
  for (const miner of ['C01-R1-S1-1', 'C01-R1-S1-2']) {
    const tags = `site=north-1,container=C01,miner=${miner}`;
    for (let h = 0; h < 24; h++) {
      const t = start + h * 3_600_000 + 60_000;
      lines.push(`miner,${tags} hashrate_ths=50,nominal_ths=50,hashing=1i ${t}`, `miner_up,${tags} reachable=1i,hashing=1i,scrape_ms=10 ${t}`);
    }
  }
  return lines;
}

let fake: FakePools;
let store: InfluxStore;
let source: InfluxHashrateSource;
let db: TestDatabase;
let foundry: FoundryImporter;
let mempool: MempoolNetworkSource;

beforeAll(async () => {
  fake = await startFakePools();
  store = await openTestStore('billing_pools');
  for (const day of [dayA, dayB, dayC]) store.write(farmLines(day));
  await store.flush();
  source = new InfluxHashrateSource(store, 'north-1');
  db = await createTestDatabase('pools');
  await createInvestor(db.pool, { id: 'ines', name: 'Ines' });
  await createContract(db.pool, { id: 'ines-c', investorId: 'ines', hashrateThs: '80', startDay: dayC, endDay: addDays(today, 30), maintenanceUsdPerThsDay: '0.02' });
  foundry = new FoundryImporter({ apiKey: TOKENS.foundry, subAccount: 'flyfarm', baseUrl: `${fake.url}/foundry`, minIntervalMs: 0 });
  mempool = new MempoolNetworkSource({ baseUrl: fake.url, minIntervalMs: 0 });
});
afterAll(async () => {
  await db.drop();
  await store.close();
  await fake.close();
});

const frozen = async (day: string) => (await listDailyRuns(db.pool)).find((r) => r.day === day)?.inputs as unknown as SourcedRunInputs | undefined;

test("imported revenue and network figures are what the run credits, and its frozen inputs name each one's source and request", async () => {
  const imported = await importPool(db.pool, foundry, dayC, dayC);
  expect(imported).toMatchObject({ pool: 'foundry', days: 1, amountSat: revenueSat(dayC), missing: [] });
  await importNetwork(db.pool, mempool, dayC, dayC);
  const result = await runDay(db.pool, source, dayC);
  expect(result).toMatchObject({ status: 'done', revenueSat: revenueSat(dayC) });
  const inputs = (await frozen(dayC))!;
  expect(inputs.revenueSource).toBe('pool');
  expect(inputs.poolPayouts).toEqual([
    expect.objectContaining({ pool: 'foundry/flyfarm', amountSat: revenueSat(dayC), source: 'api', request: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/foundry\/earnings\/flyfarm\?/), raw: expect.objectContaining({ fppsRatePercent: '105.000' }) }),
  ]);
  expect(inputs.marketSource).toMatchObject({ source: 'api', pool: 'mempool', request: expect.stringContaining('/api/v1/mining/hashrate/') });
  expect(inputs.btcPriceUsd).toBe('95000.0000');
  // The fake network's recent days: difficulty 1.2e14, 3.125 BTC subsidy + 0.2 BTC fees per block (≈ 55.7 sat per TH/s·day).
  expect(Number(inputs.hashpriceSatPerThsDay)).toBeCloseTo((1e12 * 86400 * 332_500_000) / (1.2e14 * 2 ** 32), 3);
  const { rows } = await db.pool.query(`SELECT pool, account, figure, amount_sat::int AS amount_sat FROM pool_imports WHERE day = $1 AND figure = 'revenue'`, [dayC]);
  expect(rows).toEqual([{ pool: 'foundry', account: 'flyfarm', figure: 'revenue', amount_sat: revenueSat(dayC) }]);
});

function runCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...extraEnv, FLYMINING_PG_URL: db.url, FLYMINING_INFLUX_URL: testInfluxUrl(), FLYMINING_INFLUX_DB: store.config.database, FLYMINING_BILLING_SITE: 'north-1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test("a gap beyond the tolerance between the farm's and the pool's hashrate blocks the day, tells staff, and writes nothing to the ledger", async () => {
  fake.workersGhs = { 'rig-1': 50_000, 'rig-2': 40_000 }; // the pool sees 90 TH/s; the farm measured 100
  await importPool(db.pool, foundry, dayB, dayB, { workerDays: [dayB] });
  await importNetwork(db.pool, mempool, dayB, dayB);
  const before = await ledgerSnapshot(db.pool);
  const err = await runDay(db.pool, source, dayB).then(() => undefined, (e: Error) => e);
  expect(err).toBeInstanceOf(PoolHashrateGapError);
  expect(err!.message).toContain('measured 100 TH/s');
  expect(err!.message).toContain('sum to 90 TH/s');
  expect(err!.message).toContain('gap of 10 %');
  expect(await frozen(dayB)).toBeUndefined();
  expect(await ledgerSnapshot(db.pool)).toEqual(before);

  const cli = await runCli(['billing', 'run', '--date', dayB]);
  expect(cli.code).toBe(4);
  expect(cli.stderr).toContain('measured 100 TH/s');
  expect(JSON.parse(cli.stdout)).toMatchObject({ status: 'blocked', check: { poolThs: '90', measuredThs: '100' } });
  expect(await ledgerSnapshot(db.pool)).toEqual(before);

  const listed = await runCli(['billing', 'list', 'pool-gaps']);
  expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ day: dayB, outcome: 'blocked', gapPct: '10.0000', tolerancePct: '5.0000' })]));

  // Staff looked, the pool counted a rig under another sub-account: they accept the gap with a reason.
  const accepted = await runCli(['billing', 'run', '--date', dayB, '--accept-pool-gap', 'rig-3 mines to another sub-account']);
  expect(accepted.code).toBe(0);
  expect(JSON.parse(accepted.stdout)).toMatchObject({ status: 'done', revenueSat: revenueSat(dayB) });
  expect((await frozen(dayB))!.poolHashrateCheck).toMatchObject({ outcome: 'accepted', reason: 'rig-3 mines to another sub-account', measuredThs: '100', poolThs: '90' });
  expect((await listHashrateChecks(db.pool, { outcome: 'accepted' })).map((c) => c.day)).toEqual([dayB]);
  expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
});

test('the scheduled import runs before the daily run; a configured pool that has not reported keeps the day waiting', async () => {
  fake.workersGhs = { 'rig-1': 50_000, 'rig-2': 48_000 }; // 98 TH/s: within 5 % of 100
  const badBraiins = new BraiinsImporter({ token: 'not-the-token', account: 'flyfarm', baseUrl: `${fake.url}/braiins`, minIntervalMs: 0 });
  const log: string[] = [];
  let scheduler = startBillingScheduler(db.pool, source, { cron: '0 0 1 1 *', log: (m) => log.push(m), imports: { importers: [foundry, badBraiins], network: mempool, days: 3 } });
  await scheduler.idle();
  await scheduler.stop();
  expect(log.some((m) => m.includes('Braiins Pool refused the API key'))).toBe(true);
  expect(log.some((m) => m.startsWith(`${dayA}: `) && m.includes('no revenue imported from braiins'))).toBe(true);
  expect(await frozen(dayA)).toBeUndefined();

  scheduler = startBillingScheduler(db.pool, source, { cron: '0 0 1 1 *', log: (m) => log.push(m), imports: { importers: [foundry], network: mempool, days: 3 } });
  await scheduler.idle();
  await scheduler.stop();
  const inputs = (await frozen(dayA))!;
  expect(inputs).toMatchObject({ revenueSource: 'pool', revenueSat: revenueSat(dayA), marketSource: { source: 'api', pool: 'mempool' } });
  expect(inputs.poolHashrateCheck).toMatchObject({ outcome: 'within', poolThs: '98', measuredThs: '100', gapPct: '2' });
  expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
});

test('flymining billing import-pool reads the key from its secret file; a refused key exits 2 naming the pool and the setting, not the key', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pool-key-'));
  const good = path.join(dir, 'good');
  const bad = path.join(dir, 'bad');
  writeFileSync(good, `${TOKENS.f2pool}\n`, { mode: 0o600 });
  writeFileSync(bad, 'a-revoked-secret\n', { mode: 0o600 });
  const env = (file: string) => ({ FLYMINING_POOL_F2POOL_SECRET_FILE: file, FLYMINING_POOL_F2POOL_ACCOUNT: 'flyfarm', FLYMINING_POOL_F2POOL_URL: `${fake.url}/f2pool` });
  const from = addDays(today, -40);
  const to = addDays(today, -35);
  const ok = await runCli(['billing', 'import-pool', '--pool', 'f2pool', '--from', from, '--to', to], env(good));
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ pool: 'f2pool', account: 'flyfarm', days: 6, missing: [] });
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pool_payouts WHERE pool = 'f2pool/flyfarm' AND source = 'api' AND import_id IS NOT NULL`);
  expect(rows[0].n).toBe(6);
  const refused = await runCli(['billing', 'import-pool', '--pool', 'f2pool', '--from', from, '--to', to], env(bad));
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('F2Pool refused the API key (HTTP 403)');
  expect(refused.stderr).toContain('FLYMINING_POOL_F2POOL_SECRET_FILE');
  expect(refused.stderr + refused.stdout).not.toContain('a-revoked-secret');
});
