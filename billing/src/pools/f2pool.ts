/**
 * F2Pool API v2: POST with a JSON body only, header F2P-API-SECRET; errors come back as {code, msg}. One revenue
 * transaction per mining day (00:00 UTC days) with the pool's PPS, PPS fee rate, tx fee and tx fee rate. Rate
 * limit not published: one request a second. Source: ../shared/notes/pool-apis.md.
 */
import { z } from 'zod';
import { PoolAuthError, PoolHttpClient, PoolResponseError, type PoolHttpOptions } from './http';
import { amountSchema, btcStringToSat, dayStartMs, sumThs, toThs, utcDayOf, type PoolDayRevenue, type PoolImporter, type PoolWorkerDay } from './types';

const errorSchema = z.object({ code: z.number(), msg: z.string() });
const transactionsSchema = z.union([
  z.object({
    transactions: z.array(
      z.object({
        id: z.union([z.string(), z.number()]),
        type: z.string(),
        changed_balance: amountSchema,
        created_at: z.union([z.string(), z.number()]).optional(),
        mining_extra: z.object({
          // Unix seconds of the mining day's start, or the day as YYYY-MM-DD.
          mining_date: z.union([z.number(), z.string()]),
          settle_date: z.union([z.number(), z.string()]).optional(),
          pps: amountSchema.optional(),
          pps_fee_rate: amountSchema.optional(),
          tx_fee: amountSchema.optional(),
          tx_fee_rate: amountSchema.optional(),
          hash_rate: amountSchema.optional(),
        }),
      }),
    ),
  }),
  errorSchema,
]);
const workersSchema = z.union([
  z.object({ workers: z.array(z.object({ hash_rate_info: z.object({ name: z.string(), h24_hash_rate: amountSchema }) })) }),
  errorSchema,
]);

const WINDOW_DAYS = 31;

function miningDay(v: number | string): string {
  if (typeof v === 'number') return utcDayOf(v < 1e11 ? v * 1000 : v);
  return /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : utcDayOf(Date.parse(v));
}

export interface F2PoolOptions {
  secret: string;
  /** The mining user name (sub-account). */
  user: string;
  baseUrl?: string;
  keySetting?: string;
  minIntervalMs?: number;
  http?: Partial<PoolHttpOptions>;
}

export class F2PoolImporter implements PoolImporter {
  readonly name = 'f2pool';
  readonly account: string;
  readonly http: PoolHttpClient;
  private readonly keySetting: string;

  constructor(o: F2PoolOptions) {
    this.account = o.user;
    this.keySetting = o.keySetting ?? 'FLYMINING_POOL_F2POOL_SECRET_FILE';
    this.http = new PoolHttpClient({
      pool: 'F2Pool',
      baseUrl: o.baseUrl ?? 'https://api.f2pool.com',
      keySetting: this.keySetting,
      headers: { 'F2P-API-SECRET': o.secret },
      minIntervalMs: o.minIntervalMs ?? 1000,
      ...o.http,
    });
  }

  /** F2Pool answers errors with HTTP 200 and {code, msg}; an auth code is reported like a 403. */
  private refuse(e: { code: number; msg: string }): never {
    if (/auth|token|secret|permission|forbidden/i.test(e.msg)) throw new PoolAuthError(`F2Pool refused the API secret (code ${e.code}: ${e.msg}); check ${this.keySetting}`);
    throw new PoolResponseError(`F2Pool: error ${e.code}: ${e.msg}`);
  }

  async dailyRevenue(fromDay: string, toDay: string): Promise<PoolDayRevenue[]> {
    const rows: PoolDayRevenue[] = [];
    for (let start = dayStartMs(fromDay); start <= dayStartMs(toDay); start += WINDOW_DAYS * 86_400_000) {
      const end = Math.min(start + WINDOW_DAYS * 86_400_000, dayStartMs(toDay) + 86_400_000);
      const { data, request } = await this.http.request(
        {
          method: 'POST',
          path: '/v2/assets/transactions/list',
          body: { currency: 'bitcoin', mining_user_name: this.account, type: 'revenue', start_time: start / 1000, end_time: end / 1000 },
        },
        transactionsSchema,
      );
      if (!('transactions' in data)) this.refuse(data);
      for (const [i, t] of data.transactions.entries()) {
        if (t.type !== 'revenue') continue;
        const day = miningDay(t.mining_extra.mining_date);
        if (day < fromDay || day > toDay || dayStartMs(day) < start || dayStartMs(day) >= end) continue;
        const raw: Record<string, string> = { changed_balance: t.changed_balance, id: String(t.id) };
        for (const k of ['pps', 'pps_fee_rate', 'tx_fee', 'tx_fee_rate', 'hash_rate'] as const) {
          const v = t.mining_extra[k];
          if (v !== undefined) raw[k] = v;
        }
        rows.push({ day, amountSat: btcStringToSat(t.changed_balance, `F2Pool transactions[${i}].changed_balance`), request, raw });
      }
    }
    return rows.sort((a, b) => a.day.localeCompare(b.day));
  }

  /** Workers' last-24-hour hashrate (H/s): only for the day that just closed. */
  async workerHashrate(day: string, now = new Date()): Promise<PoolWorkerDay> {
    const yesterday = utcDayOf(dayStartMs(utcDayOf(now.getTime())) - 86_400_000);
    if (day !== yesterday) throw new RangeError(`F2Pool reports worker hashrate over the last 24 h only: ${day} is not the day that just closed (${yesterday})`);
    const { data, request } = await this.http.request(
      { method: 'POST', path: '/v2/hash_rate/worker/list', body: { currency: 'bitcoin', mining_user_name: this.account } },
      workersSchema,
    );
    if (!('workers' in data)) this.refuse(data);
    const workers = data.workers.map((w) => ({ worker: w.hash_rate_info.name, ths: toThs(w.hash_rate_info.h24_hash_rate, 'H/s') }));
    return { day, workers, totalThs: sumThs(workers.map((w) => w.ths)), request };
  }
}
