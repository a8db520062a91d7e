/**
 * ViaBTC: daily profit history. Its days are Beijing time (UTC+8) unless `utc=true` is passed, which this importer
 * always does so that a day means the same UTC day as everywhere else in billing. Header X-API-KEY; responses
 * {code: 0, data, message}; amounts are strings; paged. Source: ../shared/notes/pool-apis.md.
 */
import { z } from 'zod';
import { PoolAuthError, PoolHttpClient, PoolResponseError, type PoolHttpOptions } from './http';
import { amountSchema, btcStringToSat, type PoolDayRevenue, type PoolImporter } from './types';

const historySchema = z.object({
  code: z.number(),
  message: z.string().optional(),
  data: z
    .object({
      data: z.array(z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD'), total_profit: amountSchema, pps_profit: amountSchema.optional(), pplns_profit: amountSchema.optional(), solo_profit: amountSchema.optional() })),
      has_next: z.boolean(),
    })
    .nullish(),
});

export interface ViaBtcOptions {
  apiKey: string;
  account: string;
  baseUrl?: string;
  keySetting?: string;
  minIntervalMs?: number;
  http?: Partial<PoolHttpOptions>;
}

export class ViaBtcImporter implements PoolImporter {
  readonly name = 'viabtc';
  readonly account: string;
  readonly http: PoolHttpClient;
  private readonly keySetting: string;

  constructor(o: ViaBtcOptions) {
    this.account = o.account;
    this.keySetting = o.keySetting ?? 'FLYMINING_POOL_VIABTC_API_KEY_FILE';
    this.http = new PoolHttpClient({
      pool: 'ViaBTC',
      baseUrl: o.baseUrl ?? 'https://pool.viabtc.com',
      keySetting: this.keySetting,
      headers: { 'X-API-KEY': o.apiKey },
      minIntervalMs: o.minIntervalMs ?? 1000,
      ...o.http,
    });
  }

  async dailyRevenue(fromDay: string, toDay: string): Promise<PoolDayRevenue[]> {
    const rows: PoolDayRevenue[] = [];
    for (let page = 1; page <= 100; page++) {
      const { data, request } = await this.http.request(
        { path: '/res/openapi/v1/profit/history', query: { coin: 'BTC', start_date: fromDay, end_date: toDay, utc: true, page, limit: 100 } },
        historySchema,
      );
      if (data.code !== 0 || !data.data) {
        const msg = `ViaBTC: error ${data.code}: ${data.message ?? ''}`;
        if (/key|auth|sign|permission/i.test(data.message ?? '')) throw new PoolAuthError(`${msg}; check ${this.keySetting}`);
        throw new PoolResponseError(msg);
      }
      for (const [i, r] of data.data.data.entries()) {
        if (r.date < fromDay || r.date > toDay) continue;
        const raw: Record<string, string> = { total_profit: r.total_profit };
        for (const k of ['pps_profit', 'pplns_profit', 'solo_profit'] as const) {
          const v = r[k];
          if (v !== undefined) raw[k] = v;
        }
        rows.push({ day: r.date, amountSat: btcStringToSat(r.total_profit, `ViaBTC data.data[${i}].total_profit`), request, raw });
      }
      if (!data.data.has_next) break;
    }
    return rows.sort((a, b) => a.day.localeCompare(b.day));
  }
}
