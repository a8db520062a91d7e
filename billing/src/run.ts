/**
 * The daily run: credit every contract active on a closed UTC day its share of the day's revenue.
 *
 * Safety: a PostgreSQL advisory lock keeps two instances from running at once. The run first freezes its inputs
 * (hashrate, revenue, difficulty, price, contracts) in daily_runs; credits are then posted in chunks, one database
 * transaction each, under idempotency keys `credit:<contract>:<day>:r<revision>`. A run that crashes midway is
 * finished by the next one from the same frozen inputs, so the ledger ends exactly as if it had never stopped.
 */
import { Pool, type PoolClient } from 'pg';
import { BillingInputError, daySchema, parseInput } from './api';
import { allocateDay, type ContractTerms, type DayAllocation } from './allocate';
import { inTransaction, satoshi } from './db';
import { fppsSatPerDay, satToBtc } from './fpps';
import type { DayHashrate, HashrateSource } from './hashrate';
import { postTransactions, reversalOf, systemAccountId, type NewTransaction } from './ledger';
import { getMarketDay, getPoolPayouts } from './market';

/** "FLYRUN" in ASCII: the one lock every billing run takes. */
const RUN_LOCK_ID = '77434061427790';

export interface RunSettings {
  /** FPPS rate (1 = the full expected reward) and pool fee, used when the day has no recorded pool payout. */
  fppsRate?: string;
  poolFeePct?: string;
  /** Contracts per database transaction. */
  chunkSize?: number;
  /** Today (UTC) for deciding which days are closed; tests pass it. */
  today?: string;
  log?: (message: string) => void;
}

/** Everything a day's credits were computed from, frozen before the first credit is posted. */
export interface RunInputs {
  day: string;
  revenueSat: number;
  revenueSource: 'pool' | 'fpps';
  poolPayouts: Array<{ pool: string; amountSat: number }>;
  fppsSat: number | null; // the FPPS expectation, also when the pool's payout was used (for comparison)
  difficulty: string | null;
  subsidySat: number | null;
  feesPerBlockSat: number | null;
  btcPriceUsd: string | null;
  fppsRate: string;
  poolFeePct: string;
  hashrate: DayHashrate;
  contracts: number;
  soldThs: string;
}

export type RunStatus = 'done' | 'already-done' | 'locked';

export interface RunResult {
  day: string;
  status: RunStatus;
  revision: number;
  contracts: number;
  postedNow: number; // credits posted by this call (0 when a finished day is re-run)
  revenueSat: number;
  creditedSat: number; // investors' gross
  farmSat: number;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): RunSettings {
  const chunk = Number(env.FLYMINING_BILLING_CHUNK_SIZE);
  return {
    fppsRate: env.FLYMINING_BILLING_FPPS_RATE || '1',
    poolFeePct: env.FLYMINING_BILLING_POOL_FEE_PCT || '0',
    chunkSize: Number.isSafeInteger(chunk) && chunk > 0 ? chunk : 2000,
  };
}

export function utcToday(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

async function activeContracts(db: Pool | PoolClient, day: string): Promise<ContractTerms[]> {
  const { rows } = await db.query<{ id: string; investor_id: string; hashrate_ths: string; maintenance_usd_per_ths_day: string; revenue_fee_pct: string }>(
    `SELECT id, investor_id, hashrate_ths, maintenance_usd_per_ths_day, revenue_fee_pct FROM contracts
      WHERE $1::date BETWEEN start_day AND end_day ORDER BY id`,
    [day],
  );
  return rows.map((r) => ({
    id: r.id,
    investorId: r.investor_id,
    hashrateThs: r.hashrate_ths,
    maintenanceUsdPerThsDay: r.maintenance_usd_per_ths_day,
    revenueFeePct: r.revenue_fee_pct,
  }));
}

function soldThs(contracts: readonly ContractTerms[]): string {
  return allocateDay({ revenueSat: 0, deliveredThs: 0, contracts, btcPriceUsd: null }).soldThs;
}

/** Reads today's view of a day's inputs (InfluxDB, recorded payouts and market data). Nothing is written. */
export async function gatherInputs(pool: Pool, source: HashrateSource, day: string, settings: RunSettings = {}): Promise<RunInputs> {
  const [hashrate, market, poolPayouts, contracts] = await Promise.all([source.dayHashrate(day), getMarketDay(pool, day), getPoolPayouts(pool, day), activeContracts(pool, day)]);
  const fppsRate = settings.fppsRate ?? '1';
  const poolFeePct = settings.poolFeePct ?? '0';
  const fppsSat = market
    ? fppsSatPerDay({
        hashrateThs: hashrate.deliveredThs,
        difficulty: market.difficulty,
        subsidyBtc: satToBtc(market.subsidySat),
        feesPerBlockBtc: satToBtc(market.feesPerBlockSat),
        fppsRate,
        poolFeePct,
      })
    : null;
  if (poolPayouts.length === 0 && fppsSat === null) {
    throw new BillingInputError(`${day}: no pool payout and no difficulty recorded; record one (flymining billing record-payout / record-market) first`);
  }
  // Checked before anything is frozen: a run frozen without a price could never post its maintenance fees.
  if (!market && contracts.some((c) => Number(c.maintenanceUsdPerThsDay) > 0)) {
    throw new BillingInputError(`${day}: contracts have maintenance fees but no BTC price is recorded; record one (flymining billing record-market) first`);
  }
  const revenueSat = poolPayouts.length > 0 ? poolPayouts.reduce((s, p) => s + p.amountSat, 0) : (fppsSat as number);
  return {
    day,
    revenueSat,
    revenueSource: poolPayouts.length > 0 ? 'pool' : 'fpps',
    poolPayouts,
    fppsSat,
    difficulty: market?.difficulty ?? null,
    subsidySat: market?.subsidySat ?? null,
    feesPerBlockSat: market?.feesPerBlockSat ?? null,
    btcPriceUsd: market?.btcPriceUsd ?? null,
    fppsRate,
    poolFeePct,
    hashrate,
    contracts: contracts.length,
    soldThs: soldThs(contracts),
  };
}

export function allocate(inputs: RunInputs, contracts: readonly ContractTerms[]): DayAllocation {
  return allocateDay({ revenueSat: inputs.revenueSat, deliveredThs: inputs.hashrate.deliveredThs, contracts, btcPriceUsd: inputs.btcPriceUsd });
}

/** Holds the run lock for fn, or returns undefined at once when another instance holds it. */
async function withRunLock<T>(pool: Pool, fn: () => Promise<T>): Promise<T | undefined> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RUN_LOCK_ID]);
    if (!rows[0]?.locked) return undefined;
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [RUN_LOCK_ID]);
    }
  } finally {
    client.release();
  }
}

interface StoredRun {
  revision: number;
  status: 'running' | 'done';
  inputs: RunInputs;
}

type Db = Pool | PoolClient;
/** Runs one unit of work atomically: a new transaction per call on a pool, or inside the caller's transaction. */
type Atomic = <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;

function atomicOn(db: Db): Atomic {
  return db instanceof Pool ? (fn) => inTransaction(db, fn) : (fn) => fn(db);
}

async function latestRun(db: Db, day: string): Promise<StoredRun | undefined> {
  const { rows } = await db.query<{ revision: number; status: 'running' | 'done'; inputs: RunInputs }>(
    'SELECT revision, status, inputs FROM daily_runs WHERE day = $1 ORDER BY revision DESC LIMIT 1',
    [day],
  );
  return rows[0];
}

async function freezeRun(db: Db, inputs: RunInputs, revision: number): Promise<StoredRun> {
  await db.query(
    `INSERT INTO daily_runs (day, revision, status, inputs, contracts, revenue_sat) VALUES ($1, $2, 'running', $3, $4, $5) ON CONFLICT DO NOTHING`,
    [inputs.day, revision, JSON.stringify(inputs), inputs.contracts, inputs.revenueSat],
  );
  return (await latestRun(db, inputs.day))!;
}

/** Runs (or finishes, or harmlessly repeats) one closed day. */
export async function runDay(pool: Pool, source: HashrateSource, day: string, settings: RunSettings = {}): Promise<RunResult> {
  parseInput(daySchema, day, 'day');
  const today = settings.today ?? utcToday();
  if (day >= today) throw new BillingInputError(`${day} is not over yet (today is ${today} UTC); only closed days are run`);
  const result = await withRunLock(pool, async () => {
    let run = await latestRun(pool, day);
    if (run?.status === 'done') return summarise(pool, day, run, 'already-done', 0);
    run ??= await freezeRun(pool, await gatherInputs(pool, source, day, settings), 1);
    return postRun(pool, run, settings);
  });
  return result ?? { day, status: 'locked', revision: 0, contracts: 0, postedNow: 0, revenueSat: 0, creditedSat: 0, farmSat: 0 };
}

async function summarise(db: Db, day: string, run: StoredRun, status: RunStatus, postedNow: number): Promise<RunResult> {
  const { rows } = await db.query<{ credited_sat: string | null; farm_sat: string | null }>(
    'SELECT credited_sat, farm_sat FROM daily_runs WHERE day = $1 AND revision = $2',
    [day, run.revision],
  );
  return {
    day,
    status,
    revision: run.revision,
    contracts: run.inputs.contracts,
    postedNow,
    revenueSat: run.inputs.revenueSat,
    creditedSat: satoshi(rows[0]?.credited_sat),
    farmSat: satoshi(rows[0]?.farm_sat),
  };
}

async function investorAccounts(db: Db, investorIds: readonly string[]): Promise<Map<string, number>> {
  const unique = [...new Set(investorIds)];
  await db.query(
    `INSERT INTO accounts (code, kind, investor_id, normal_side) SELECT 'investor:' || i, 'investor', i, -1 FROM unnest($1::text[]) AS i
     ON CONFLICT (code) DO NOTHING`,
    [unique],
  );
  const { rows } = await db.query<{ id: string; investor_id: string }>('SELECT id, investor_id FROM accounts WHERE investor_id = ANY($1::text[])', [unique]);
  return new Map(rows.map((r) => [r.investor_id, Number(r.id)]));
}

async function postRun(pool: Db, run: StoredRun, settings: RunSettings): Promise<RunResult> {
  const atomic = atomicOn(pool);
  const { inputs, revision } = run;
  const day = inputs.day;
  const contracts = await activeContracts(pool, day);
  const sold = soldThs(contracts);
  if (contracts.length !== inputs.contracts || sold !== inputs.soldThs) {
    throw new Error(
      `${day}: contracts changed since the run started (${inputs.contracts} contracts, ${inputs.soldThs} TH/s then; ` +
        `${contracts.length}, ${sold} TH/s now); run 'flymining billing recompute --date ${day} --apply'`,
    );
  }
  if (revision > 1) await reverseRevision(pool, day, revision - 1, settings);
  const allocation = allocate(inputs, contracts);
  const accounts = await investorAccounts(pool, contracts.map((c) => c.investorId));
  const receivable = await systemAccountId(pool, 'pool:receivable');
  const fees = await systemAccountId(pool, 'farm:fees');
  const chunkSize = settings.chunkSize ?? 2000;
  let postedNow = 0;
  for (let start = 0; start < allocation.contracts.length; start += chunkSize) {
    const chunk = allocation.contracts.slice(start, start + chunkSize);
    postedNow += await atomic(async (client) => {
      const txns: NewTransaction[] = chunk.map((a) => ({
        idempotencyKey: `credit:${a.contract.id}:${day}:r${revision}`,
        kind: 'credit',
        day,
        contractId: a.contract.id,
        entries: [
          { accountId: receivable, amountSat: a.grossSat },
          { accountId: accounts.get(a.contract.investorId)!, amountSat: -a.netSat },
          { accountId: fees, amountSat: -(a.maintenanceFeeSat + a.revenueFeeSat) },
        ],
      }));
      const posted = await postTransactions(client, txns);
      const fresh = chunk.filter((a) => posted.has(`credit:${a.contract.id}:${day}:r${revision}`));
      await client.query(
        `INSERT INTO daily_credits (transaction_id, contract_id, investor_id, day, revision, kind, contracted_ths, gross_sat, maintenance_fee_sat, revenue_fee_sat, net_sat, inputs)
         SELECT t, c, i, $1::date, $2::int, 'credit', h, g, m, r, n, x FROM unnest($3::bigint[], $4::text[], $5::text[], $6::numeric[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::jsonb[])
           AS u(t, c, i, h, g, m, r, n, x)`,
        [
          day,
          revision,
          fresh.map((a) => posted.get(`credit:${a.contract.id}:${day}:r${revision}`)),
          fresh.map((a) => a.contract.id),
          fresh.map((a) => a.contract.investorId),
          fresh.map((a) => a.contract.hashrateThs),
          fresh.map((a) => a.grossSat),
          fresh.map((a) => a.maintenanceFeeSat),
          fresh.map((a) => a.revenueFeeSat),
          fresh.map((a) => a.netSat),
          fresh.map((a) =>
            JSON.stringify({
              revenueSat: inputs.revenueSat,
              revenueSource: inputs.revenueSource,
              farmDeliveredThs: allocation.deliveredThs,
              soldThs: allocation.soldThs,
              scale: allocation.scale,
              quotaSat: a.quotaSat,
              difficulty: inputs.difficulty,
              btcPriceUsd: inputs.btcPriceUsd,
              maintenanceUsd: a.maintenanceUsd,
              reachableUptime: inputs.hashrate.reachableUptime,
              hashingUptime: inputs.hashrate.hashingUptime,
            }),
          ),
        ],
      );
      return fresh.length;
    });
    settings.log?.(`${day}: ${Math.min(start + chunkSize, allocation.contracts.length)}/${allocation.contracts.length} contracts`);
  }
  const creditedSat = allocation.contracts.reduce((s, a) => s + a.grossSat, 0);
  await atomic(async (client) => {
    const farmRevenue = await systemAccountId(client, 'farm:revenue');
    await postTransactions(client, [
      {
        idempotencyKey: `farm-share:${day}:r${revision}`,
        kind: 'farm_share',
        day,
        memo: `farm share of ${inputs.revenueSat} sat (${inputs.revenueSource})`,
        entries: [
          { accountId: receivable, amountSat: allocation.farmSat },
          { accountId: farmRevenue, amountSat: -allocation.farmSat },
        ],
      },
    ]);
    await client.query(
      `UPDATE daily_runs SET status = 'done', credited_sat = $3, farm_sat = $4, finished_at = now() WHERE day = $1 AND revision = $2`,
      [day, revision, creditedSat, allocation.farmSat],
    );
  });
  return summarise(pool, day, run, 'done', postedNow);
}

/** Posts the reversal of every transaction of one revision of a day (idempotent: `reverse:<transaction id>`). */
async function reverseRevision(pool: Db, day: string, revision: number, settings: RunSettings): Promise<void> {
  const atomic = atomicOn(pool);
  const { rows } = await pool.query<{ id: string }>(
    `SELECT t.id FROM journal_transactions t WHERE t.day = $1 AND t.kind IN ('credit', 'farm_share')
        AND (t.idempotency_key LIKE '%:r' || $2::text) AND NOT EXISTS (SELECT 1 FROM journal_transactions r WHERE r.reverses_id = t.id)
      ORDER BY t.id`,
    [day, revision],
  );
  const chunkSize = settings.chunkSize ?? 2000;
  for (let start = 0; start < rows.length; start += chunkSize) {
    const ids = rows.slice(start, start + chunkSize).map((r) => Number(r.id));
    await atomic(async (client) => {
      const txns: NewTransaction[] = [];
      for (const id of ids) txns.push(await reversalOf(client, id, `reverse:${id}`, `correction of ${day} revision ${revision}`));
      const posted = await postTransactions(client, txns);
      await client.query(
        `INSERT INTO daily_credits (transaction_id, contract_id, investor_id, day, revision, kind, contracted_ths, gross_sat, maintenance_fee_sat, revenue_fee_sat, net_sat, inputs)
         SELECT r.id, c.contract_id, c.investor_id, c.day, c.revision, 'reversal', c.contracted_ths, -c.gross_sat, -c.maintenance_fee_sat, -c.revenue_fee_sat, -c.net_sat, c.inputs
           FROM journal_transactions r JOIN daily_credits c ON c.transaction_id = r.reverses_id WHERE r.id = ANY($1::bigint[])`,
        [[...posted.values()]],
      );
    });
  }
}

export interface CreditDifference {
  contractId: string;
  storedNetSat: number | null;
  recomputedNetSat: number | null;
}

export interface Recomputation {
  day: string;
  revision: number;
  stored: RunInputs;
  recomputed: RunInputs;
  differences: CreditDifference[];
  storedFarmSat: number;
  recomputedFarmSat: number;
}

/** Recomputes a day from today's inputs and compares each credit with what the ledger holds (of an unfinished run: what it posted). */
export async function recomputeDay(pool: Pool, source: HashrateSource, day: string, settings: RunSettings = {}): Promise<Recomputation> {
  parseInput(daySchema, day, 'day');
  const run = await latestRun(pool, day);
  if (!run) throw new BillingInputError(`${day} has not been run yet: nothing to compare`);
  const recomputed = await gatherInputs(pool, source, day, settings);
  const allocation = allocate(recomputed, await activeContracts(pool, day));
  const { rows } = await pool.query<{ contract_id: string; net_sat: string }>(
    `SELECT contract_id, net_sat FROM daily_credits WHERE day = $1 AND revision = $2 AND kind = 'credit'`,
    [day, run.revision],
  );
  const stored = new Map(rows.map((r) => [r.contract_id, satoshi(r.net_sat)]));
  const differences: CreditDifference[] = [];
  for (const a of allocation.contracts) {
    const before = stored.get(a.contract.id) ?? null;
    if (before !== a.netSat) differences.push({ contractId: a.contract.id, storedNetSat: before, recomputedNetSat: a.netSat });
    stored.delete(a.contract.id);
  }
  for (const [contractId, before] of stored) differences.push({ contractId, storedNetSat: before, recomputedNetSat: null });
  const farm = await pool.query<{ farm_sat: string }>('SELECT farm_sat FROM daily_runs WHERE day = $1 AND revision = $2', [day, run.revision]);
  return { day, revision: run.revision, stored: run.inputs, recomputed, differences, storedFarmSat: satoshi(farm.rows[0]?.farm_sat), recomputedFarmSat: allocation.farmSat };
}

/**
 * Applies a recomputation: a new revision with today's inputs. Every credit of the previous revision is reversed
 * by a new transaction (nothing is edited), then the new credits are posted, all in one database transaction:
 * a correction happens entirely or not at all. Refused by the database if a reversal would take an investor's
 * balance below zero (they already withdrew it).
 */
export async function correctDay(pool: Pool, source: HashrateSource, day: string, settings: RunSettings = {}): Promise<RunResult> {
  parseInput(daySchema, day, 'day');
  const result = await withRunLock(pool, async () => {
    const run = await latestRun(pool, day);
    if (!run) throw new BillingInputError(`${day} has not been run yet: run it instead of correcting it`);
    // A revision left unfinished (e.g. its contracts changed after it froze) is superseded the same way: what it
    // posted is reversed, and the new revision credits everything.
    const inputs = await gatherInputs(pool, source, day, settings);
    return inTransaction(pool, async (client) => postRun(client, await freezeRun(client, inputs, run.revision + 1), settings));
  });
  return result ?? { day, status: 'locked', revision: 0, contracts: 0, postedNow: 0, revenueSat: 0, creditedSat: 0, farmSat: 0 };
}

/**
 * Runs every closed day in the catch-up window that is not done yet: from the first contract's start (at most
 * `windowDays` back, the raw retention keeps 40) to yesterday. A day that fails (e.g. no inputs recorded yet) is
 * reported and retried next time; the other days still run.
 */
export async function catchUp(
  pool: Pool,
  source: HashrateSource,
  settings: RunSettings & { windowDays?: number } = {},
): Promise<Array<RunResult | { day: string; status: 'failed'; error: string }>> {
  const today = settings.today ?? utcToday();
  const first = await pool.query<{ first: string | null }>(`SELECT to_char(min(start_day), 'YYYY-MM-DD') AS first FROM contracts`);
  const earliest = addDays(today, -(settings.windowDays ?? 35));
  let day = first.rows[0]?.first ?? today;
  if (day < earliest) day = earliest;
  const done = await pool.query<{ day: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM daily_runs WHERE status = 'done' AND day >= $1`, [day]);
  const doneDays = new Set(done.rows.map((r) => r.day));
  const results: Array<RunResult | { day: string; status: 'failed'; error: string }> = [];
  for (; day < today; day = addDays(day, 1)) {
    if (doneDays.has(day)) continue;
    try {
      results.push(await runDay(pool, source, day, { ...settings, today }));
    } catch (err) {
      settings.log?.(`${day}: ${(err as Error).message}`);
      results.push({ day, status: 'failed', error: (err as Error).message });
    }
  }
  return results;
}
