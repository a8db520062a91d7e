/**
 * Foundry USA (FPPS). Earnings per UTC day (midnight to midnight, credited about 01:00 UTC) with the PPS base,
 * the transaction-fee reward, the FPPS rate and the pool fee; per-worker daily hashrate (GH/s, kept 90 days).
 * Auth: X-API-KEY (a read-only Viewer or Financial API key). Source: ../shared/notes/pool-apis.md (OpenAPI 6.0).
 */
import { z } from 'zod';
import { PoolHttpClient, type PoolHttpOptions } from './http';
import { amountSchema, btcStringToSat, dayStartMs, sumThs, toThs, utcDayOf, type PoolDayRevenue, type PoolImporter, type PoolWorkerDay } from './types';

const earningSchema = z.object({
  startTime: z.union([z.string(), z.number()]),
  endTime: z.union([z.string(), z.number()]).optional(),
  totalAmount: amountSchema,
  ppsBaseAmount: amountSchema.optional(),
  txFeeRewardAmount: amountSchema.optional(),
  fppsRatePercent: amountSchema.optional(),
  feeAmount: amountSchema.optional(),
  feeRatePercent: amountSchema.optional(),
  hashrate: amountSchema.optional(),
});
const earningsSchema = z.array(earningSchema);
const workersSchema = z.array(z.object({ workerId: z.union([z.string(), z.number()]).transform(String), workerName: z.string() }));
const workerDaysSchema = z.array(z.object({ unixTime: z.number(), hashrateAccepted: amountSchema }));

/** Foundry writes times as ms numbers or ISO strings. */
function timeMs(v: string | number): number {
  return typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
}

export interface FoundryOptions {
  apiKey: string;
  subAccount: string;
  baseUrl?: string;
  keySetting?: string;
  /** Not published; one request a second by default. */
  minIntervalMs?: number;
  http?: Partial<PoolHttpOptions>;
}

export class FoundryImporter implements PoolImporter {
  readonly name = 'foundry';
  readonly account: string;
  readonly http: PoolHttpClient;

  constructor(o: FoundryOptions) {
    this.account = o.subAccount;
    this.http = new PoolHttpClient({
      pool: 'Foundry USA',
      baseUrl: o.baseUrl ?? 'https://api.foundryusapool.com',
      keySetting: o.keySetting ?? 'FLYMINING_POOL_FOUNDRY_API_KEY_FILE',
      headers: { 'X-API-KEY': o.apiKey },
      minIntervalMs: o.minIntervalMs ?? 1000,
      ...o.http,
    });
  }

  async dailyRevenue(fromDay: string, toDay: string): Promise<PoolDayRevenue[]> {
    const { data, request } = await this.http.request(
      {
        path: `/earnings/${encodeURIComponent(this.account)}`,
        query: { coin: 'BTC', startDateUnixMs: dayStartMs(fromDay), endDateUnixMs: dayStartMs(toDay) + 86_400_000 },
      },
      earningsSchema,
    );
    const rows: PoolDayRevenue[] = [];
    for (const [i, e] of data.entries()) {
      const start = timeMs(e.startTime);
      if (Number.isNaN(start)) throw new RangeError(`Foundry USA: [${i}].startTime "${e.startTime}" is not a time`);
      const day = utcDayOf(start);
      if (day < fromDay || day > toDay) continue;
      const raw: Record<string, string> = { totalAmount: e.totalAmount };
      for (const k of ['ppsBaseAmount', 'txFeeRewardAmount', 'fppsRatePercent', 'feeAmount', 'feeRatePercent', 'hashrate'] as const) {
        const v = e[k];
        if (v !== undefined) raw[k] = v;
      }
      rows.push({ day, amountSat: btcStringToSat(e.totalAmount, `Foundry USA [${i}].totalAmount`), request, raw });
    }
    return rows;
  }

  /** Lists the workers, then each one's daily hashrate (GH/s) for the day: 1 + workers requests. */
  async workerHashrate(day: string): Promise<PoolWorkerDay> {
    const sub = encodeURIComponent(this.account);
    const list = await this.http.request({ path: `/workers/${sub}` }, workersSchema);
    const workers = [];
    for (const w of list.data) {
      const r = await this.http.request({ path: `/worker_hashrate_day/${sub}/${encodeURIComponent(w.workerId)}` }, workerDaysSchema);
      const point = r.data.find((p) => utcDayOf(p.unixTime < 1e11 ? p.unixTime * 1000 : p.unixTime) === day);
      if (point) workers.push({ worker: w.workerName, ths: toThs(point.hashrateAccepted, 'GH/s') });
    }
    return { day, workers, totalThs: sumThs(workers.map((w) => w.ths)), request: `${list.request} + ${list.data.length} × /worker_hashrate_day` };
  }
}
