/**
 * The TV wall end to end in a real browser: simulated miners → exporter → InfluxDB → TV-wall server → chromium.
 * One miner gets a stopped fan and another goes offline; the screenshot must show the first in the fault colour
 * and the second in the unreachable colour, at the places the layout gives them. Container C04's edge went
 * silent 5 minutes ago (its last miner_up points and heartbeats are 5 minutes old): all its slots are in the
 * silent colour and it is one "C04 silent" line, while a CHIPS_DEAD warning of C02 stays on screen.
 * The wall is opened as a screen would be: once with its token in the URL, then by the cookie that leaves behind.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { encodePoints, heartbeatPoint, upPoint, type InfluxStore } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs } from '@flymining/simulator';
import type { Browser } from 'playwright-core';
import { exporterFor, freshStore, inventoryFor } from '../../../exporters/test/e2e/helpers';
import { STATE_PAINT } from '../../src/states';
import { buildFarm } from '../../src/farm';
import { layoutFarm } from '../../src/geometry';
import { clockText } from '../../src/silence';
import { DEFAULT_OPTIONS } from '../../src/types';
import { createTvWallApp, listen, TVWALL_TOKEN_COOKIE } from '../../tvwall/server';
import { testTokens, type TestTokens } from '../../../shared/test/auth/test-tokens';
import type { FarmSnapshot } from '../../tvwall/farm-source';
import { launchChromium } from './browser';

const specs = generateFarmSpecs({ miners: 80, containers: 4, racksPerContainer: 2, shelvesPerRack: 2, slotsPerShelf: 5, baseAddress: '127.46.0.1', seed: 3 });
const FAULTED = specs[7]!.id;
const OFFLINE = specs[31]!.id;
/** A miner of C02 that loses chips: a CHIPS_DEAD warning. */
const CHIPS = specs[25]!.id;
const SILENT_CONTAINER = 'C04';
const liveSpecs = specs.filter((s) => s.position.container !== SILENT_CONTAINER);
const silentSpecs = specs.filter((s) => s.position.container === SILENT_CONTAINER);
/** The viewer's zone, not the server's nor UTC: the header's clock time must be in it. */
const VIEWER_ZONE = 'Asia/Kolkata';
const VIEWPORT = { width: 1600, height: 900 };
export const SCREENSHOT = path.join(__dirname, '../../../.flymining/tvwall.png');

function rgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

describe('TV wall in chromium', () => {
  const farm = new SimulatedFarm({ specs, seed: 3 });
  let store: InfluxStore;
  let server: Server;
  let browser: Browser;
  let baseUrl: string;
  // One exporter throughout: it remembers raised faults, so it writes the clearing transition.
  let exporter: ReturnType<typeof exporterFor>;
  let silentLastMs = 0;
  let tokens: TestTokens;
  let wallToken: string;

  beforeAll(async () => {
    await farm.start();
    store = await freshStore('tvwall_e2e');
    // The edges of C01-C03 report (the exporter writes their heartbeats each sweep).
    exporter = exporterFor(inventoryFor(liveSpecs, false), store);
    await exporter.sweep(0);
    farm.miner(FAULTED)!.applyFault({ fault: 'stopFan', index: 0 });
    farm.miner(OFFLINE)!.applyFault({ fault: 'offline' });
    farm.miner(CHIPS)!.applyFault({ fault: 'killChips', board: 0, count: 3, missing: true });
    await exporter.sweep(0);
    // C04's edge: a sweep every 30 s until 5 minutes ago, then nothing (power or uplink lost).
    const now = Date.now();
    silentLastMs = now - 5 * 60_000;
    const c04 = [...inventoryFor(silentSpecs, false).current.miners.values()];
    const points = [];
    for (let t = now - 15 * 60_000, seq = 1; t <= silentLastMs; t += 30_000, seq++) {
      points.push(...c04.map((spec) => upPoint(spec, t, 120, true, '')));
      points.push(heartbeatPoint({
        site: c04[0]!.location.site, container: SILENT_CONTAINER, edge: 'edge-C04', source: 'miner', time: t, seq, intervalMs: 30_000, miners: c04.length, reachable: c04.length,
        activeFaults: 0, spoolLines: 0, spoolBytes: 0, spoolOldestMs: 0, pointsDropped: 0, uplink: 'ok',
      }));
    }
    store.write(encodePoints(points));
    await store.flush();
    tokens = await testTokens('tvwall-e2e', { tokenCookie: TVWALL_TOKEN_COOKIE });
    wallToken = await tokens.token('tvwall:read');
    server = await listen(createTvWallApp({ authenticator: tokens.authenticator, store, refreshSeconds: 2 }), 0);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await farm.stop();
    await store?.close();
    await tokens?.close();
  });

  test('a stopped fan in the fault colour, the offline miner unreachable, the silent container C04 as one state and one line, the CHIPS_DEAD warning on screen', async () => {
    const snapshot = (await (await fetch(`${baseUrl}/api/farm`, { headers: { authorization: `Bearer ${wallToken}` } })).json()) as FarmSnapshot;
    expect(snapshot.readings).toHaveLength(specs.length);
    expect(snapshot.readings.find((r) => r.miner === CHIPS)!.faults.map((f) => f.code)).toContain('CHIPS_DEAD');
    expect(snapshot.heartbeats.map((h) => [h.container, h.time === silentLastMs]).sort()).toEqual([['C01', false], ['C02', false], ['C03', false], ['C04', true]]);

    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1, timezoneId: VIEWER_ZONE });
    await page.goto(`${baseUrl}/?token=${encodeURIComponent(wallToken)}`);
    // The token left the address bar (and so the history) at once; the cookie it left keeps the wall signed in.
    expect(page.url()).toBe(`${baseUrl}/`);
    await page.waitForSelector('body[data-updated-at]');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    // Where the page draws each miner: the same layout code, the same data, the page's own map width.
    const options = { ...DEFAULT_OPTIONS, tvMode: true };
    const model = buildFarm(snapshot.readings, snapshot.climates, { metric: 'health', now: snapshot.now, staleAfterMs: 180_000, slotsPerShelf: 0 }, snapshot.heartbeats);
    const mapWidth = VIEWPORT.width - Math.round(Math.min(VIEWPORT.width * 0.22, 520));
    const geometry = layoutFarm(model, options, mapWidth, VIEWPORT.height);
    const pixelAt = (x: number, y: number) =>
      page.evaluate(([px, py]) => [...document.querySelector('canvas')!.getContext('2d')!.getImageData(px!, py!, 1, 1).data.slice(0, 3)], [Math.round(x), Math.round(y)]);
    const pixelOf = async (miner: string) => {
      const box = geometry.slots.find((s) => s.cell.reading?.miner === miner)!;
      // A corner of the slot: its middle carries the glyph.
      return pixelAt(box.x + box.size * 0.15, box.y + box.size * 0.15);
    };
    expect(await pixelOf(FAULTED)).toEqual(rgb(STATE_PAINT.fault.fill));
    expect(await pixelOf(OFFLINE)).toEqual(rgb(STATE_PAINT.unreachable.fill));
    const healthy = liveSpecs.find((s) => s.id !== FAULTED && s.id !== OFFLINE && s.id !== CHIPS)!.id;
    expect(await pixelOf(healthy)).not.toEqual(rgb(STATE_PAINT.fault.fill));
    expect(await pixelOf(healthy)).not.toEqual(rgb(STATE_PAINT.silent.fill));
    // Every slot of C04 silent (not stale one by one, not healthy), and its header band.
    const silentPixels = await Promise.all(silentSpecs.map(async (s) => [s.id, await pixelOf(s.id)] as const));
    expect(silentPixels).toEqual(silentSpecs.map((s) => [s.id, rgb(STATE_PAINT.silent.fill)]));
    const header = geometry.containers.find((c) => c.container.name === SILENT_CONTAINER)!;
    // Left of the name, inside the band: away from the border's anti-aliased edge and from the text.
    expect(await pixelAt(header.x + 8, header.y + header.headerH / 2)).toEqual(rgb(STATE_PAINT.silent.fill));
    const note = await page.textContent('[data-testid="silent-containers"]');
    expect(note).toMatch(new RegExp(`^C04: silent [5-9] min · last data ${clockText(silentLastMs, VIEWER_ZONE)}$`));

    const listed = await page.$$eval('[data-testid="attention-list"] li[data-state]', (items) =>
      items.map((li) => ({ state: li.getAttribute('data-state'), miner: li.getAttribute('data-miner'), container: li.getAttribute('data-container'), title: li.firstElementChild?.textContent ?? '', text: li.textContent ?? '', bottom: li.getBoundingClientRect().bottom })),
    );
    expect(listed.map((l) => [l.miner, l.state])).toEqual(expect.arrayContaining([[FAULTED, 'fault'], [OFFLINE, 'unreachable']]));
    expect(listed.filter((l) => l.state === 'silent').map((l) => l.title)).toEqual(['C04 silent']);
    expect(listed.filter((l) => l.container === SILENT_CONTAINER)).toHaveLength(1);
    const chips = listed.find((l) => l.miner === CHIPS)!;
    expect(chips).toMatchObject({ state: 'warning', text: expect.stringContaining('CHIPS_DEAD') });
    // On screen: inside the list's box, which is inside the viewport.
    const listBottom = await page.$eval('[data-testid="attention-list"]', (el) => el.getBoundingClientRect().bottom);
    expect(listBottom).toBeLessThanOrEqual(VIEWPORT.height);
    expect(chips.bottom).toBeLessThanOrEqual(listBottom);
    await page.close();
  });

  test('the page refreshes itself: a cleared fault turns back to healthy without reloading', async () => {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(`${baseUrl}/?token=${encodeURIComponent(wallToken)}`);
    await page.waitForSelector(`[data-testid="attention-list"] li[data-miner="${FAULTED}"]`);
    farm.miner(FAULTED)!.applyFault({ fault: 'clear' });
    await exporter.sweep(0);
    await store.flush();
    await page.waitForSelector(`[data-testid="attention-list"] li[data-miner="${FAULTED}"]`, { state: 'detached', timeout: 15_000 });
    await page.close();
  });
});
