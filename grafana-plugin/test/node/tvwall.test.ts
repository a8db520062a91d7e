/**
 * The TV wall end to end in a real browser: simulated miners → exporter → InfluxDB → TV-wall server → chromium.
 * One miner gets a stopped fan and another goes offline; the screenshot must show the first in the fault colour
 * and the second in the unreachable colour, at the places the layout gives them.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { InfluxStore } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs } from '@flymining/simulator';
import type { Browser } from 'playwright-core';
import { exporterFor, freshStore, inventoryFor } from '../../../exporters/test/e2e/helpers';
import { STATE_PAINT } from '../../src/states';
import { buildFarm } from '../../src/farm';
import { layoutFarm } from '../../src/geometry';
import { DEFAULT_OPTIONS } from '../../src/types';
import { createTvWallApp, listen } from '../../tvwall/server';
import type { FarmSnapshot } from '../../tvwall/farm-source';
import { launchChromium } from './browser';

const specs = generateFarmSpecs({ miners: 40, containers: 2, racksPerContainer: 2, shelvesPerRack: 2, slotsPerShelf: 5, baseAddress: '127.46.0.1', seed: 3 });
const FAULTED = specs[7]!.id;
const OFFLINE = specs[31]!.id;
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

  beforeAll(async () => {
    await farm.start();
    store = await freshStore('tvwall_e2e');
    exporter = exporterFor(inventoryFor(specs, false), store);
    await exporter.sweep(0);
    farm.miner(FAULTED)!.applyFault({ fault: 'stopFan', index: 0 });
    farm.miner(OFFLINE)!.applyFault({ fault: 'offline' });
    await exporter.sweep(0);
    await store.flush();
    server = await listen(createTvWallApp({ store, refreshSeconds: 2 }), 0);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await farm.stop();
    await store?.close();
  });

  test('a simulated farm with a stopped fan shows that slot in the fault colour and the offline miner as unreachable', async () => {
    const snapshot = (await (await fetch(`${baseUrl}/api/farm`)).json()) as FarmSnapshot;
    expect(snapshot.readings).toHaveLength(specs.length);

    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    await page.goto(baseUrl);
    await page.waitForSelector('body[data-updated-at]');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    // Where the page draws each miner: the same layout code, the same data, the page's own map width.
    const options = { ...DEFAULT_OPTIONS, tvMode: true };
    const model = buildFarm(snapshot.readings, snapshot.climates, { metric: 'health', now: snapshot.now, staleAfterMs: 180_000, slotsPerShelf: 0 });
    const mapWidth = VIEWPORT.width - Math.round(Math.min(VIEWPORT.width * 0.22, 520));
    const geometry = layoutFarm(model, options, mapWidth, VIEWPORT.height);
    const pixelOf = async (miner: string) => {
      const box = geometry.slots.find((s) => s.cell.reading?.miner === miner)!;
      // A corner of the slot: its middle carries the glyph.
      const x = Math.round(box.x + box.size * 0.15);
      const y = Math.round(box.y + box.size * 0.15);
      return page.evaluate(([px, py]) => [...document.querySelector('canvas')!.getContext('2d')!.getImageData(px!, py!, 1, 1).data.slice(0, 3)], [x, y]);
    };
    expect(await pixelOf(FAULTED)).toEqual(rgb(STATE_PAINT.fault.fill));
    expect(await pixelOf(OFFLINE)).toEqual(rgb(STATE_PAINT.unreachable.fill));
    const healthy = specs.find((s) => s.id !== FAULTED && s.id !== OFFLINE)!.id;
    expect(await pixelOf(healthy)).not.toEqual(rgb(STATE_PAINT.fault.fill));

    const listed = await page.$$eval('[data-testid="attention-list"] li', (items) => items.map((li) => [li.getAttribute('data-miner'), li.getAttribute('data-state')]));
    expect(listed).toEqual(expect.arrayContaining([[FAULTED, 'fault'], [OFFLINE, 'unreachable']]));
    await page.close();
  });

  test('the page refreshes itself: a cleared fault turns back to healthy without reloading', async () => {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(baseUrl);
    await page.waitForSelector(`[data-testid="attention-list"] li[data-miner="${FAULTED}"]`);
    farm.miner(FAULTED)!.applyFault({ fault: 'clear' });
    await exporter.sweep(0);
    await store.flush();
    await page.waitForSelector(`[data-testid="attention-list"] li[data-miner="${FAULTED}"]`, { state: 'detached', timeout: 15_000 });
    await page.close();
  });
});
