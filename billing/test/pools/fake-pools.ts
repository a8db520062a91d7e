/**
 * The pool API server (simulator/src/pools.ts) with figures derived from the day alone, so tests compute the
 * expected values: revenue 0.004 BTC + day-of-year × 0.00000123, workers from `workersGhs` (tests change it), a
 * difficulty of 9e13 then 1.2e14, 3.325 BTC per block and $95,000.
 */
import Decimal from 'decimal.js';
import { startPoolApi, type PoolApiServer } from '../../../simulator/src/pools';

export const TOKENS = { foundry: 'foundry-key', braiins: 'braiins-token', f2pool: 'f2pool-secret', viabtc: 'viabtc-key' } as const;

/** A day's revenue in BTC as an 8-decimal string: 0.00400000 + day-of-year × 0.00000123 (exact in sat). */
export function revenueBtc(day: string): string {
  const n = Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${day.slice(0, 4)}-01-01T00:00:00Z`)) / 86_400_000);
  return new Decimal('0.004').add(new Decimal('0.00000123').mul(n)).toFixed(8);
}

export function revenueSat(day: string): number {
  return new Decimal(revenueBtc(day)).mul(1e8).toNumber();
}

export interface FakePools extends PoolApiServer {
  /** Per-worker GH/s on each day (Foundry's worker_hashrate_day, Braiins' and F2Pool's 24 h figure). */
  workersGhs: Record<string, number>;
}

export async function startFakePools(): Promise<FakePools> {
  const workers = { current: { 'rig-1': 50_000, 'rig-2': 40_000 } as Record<string, number> };
  const server = await startPoolApi({
    keys: TOKENS,
    figures: {
      revenueBtc,
      workersGhs: () => workers.current,
      difficulties: (nowMs) => {
        const start = Date.parse(`${new Date(nowMs).toISOString().slice(0, 10)}T00:00:00Z`) - 400 * 86_400_000;
        return [
          { timeMs: start, height: 860_000, difficulty: 9e13 },
          { timeMs: start + 200 * 86_400_000, height: 890_000, difficulty: 1.2e14 },
        ];
      },
      networkDay: (_day, i) => ({ height: 860_000 + i * 144, avgRewardsSat: 312_500_000 + 20_000_000, avgFeesSat: 20_000_000, priceUsd: 95_000 }),
    },
  });
  return Object.defineProperty(server, 'workersGhs', {
    get: () => workers.current,
    set: (value: Record<string, number>) => (workers.current = value),
    enumerable: true,
  }) as FakePools;
}
