/**
 * Braiins Pool. Daily rewards per UTC day (`date` = Unix seconds of the day's first second), amounts as BTC
 * strings; workers' 24-hour hashrate. Auth header Pool-Auth-Token (the newer name; the older SlushPool-Auth-Token
 * is sent too, both carry the access-profile token). About one request per 5 s is safe; excess requests are
 * ignored and abuse is banned. Source: ../shared/notes/pool-apis.md.
 */
import { z } from 'zod';
import { PoolHttpClient, type PoolHttpOptions } from './http';
import { amountSchema, btcStringToSat, dayStartMs, sumThs, toThs, utcDayOf, type PoolDayRevenue, type PoolImporter, type PoolWorkerDay } from './types';

const rewardsSchema = z.object({
  btc: z.object({
    daily_rewards: z.array(
      z.object({
        date: z.number().int(),
        total_reward: amountSchema,
        mining_reward: amountSchema.optional(),
        bos_plus_reward: amountSchema.optional(),
        referral_bonus: amountSchema.optional(),
        referral_reward: amountSchema.optional(),
        calculation_date: z.union([z.number(), z.string()]).optional(),
      }),
    ),
  }),
});
const workersSchema = z.object({
  btc: z.object({
    workers: z.record(z.string(), z.object({ state: z.string(), hash_rate_unit: z.string(), hash_rate_24h: amountSchema })),
  }),
});

/** The rewards endpoint answers at most 90 days by default; ask in windows of that size. */
const WINDOW_DAYS = 90;

export interface BraiinsOptions {
  token: string;
  /** The account name recorded with each figure (the token already selects it). */
  account: string;
  baseUrl?: string;
  keySetting?: string;
  minIntervalMs?: number;
  http?: Partial<PoolHttpOptions>;
}

export class BraiinsImporter implements PoolImporter {
  readonly name = 'braiins';
  readonly account: string;
  readonly http: PoolHttpClient;

  constructor(o: BraiinsOptions) {
    this.account = o.account;
    this.http = new PoolHttpClient({
      pool: 'Braiins Pool',
      baseUrl: o.baseUrl ?? 'https://pool.braiins.com',
      keySetting: o.keySetting ?? 'FLYMINING_POOL_BRAIINS_TOKEN_FILE',
      headers: { 'Pool-Auth-Token': o.token, 'SlushPool-Auth-Token': o.token },
      minIntervalMs: o.minIntervalMs ?? 5000,
      ...o.http,
    });
  }

  async dailyRevenue(fromDay: string, toDay: string): Promise<PoolDayRevenue[]> {
    const rows: PoolDayRevenue[] = [];
    for (let start = dayStartMs(fromDay); start <= dayStartMs(toDay); start += WINDOW_DAYS * 86_400_000) {
      const from = utcDayOf(start);
      const last = utcDayOf(Math.min(start + (WINDOW_DAYS - 1) * 86_400_000, dayStartMs(toDay)));
      const { data, request } = await this.http.request({ path: '/accounts/rewards/json/btc', query: { from, to: last } }, rewardsSchema);
      for (const [i, r] of data.btc.daily_rewards.entries()) {
        const day = utcDayOf(r.date * 1000);
        if (day < from || day > last) continue;
        const raw: Record<string, string> = { total_reward: r.total_reward };
        for (const k of ['mining_reward', 'bos_plus_reward', 'referral_bonus', 'referral_reward'] as const) {
          const v = r[k];
          if (v !== undefined) raw[k] = v;
        }
        rows.push({ day, amountSat: btcStringToSat(r.total_reward, `Braiins Pool btc.daily_rewards[${i}].total_reward`), request, raw });
      }
    }
    return rows.sort((a, b) => a.day.localeCompare(b.day));
  }

  /**
   * Braiins reports each worker's hashrate over the last 24 hours only, so this answers for the day that just
   * closed (import it shortly after 00:00 UTC); any other day is refused rather than guessed.
   */
  async workerHashrate(day: string, now = new Date()): Promise<PoolWorkerDay> {
    const yesterday = utcDayOf(dayStartMs(utcDayOf(now.getTime())) - 86_400_000);
    if (day !== yesterday) throw new RangeError(`Braiins Pool reports worker hashrate over the last 24 h only: ${day} is not the day that just closed (${yesterday})`);
    const { data, request } = await this.http.request({ path: '/accounts/workers/json/btc/' }, workersSchema);
    const workers = Object.entries(data.btc.workers).map(([worker, w]) => ({ worker, ths: toThs(w.hash_rate_24h, w.hash_rate_unit) }));
    return { day, workers, totalThs: sumThs(workers.map((w) => w.ths)), request };
  }
}
