/**
 * The demo's billing from the farm itself (issue 16): the simulator's history writer puts days of a small simulated
 * farm into the jest InfluxDB, with a power cut in one container and miners without pool work on another day; billing
 * reads each day's delivered hashrate from it; the demo's pool API pays for what the farm delivered; the demo seed
 * imports through the real F2Pool importer (key from a file) and the network source, and the daily run credits the
 * investor by the stored hashrate: the outage days are credited less and say why, in words and in chromium.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InfluxStore } from '@flymining/shared';
import type { Browser } from 'playwright-core';
import { DEMO_PROFILE_MIX, DEMO_REQUIRED_PROFILES, generateFarmSpecs } from '../../simulator/src/farm';
import { computeHistory, demoOutages, historyDays, writeHistory, type DeliveredByDay, type Outage } from '../../simulator/src/history';
import { demoPoolFigures, startPoolApi, type PoolApiServer } from '../../simulator/src/pools';
import { openTestStore } from '../../shared/test/influx/helpers';
import { InfluxHashrateSource, type DayHashrate } from '../src/hashrate';
import { verifyLedger } from '../src/ledger';
import { importerFromEnv, MempoolNetworkSource } from '../src/pools';
import { DEMO_INVESTOR, seedDemo } from '../src/portal/demo-seed';
import { explainCredit } from '../src/portal/explain';
import { engineLedger } from '../src/portal/ledger-adapter';
import { utcToday } from '../src/run';
import { createTestDatabase, type TestDatabase } from './pg';
import { browserSignIn, launchChromium, startTestPortal } from './portal/harness';

const specs = generateFarmSpecs({ miners: 40, containers: 2, racksPerContainer: 1, profileMix: DEMO_PROFILE_MIX, ensureProfiles: DEMO_REQUIRED_PROFILES, seed: 7 });
const today = utcToday();
const [normalDay, powerDay, noWorkDay] = historyDays(today, 3) as [string, string, string, string];
const inC = (c: string) => specs.filter((s) => s.position.container === c).map((s) => s.id);
const outages: Outage[] = [
  { day: powerDay, kind: 'power', miners: inC('C01'), fromHour: 6, hours: 14, what: 'C01 dark' },
  { day: noWorkDay, kind: 'no-work', miners: inC('C02').slice(0, 7), fromHour: 2, hours: 20, what: '7 miners of C02 without work' },
];
const STEP_MS = 10 * 60_000;

let store: InfluxStore;
let db: TestDatabase;
let written: { points: number; delivered: DeliveredByDay };
const figures = new Map<string, DayHashrate>();

beforeAll(async () => {
  store = await openTestStore('demo_farm', { batchSize: 20_000 }, { spool: false });
  db = await createTestDatabase('demo_farm');
  written = await writeHistory(store, { specs, seed: 7, days: historyDays(today, 3), untilMs: Date.now(), stepMs: STEP_MS, outages });
  const source = new InfluxHashrateSource(store);
  for (const day of [normalDay, powerDay, noWorkDay]) figures.set(day, await source.dayHashrate(day));
}, 120_000);

afterAll(async () => {
  await store?.close();
  await db?.drop();
});

const num = (s: string) => Number(s);

test("the history is in InfluxDB as the exporters write it, and billing reads each day's delivered hashrate and its outage from it", async () => {
  // Every miner, every 10 minutes of each closed day: a miner_up point for each look.
  const up = await store.queryRows(`SELECT count("reachable") AS n FROM "miner_up" WHERE time >= '${normalDay}T00:00:00Z' AND time < '${noWorkDay}T00:00:00Z' + 1d`);
  expect(up[0]?.n).toBe(specs.length * 3 * 144);
  const normal = figures.get(normalDay)!;
  const power = figures.get(powerDay)!;
  const noWork = figures.get(noWorkDay)!;
  expect(normal.miners).toBe(40);
  // An ordinary day: the farm delivers its nominal hashrate, give or take the odd reboot.
  expect(num(normal.deliveredThs) / num(normal.nominalThs)).toBeGreaterThan(0.98);
  expect(num(normal.reachableUptime)).toBeGreaterThan(0.98);
  // The power cut: C01 unreachable 14 of 24 hours, and that much less delivered.
  const c01 = power.containers.find((c) => c.container === 'C01')!;
  expect(num(c01.reachableUptime)).toBeCloseTo(10 / 24, 1);
  const c01Normal = normal.containers.find((c) => c.container === 'C01')!;
  expect(num(power.deliveredThs)).toBeCloseTo(num(normal.deliveredThs) - (num(c01Normal.deliveredThs) * 14) / 24, -2);
  // Miners without pool work: reachable all day, not hashing.
  expect(num(noWork.reachableUptime)).toBeGreaterThan(0.98);
  expect(num(noWork.hashingUptime)).toBeLessThan(0.9);
  expect(num(noWork.deliveredThs)).toBeLessThan(num(normal.deliveredThs) * 0.9);
  // What the pool is told each worker delivered is what billing measures, to the rounding of the samples.
  for (const day of [normalDay, powerDay, noWorkDay]) {
    const poolSum = [...written.delivered.get(day)!.values()].reduce((s, v) => s + v, 0);
    expect(poolSum / num(figures.get(day)!.deliveredThs)).toBeCloseTo(1, 4);
  }
  // Today is not over: nothing for the pool yet, and nothing written past now.
  expect(written.delivered.has(today)).toBe(false);
  const future = await store.queryRows(`SELECT count("reachable") AS n FROM "miner_up" WHERE time > now()`);
  expect(future[0]?.n ?? 0).toBe(0);
});

test('a day reads the same whichever window it was written in (the demo rewrites it on every start)', async () => {
  const alone = await computeHistory({ specs, seed: 7, days: [powerDay], untilMs: Date.now(), stepMs: STEP_MS, outages }, () => undefined);
  expect([...alone.get(powerDay)!]).toEqual([...written.delivered.get(powerDay)!]);
});

test('the demo calendar holds two power cuts and a day without pool work in any three weeks', () => {
  for (let start = 0; start < 20; start++) {
    const days = historyDays(new Date(Date.parse('2026-01-01') + start * 86_400_000).toISOString().slice(0, 10), 21).slice(0, 21);
    const kinds = demoOutages(specs, days).map((o) => o.kind);
    expect(kinds.filter((k) => k === 'power').length).toBeGreaterThanOrEqual(2);
    expect(kinds.filter((k) => k === 'no-work').length).toBeGreaterThanOrEqual(1);
  }
});

describe('seeded like the demo: pool API, importers, daily run', () => {
  let pools: PoolApiServer;
  let browser: Browser | undefined;
  const keyDir = mkdtempSync(path.join(os.tmpdir(), 'flymining-demo-farm-'));

  beforeAll(async () => {
    const key = 'demo-pool-key-0123456789';
    const keyFile = path.join(keyDir, 'pool.key');
    writeFileSync(keyFile, key, { mode: 0o600 });
    pools = await startPoolApi({ keys: { foundry: key, braiins: key, f2pool: key, viabtc: key }, figures: demoPoolFigures(written.delivered) });
    const env = { FLYMINING_POOL_F2POOL_SECRET_FILE: keyFile, FLYMINING_POOL_F2POOL_ACCOUNT: 'flymining', FLYMINING_POOL_F2POOL_URL: `${pools.url}/f2pool` };
    const result = await seedDemo(
      db.pool,
      { hashrate: new InfluxHashrateSource(store), importers: [importerFromEnv('f2pool', env)], network: new MempoolNetworkSource({ baseUrl: pools.url, minIntervalMs: 0 }) },
      { today, days: 3 },
    );
    expect(result.failed).toEqual([]);
    expect(result.credited).toEqual([normalDay, powerDay, noWorkDay]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await pools?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  test("the investor is credited by the stored hashrate: less on the outage days, and the page says why", async () => {
    const credits = await engineLedger(db.pool).creditsOf(DEMO_INVESTOR.id);
    const byDay = new Map(credits.map((c) => [c.day, c]));
    expect([...byDay.keys()]).toEqual([normalDay, powerDay, noWorkDay]);
    // The frozen delivered figure is InfluxDB's.
    for (const [day, c] of byDay) expect(c.farmDeliveredThs).toBe(figures.get(day)!.deliveredThs);
    const normal = byDay.get(normalDay)!;
    const power = byDay.get(powerDay)!;
    const noWork = byDay.get(noWorkDay)!;
    // An ordinary day delivers more than the 95 % sold: the contract earns its full share.
    expect(num(normal.farmDeliveredThs)).toBeGreaterThan(num(normal.soldThs));
    expect(explainCredit(normal, 'EUR').lines[0]).not.toContain('below 100 %');
    // Outage days: the farm delivered less than it sold, every contract scaled down alike.
    for (const c of [power, noWork]) expect(num(c.farmDeliveredThs)).toBeLessThan(num(c.soldThs));
    expect(num(power.grossSat)).toBeLessThan(num(normal.grossSat) * 0.85);
    expect(num(noWork.grossSat)).toBeLessThan(num(normal.grossSat) * 0.95);
    expect(num(power.netSat)).toBeLessThan(num(normal.netSat));
    expect(explainCredit(power, 'EUR').lines[0]).toMatch(/\(\d+(\.\d)? % of the [\d.]+ TH\/s sold; below 100 % because of downtime: miners unreachable part of the day \(reachable \d/);
    expect(explainCredit(noWork, 'EUR').lines[0]).toMatch(/below 100 % because of downtime \(hashing uptime \d+(\.\d)? %\)/);
    // Valued in the investor's EUR at the recorded rate.
    expect(explainCredit(normal, 'EUR').value.join(' ')).toMatch(/= €[\d.,]+ \(0\.9\d* EUR per USD, demo: a made-up reference rate\)/);
    expect((await verifyLedger(db.pool)).ok).toBe(true);
  });

  test("in chromium, the investor's contract page shows the power cut's lower delivered share and its reason", async () => {
    const portal = await startTestPortal('demo_farm', {}, db);
    try {
      browser = await launchChromium();
      const { context, page } = await browserSignIn(browser, portal.url, DEMO_INVESTOR.email, DEMO_INVESTOR.password);
      await page.click('text=demo-contract-100ths');
      const row = await page.locator(`table.credits tr[data-day="${powerDay}"]`).innerText();
      expect(row).toMatch(/TH\/s delivered \(\d+(\.\d)? % of the [\d.]+ TH\/s sold; below 100 % because of downtime: miners unreachable part of the day/);
      await context.close();
    } finally {
      await portal.close();
    }
  }, 90_000);
});
