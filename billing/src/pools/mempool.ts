/**
 * Network figures per UTC day from mempool.space (or a self-hosted instance): difficulty (the last adjustment
 * before the day ends), average subsidy and fees per block (the day's buckets of /mining/blocks/rewards and /fees),
 * the USD price, and the hashprice derived from them:
 *   sat per TH/s per day = 1e12 · 86400 · (subsidy + fees per block) / (difficulty · 2^32).
 * Four requests whatever the range. mempool.space answers 429 when limited and publishes no numbers, so the
 * limiter is cautious (one request a second). Source: ../shared/notes/pool-apis.md.
 */
import { z } from 'zod';
import { BillingDecimal } from '../fpps';
import { PoolHttpClient, type PoolHttpOptions } from './http';
import { dayStartMs, daysBetween, utcDayOf, type NetworkDay, type NetworkSource } from './types';

const num = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/)]).transform(Number);
const hashrateSchema = z.object({ difficulty: z.array(z.object({ time: num, height: num.optional(), difficulty: num })) });
const rewardsSchema = z.array(z.object({ avgHeight: num, timestamp: num, avgRewards: num }));
const feesSchema = z.array(z.object({ avgHeight: num, timestamp: num, avgFees: num }));
const priceSchema = z.object({ prices: z.array(z.object({ time: num, USD: num })) });

const INTERVALS: Array<[days: number, name: string]> = [
  [1, '24h'], [3, '3d'], [7, '1w'], [31, '1m'], [92, '3m'], [183, '6m'], [366, '1y'], [731, '2y'], [1096, '3y'],
];

export function subsidySatAt(height: number): number {
  const halvings = Math.floor(height / 210_000);
  return halvings >= 64 ? 0 : Math.floor(5_000_000_000 / 2 ** halvings);
}

export function hashpriceSatPerThsDay(difficulty: string, rewardPerBlockSat: number): string {
  return new BillingDecimal(1e12).mul(86400).mul(rewardPerBlockSat).div(new BillingDecimal(difficulty).mul(new BillingDecimal(2).pow(32))).toDecimalPlaces(4).toString();
}

export interface MempoolOptions {
  baseUrl?: string;
  minIntervalMs?: number;
  now?: () => number;
  http?: Partial<PoolHttpOptions>;
}

export class MempoolNetworkSource implements NetworkSource {
  readonly name = 'mempool';
  readonly http: PoolHttpClient;
  private readonly now: () => number;

  constructor(o: MempoolOptions = {}) {
    this.now = o.now ?? Date.now;
    this.http = new PoolHttpClient({ pool: 'mempool.space', baseUrl: o.baseUrl ?? 'https://mempool.space', minIntervalMs: o.minIntervalMs ?? 1000, ...o.http });
  }

  async networkDays(fromDay: string, toDay: string): Promise<NetworkDay[]> {
    const back = Math.ceil((this.now() - dayStartMs(fromDay)) / 86_400_000);
    const interval = INTERVALS.find(([d]) => back <= d)?.[1] ?? 'all';
    const hashrate = await this.http.request({ path: `/api/v1/mining/hashrate/${interval}` }, hashrateSchema);
    const rewards = await this.http.request({ path: `/api/v1/mining/blocks/rewards/${interval}` }, rewardsSchema);
    const fees = await this.http.request({ path: `/api/v1/mining/blocks/fees/${interval}` }, feesSchema);
    const prices = await this.http.request({ path: '/api/v1/historical-price', query: { currency: 'USD' } }, priceSchema);
    const request = [hashrate.request, rewards.request, fees.request, prices.request].join(' + ');
    const sec = (t: number) => (t < 1e11 ? t * 1000 : t);
    const adjustments = [...hashrate.data.difficulty].sort((a, b) => a.time - b.time);
    const out: NetworkDay[] = [];
    for (const day of daysBetween(fromDay, toDay)) {
      const end = dayStartMs(day) + 86_400_000;
      const adj = adjustments.filter((a) => sec(a.time) < end).at(-1);
      const dayRewards = rewards.data.filter((r) => utcDayOf(sec(r.timestamp)) === day);
      const dayFees = fees.data.filter((f) => utcDayOf(sec(f.timestamp)) === day);
      const price = prices.data.prices.filter((p) => sec(p.time) < end).sort((a, b) => a.time - b.time).at(-1);
      // A day without its own buckets or price is left out (reported by the caller), never filled from a neighbour.
      if (!adj || dayRewards.length === 0 || !price || price.USD <= 0) continue;
      const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const height = Math.round(avg(dayRewards.map((r) => r.avgHeight)));
      const subsidySat = subsidySatAt(height);
      const feesPerBlockSat = dayFees.length > 0 ? Math.max(0, Math.round(avg(dayFees.map((f) => f.avgFees)))) : Math.max(0, Math.round(avg(dayRewards.map((r) => r.avgRewards))) - subsidySat);
      const difficulty = new BillingDecimal(adj.difficulty).toFixed(4);
      out.push({
        day,
        difficulty,
        subsidySat,
        feesPerBlockSat,
        hashpriceSatPerThsDay: hashpriceSatPerThsDay(difficulty, subsidySat + feesPerBlockSat),
        btcPriceUsd: new BillingDecimal(price.USD).toFixed(4),
        request,
      });
    }
    return out;
  }
}
