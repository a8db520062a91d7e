/**
 * Daily inputs staff record: network difficulty, block subsidy and fees, BTC price (market_days), and what the
 * pool actually paid (pool_payouts), one at a time or from CSV. A day's inputs may be corrected until it is run.
 * Figures imported over an API are recorded by src/pools/store.ts; a figure typed or imported from CSV over one
 * drops its import_id, so the run never credits it under the API request's name.
 */
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { z } from 'zod';
import { BillingInputError, daySchema, parseInput } from './domain';
import { satoshi } from './db';
import { btcToSat } from './fpps';

const btcSchema = z.string().regex(/^\d+(\.\d{1,8})?$/, 'BTC with at most 8 decimals, e.g. 0.00586194');
const positiveDecimal = z.string().regex(/^\d+(\.\d+)?$/, 'a positive decimal number').refine((s) => Number(s) > 0, 'must be more than 0');

const marketDaySchema = z.object({
  day: daySchema,
  difficulty: positiveDecimal,
  subsidyBtc: btcSchema,
  feesPerBlockBtc: btcSchema.default('0'),
  btcPriceUsd: positiveDecimal,
});
export type MarketDayInput = z.input<typeof marketDaySchema>;

export interface MarketDay {
  day: string;
  difficulty: string;
  subsidySat: number;
  feesPerBlockSat: number;
  btcPriceUsd: string;
}

export async function recordMarketDay(pool: Pool, input: MarketDayInput): Promise<void> {
  const v = parseInput(marketDaySchema, input, 'market day');
  await pool.query(
    `INSERT INTO market_days (day, difficulty, subsidy_sat, fees_per_block_sat, btc_price_usd) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (day) DO UPDATE SET difficulty = EXCLUDED.difficulty, subsidy_sat = EXCLUDED.subsidy_sat,
       fees_per_block_sat = EXCLUDED.fees_per_block_sat, btc_price_usd = EXCLUDED.btc_price_usd, import_id = NULL, recorded_at = now()`,
    [v.day, v.difficulty, btcToSat(v.subsidyBtc), btcToSat(v.feesPerBlockBtc), v.btcPriceUsd],
  );
}

export async function getMarketDay(pool: Pool, day: string): Promise<MarketDay | null> {
  const { rows } = await pool.query<{ difficulty: string; subsidy_sat: string; fees_per_block_sat: string; btc_price_usd: string }>(
    'SELECT difficulty, subsidy_sat, fees_per_block_sat, btc_price_usd FROM market_days WHERE day = $1',
    [day],
  );
  const r = rows[0];
  if (!r) return null;
  return { day, difficulty: r.difficulty, subsidySat: satoshi(r.subsidy_sat), feesPerBlockSat: satoshi(r.fees_per_block_sat), btcPriceUsd: r.btc_price_usd };
}

const poolPayoutSchema = z.object({ day: daySchema, pool: z.string().min(1).max(100), amountBtc: btcSchema, source: z.enum(['api', 'csv']).default('api') });
export type PoolPayoutInput = z.input<typeof poolPayoutSchema>;

const fxRateSchema = z.object({
  day: daySchema,
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'a three-letter ISO 4217 code such as EUR')
    .refine((c) => c !== 'USD', 'USD is the base: record the other currency per USD'),
  perUsd: positiveDecimal,
  source: z.string().trim().min(1, 'say where the rate comes from (e.g. ECB reference rate)').max(200),
});
export type FxRateInput = z.input<typeof fxRateSchema>;

/** Records what one USD bought in a currency on a day, with its source (the investor pages show it). */
export async function recordFxRate(pool: Pool, input: FxRateInput): Promise<void> {
  const v = parseInput(fxRateSchema, input, 'exchange rate');
  await pool.query(
    `INSERT INTO fx_rates (day, currency, per_usd, source) VALUES ($1, $2, $3, $4)
     ON CONFLICT (day, currency) DO UPDATE SET per_usd = EXCLUDED.per_usd, source = EXCLUDED.source, recorded_at = now()`,
    [v.day, v.currency, v.perUsd, v.source],
  );
}

export async function recordPoolPayout(pool: Pool, input: PoolPayoutInput): Promise<void> {
  const v = parseInput(poolPayoutSchema, input, 'pool payout');
  await pool.query(
    `INSERT INTO pool_payouts (day, pool, amount_sat, source) VALUES ($1, $2, $3, $4)
     ON CONFLICT (day, pool) DO UPDATE SET amount_sat = EXCLUDED.amount_sat, source = EXCLUDED.source, import_id = NULL, recorded_at = now()`,
    [v.day, v.pool, btcToSat(v.amountBtc), v.source],
  );
}

export async function getPoolPayouts(pool: Pool, day: string): Promise<Array<{ pool: string; amountSat: number }>> {
  const { rows } = await pool.query<{ pool: string; amount_sat: string }>('SELECT pool, amount_sat FROM pool_payouts WHERE day = $1 ORDER BY pool', [day]);
  return rows.map((r) => ({ pool: r.pool, amountSat: satoshi(r.amount_sat) }));
}

/** Parses a CSV with a header line; every line is validated before anything is recorded. */
export function parseCsv(text: string, required: readonly string[], file: string): Array<Record<string, string>> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim().toLowerCase());
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length > 0) throw new BillingInputError(`${file}: header lacks ${missing.join(', ')} (needs ${required.join(',')})`);
  return lines.map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) throw new BillingInputError(`${file}:${i + 2}: ${cells.length} fields, header has ${header.length}`);
    return Object.fromEntries(header.map((h, j) => [h, cells[j] ?? '']));
  });
}

/** CSV `date,pool,amount_btc` (the pool's daily earnings export). Returns the number of lines recorded. */
export async function importPoolPayoutsCsv(pool: Pool, file: string): Promise<number> {
  const rows = parseCsv(readFileSync(file, 'utf8'), ['date', 'pool', 'amount_btc'], file);
  const inputs = rows.map((r, i) =>
    parseInput(poolPayoutSchema, { day: r.date, pool: r.pool, amountBtc: r.amount_btc, source: 'csv' }, `${file}:${i + 2}`),
  );
  for (const v of inputs) await recordPoolPayout(pool, v);
  return inputs.length;
}

/** CSV `date,difficulty,subsidy_btc,fees_btc,btc_price_usd` (fees_btc: average fees per block that day). */
export async function importMarketCsv(pool: Pool, file: string): Promise<number> {
  const rows = parseCsv(readFileSync(file, 'utf8'), ['date', 'difficulty', 'subsidy_btc', 'btc_price_usd'], file);
  const inputs = rows.map((r, i) =>
    parseInput(marketDaySchema, { day: r.date, difficulty: r.difficulty, subsidyBtc: r.subsidy_btc, feesPerBlockBtc: r.fees_btc || '0', btcPriceUsd: r.btc_price_usd }, `${file}:${i + 2}`),
  );
  for (const v of inputs) await recordMarketDay(pool, v);
  return inputs.length;
}
