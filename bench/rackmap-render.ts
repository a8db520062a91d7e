/**
 * Rack-map render benchmark in a real browser (Debian chromium via playwright-core): one update of the panel
 * with 5,000 slots = new readings → farm model → layout → canvas paint, timed in the page. Baseline in the same
 * page and run: React re-colouring 5,000 plain absolutely-positioned divs. Prints JSON.
 * Run: npx tsx bench/rackmap-render.ts [slots] [frames]   (needs npm run build -w grafana-plugin first)
 */
import express from 'express';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

const SLOTS = Number(process.argv[2] ?? 5000);
const FRAMES = Number(process.argv[3] ?? 60);
const SCREEN = { width: 3840, height: 2160 };
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const bundleDir = path.join(__dirname, '../grafana-plugin/tvwall/dist');

interface Timing {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}
interface BenchResult {
  slots: number;
  frames: number;
  width: number;
  height: number;
  rackmap: Timing;
  rackmapAllChange: Timing;
  plainDivs: Timing;
  plainDivsOnePercent: Timing;
  plainDivsWithLayout: Timing;
  model: Timing;
  layout: Timing;
  fullPaint: Timing;
  fullPaintRaster: Timing;
  allChangedPaint: Timing;
  allChangedRaster: Timing;
  onePercentPaint: Timing;
  onePercentRaster: Timing;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(bundleDir, 'bench.js'))) throw new Error(`${bundleDir}/bench.js missing: run npm run build -w grafana-plugin`);
  const app = express();
  app.use('/assets', express.static(bundleDir));
  app.get('/', (_req, res) => res.type('html').send('<!doctype html><html><body style="margin:0"><div id="root"></div><script src="/assets/bench.js"></script></body></html>'));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const browser = await chromium.launch({ executablePath: process.env.FLYMINING_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: SCREEN, deviceScaleFactor: 1 });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction('typeof window.rackmapBench === "function"');
    const result = (await page.evaluate(`window.rackmapBench(${SLOTS}, ${FRAMES}, ${SCREEN.width}, ${SCREEN.height})`)) as BenchResult;
    const round = (t: Timing): Timing => ({ medianMs: +t.medianMs.toFixed(2), p95Ms: +t.p95Ms.toFixed(2), maxMs: +t.maxMs.toFixed(2) });
    console.log(
      JSON.stringify(
        {
          benchmark: 'rackmap-render',
          browser: `chromium ${browser.version()} headless, software rendering`,
          screen: `${SCREEN.width}x${SCREEN.height}`,
          slots: result.slots,
          frames: result.frames,
          rackmapUpdate1PercentChanged: round(result.rackmap),
          rackmapUpdateAllChanged: round(result.rackmapAllChange),
          baselinePlainDivs: round(result.plainDivs),
          baselinePlainDivs1PercentChanged: round(result.plainDivsOnePercent),
          baselinePlainDivsWithStyleAndLayout: round(result.plainDivsWithLayout),
          // Each paint split into our drawing calls (JS) and the software rasteriser's flush of them into pixels.
          steps: {
            model: round(result.model),
            layout: round(result.layout),
            fullPaint: { ours: round(result.fullPaint), rasteriser: round(result.fullPaintRaster) },
            allChangedRepaint: { ours: round(result.allChangedPaint), rasteriser: round(result.allChangedRaster) },
            onePercentRepaint: { ours: round(result.onePercentPaint), rasteriser: round(result.onePercentRaster) },
          },
          // How many times faster than the plain divs at the median (goals: ≥ 3 all changed, ≥ 5 at 1 %).
          speedupAllChangedVsDivs: +(result.plainDivs.medianMs / result.rackmapAllChange.medianMs).toFixed(2),
          speedup1PercentVsDivs: +(result.plainDivs.medianMs / result.rackmap.medianMs).toFixed(2),
          speedup1PercentVsDivs1Percent: +(result.plainDivsOnePercent.medianMs / result.rackmap.medianMs).toFixed(2),
          goalMs: 16,
          meetsGoal: result.rackmap.p95Ms < 16,
        },
        null,
        2,
      ),
    );
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
