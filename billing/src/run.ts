/**
 * The daily run: credit every contract active on a closed UTC day its share of the day's revenue.
 *
 * Safety: a PostgreSQL advisory lock keeps two instances from running at once. The run first freezes its inputs
 * (hashrate, revenue, difficulty, price, contracts) in daily_runs; credits are then posted in chunks, one database
 * transaction each, under idempotency keys `credit:<contract>:<day>:r<revision>`. A run that crashes midway is
 * finished by the next one from the same frozen inputs, so the ledger ends exactly as if it had never stopped.
 * This file is the run's API (locking, which days, which transaction scope); posting is services/daily-run.ts.
 */
import type Decimal from 'decimal.js';
import type { Pool } from 'pg';
import { curtailmentInputs } from './curtailment';
import { inTransaction } from './db';
import { BillingInputError, daySchema, parseInput, type CreditDifference, type Recomputation, type RunInputs, type RunResult, type RunSettings } from './domain';
import { fppsSatPerDay, satToBtc } from './fpps';
import type { HashrateSource } from './hashrate';
import { getMarketDay } from './market';
import { checkPoolHashrate, type HashrateCheck } from './pools/gap';
import { hashpriceSatPerThsDay } from './pools/mempool';
import { marketSource, payoutSources, type FigureSource } from './pools/store';
import { allocate, chunked, farmNetSat, freezeRun, latestDayRun, postRun, soldThs, summarise, within } from './services/daily-run';
import type { ContractTerms } from './allocate';
import { activeContractTerms, firstContractDay } from './store/contracts';
import { netByContract } from './store/credits';
import { doneDaysSince, runTotals } from './store/runs';

export type { CreditDifference, Recomputation, RunInputs, RunResult, RunSettings, RunStatus } from './domain';
export { allocate } from './services/daily-run';

/** "FLYRUN" in ASCII: the one lock every billing run takes. */
const RUN_LOCK_ID = '77434061427790';

/** The run's settings with the pool-import ones: the hashrate gap tolerance, its override, and pools whose revenue a day must have. */
export interface PoolRunSettings extends RunSettings {
  /** Largest gap, in % of the farm's measured hashrate, between it and the pool's per-worker sum (default 5). */
  poolGapPct?: string;
  /** Staff's reason for crediting a day despite a gap beyond the tolerance (`--accept-pool-gap`). */
  acceptPoolGap?: string;
  /** Pools imported on schedule: a day is not run until each has reported its revenue (no FPPS stand-in). */
  requiredPools?: readonly string[];
}

/** The frozen inputs with where each figure came from (recorded in daily_runs.inputs). */
export type SourcedRunInputs = RunInputs & {
  poolPayouts: Array<{ pool: string; amountSat: number } & FigureSource>;
  marketSource: FigureSource | null;
  /** Expected sat per TH/s over the day at its difficulty, subsidy and fees (the day's hashprice); null without market data. */
  hashpriceSatPerThsDay: string | null;
  poolHashrateCheck?: HashrateCheck | null;
};

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): PoolRunSettings {
  const chunk = Number(env.FLYMINING_BILLING_CHUNK_SIZE);
  const gap = env.FLYMINING_BILLING_POOL_GAP_PCT;
  if (gap !== undefined && gap !== '' && !/^\d+(\.\d+)?$/.test(gap)) throw new Error(`FLYMINING_BILLING_POOL_GAP_PCT: "${gap}" is not a percentage`);
  return {
    fppsRate: env.FLYMINING_BILLING_FPPS_RATE || '1',
    poolFeePct: env.FLYMINING_BILLING_POOL_FEE_PCT || '0',
    chunkSize: Number.isSafeInteger(chunk) && chunk > 0 ? chunk : 2000,
    poolGapPct: gap || '5',
  };
}

export function utcToday(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** Reads today's view of a day's inputs (InfluxDB, recorded payouts and market data). Nothing is written. */
export async function gatherInputs(pool: Pool, source: HashrateSource, day: string, settings: PoolRunSettings = {}): Promise<SourcedRunInputs> {
  return (await gatherInputsAndContracts(pool, source, day, settings)).inputs;
}

/**
 * gatherInputs, and the terms of the contracts they count: a run about to post inputs it froze just now allocates
 * over these instead of reading every contract again (under the run lock, which contract changes take too).
 */
export async function gatherInputsAndContracts(
  pool: Pool,
  source: HashrateSource,
  day: string,
  settings: PoolRunSettings = {},
): Promise<{ inputs: SourcedRunInputs; contracts: ContractTerms[] }> {
  const [hashrate, curtailed, market, poolPayouts, contracts, marketFrom] = await Promise.all([
    source.dayHashrate(day),
    source.curtailedDay ? source.curtailedDay(day) : null,
    getMarketDay(pool, day),
    payoutSources(pool, day),
    activeContractTerms(pool, day),
    marketSource(pool, day),
  ]);
  const lacking = (settings.requiredPools ?? []).filter((name) => !poolPayouts.some((p) => p.source === 'api' && p.pool.startsWith(`${name}/`)));
  if (lacking.length > 0) throw new BillingInputError(`${day}: no revenue imported from ${lacking.join(', ')} yet; waiting for the pool`);
  const fppsRate = settings.fppsRate ?? '1';
  const poolFeePct = settings.poolFeePct ?? '0';
  const fppsSatOf = (hashrateThs: Decimal.Value): number | null =>
    market
      ? fppsSatPerDay({
          hashrateThs,
          difficulty: market.difficulty,
          subsidyBtc: satToBtc(market.subsidySat),
          feesPerBlockBtc: satToBtc(market.feesPerBlockSat),
          fppsRate,
          poolFeePct,
        })
      : null;
  const fppsSat = fppsSatOf(hashrate.deliveredThs);
  if (poolPayouts.length === 0 && fppsSat === null) {
    throw new BillingInputError(`${day}: no pool payout and no difficulty recorded; record one (flymining billing record-payout / record-market) first`);
  }
  // Checked before anything is frozen: a run frozen without a price could never post its maintenance fees.
  if (!market && contracts.some((c) => Number(c.maintenanceUsdPerThsDay) > 0)) {
    throw new BillingInputError(`${day}: contracts have maintenance fees but no BTC price is recorded; record one (flymining billing record-market) first`);
  }
  const revenueSat = poolPayouts.length > 0 ? poolPayouts.reduce((s, p) => s + p.amountSat, 0) : (fppsSat as number);
  const curtailment = curtailed ? curtailmentInputs(curtailed, { revenueSat, measuredThs: hashrate.deliveredThs, fppsSatOf }) : null;
  const inputs: SourcedRunInputs = {
    day,
    revenueSat,
    revenueSource: poolPayouts.length > 0 ? 'pool' : 'fpps',
    poolPayouts,
    marketSource: marketFrom,
    hashpriceSatPerThsDay: market ? hashpriceSatPerThsDay(market.difficulty, market.subsidySat + market.feesPerBlockSat) : null,
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
    curtailment,
  };
  return { inputs, contracts };
}

/** Holds the run lock for fn, or returns undefined at once when another instance holds it (runs and contract changes take it). */
export async function withRunLock<T>(pool: Pool, fn: () => Promise<T>): Promise<T | undefined> {
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

/** Runs (or finishes, or harmlessly repeats) one closed day. */
export async function runDay(pool: Pool, source: HashrateSource, day: string, settings: PoolRunSettings = {}): Promise<RunResult> {
  parseInput(daySchema, day, 'day');
  const today = settings.today ?? utcToday();
  if (day >= today) throw new BillingInputError(`${day} is not over yet (today is ${today} UTC); only closed days are run`);
  const result = await withRunLock(pool, async () => {
    let run = await latestDayRun(pool, day);
    if (run?.status === 'done') return summarise(pool, day, run, 'already-done', 0);
    let contracts: ContractTerms[] | undefined;
    if (!run) {
      const gathered = await gatherInputsAndContracts(pool, source, day, settings);
      const { inputs } = gathered;
      // The second opinion comes before anything is frozen: a blocked day writes only its check record.
      inputs.poolHashrateCheck =
        (await checkPoolHashrate(pool, day, inputs.hashrate.deliveredThs, { tolerancePct: settings.poolGapPct ?? '5', acceptReason: settings.acceptPoolGap })) ?? null;
      run = await freezeRun(pool, inputs, 1);
      contracts = gathered.contracts;
    }
    return postRun(chunked(pool), run, settings, contracts);
  });
  return result ?? { day, status: 'locked', revision: 0, contracts: 0, postedNow: 0, revenueSat: 0, creditedSat: 0, farmSat: 0 };
}

/** Recomputes a day from today's inputs and compares each credit with what the ledger holds (of an unfinished run: what it posted). */
export async function recomputeDay(pool: Pool, source: HashrateSource, day: string, settings: RunSettings = {}): Promise<Recomputation> {
  parseInput(daySchema, day, 'day');
  const run = await latestDayRun(pool, day);
  if (!run) throw new BillingInputError(`${day} has not been run yet: nothing to compare`);
  const { inputs: recomputed, contracts } = await gatherInputsAndContracts(pool, source, day, settings);
  const allocation = allocate(recomputed, contracts);
  const stored = await netByContract(pool, day, run.revision);
  const differences: CreditDifference[] = [];
  for (const a of allocation.contracts) {
    const before = stored.get(a.contract.id) ?? null;
    if (before !== a.netSat) differences.push({ contractId: a.contract.id, storedNetSat: before, recomputedNetSat: a.netSat });
    stored.delete(a.contract.id);
  }
  for (const [contractId, before] of stored) differences.push({ contractId, storedNetSat: before, recomputedNetSat: null });
  const { farmSat } = await runTotals(pool, day, run.revision);
  return { day, revision: run.revision, stored: run.inputs, recomputed, differences, storedFarmSat: farmSat, recomputedFarmSat: farmNetSat(recomputed, allocation) };
}

/**
 * Applies a recomputation: a new revision with today's inputs. Every credit of the previous revision is reversed
 * by a new transaction (nothing is edited), then the new credits are posted, all in one database transaction:
 * a correction happens entirely or not at all. Refused by the database if a reversal would take an investor's
 * balance below zero (they already withdrew it).
 */
export async function correctDay(pool: Pool, source: HashrateSource, day: string, settings: PoolRunSettings = {}): Promise<RunResult> {
  parseInput(daySchema, day, 'day');
  const result = await withRunLock(pool, async () => {
    const run = await latestDayRun(pool, day);
    if (!run) throw new BillingInputError(`${day} has not been run yet: run it instead of correcting it`);
    // A revision left unfinished (e.g. its contracts changed after it froze) is superseded the same way: what it
    // posted is reversed, and the new revision credits everything.
    const { inputs, contracts } = await gatherInputsAndContracts(pool, source, day, settings);
    inputs.poolHashrateCheck =
      (await checkPoolHashrate(pool, day, inputs.hashrate.deliveredThs, { tolerancePct: settings.poolGapPct ?? '5', acceptReason: settings.acceptPoolGap })) ?? null;
    return inTransaction(pool, async (tx) => postRun(within(tx), await freezeRun(tx, inputs, run.revision + 1), settings, contracts));
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
  settings: PoolRunSettings & { windowDays?: number } = {},
): Promise<Array<RunResult | { day: string; status: 'failed'; error: string }>> {
  const today = settings.today ?? utcToday();
  const earliest = addDays(today, -(settings.windowDays ?? 35));
  let day = (await firstContractDay(pool)) ?? today;
  if (day < earliest) day = earliest;
  const doneDays = await doneDaysSince(pool, day);
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
