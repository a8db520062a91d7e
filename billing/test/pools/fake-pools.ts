/**
 * A local HTTP server of our own that answers like Foundry USA, Braiins Pool, F2Pool, ViaBTC and mempool.space in
 * the shapes documented in shared/notes/pool-apis.md: amounts as strings, 403 on a bad token, 429 with
 * Retry-After when asked faster than `minGapMs` (or when `throttleNext` is set), ViaBTC's Beijing days unless
 * utc=true, F2Pool's POST-only JSON. Each day's figures are derived from the day, so tests compute the expected values.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Decimal from 'decimal.js';

export const TOKENS = { foundry: 'foundry-key', braiins: 'braiins-token', f2pool: 'f2pool-secret', viabtc: 'viabtc-key' } as const;

/** A day's revenue in BTC as an 8-decimal string: 0.00400000 + day-of-year × 0.00000123 (exact in sat). */
export function revenueBtc(day: string): string {
  const n = Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${day.slice(0, 4)}-01-01T00:00:00Z`)) / 86_400_000);
  return new Decimal('0.004').add(new Decimal('0.00000123').mul(n)).toFixed(8);
}

export function revenueSat(day: string): number {
  return new Decimal(revenueBtc(day)).mul(1e8).toNumber();
}

export interface FakePools {
  url: string;
  /** Requests seen per path prefix (pool). */
  hits: Record<string, number>;
  /** The next request to these pools answers 429 with this Retry-After (seconds). */
  throttleNext: Partial<Record<'foundry' | 'braiins' | 'f2pool' | 'viabtc' | 'mempool', number>>;
  /** Requests to one pool closer together than this answer 429 (Retry-After 1); 0 = off. */
  minGapMs: number;
  /** Per-worker GH/s on each day (Foundry's worker_hashrate_day, Braiins' and F2Pool's 24 h figure). */
  workersGhs: Record<string, number>;
  close(): Promise<void>;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);

function daysIn(fromMs: number, toMsExclusive: number): string[] {
  const out: string[] = [];
  for (let t = Math.floor(fromMs / 86_400_000) * 86_400_000; t < toMsExclusive; t += 86_400_000) out.push(day(t));
  return out;
}

async function body(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return s;
}

export async function startFakePools(): Promise<FakePools> {
  const lastAt: Record<string, number> = {};
  const state: FakePools = {
    url: '',
    hits: {},
    throttleNext: {},
    minGapMs: 0,
    workersGhs: { 'rig-1': 50_000, 'rig-2': 40_000 },
    close: async () => undefined,
  };
  const send = (res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) => {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json', ...headers });
    res.end(text);
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const p = url.pathname;
      const pool = p.startsWith('/foundry') ? 'foundry' : p.startsWith('/braiins') ? 'braiins' : p.startsWith('/f2pool') ? 'f2pool' : p.startsWith('/viabtc') ? 'viabtc' : 'mempool';
      state.hits[pool] = (state.hits[pool] ?? 0) + 1;
      const now = Date.now();
      const tooSoon = state.minGapMs > 0 && lastAt[pool] !== undefined && now - lastAt[pool]! < state.minGapMs;
      lastAt[pool] = now;
      const throttle = state.throttleNext[pool];
      if (throttle !== undefined || tooSoon) {
        delete state.throttleNext[pool];
        return send(res, 429, 'Too Many Requests', { 'retry-after': String(throttle ?? 1) });
      }
      if (pool === 'foundry') {
        if (req.headers['x-api-key'] !== TOKENS.foundry) return send(res, 403, { error: 'Forbidden' });
        let m: RegExpMatchArray | null;
        if ((m = p.match(/^\/foundry\/earnings\/([^/]+)$/))) {
          const days = daysIn(Number(url.searchParams.get('startDateUnixMs')), Number(url.searchParams.get('endDateUnixMs')));
          return send(
            res,
            200,
            days.map((d) => {
              const total = new Decimal(revenueBtc(d));
              // FPPS base and fee reward that add up (after a 0.3 % fee taken from their sum) to the total.
              const gross = total.div('0.997');
              const base = gross.div('1.05');
              return {
                startTime: dayMs(d),
                endTime: dayMs(d) + 86_400_000,
                totalAmount: total.toFixed(8),
                ppsBaseAmount: base.toFixed(8),
                txFeeRewardAmount: gross.sub(base).toFixed(8),
                fppsRatePercent: '105.000',
                feeAmount: gross.sub(total).toFixed(8),
                feeRatePercent: '0.3',
                hashrate: 90_000_000,
              };
            }),
          );
        }
        if ((m = p.match(/^\/foundry\/workers\/([^/]+)$/))) {
          return send(res, 200, Object.keys(state.workersGhs).map((name, i) => ({ workerId: i + 1, workerName: name, hashrate_5m: 1, lastShareTime: now })));
        }
        if ((m = p.match(/^\/foundry\/worker_hashrate_day\/([^/]+)\/(\d+)$/))) {
          const name = Object.keys(state.workersGhs)[Number(m[2]) - 1]!;
          const today = dayMs(day(now));
          return send(res, 200, [1, 2, 3].map((k) => ({ time: day(today - k * 86_400_000), unixTime: (today - k * 86_400_000) / 1000, hashrateAccepted: state.workersGhs[name], hashrateStale: 0, hashrateRejected: 0 })));
        }
      }
      if (pool === 'braiins') {
        if (req.headers['pool-auth-token'] !== TOKENS.braiins) return send(res, 403, 'Invalid Access Profile token');
        if (p === '/braiins/accounts/rewards/json/btc') {
          const from = url.searchParams.get('from')!;
          const to = url.searchParams.get('to')!;
          const days = daysIn(dayMs(from), dayMs(to) + 86_400_000);
          return send(res, 200, {
            btc: {
              daily_rewards: days.map((d) => ({
                date: dayMs(d) / 1000,
                total_reward: revenueBtc(d),
                mining_reward: revenueBtc(d),
                bos_plus_reward: '0.00000000',
                referral_bonus: '0.00000000',
                referral_reward: '0.00000000',
                calculation_date: dayMs(d) / 1000 + 86_400,
              })),
            },
          });
        }
        if (p === '/braiins/accounts/workers/json/btc/') {
          return send(res, 200, {
            btc: { workers: Object.fromEntries(Object.entries(state.workersGhs).map(([n, g]) => [`farm.${n}`, { state: 'ok', last_share: now / 1000, hash_rate_unit: 'Gh/s', hash_rate_5m: String(g), hash_rate_60m: String(g), hash_rate_24h: String(g) }])) },
          });
        }
      }
      if (pool === 'f2pool') {
        if (req.method !== 'POST') return send(res, 405, { code: 405, msg: 'method not allowed' });
        if (req.headers['f2p-api-secret'] !== TOKENS.f2pool) return send(res, 403, { code: 403, msg: 'invalid api secret' });
        const b = JSON.parse(await body(req)) as { start_time?: number; end_time?: number };
        if (p === '/f2pool/v2/assets/transactions/list') {
          const days = daysIn(b.start_time! * 1000, b.end_time! * 1000);
          return send(res, 200, {
            transactions: days.map((d, i) => ({
              id: dayMs(d) / 1000 + i,
              type: 'revenue',
              changed_balance: revenueBtc(d),
              created_at: dayMs(d) / 1000 + 86_400 + 3600,
              mining_extra: { mining_date: dayMs(d) / 1000, settle_date: dayMs(d) / 1000 + 86_400, pps: revenueBtc(d), pps_fee_rate: '0.04', tx_fee: '0.0001', tx_fee_rate: '0.04', hash_rate: 9e16 },
            })),
          });
        }
        if (p === '/f2pool/v2/hash_rate/worker/list') {
          return send(res, 200, { workers: Object.entries(state.workersGhs).map(([n, g]) => ({ hash_rate_info: { name: n, hash_rate: g * 1e9, h1_hash_rate: g * 1e9, h24_hash_rate: g * 1e9 }, last_share_at: now / 1000, status: 0 })) });
        }
      }
      if (pool === 'viabtc') {
        if (req.headers['x-api-key'] !== TOKENS.viabtc) return send(res, 403, { code: 403, data: null, message: 'invalid api key' });
        if (p === '/viabtc/res/openapi/v1/profit/history') {
          const utc = url.searchParams.get('utc') === 'true';
          const days = daysIn(dayMs(url.searchParams.get('start_date')!), dayMs(url.searchParams.get('end_date')!) + 86_400_000);
          const page = Number(url.searchParams.get('page') ?? 1);
          const limit = Number(url.searchParams.get('limit') ?? 20);
          const slice = days.slice((page - 1) * limit, page * limit);
          // Beijing days (the default) carry 8 hours of the previous UTC day: a different figure than the UTC day's.
          const amount = (d: string) => (utc ? revenueBtc(d) : new Decimal(revenueBtc(d)).mul(16).add(new Decimal(revenueBtc(day(dayMs(d) - 86_400_000))).mul(8)).div(24).toFixed(8));
          return send(res, 200, { code: 0, message: 'OK', data: { data: slice.map((d) => ({ coin: 'BTC', date: d, pps_profit: amount(d), pplns_profit: '0', solo_profit: '0', total_profit: amount(d) })), has_next: page * limit < days.length, total_page: Math.ceil(days.length / limit) } });
        }
      }
      if (pool === 'mempool') {
        if (p === '/plain') return send(res, 200, [{ ok: true }]);
        const start = dayMs(day(now)) - 400 * 86_400_000;
        const days = daysIn(start, now);
        if (p.startsWith('/api/v1/mining/hashrate/')) {
          return send(res, 200, { hashrates: [], difficulty: [{ time: start / 1000, height: 860_000, difficulty: 9e13, adjustment: 1 }, { time: (start + 200 * 86_400_000) / 1000, height: 890_000, difficulty: 1.2e14, adjustment: 1.33 }] });
        }
        if (p.startsWith('/api/v1/mining/blocks/rewards/')) return send(res, 200, days.map((d, i) => ({ avgHeight: 860_000 + i * 144, timestamp: dayMs(d) / 1000 + 43_200, avgRewards: 312_500_000 + 20_000_000 })));
        if (p.startsWith('/api/v1/mining/blocks/fees/')) return send(res, 200, days.map((d, i) => ({ avgHeight: 860_000 + i * 144, timestamp: dayMs(d) / 1000 + 43_200, avgFees: 20_000_000 })));
        if (p === '/api/v1/historical-price') return send(res, 200, { prices: days.map((d) => ({ time: dayMs(d) / 1000, USD: 95_000 })), exchangeRates: {} });
      }
      send(res, 404, { error: `no route ${req.method} ${p}` });
    })().catch((err: Error) => send(res, 500, { error: err.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
