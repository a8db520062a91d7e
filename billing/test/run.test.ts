/**
 * The daily run end to end: hashrate written to a real InfluxDB in the documented schema, credits in a real
 * PostgreSQL; repeated, concurrent and SIGKILLed runs leave exactly the ledger one clean run leaves.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { InfluxStore } from '@flymining/shared';
import { Pool, type PoolClient } from 'pg';
import { createContract, createInvestor, getBalance, listDailyCredits, listDailyRuns } from '../src/api';
import { InfluxHashrateSource } from '../src/hashrate';
import { verifyLedger } from '../src/ledger';
import { recordMarketDay } from '../src/market';
import { addDays, catchUp, correctDay, gatherInputs, recomputeDay, runDay, utcToday } from '../src/run';
import { openTestStore, testInfluxUrl } from '../../shared/test/influx/helpers';
import { ledgerSnapshot, recordPayout } from './fixtures';
import { createTestDatabase, type TestDatabase } from './pg';

const BIN = path.join(__dirname, '..', '..', 'bin', 'flymining.js');
const today = utcToday();
const dayA = addDays(today, -1);
const dayB = addDays(today, -2);
const dayC = addDays(today, -3);

interface MinerDay {
  container: string;
  miner: string;
  ths: number;
  /** Hours (of 24) the miner answered; it hashes at `ths` while it answers. */
  answeredHours: number;
}

const FARM: MinerDay[] = [
  { container: 'C01', miner: 'C01-R1-S1-1', ths: 110, answeredHours: 24 },
  { container: 'C01', miner: 'C01-R1-S1-2', ths: 100, answeredHours: 12 },
  { container: 'C02', miner: 'C02-R1-S1-1', ths: 200, answeredHours: 24 },
  { container: 'C02', miner: 'C02-R1-S1-2', ths: 90, answeredHours: 6 },
];

/** One scrape per hour, as the exporters write them: `miner` when answered, `miner_up` always. */
function farmLines(day: string): string[] {
  const start = Date.parse(`${day}T00:00:00Z`);
  const lines: string[] = [];
  for (const m of FARM) {
    const tags = `site=north-1,container=${m.container},miner=${m.miner}`;
    for (let h = 0; h < 24; h++) {
      const t = start + h * 3_600_000 + 60_000;
      const answered = h < m.answeredHours;
      if (answered) lines.push(`miner,${tags} hashrate_ths=${m.ths},nominal_ths=${m.ths},hashing=1i ${t}`);
      lines.push(`miner_up,${tags} reachable=${answered ? 1 : 0}i,hashing=${answered ? 1 : 0}i,scrape_ms=12 ${t}`);
    }
  }
  return lines;
}

const expectedDeliveredThs = FARM.reduce((s, m) => s + (m.ths * m.answeredHours) / 24, 0);

let store: InfluxStore;
let db: TestDatabase;
// node-postgres warns when a query is sent to a client that still has one queued (pg 9 will refuse it): a
// correction runs inside one transaction's client, so what it sends there must go one query at a time. Every
// client the test database hands out records such a query (the condition of node-postgres' own warning).
const queriesToBusyClients: string[] = [];
const watched = new WeakSet<PoolClient>();
function watchForBusyQueries(client: PoolClient): void {
  if (watched.has(client)) return;
  watched.add(client);
  const send = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const queued = (client as unknown as { _queryQueue: unknown[] })._queryQueue;
    if (queued.length > 0) queriesToBusyClients.push(String(typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text).slice(0, 80));
    return send(...args);
  };
}
let source: InfluxHashrateSource;

async function addContracts(target: TestDatabase, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = `${prefix}${String(i).padStart(5, '0')}`;
    await createInvestor(target.pool, { id, name: `Investor ${id}` });
    await createContract(target.pool, { id: `${id}-c`, investorId: id, hashrateThs: String(10 + (i % 7) * 3.5), startDay: dayC, endDay: today, maintenanceUsdPerThsDay: '0.04' });
  }
}

beforeAll(async () => {
  store = await openTestStore('billing');
  for (const day of [dayA, dayB, dayC]) store.write(farmLines(day));
  await store.flush();
  source = new InfluxHashrateSource(store, 'north-1');
  db = await createTestDatabase('run');
  db.pool.on('acquire', watchForBusyQueries);
  await addContracts(db, 3, 'inv');
  for (const day of [dayA, dayB, dayC]) {
    await recordMarketDay(db.pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', feesPerBlockBtc: '0.2', btcPriceUsd: '95000' });
  }
  await recordPayout(db.pool, dayA, '0.00250000');
});
afterAll(async () => {
  await db.drop();
  await store.close();
});

test('reads delivered hashrate and both uptimes per container from InfluxDB', async () => {
  const h = await source.dayHashrate(dayA);
  expect(Number(h.deliveredThs)).toBeCloseTo(expectedDeliveredThs, 6);
  expect(h.miners).toBe(4);
  expect(h.containers.map((c) => c.container)).toEqual(['C01', 'C02']);
  expect(Number(h.containers[0]!.reachableUptime)).toBeCloseTo((24 + 12) / 48, 6);
  expect(Number(h.hashingUptime)).toBeCloseTo((24 + 12 + 24 + 6) / 96, 6);
});

test("a day with the pool's payout credits each contract its share and records the inputs", async () => {
  const result = await runDay(db.pool, source, dayA);
  expect(result).toMatchObject({ status: 'done', contracts: 3, revenueSat: 250_000 });
  expect(result.creditedSat + result.farmSat).toBe(250_000);
  const credits = await listDailyCredits(db.pool, 'inv00001');
  expect(credits).toHaveLength(1);
  const credit = credits[0]!;
  // inv00001 holds 13.5 of the 10 + 13.5 + 17 sold TH/s; the farm delivered more than it sold.
  expect(Math.abs(credit.grossSat - (250_000 * 13.5) / expectedDeliveredThs)).toBeLessThan(1);
  expect(credit.inputs).toMatchObject({ revenueSource: 'pool', revenueSat: 250_000, soldThs: '40.5', difficulty: '100000000000000.0000' });
  expect(Number(credit.inputs.farmDeliveredThs)).toBeCloseTo(expectedDeliveredThs, 5);
  // 13.5 TH/s × 0.04 USD = 0.54 USD at 95,000 USD/BTC = 568.42 sat, rounded down.
  expect(credit.maintenanceFeeSat).toBe(568);
  expect(credit.inputs).toMatchObject({ maintenanceUsd: expect.stringMatching(/^0\.54/) });
  expect((await getBalance(db.pool, 'inv00001')).availableSat).toBe(credit.netSat);
  // What the run's credits share is stored once for the run; each record keeps only its own part, and neither
  // can be edited afterwards.
  const stored = await db.pool.query<{ inputs: Record<string, unknown> }>('SELECT inputs FROM daily_credits WHERE transaction_id = $1', [credit.transactionId]);
  expect(Object.keys(stored.rows[0]!.inputs).sort()).toEqual(['maintenanceUsd', 'quotaSat']);
  const run = await db.pool.query<{ inputs: Record<string, unknown> }>('SELECT inputs FROM credit_run_inputs WHERE day = $1 AND revision = 1', [dayA]);
  expect(run.rows[0]!.inputs).toMatchObject({ revenueSat: 250_000, soldThs: '40.5' });
  await expect(db.pool.query(`UPDATE credit_run_inputs SET inputs = inputs || '{"revenueSat": 1}' WHERE day = $1`, [dayA])).rejects.toThrow();
});

test('running the same day again changes nothing', async () => {
  const before = await ledgerSnapshot(db.pool);
  const again = await runDay(db.pool, source, dayA);
  expect(again).toMatchObject({ status: 'already-done', postedNow: 0 });
  expect(await ledgerSnapshot(db.pool)).toEqual(before);
});

test('a day without a pool payout uses the FPPS expectation of the delivered hashrate', async () => {
  const r = await runDay(db.pool, source, dayB);
  const expectedFpps = Math.floor(((expectedDeliveredThs * 1e12 * 86400) / (1e14 * 2 ** 32)) * 3.325 * 1e8);
  expect(Math.abs(r.revenueSat - expectedFpps)).toBeLessThanOrEqual(1);
  expect((await listDailyRuns(db.pool)).find((run) => run.day === dayB)!.inputs).toMatchObject({ revenueSource: 'fpps', fppsSat: r.revenueSat });
});

test('two instances started together credit each contract once: one runs, the other finds the lock taken (or the day done)', async () => {
  const secondPool = new Pool({ connectionString: db.url, max: 4 });
  try {
    const results = await Promise.all([runDay(db.pool, source, dayC), runDay(secondPool, source, dayC)]);
    // Usually one finds the lock taken; if the first finished before the second started, it finds the day done.
    expect(results.map((r) => r.status).sort()).toEqual(expect.arrayContaining(['done']));
    expect(results.filter((r) => r.status === 'done')).toHaveLength(1);
    const { rows } = await db.pool.query(`SELECT contract_id, count(*)::int AS n FROM daily_credits WHERE day = $1 GROUP BY contract_id`, [dayC]);
    expect(rows.map((r) => r.n)).toEqual([1, 1, 1]);
  } finally {
    await secondPool.end();
  }
  expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
});

test('recompute compares with the ledger; applying it reverses the old credits and posts new ones', async () => {
  await recordPayout(db.pool, dayB, '0.00300000');
  const cmp = await recomputeDay(db.pool, source, dayB);
  expect(cmp.differences).toHaveLength(3);
  expect(cmp.recomputed).toMatchObject({ revenueSource: 'pool', revenueSat: 300_000 });
  const before = await getBalance(db.pool, 'inv00002');
  const corrected = await correctDay(db.pool, source, dayB);
  expect(corrected).toMatchObject({ status: 'done', revision: 2, revenueSat: 300_000 });
  const credits = (await listDailyCredits(db.pool, 'inv00002', { from: dayB, to: dayB })).map((c) => [c.revision, c.kind, c.netSat]);
  const [first, reversal, second] = credits;
  expect(reversal).toEqual([1, 'reversal', -(first![2] as number)]);
  expect(second![0]).toBe(2);
  expect((await getBalance(db.pool, 'inv00002')).availableSat).toBe(before.availableSat - (first![2] as number) + (second![2] as number));
  expect((await recomputeDay(db.pool, source, dayB)).differences).toEqual([]);
  expect(await verifyLedger(db.pool)).toMatchObject({ ok: true });
});

test('catch-up runs the missed days only', async () => {
  const fresh = await createTestDatabase('catchup');
  try {
    await addContracts(fresh, 2, 'cu');
    for (const day of [dayB, dayC]) await recordPayout(fresh.pool, day, '0.00100000');
    await recordMarketDay(fresh.pool, { day: dayA, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '95000' });
    await recordMarketDay(fresh.pool, { day: dayB, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '95000' });
    await recordMarketDay(fresh.pool, { day: dayC, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '95000' });
    await runDay(fresh.pool, source, dayB);
    const results = await catchUp(fresh.pool, source);
    expect(results.map((r) => [r.day, r.status])).toEqual([
      [dayC, 'done'],
      [dayA, 'done'],
    ]);
    expect(await catchUp(fresh.pool, source)).toEqual([]);
  } finally {
    await fresh.drop();
  }
});

function runCli(args: string[], env: NodeJS.ProcessEnv, killAfterProgressLines?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stderr = '';
    let progress = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      progress = (stderr.match(/ contracts\n/g) ?? []).length;
      if (killAfterProgressLines !== undefined && progress >= killAfterProgressLines) child.kill('SIGKILL');
    });
    child.stdout.resume();
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

test('a run SIGKILLed midway and run again leaves exactly the ledger of an uninterrupted run', async () => {
  const crashed = await createTestDatabase('crashed');
  const clean = await createTestDatabase('clean');
  try {
    for (const target of [crashed, clean]) {
      await addContracts(target, 400, 'k');
      await recordPayout(target.pool, dayA, '0.12345678');
      await recordMarketDay(target.pool, { day: dayA, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '95000' });
    }
    const env = (t: TestDatabase) => ({
      FLYMINING_PG_URL: t.url,
      FLYMINING_INFLUX_URL: testInfluxUrl(),
      FLYMINING_INFLUX_DB: store.config.database,
      FLYMINING_BILLING_SITE: 'north-1',
      FLYMINING_BILLING_CHUNK_SIZE: '25',
    });
    const killAt = 2 + Math.floor(Math.random() * 10);
    const killed = await runCli(['billing', 'run', '--date', dayA], env(crashed), killAt);
    expect(killed.signal).toBe('SIGKILL');
    const partial = await crashed.pool.query('SELECT count(*)::int AS n FROM daily_credits');
    expect(partial.rows[0].n).toBeGreaterThan(0);
    expect(partial.rows[0].n).toBeLessThan(400);
    const resumed = await runCli(['billing', 'run', '--date', dayA], env(crashed));
    expect(resumed.code).toBe(0);
    const uninterrupted = await runCli(['billing', 'run', '--date', dayA], env(clean));
    expect(uninterrupted.code).toBe(0);
    expect(await ledgerSnapshot(crashed.pool)).toEqual(await ledgerSnapshot(clean.pool));
    expect(await verifyLedger(crashed.pool)).toMatchObject({ ok: true });
  } finally {
    await crashed.drop();
    await clean.drop();
  }
});

test('a day whose contracts charge maintenance waits for its BTC price instead of freezing without one', async () => {
  const fresh = await createTestDatabase('noprice');
  try {
    await addContracts(fresh, 1, 'np');
    await recordPayout(fresh.pool, dayA, '0.00100000');
    await expect(runDay(fresh.pool, source, dayA)).rejects.toThrow(/no BTC price is recorded/);
    expect(await listDailyRuns(fresh.pool)).toEqual([]);
    await recordMarketDay(fresh.pool, { day: dayA, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '95000' });
    expect(await runDay(fresh.pool, source, dayA)).toMatchObject({ status: 'done', revenueSat: 100_000 });
  } finally {
    await fresh.drop();
  }
});

test('a contract added for a day after its run started is refused until the day is recomputed', async () => {
  const dayX = addDays(dayC, -1);
  await recordPayout(db.pool, dayX, '0.00100000');
  // A run of dayX that froze its inputs and then stopped (as after a crash), before the contract existed.
  const frozen = await gatherInputs(db.pool, source, dayX);
  await db.pool.query(`INSERT INTO daily_runs (day, revision, status, inputs, contracts, revenue_sat) VALUES ($1, 1, 'running', $2, $3, $4)`, [
    dayX,
    JSON.stringify(frozen),
    frozen.contracts,
    frozen.revenueSat,
  ]);
  await createInvestor(db.pool, { id: 'late', name: 'Late' });
  await createContract(db.pool, { id: 'late-c', investorId: 'late', hashrateThs: '5', startDay: dayX, endDay: dayA });
  await expect(runDay(db.pool, source, dayX)).rejects.toThrow(/contracts changed since the run started .* recompute --date/);
  expect(await correctDay(db.pool, source, dayX)).toMatchObject({ status: 'done', revision: 2, contracts: 1, creditedSat: 100_000 });
  expect((await listDailyCredits(db.pool, 'late')).map((c) => [c.day, c.revision, c.grossSat])).toEqual([[dayX, 2, 100_000]]);
  // A finished day keeps its credits; recomputing it shows what the new contract would change.
  expect(await runDay(db.pool, source, dayA)).toMatchObject({ status: 'already-done' });
  const cmp = await recomputeDay(db.pool, source, dayA);
  expect(cmp.differences).toContainEqual({ contractId: 'late-c', storedNetSat: null, recomputedNetSat: expect.any(Number) });
});

test('no query of a run or correction was sent to a client still busy with another', () => {
  expect(queriesToBusyClients).toEqual([]);
});
