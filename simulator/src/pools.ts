/**
 * A local HTTP server that answers like Foundry USA, Braiins Pool, F2Pool, ViaBTC and mempool.space in the shapes
 * documented in shared/notes/pool-apis.md: amounts as strings, 403 on a bad key, 429 with Retry-After when asked
 * faster than `minGapMs` (or when `throttleNext` is set), ViaBTC's Beijing days unless utc=true, F2Pool's POST-only
 * JSON. What it reports comes from `figures`: billing's tests give figures derived from the day alone; the demo
 * gives the simulated farm's history (demoPoolFigures), so the revenue follows what the farm delivered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Decimal from 'decimal.js';

export const POOL_API_NAMES = ['foundry', 'braiins', 'f2pool', 'viabtc'] as const;
export type PoolApiName = (typeof POOL_API_NAMES)[number];

export interface NetworkDayFigures {
  /** Average reward per block (subsidy + fees) and average fees per block, sat. */
  avgRewardsSat: number;
  avgFeesSat: number;
  /** Average block height of the day. */
  height: number;
  priceUsd: number;
}

/** What the pools and the network report; every method is asked per request, so figures may change while serving. */
export interface PoolFigures {
  /** The account's revenue for a UTC day as an 8-decimal BTC string; undefined: not reported (not settled, unknown). */
  revenueBtc(day: string): string | undefined;
  /** Each worker's hashrate over a UTC day, GH/s (Braiins and F2Pool are asked for the day that just closed). */
  workersGhs(day: string): Record<string, number>;
  /** The difficulty adjustments mempool.space lists, oldest first (`nowMs`: the server's clock). */
  difficulties(nowMs: number): Array<{ timeMs: number; height: number; difficulty: number }>;
  /** A day's block rewards, fees and price (mempool.space's daily buckets); `index`: days since the listing's first day. */
  networkDay(day: string, index: number): NetworkDayFigures;
}

export interface PoolApiOptions {
  /** The key each pool accepts (the header it arrives in is the pool's own). */
  keys: Record<PoolApiName, string>;
  figures: PoolFigures;
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
}

export interface PoolApiServer {
  url: string;
  /** Requests seen per path prefix (pool). */
  hits: Record<string, number>;
  /** The next request to these pools answers 429 with this Retry-After (seconds). */
  throttleNext: Partial<Record<PoolApiName | 'mempool', number>>;
  /** Requests to one pool closer together than this answer 429 (Retry-After 1); 0 = off. */
  minGapMs: number;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);

function daysIn(fromMs: number, toMsExclusive: number): string[] {
  const out: string[] = [];
  for (let t = Math.floor(fromMs / DAY_MS) * DAY_MS; t < toMsExclusive; t += DAY_MS) out.push(day(t));
  return out;
}

async function body(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return s;
}

/** Days the figures report revenue for, with that revenue. */
function reported(figures: PoolFigures, days: readonly string[]): Array<{ d: string; btc: string }> {
  return days.flatMap((d) => {
    const btc = figures.revenueBtc(d);
    return btc === undefined ? [] : [{ d, btc }];
  });
}

export async function startPoolApi(options: PoolApiOptions): Promise<PoolApiServer> {
  const { keys, figures } = options;
  const lastAt: Record<string, number> = {};
  const state: PoolApiServer = { url: '', hits: {}, throttleNext: {}, minGapMs: 0, close: async () => undefined };
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
      const yesterday = day(dayMs(day(now)) - DAY_MS);
      const tooSoon = state.minGapMs > 0 && lastAt[pool] !== undefined && now - lastAt[pool]! < state.minGapMs;
      lastAt[pool] = now;
      const throttle = state.throttleNext[pool];
      if (throttle !== undefined || tooSoon) {
        delete state.throttleNext[pool];
        return send(res, 429, 'Too Many Requests', { 'retry-after': String(throttle ?? 1) });
      }
      if (pool === 'foundry') {
        if (req.headers['x-api-key'] !== keys.foundry) return send(res, 403, { error: 'Forbidden' });
        let m: RegExpMatchArray | null;
        if ((m = p.match(/^\/foundry\/earnings\/([^/]+)$/))) {
          const days = daysIn(Number(url.searchParams.get('startDateUnixMs')), Number(url.searchParams.get('endDateUnixMs')));
          return send(
            res,
            200,
            reported(figures, days).map(({ d, btc }) => {
              const total = new Decimal(btc);
              // FPPS base and fee reward that add up (after a 0.3 % fee taken from their sum) to the total.
              const gross = total.div('0.997');
              const base = gross.div('1.05');
              return {
                startTime: dayMs(d),
                endTime: dayMs(d) + DAY_MS,
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
          return send(res, 200, Object.keys(figures.workersGhs(yesterday)).map((name, i) => ({ workerId: i + 1, workerName: name, hashrate_5m: 1, lastShareTime: now })));
        }
        if ((m = p.match(/^\/foundry\/worker_hashrate_day\/([^/]+)\/(\d+)$/))) {
          const name = Object.keys(figures.workersGhs(yesterday))[Number(m[2]) - 1]!;
          const today = dayMs(day(now));
          return send(
            res,
            200,
            [1, 2, 3].map((k) => {
              const t = today - k * DAY_MS;
              return { time: day(t), unixTime: t / 1000, hashrateAccepted: figures.workersGhs(day(t))[name] ?? 0, hashrateStale: 0, hashrateRejected: 0 };
            }),
          );
        }
      }
      if (pool === 'braiins') {
        if (req.headers['pool-auth-token'] !== keys.braiins) return send(res, 403, 'Invalid Access Profile token');
        if (p === '/braiins/accounts/rewards/json/btc') {
          const days = daysIn(dayMs(url.searchParams.get('from')!), dayMs(url.searchParams.get('to')!) + DAY_MS);
          return send(res, 200, {
            btc: {
              daily_rewards: reported(figures, days).map(({ d, btc }) => ({
                date: dayMs(d) / 1000,
                total_reward: btc,
                mining_reward: btc,
                bos_plus_reward: '0.00000000',
                referral_bonus: '0.00000000',
                referral_reward: '0.00000000',
                calculation_date: dayMs(d) / 1000 + 86_400,
              })),
            },
          });
        }
        if (p === '/braiins/accounts/workers/json/btc/') {
          const workers = figures.workersGhs(yesterday);
          return send(res, 200, {
            btc: {
              workers: Object.fromEntries(
                Object.entries(workers).map(([n, g]) => [n, { state: 'ok', last_share: now / 1000, hash_rate_unit: 'Gh/s', hash_rate_5m: String(g), hash_rate_60m: String(g), hash_rate_24h: String(g) }]),
              ),
            },
          });
        }
      }
      if (pool === 'f2pool') {
        if (req.method !== 'POST') return send(res, 405, { code: 405, msg: 'method not allowed' });
        if (req.headers['f2p-api-secret'] !== keys.f2pool) return send(res, 403, { code: 403, msg: 'invalid api secret' });
        const b = JSON.parse(await body(req)) as { start_time?: number; end_time?: number };
        if (p === '/f2pool/v2/assets/transactions/list') {
          const days = daysIn(b.start_time! * 1000, b.end_time! * 1000);
          return send(res, 200, {
            transactions: reported(figures, days).map(({ d, btc }, i) => ({
              id: dayMs(d) / 1000 + i,
              type: 'revenue',
              changed_balance: btc,
              created_at: dayMs(d) / 1000 + 86_400 + 3600,
              mining_extra: { mining_date: dayMs(d) / 1000, settle_date: dayMs(d) / 1000 + 86_400, pps: btc, pps_fee_rate: '0.04', tx_fee: '0.0001', tx_fee_rate: '0.04', hash_rate: 9e16 },
            })),
          });
        }
        if (p === '/f2pool/v2/hash_rate/worker/list') {
          const workers = figures.workersGhs(yesterday);
          return send(res, 200, {
            workers: Object.entries(workers).map(([n, g]) => ({ hash_rate_info: { name: n, hash_rate: g * 1e9, h1_hash_rate: g * 1e9, h24_hash_rate: g * 1e9 }, last_share_at: now / 1000, status: 0 })),
          });
        }
      }
      if (pool === 'viabtc') {
        if (req.headers['x-api-key'] !== keys.viabtc) return send(res, 403, { code: 403, data: null, message: 'invalid api key' });
        if (p === '/viabtc/res/openapi/v1/profit/history') {
          const utc = url.searchParams.get('utc') === 'true';
          const days = reported(figures, daysIn(dayMs(url.searchParams.get('start_date')!), dayMs(url.searchParams.get('end_date')!) + DAY_MS));
          const page = Number(url.searchParams.get('page') ?? 1);
          const limit = Number(url.searchParams.get('limit') ?? 20);
          const slice = days.slice((page - 1) * limit, page * limit);
          // Beijing days (the default) carry 8 hours of the previous UTC day: a different figure than the UTC day's.
          const amount = (d: string, btc: string) =>
            utc ? btc : new Decimal(btc).mul(16).add(new Decimal(figures.revenueBtc(day(dayMs(d) - DAY_MS)) ?? btc).mul(8)).div(24).toFixed(8);
          return send(res, 200, {
            code: 0,
            message: 'OK',
            data: {
              data: slice.map(({ d, btc }) => ({ coin: 'BTC', date: d, pps_profit: amount(d, btc), pplns_profit: '0', solo_profit: '0', total_profit: amount(d, btc) })),
              has_next: page * limit < days.length,
              total_page: Math.ceil(days.length / limit),
            },
          });
        }
      }
      if (pool === 'mempool') {
        if (p === '/plain') return send(res, 200, [{ ok: true }]);
        const start = dayMs(day(now)) - 400 * DAY_MS;
        const days = daysIn(start, now);
        if (p.startsWith('/api/v1/mining/hashrate/')) {
          return send(res, 200, { hashrates: [], difficulty: figures.difficulties(now).map((a) => ({ time: a.timeMs / 1000, height: a.height, difficulty: a.difficulty, adjustment: 1 })) });
        }
        const network = days.map((d, i) => ({ d, n: figures.networkDay(d, i) }));
        if (p.startsWith('/api/v1/mining/blocks/rewards/')) return send(res, 200, network.map(({ d, n }) => ({ avgHeight: n.height, timestamp: dayMs(d) / 1000 + 43_200, avgRewards: n.avgRewardsSat })));
        if (p.startsWith('/api/v1/mining/blocks/fees/')) return send(res, 200, network.map(({ d, n }) => ({ avgHeight: n.height, timestamp: dayMs(d) / 1000 + 43_200, avgFees: n.avgFeesSat })));
        if (p === '/api/v1/historical-price') return send(res, 200, { prices: network.map(({ d, n }) => ({ time: dayMs(d) / 1000, USD: n.priceUsd })), exchangeRates: {} });
      }
      send(res, 404, { error: `no route ${req.method} ${p}` });
    })().catch((err: Error) => send(res, 500, { error: err.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  state.url = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

/** Sat per TH/s per day at a difficulty and reward per block (billing/src/pools/mempool.ts computes the same). */
export function hashpriceSat(difficulty: number, rewardPerBlockSat: number): number {
  return (1e12 * 86_400 * rewardPerBlockSat) / (difficulty * 2 ** 32);
}

const dayIndex = (d: string): number => Math.floor(dayMs(d) / DAY_MS);

/**
 * The demo's network, by the calendar: a difficulty that rises 1 % every 14-day epoch, fees and price that wander
 * from day to day, the 3.125 BTC subsidy. The same day always reads the same.
 */
export function demoNetworkDay(d: string): NetworkDayFigures & { difficulty: number } {
  const n = dayIndex(d);
  const avgFeesSat = Math.round(9_000_000 + 4_000_000 * Math.sin(n / 3.1));
  return {
    difficulty: demoDifficulty(n),
    avgRewardsSat: 312_500_000 + avgFeesSat,
    avgFeesSat,
    height: 930_000 + (n - dayIndex('2026-01-01')) * 144,
    priceUsd: Math.round(91_000 + 7_000 * Math.sin(n / 9) + 2_500 * Math.sin(n / 2.3)),
  };
}

function demoDifficulty(dayNumber: number): number {
  const epoch = Math.floor(dayNumber / 14);
  return Math.round(1.3e14 * 1.01 ** (epoch - Math.floor(dayIndex('2026-01-01') / 14)));
}

/** A worker's share of luck on a day: the pool's figure differs from the farm's by a few tenths of a percent. */
function luck(worker: string, d: string): number {
  let h = 2166136261;
  for (const c of `${worker}|${d}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return 1 + ((h % 1000) / 1000 - 0.5) * 0.008;
}

/** The pool fee the demo's pool keeps (FPPS, taken before it pays). */
export const DEMO_POOL_FEE = 0.04;

/**
 * What the demo's pool reports for a farm whose miners delivered `delivered` (per closed day, TH/s per worker, the
 * history writer's --delivered-out): each worker's hashrate with a little luck, and revenue = the workers' hashrate
 * × the day's hashprice (demoNetworkDay) less the pool fee. Days not in `delivered` are not reported.
 */
export function demoPoolFigures(delivered: ReadonlyMap<string, ReadonlyMap<string, number>>): PoolFigures {
  const workersGhs = (d: string): Record<string, number> =>
    Object.fromEntries([...(delivered.get(d) ?? new Map<string, number>())].map(([w, ths]) => [w, Math.round(ths * luck(w, d) * 1e6) / 1e3]));
  return {
    workersGhs,
    revenueBtc(d) {
      if (!delivered.has(d)) return undefined;
      const ths = Object.values(workersGhs(d)).reduce((s, g) => s + g / 1000, 0);
      const net = demoNetworkDay(d);
      const sat = Math.floor(ths * hashpriceSat(net.difficulty, net.avgRewardsSat) * (1 - DEMO_POOL_FEE));
      return new Decimal(sat).div(1e8).toFixed(8);
    },
    difficulties(nowMs) {
      const last = Math.floor(nowMs / DAY_MS / 14);
      return Array.from({ length: 31 }, (_, k) => {
        const epoch = last - 30 + k;
        return { timeMs: epoch * 14 * DAY_MS, height: demoNetworkDay(day(epoch * 14 * DAY_MS)).height, difficulty: demoDifficulty(epoch * 14) };
      });
    },
    networkDay: (d) => demoNetworkDay(d),
  };
}
