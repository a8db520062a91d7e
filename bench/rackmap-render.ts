/**
 * Rack-map render benchmark in a real browser (Debian chromium via playwright-core): one update of the panel
 * with 5,000 slots = new readings → farm model → layout → canvas paint, timed in the page. Baseline in the same
 * page and run: React re-colouring 5,000 plain absolutely-positioned divs. Also in the same run, the floors of software
 * rendering: an update that changes nothing, and a bare canvas of the map's size with 1 % or all of its slots redrawn.
 * Prints JSON.
 * Run: npx tsx bench/rackmap-render.ts [slots] [frames]   (needs npm run build -w grafana-plugin first)
 * RACKMAP_TRACE=/tmp/rackmap-trace.json also traces the up-to-pixels run (chromium's paint, raster and canvas events).
 */
import express from 'express';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { summarize, type Timing } from '../grafana-plugin/tvwall/timing';

const SLOTS = Number(process.argv[2] ?? 5000);
const FRAMES = Number(process.argv[3] ?? 60);
const SCREEN = { width: 3840, height: 2160 };
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const bundleDir = path.join(__dirname, '../grafana-plugin/tvwall/dist');

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
  modelPatched: Timing;
  layout: Timing;
  fullPaint: Timing;
  fullPaintRaster: Timing;
  allChangedPaint: Timing;
  allChangedRaster: Timing;
  onePercentPaint: Timing;
  onePercentRaster: Timing;
}

/** Work up to pixels of one series of updates, split by who did it (CPU ms per update). */
interface ToPixels {
  /** All threads of the page's renderer and of the GPU process (where the display compositor runs). */
  total: Timing;
  /** The renderer's main thread: our JavaScript, then style, layout, paint (and a canvas's copy into a frame). */
  rendererMain: Timing;
  /** The renderer's other threads: the compositor, the raster workers that turn DOM paint into pixels, V8's GC helpers. */
  rendererOther: Timing;
  /** The GPU process: with software compositing, the display compositor drawing the page's frame into pixels. */
  display: Timing;
  /** Our synchronous JavaScript, timed in the page by its clock (for the rack map: model, React, layout, drawing calls). */
  ourJs: Timing;
}

/** CPU nanoseconds of chromium's processes so far, by part (from /proc/<pid>/task/<tid>/schedstat: time on a CPU). */
interface CpuSnapshot {
  rendererMain: number;
  rendererOther: number;
  display: number;
}

/** Our chromium's renderer and GPU processes: descendants of this node process, by their --type. */
function chromiumProcesses(): { renderers: number[]; gpu: number[] } {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found = { renderers: [] as number[], gpu: [] as number[] };
  const queue = [process.pid];
  while (queue.length) {
    const pid = queue.pop()!;
    for (const child of children.get(pid) ?? []) {
      queue.push(child);
      const cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8');
      if (cmdline.includes('--type=renderer')) found.renderers.push(child);
      else if (cmdline.includes('--type=gpu-process')) found.gpu.push(child);
    }
  }
  if (!found.renderers.length || !found.gpu.length) throw new Error(`chromium's renderer or GPU process not found under pid ${process.pid}`);
  return found;
}

function cpuSnapshot(processes: { renderers: number[]; gpu: number[] }): CpuSnapshot {
  const onCpu = (pid: number, tid: string) => {
    try {
      return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      return 0; // a thread that ended between the listing and the read
    }
  };
  const snapshot = { rendererMain: 0, rendererOther: 0, display: 0 };
  for (const pid of processes.renderers) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) snapshot[Number(tid) === pid ? 'rendererMain' : 'rendererOther'] += onCpu(pid, tid);
  }
  for (const pid of processes.gpu) for (const tid of readdirSync(`/proc/${pid}/task`)) snapshot.display += onCpu(pid, tid);
  return snapshot;
}

/** Per update: the CPU between its mark and the next one (frame 0, building the page, left out). */
function toPixelsFromMarks(marks: ReadonlyMap<string, CpuSnapshot>, ourJs: Record<string, number[]>): Record<string, ToPixels> {
  const result: Record<string, ToPixels> = {};
  for (const [series, js] of Object.entries(ourJs)) {
    const parts = { total: [] as number[], rendererMain: [] as number[], rendererOther: [] as number[], display: [] as number[] };
    for (let f = 1; f < js.length; f++) {
      const from = marks.get(`${series}|${f}`);
      const to = marks.get(`${series}|${f + 1 < js.length ? f + 1 : 'end'}`);
      if (!from || !to) throw new Error(`CPU marks of ${series} frame ${f} missing`);
      const ms = (k: keyof CpuSnapshot) => (to[k] - from[k]) / 1e6;
      parts.rendererMain.push(ms('rendererMain'));
      parts.rendererOther.push(ms('rendererOther'));
      parts.display.push(ms('display'));
      parts.total.push(ms('rendererMain') + ms('rendererOther') + ms('display'));
    }
    result[series] = {
      total: summarize(parts.total),
      rendererMain: summarize(parts.rendererMain),
      rendererOther: summarize(parts.rendererOther),
      display: summarize(parts.display),
      ourJs: summarize(js.slice(1)),
    };
  }
  return result;
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
    // The same updates up to pixels, in a run of their own: the page calls rackmapCpuMark before each update, and
    // the CPU that chromium's renderer and GPU process spent between two marks is that update's work.
    await page.reload();
    await page.waitForFunction('typeof window.rackmapToPixels === "function"');
    const processes = chromiumProcesses();
    const cpuMarks = new Map<string, CpuSnapshot>();
    await page.exposeFunction('rackmapCpuMark', (label: string) => void cpuMarks.set(label, cpuSnapshot(processes)));
    // RACKMAP_TRACE=<file> also traces this run with chromium's paint, raster and canvas events (open the file in
    // Perfetto); tracing costs time on every task, so the figures of such a run read high.
    const traceFile = process.env.RACKMAP_TRACE;
    if (traceFile) await browser.startTracing(page, { categories: ['toplevel', 'blink.user_timing', 'viz', 'cc', 'blink', 'devtools.timeline', 'disabled-by-default-devtools.timeline', '__metadata'] });
    let ourJs: Record<string, number[]>;
    try {
      ourJs = (await page.evaluate(`window.rackmapToPixels(${SLOTS}, ${FRAMES}, ${SCREEN.width}, ${SCREEN.height})`)) as Record<string, number[]>;
    } finally {
      if (traceFile) writeFileSync(traceFile, await browser.stopTracing());
    }
    const pixels = toPixelsFromMarks(cpuMarks, ourJs);
    const round = (t: Timing): Timing => ({ medianMs: +t.medianMs.toFixed(2), p95Ms: +t.p95Ms.toFixed(2), maxMs: +t.maxMs.toFixed(2) });
    console.log(
      JSON.stringify(
        {
          benchmark: 'rackmap-render',
          browser: `chromium ${browser.version()} headless, software rendering`,
          screen: `${SCREEN.width}x${SCREEN.height}`,
          slots: result.slots,
          frames: result.frames,
          endPoints: {
            toPixels:
              "work up to pixels: CPU time of all threads of chromium's renderer and GPU process (the display compositor) from the update until its frame is composited, from /proc schedstat (vsync waits and other processes not counted); the same end point for the rack map and the divs",
            flushSync: 'the old figures below: the rack map through React and its canvas flush (getImageData), the divs through React only (no style, layout, paint or raster)',
          },
          toPixels: Object.fromEntries(
            Object.entries(pixels).map(([series, p]) => [series, Object.fromEntries(Object.entries(p).map(([k, t]) => [k, round(t)]))]),
          ),
          // Up to pixels, how many times less work than the divs at the median (goals: ≥ 3 all changed, ≥ 5 at 1 %).
          toPixelsSpeedup: {
            allChangedVsDivsAllChanged: +(pixels['divs-all']!.total.medianMs / pixels['rackmap-all']!.total.medianMs).toFixed(2),
            onePercentVsDivsAllChanged: +(pixels['divs-all']!.total.medianMs / pixels['rackmap-1%']!.total.medianMs).toFixed(2),
            onePercentVsDivsOnePercent: +(pixels['divs-1%']!.total.medianMs / pixels['rackmap-1%']!.total.medianMs).toFixed(2),
          },
          // What software rendering costs whatever the map's code does: an update that changes nothing, and a bare
          // canvas of the map's size with 1 % or all of its slot rectangles redrawn (no model, React or list). Their
          // ratios to the divs are the most any canvas map could reach on this machine.
          softwareRenderingFloors: {
            emptyUpdate: round(pixels['empty']!.total),
            bareCanvas1Percent: round(pixels['canvas-1%']!.total),
            bareCanvasAllChanged: round(pixels['canvas-all']!.total),
            bestOnePercentVsDivsOnePercent: +(pixels['divs-1%']!.total.medianMs / pixels['canvas-1%']!.total.medianMs).toFixed(2),
            bestAllChangedVsDivsAllChanged: +(pixels['divs-all']!.total.medianMs / pixels['canvas-all']!.total.medianMs).toFixed(2),
          },
          rackmapUpdate1PercentChanged: round(result.rackmap),
          rackmapUpdateAllChanged: round(result.rackmapAllChange),
          baselinePlainDivs: round(result.plainDivs),
          baselinePlainDivs1PercentChanged: round(result.plainDivsOnePercent),
          baselinePlainDivsWithStyleAndLayout: round(result.plainDivsWithLayout),
          // Each paint split into our drawing calls (JS) and the software rasteriser's flush of them into pixels.
          steps: {
            model: round(result.model),
            modelPatchedAt1Percent: round(result.modelPatched),
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
