/**
 * The TV wall's band in chromium, read as someone across the staff room would: real PostgreSQL seeded with tickets
 * of known ages and repair times and a rota override, real InfluxDB with miners of known hashrate, the wall server
 * with both. At 1920×1080 and 3840×2160 the labels "Open tickets", "MTTR" and "On call" must be on screen, apart,
 * in type at least 1.5 % of the screen's height, nothing in the band cut off, and the figures those of the data
 * (worked out here from what was seeded). Without a database the band says "tickets: not configured"; with one that
 * does not answer, "tickets: unavailable".
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { RotaStore } from '@flymining/maintenance';
import type { InfluxStore } from '@flymining/shared';
import { Pool } from 'pg';
import type { Browser } from 'playwright-core';
import { DateTime } from 'luxon';
import { freshStore, tempDir } from '../../../exporters/test/e2e/helpers';
import { createMaintenanceDatabase } from '../../../maintenance/test/db';
import type { TestDatabase } from '../../../billing/test/pg';
import { testTokens, type TestTokens } from '../../../shared/test/auth/test-tokens';
import { durationText } from '../../src/silence';
import { createTvWallApp, listen, TVWALL_TOKEN_COOKIE } from '../../tvwall/server';
import { launchChromium } from './browser';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SITE = 'band-site';

/** Miners: [hashrate TH/s, nominal TH/s, reachable, mode]. 12 × 120 TH/s nominal: above 1000 TH/s, so PH/s. */
const MINERS: Array<[number, number, boolean, string]> = [
  ...Array.from({ length: 9 }, (_, i): [number, number, boolean, string] => [110 + i, 120, true, 'hashing']),
  [0, 120, true, 'sleeping'],
  [95.5, 120, false, 'hashing'], // unreachable now: its last hashrate does not count
  [101.25, 120, true, 'hashing'],
];

/** Open tickets by age at the time of seeding. */
const OPEN_AGES = [10 * MIN, 40 * MIN, 2 * HOUR + 5 * MIN, 5 * HOUR, 20 * HOUR, 2 * DAY + 3 * HOUR, 3 * DAY + 5 * HOUR + 20 * MIN];
/** Repair times of tickets fixed this week and last week. */
const THIS_WEEK_REPAIRS = [1 * HOUR, 2 * HOUR + 30 * MIN];
const LAST_WEEK_REPAIRS = [3 * HOUR, 4 * HOUR, 5 * HOUR + 30 * MIN];

const VIEWPORTS = [
  { width: 1920, height: 1080 },
  { width: 3840, height: 2160 },
];

async function seedTickets(db: TestDatabase, now: number): Promise<void> {
  let n = 0;
  const insert = async (openedAt: number, state: string, fixedAt?: number) => {
    n += 1;
    const machine = await db.pool.query<{ id: string }>(`INSERT INTO maintenance.machines (identity) VALUES ($1) RETURNING id`, [`serial:BAND${n}`]);
    const fixed = fixedAt === undefined ? null : new Date(fixedAt);
    await db.pool.query(
      `INSERT INTO maintenance.tickets (machine_id, miner, container, fault, severity, group_key, state, opened_at, acknowledged_at, fixed_at, fixed_by, verified_at, closed_at, firing)
       VALUES ($1, $2, 'C01', 'FAN_STOPPED', 'critical', $3, $4, $5, $6, $7, $8, $7, $9, $10)`,
      [machine.rows[0]!.id, `C01-R1-S1-${n}`, `g${n}`, state, new Date(openedAt), fixed ? new Date(openedAt + MIN) : null, fixed, fixed ? 'ana' : null, state === 'verified' ? fixed : null, fixed === null],
    );
  };
  for (const age of OPEN_AGES) await insert(now - age, 'open');
  // Fixed in the middle of this week so far (weeks start Monday, UTC: the rota below is in UTC), and last Wednesday.
  const weekStart = DateTime.fromMillis(now, { zone: 'UTC' }).startOf('week').toMillis();
  const thisWeekFix = weekStart + Math.floor((now - weekStart) / 2);
  for (const r of THIS_WEEK_REPAIRS) await insert(thisWeekFix - r, 'verified', thisWeekFix);
  for (const r of LAST_WEEK_REPAIRS) await insert(weekStart - 5 * DAY + 12 * HOUR - r, 'verified', weekStart - 5 * DAY + 12 * HOUR);
}

function writeMiners(store: InfluxStore, now: number): void {
  const lines = MINERS.flatMap(([hashrate, nominal, reachable, mode], i) => {
    const tags = `site=${SITE},container=C01,rack=R1,shelf=S1,slot=${i + 1},miner=band-${i + 1}`;
    // The unreachable miner answered 5 minutes ago, then its scrapes failed.
    const answeredAt = reachable ? now : now - 5 * MIN;
    return [
      `miner,${tags},model=S19 hashrate_ths=${hashrate},nominal_ths=${nominal},mode="${mode}" ${answeredAt}`,
      `miner_up,${tags} reachable=${reachable ? 1 : 0}i,hashing=${reachable && mode === 'hashing' ? 1 : 0}i ${now}`,
    ];
  });
  store.write(lines);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('TV wall band in chromium', () => {
  let db: TestDatabase;
  let store: InfluxStore;
  let tokens: TestTokens;
  let wallToken: string;
  let server: Server;
  let bareServer: Server;
  let browser: Browser;
  let seededAt: number;
  let onCallUntil: number;
  const shots = tempDir('tvwall-band');
  const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

  beforeAll(async () => {
    db = await createMaintenanceDatabase('tvwall_band');
    seededAt = Date.now();
    await seedTickets(db, seededAt);
    const rota = new RotaStore(db.pool);
    await rota.importFile({ time_zone: 'UTC', handover: '08:00', shift: 'weekly', anchor: '2026-01-05', escalate_after: '15m', members: [{ name: 'Ana Lima', active: true }, { name: 'Bo Ek', active: true }] }, 'test');
    // Bo covers from an hour ago for five hours, whatever the rotation says.
    onCallUntil = seededAt + 5 * HOUR;
    await rota.addOverride({ name: 'Bo Ek', startsAt: new Date(seededAt - HOUR), endsAt: new Date(onCallUntil), reason: 'swap' }, 'test');
    store = await freshStore('tvwall_band');
    writeMiners(store, seededAt);
    await store.flush();
    tokens = await testTokens('tvwall-band', { tokenCookie: TVWALL_TOKEN_COOKIE });
    wallToken = await tokens.token('tvwall:read');
    server = await listen(createTvWallApp({ authenticator: tokens.authenticator, store, site: SITE, maintenancePool: db.pool, refreshSeconds: 60 }), 0);
    bareServer = await listen(createTvWallApp({ authenticator: tokens.authenticator, store, site: SITE, refreshSeconds: 60 }), 0);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await new Promise((resolve) => bareServer?.close(resolve));
    await store?.close();
    await tokens?.close();
    await db?.drop();
  });

  test('the band figures need the wall token like the rest of the wall', async () => {
    expect((await fetch(`${url(server)}/api/band`)).status).toBe(401);
    const res = await fetch(`${url(server)}/api/band`, { headers: { authorization: `Bearer ${wallToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ configured: true, onCall: { name: 'Bo Ek', until: onCallUntil } });
  });

  test.each(VIEWPORTS)('at $width×$height: labels on screen, apart, large enough, and the seeded figures', async (viewport) => {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1, timezoneId: 'UTC' });
    await page.goto(`${url(server)}/?token=${encodeURIComponent(wallToken)}`);
    await page.waitForSelector('body[data-updated-at]');
    await page.waitForSelector('canvas');
    const shot = path.join(shots, `band-${viewport.width}x${viewport.height}.png`);
    await page.screenshot({ path: shot });
    // The README's picture: refreshed on request only, so a test run leaves the work tree clean.
    if (viewport.width === 1920 && process.env.FLYMINING_UPDATE_DOCS_IMAGES === '1') {
      const docs = path.join(__dirname, '../../../docs/img/tvwall-band.png');
      mkdirSync(path.dirname(docs), { recursive: true });
      copyFileSync(shot, docs);
    }

    const cells = await page.$$eval('[data-band]', (sections) =>
      sections.map((s) => {
        const label = s.querySelector('[data-band-label]')!;
        const box = label.getBoundingClientRect();
        const lines = [...s.querySelectorAll('[data-band-label], [data-band-value], [data-band-detail]')].map((l) => ({ text: l.textContent ?? '', clipped: l.scrollWidth > l.clientWidth + 1, fontPx: parseFloat(getComputedStyle(l).fontSize) }));
        const style = getComputedStyle(label);
        return {
          id: s.getAttribute('data-band')!,
          label: label.textContent ?? '',
          box: { left: box.left, top: box.top, right: box.right, bottom: box.bottom },
          visible: style.visibility !== 'hidden' && style.display !== 'none' && box.width > 0 && box.height > 0,
          text: s.textContent ?? '',
          lines,
        };
      }),
    );
    const byId = Object.fromEntries(cells.map((c) => [c.id, c]));
    const labelled = ['tickets', 'mttr', 'oncall'].map((id) => byId[id]!);
    expect(labelled.map((c) => c.label)).toEqual([expect.stringMatching(/^Open tickets/), expect.stringMatching(/^MTTR/), expect.stringMatching(/^On call/)]);
    for (const c of labelled) {
      expect({ label: c.label, visible: c.visible }).toEqual({ label: c.label, visible: true });
      expect({ label: c.label, inside: c.box.left >= 0 && c.box.top >= 0 && c.box.right <= viewport.width && c.box.bottom <= viewport.height }).toEqual({ label: c.label, inside: true });
    }
    for (const [i, a] of labelled.entries()) {
      for (const b of labelled.slice(i + 1)) {
        const overlap = a.box.left < b.box.right && b.box.left < a.box.right && a.box.top < b.box.bottom && b.box.top < a.box.bottom;
        expect({ pair: [a.label, b.label], overlap }).toEqual({ pair: [a.label, b.label], overlap: false });
      }
    }
    // Every line of the band (labels, figures, details): large enough and not cut off at either resolution.
    for (const c of cells) {
      for (const line of c.lines) {
        expect({ line: line.text, bigEnough: line.fontPx >= 0.015 * viewport.height }).toEqual({ line: line.text, bigEnough: true });
        expect({ line: line.text, clipped: line.clipped }).toEqual({ line: line.text, clipped: false });
      }
    }
    const band = await page.$eval('[data-testid="band"]', (el) => { const r = el.getBoundingClientRect(); return { right: r.right, bottom: r.bottom, scroll: el.scrollWidth - el.clientWidth }; });
    expect(band.right).toBeLessThanOrEqual(viewport.width);
    expect(band.bottom).toBeLessThan(viewport.height * 0.2);
    expect(band.scroll).toBe(0);

    // The figures, worked out from what was seeded.
    const answering = MINERS.filter(([, , reachable, mode]) => reachable && mode === 'hashing');
    const hashrate = answering.reduce((sum, [h]) => sum + h, 0);
    const nominal = MINERS.reduce((sum, [, n]) => sum + n, 0);
    expect(byId.hashrate!.text).toBe(`Hashrate${(hashrate / 1000).toFixed(2)} / ${(nominal / 1000).toFixed(2)} PH/s${Math.round((hashrate / nominal) * 100)} % of nominal`);
    expect(byId.miners!.text).toBe(`Miners hashing${answering.length} / ${MINERS.length}${MINERS.length - answering.length} not hashing`);
    const inBucket = (lo: number, hi: number) => OPEN_AGES.filter((a) => a >= lo && a < hi).length;
    // The oldest is 3 d 5 h 20 min old: the seconds since seeding do not change its text.
    const oldest = durationText(Math.max(...OPEN_AGES));
    expect(byId.tickets!.text).toBe(
      `Open tickets${OPEN_AGES.length} · oldest ${oldest}` +
        `<1 h ${inBucket(0, HOUR)} · 1–4 h ${inBucket(HOUR, 4 * HOUR)} · 4–24 h ${inBucket(4 * HOUR, DAY)} · older ${inBucket(DAY, Infinity)}`,
    );
    expect(byId.mttr!.text).toBe(`MTTR this week${durationText(mean(THIS_WEEK_REPAIRS))} ▼ betterlast week ${durationText(mean(LAST_WEEK_REPAIRS))}`);
    expect(await page.getAttribute('[data-trend]', 'data-trend')).toBe('better');
    // The override's end, in the rota's zone (UTC), with the date when that is not today.
    const until = DateTime.fromMillis(onCallUntil, { zone: 'UTC' });
    const untilText = until.hasSame(DateTime.utc(), 'day') ? until.toFormat('HH:mm') : until.toFormat('d LLL, HH:mm');
    expect(byId.oncall!.text).toBe(`On callBo Ekuntil ${untilText}`);
    await page.close();
  });

  test('without the maintenance database the band says so and the wall still shows the farm', async () => {
    const page = await browser.newPage({ viewport: VIEWPORTS[0] });
    await page.goto(`${url(bareServer)}/?token=${encodeURIComponent(wallToken)}`);
    await page.waitForSelector('body[data-updated-at]');
    await page.waitForSelector('canvas');
    expect(await page.textContent('[data-band="tickets"] [data-band-value]')).toBe('tickets: not configured');
    expect(await page.textContent('[data-band="miners"] [data-band-value]')).toBe(`${MINERS.filter(([, , r, m]) => r && m === 'hashing').length} / ${MINERS.length}`);
    await page.close();
  });

  test('a database that does not answer marks the band, and the rack map still draws', async () => {
    // Nothing listens on port 1.
    const deadPool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
    const deadServer = await listen(createTvWallApp({ authenticator: tokens.authenticator, store, site: SITE, maintenancePool: deadPool, refreshSeconds: 60 }), 0);
    try {
      const res = await fetch(`${url(deadServer)}/api/band`, { headers: { authorization: `Bearer ${wallToken}` } });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: string }).error).toMatch(/^maintenance database: /);
      const page = await browser.newPage({ viewport: VIEWPORTS[0] });
      await page.goto(`${url(deadServer)}/?token=${encodeURIComponent(wallToken)}`);
      await page.waitForSelector('body[data-updated-at]');
      await page.waitForSelector('canvas');
      expect(await page.textContent('[data-band="tickets"] [data-band-value]')).toBe('tickets: unavailable');
      await page.close();
    } finally {
      await new Promise((resolve) => deadServer.close(resolve));
      await deadPool.end();
    }
  });
});
