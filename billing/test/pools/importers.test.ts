/** Each importer against a local server replaying the pool's documented shapes: exact amounts, UTC days, bad keys, rate limits. */
import Decimal from 'decimal.js';
import { z } from 'zod';
import { BraiinsImporter, F2PoolImporter, FoundryImporter, MempoolNetworkSource, PoolAuthError, PoolResponseError, ViaBtcImporter, hashpriceSatPerThsDay } from '../../src/pools';
import { revenueBtc, revenueSat, startFakePools, TOKENS, type FakePools } from './fake-pools';

let fake: FakePools;
beforeAll(async () => {
  fake = await startFakePools();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.minGapMs = 0;
  fake.throttleNext = {};
});

const FAST = { minIntervalMs: 0 };
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

test('Foundry: one row per UTC day, total exact to the satoshi, with FPPS base, fee reward and fee rate as the pool sent them', async () => {
  const foundry = new FoundryImporter({ apiKey: TOKENS.foundry, subAccount: 'flyfarm', baseUrl: `${fake.url}/foundry`, ...FAST });
  const rows = await foundry.dailyRevenue('2026-03-01', '2026-03-10');
  expect(rows.map((r) => r.day)).toEqual(Array.from({ length: 10 }, (_, i) => `2026-03-${String(i + 1).padStart(2, '0')}`));
  expect(rows[4]).toMatchObject({ day: '2026-03-05', amountSat: revenueSat('2026-03-05'), raw: { totalAmount: revenueBtc('2026-03-05'), fppsRatePercent: '105.000', feeRatePercent: '0.3' } });
  expect(new Decimal(rows[4]!.raw.ppsBaseAmount!).gt(0)).toBe(true);
  expect(rows[0]!.request).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/foundry\/earnings\/flyfarm\?coin=BTC&startDateUnixMs=\d+&endDateUnixMs=\d+$/);
  expect(rows[0]!.request).not.toContain(TOKENS.foundry);
});

test('Foundry: per-worker daily hashrate in GH/s becomes TH/s, summed', async () => {
  const foundry = new FoundryImporter({ apiKey: TOKENS.foundry, subAccount: 'flyfarm', baseUrl: `${fake.url}/foundry`, ...FAST });
  const w = await foundry.workerHashrate(yesterday);
  expect(w.workers).toEqual([{ worker: 'rig-1', ths: '50' }, { worker: 'rig-2', ths: '40' }]);
  expect(w.totalThs).toBe('90');
});

test('a bad key is a clear error naming the pool and the setting, and never shows the key', async () => {
  const cases = [
    new FoundryImporter({ apiKey: 'wrong-foundry', subAccount: 'a', baseUrl: `${fake.url}/foundry`, keySetting: 'FLYMINING_POOL_FOUNDRY_API_KEY_FILE', ...FAST }),
    new BraiinsImporter({ token: 'wrong-braiins', account: 'a', baseUrl: `${fake.url}/braiins`, keySetting: 'FLYMINING_POOL_BRAIINS_TOKEN_FILE', ...FAST }),
    new F2PoolImporter({ secret: 'wrong-f2pool', user: 'a', baseUrl: `${fake.url}/f2pool`, keySetting: 'FLYMINING_POOL_F2POOL_SECRET_FILE', ...FAST }),
    new ViaBtcImporter({ apiKey: 'wrong-viabtc', account: 'a', baseUrl: `${fake.url}/viabtc`, keySetting: 'FLYMINING_POOL_VIABTC_API_KEY_FILE', ...FAST }),
  ];
  const names = ['Foundry USA', 'Braiins Pool', 'F2Pool', 'ViaBTC'];
  for (const [i, importer] of cases.entries()) {
    const err = await importer.dailyRevenue('2026-03-01', '2026-03-02').then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(PoolAuthError);
    expect(err!.message).toContain(names[i]);
    expect(err!.message).toMatch(/FLYMINING_POOL_\w+_FILE/);
    expect(err!.message).not.toMatch(/wrong-/);
  }
});

test('Braiins: rewards per UTC day from Unix-second dates, amounts as strings, in 90-day windows', async () => {
  const braiins = new BraiinsImporter({ token: TOKENS.braiins, account: 'flyfarm', baseUrl: `${fake.url}/braiins`, ...FAST });
  const before = fake.hits.braiins ?? 0;
  const rows = await braiins.dailyRevenue('2026-01-01', '2026-06-30');
  expect(rows).toHaveLength(181);
  expect((fake.hits.braiins ?? 0) - before).toBe(3); // 90 + 90 + 1 days
  expect(rows[180]).toMatchObject({ day: '2026-06-30', amountSat: revenueSat('2026-06-30') });
  const w = await braiins.workerHashrate(yesterday);
  expect(w.totalThs).toBe('90');
  await expect(braiins.workerHashrate('2026-01-01')).rejects.toThrow(/last 24 h only/);
});

test('F2Pool: POST-only revenue transactions, one per mining day, with PPS and fee rates kept', async () => {
  const f2 = new F2PoolImporter({ secret: TOKENS.f2pool, user: 'flyfarm', baseUrl: `${fake.url}/f2pool`, ...FAST });
  const rows = await f2.dailyRevenue('2026-02-25', '2026-03-05');
  expect(rows.map((r) => r.day)).toEqual(['2026-02-25', '2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05']);
  expect(rows[3]).toMatchObject({ amountSat: revenueSat('2026-02-28'), raw: { pps_fee_rate: '0.04', tx_fee_rate: '0.04' } });
  expect(rows[0]!.request).toMatch(/^POST .*\/v2\/assets\/transactions\/list \{"currency":"bitcoin","mining_user_name":"flyfarm","type":"revenue"/);
});

test("ViaBTC: asks for UTC days (utc=true), not its default Beijing days, across pages", async () => {
  const via = new ViaBtcImporter({ apiKey: TOKENS.viabtc, account: 'flyfarm', baseUrl: `${fake.url}/viabtc`, ...FAST });
  const rows = await via.dailyRevenue('2026-01-01', '2026-05-31');
  expect(rows).toHaveLength(151);
  expect(rows.every((r) => r.request.includes('utc=true'))).toBe(true);
  // The fake pool answers Beijing-day figures without utc=true; these are the UTC day's.
  expect(rows.find((r) => r.day === '2026-03-10')!.amountSat).toBe(revenueSat('2026-03-10'));
});

test('429 with Retry-After: the importer waits as told and then succeeds', async () => {
  const foundry = new FoundryImporter({ apiKey: TOKENS.foundry, subAccount: 'flyfarm', baseUrl: `${fake.url}/foundry`, ...FAST });
  fake.throttleNext.foundry = 1;
  const t0 = Date.now();
  const rows = await foundry.dailyRevenue('2026-03-01', '2026-03-01');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  expect(rows).toHaveLength(1);
  expect(foundry.http.stats.retries).toBe(1);
});

test('the client-side limiter keeps requests apart: a pool answering 429 to requests closer than 300 ms never sees one', async () => {
  fake.minGapMs = 300;
  const braiins = new BraiinsImporter({ token: TOKENS.braiins, account: 'flyfarm', baseUrl: `${fake.url}/braiins`, minIntervalMs: 350 });
  const rows = await braiins.dailyRevenue('2025-01-01', '2025-12-31');
  expect(rows).toHaveLength(365);
  expect(braiins.http.stats.retries).toBe(0);
  expect(braiins.http.stats.requests).toBe(5);
});

test('a response in the wrong shape names the field', async () => {
  const braiins = new BraiinsImporter({ token: TOKENS.braiins, account: 'x', baseUrl: `${fake.url}/braiins`, ...FAST });
  // The rewards arrive as strings; a schema expecting numbers must say which field broke.
  const err = await braiins.http.request({ path: '/accounts/rewards/json/btc', query: { from: '2026-01-01', to: '2026-01-02' } }, z.object({ btc: z.object({ daily_rewards: z.array(z.object({ total_reward: z.number() })) }) })).then(() => undefined, (e: Error) => e);
  expect(err).toBeInstanceOf(PoolResponseError);
  expect(err!.message).toContain('btc.daily_rewards.0.total_reward');
});

test('mempool.space: difficulty, subsidy, fees per block, price and hashprice per UTC day', async () => {
  const net = new MempoolNetworkSource({ baseUrl: fake.url, minIntervalMs: 0 });
  const days = await net.networkDays(new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10), yesterday);
  expect(days).toHaveLength(10);
  const d = days.at(-1)!;
  expect(d).toMatchObject({ difficulty: '120000000000000.0000', subsidySat: 312_500_000, feesPerBlockSat: 20_000_000, btcPriceUsd: '95000.0000' });
  expect(d.hashpriceSatPerThsDay).toBe(hashpriceSatPerThsDay('120000000000000', 332_500_000));
  // 1e12 × 86400 × 3.325 BTC / (1.2e14 × 2^32) ≈ 55.74 sat per TH/s·day.
  expect(Math.round(Number(d.hashpriceSatPerThsDay))).toBe(Math.round((1e12 * 86400 * 332_500_000) / (1.2e14 * 2 ** 32)));
});
