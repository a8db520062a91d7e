/**
 * In-browser benchmark page (bench/rackmap-render.ts drives it): one update of the rack map = new readings →
 * farm model → layout → canvas paint, timed synchronously with flushSync. Baseline in the same page: React
 * re-colouring the same number of plain absolutely-positioned divs.
 */
import './jitless';
import React from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { createTheme } from '@grafana/data';
import { slotPainter } from '../src/colors';
import { buildFarm } from '../src/farm';
import { layoutFarm } from '../src/geometry';
import { paintFarm, paintFarmIncremental, type PaintedFrame } from '../src/paint';
import { RackMapView } from '../src/RackMapView';
import { DEFAULT_OPTIONS, type MinerReading } from '../src/types';

interface Timing {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { medianMs: at(0.5), p95Ms: at(0.95), maxMs: sorted[sorted.length - 1]! };
}

/** 20 containers × 5 racks × 5 shelves × 10 slots = 5,000 for the default size. */
/** allChange: every slot's temperature moves each frame; otherwise 1 % of the slots do (a typical refresh). */
function syntheticReadings(slots: number, frame: number, now: number, allChange = true): MinerReading[] {
  const readings: MinerReading[] = [];
  for (let i = 0; i < slots; i++) {
    const container = `C${String(Math.floor(i / 250) + 1).padStart(2, '0')}`;
    const rack = `R${Math.floor((i % 250) / 50) + 1}`;
    const shelf = `S${Math.floor((i % 50) / 10) + 1}`;
    const temp = 60 + ((i * 7 + (allChange || i % 100 === frame % 100 ? frame * 13 : 0)) % 45);
    readings.push({
      site: 'bench', container, rack, shelf, slot: String((i % 10) + 1), miner: `${container}-${rack}-${shelf}-${(i % 10) + 1}`,
      time: now, reachable: (i + frame) % 97 !== 0, tempMaxC: temp, hashrateThs: 100, nominalThs: 110, fanMinRpm: 4000, powerW: 3200,
      faults: temp > 100 ? [{ code: 'CHIP_OVERHEAT', severity: 'critical', part: 'board 1' }] : [],
    });
  }
  return readings;
}

async function run(slots: number, frames: number, width: number, height: number) {
  const theme = createTheme({ colors: { mode: 'dark' } });
  const host = document.getElementById('root')!;
  const root = createRoot(host);
  const options = { ...DEFAULT_OPTIONS, metric: 'temperature' as const, tvMode: true };
  const rackmap: number[] = [];
  const rackmapAllChange: number[] = [];
  const now = Date.now();
  for (const [samples, allChange] of [[rackmap, false], [rackmapAllChange, true]] as const) {
    for (let f = 0; f < frames; f++) {
      const readings = syntheticReadings(slots, f, now, allChange);
      const started = performance.now();
      const farm = buildFarm(readings, [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 });
      flushSync(() => root.render(<RackMapView farm={farm} options={options} width={width} height={height} theme={theme} />));
      // Reading one pixel makes the browser finish rasterising the canvas inside the timing.
      (host.querySelector('canvas') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 1, 1);
      samples.push(performance.now() - started);
      await new Promise((r) => requestAnimationFrame(() => r(undefined)));
    }
  }
  root.unmount();

  // Where an update's time goes: the same steps one by one on a detached canvas. Each paint is split into our
  // drawing calls (JS: recording the canvas's display list) and the flush that follows (getImageData of one pixel:
  // chromium's software rasteriser turning that list into pixels of the 4K bitmap).
  const parts = {
    model: [] as number[],
    layout: [] as number[],
    fullPaint: [] as number[],
    fullPaintRaster: [] as number[],
    allChangedPaint: [] as number[],
    allChangedRaster: [] as number[],
    onePercentPaint: [] as number[],
    onePercentRaster: [] as number[],
  };
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const paintOf = slotPainter(options.metric, theme);
  const style = { background: '#000', containerFill: '#111', containerBorder: '#888', text: '#fff', dimText: '#ccc', showLabels: true, fontFamily: 'Arial' };
  const mapWidth = width - Math.round(Math.min(width * 0.22, 520));
  const timed = (paint: () => void, js: number[], raster: number[]) => {
    const t0 = performance.now();
    paint();
    const t1 = performance.now();
    ctx.getImageData(0, 0, 1, 1);
    js.push(t1 - t0);
    raster.push(performance.now() - t1);
  };
  let painted: PaintedFrame | undefined;
  for (let f = 0; f < frames; f++) {
    let t = performance.now();
    const farm = buildFarm(syntheticReadings(slots, f, now), [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 });
    parts.model.push(performance.now() - t);
    t = performance.now();
    const geometry = layoutFarm(farm, options, mapWidth, height);
    parts.layout.push(performance.now() - t);
    timed(() => paintFarm(ctx, geometry, paintOf, style), parts.fullPaint, parts.fullPaintRaster);
    painted = paintFarmIncremental(ctx, geometry, paintOf, style, undefined);
    ctx.getImageData(0, 0, 1, 1); // flushed here, so the next timing holds only its own drawing
    const next = layoutFarm(buildFarm(syntheticReadings(slots, f + 1, now), [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 }), options, mapWidth, height);
    timed(() => (painted = paintFarmIncremental(ctx, next, paintOf, style, painted)), parts.allChangedPaint, parts.allChangedRaster);
    const onePercent = layoutFarm(buildFarm(syntheticReadings(slots, f + 2, now, false), [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 }), options, mapWidth, height);
    timed(() => (painted = paintFarmIncremental(ctx, onePercent, paintOf, style, painted)), parts.onePercentPaint, parts.onePercentRaster);
  }

  // Baselines: React re-colouring plain divs, every div or 1 % of them, timed like the rack map (flushSync), and
  // once more with the browser's style and layout forced inside the timing (what a DOM update also costs a frame).
  const side = Math.floor(Math.sqrt((width * height) / slots));
  const perRow = Math.floor(width / side);
  const divs = (f: number, allChange: boolean) => (
    <div style={{ position: 'relative', width, height }}>
      {Array.from({ length: slots }, (_, i) => {
        const shade = allChange || i % 100 === f % 100 ? f * 13 : 0;
        return <div key={i} style={{ position: 'absolute', left: (i % perRow) * side, top: Math.floor(i / perRow) * side, width: side - 1, height: side - 1, background: `hsl(${(i * 7 + shade) % 120}, 80%, 45%)` }} />;
      })}
    </div>
  );
  const plain = { all: [] as number[], onePercent: [] as number[], allWithLayout: [] as number[] };
  for (const [samples, allChange, layout] of [[plain.all, true, false], [plain.onePercent, false, false], [plain.allWithLayout, true, true]] as const) {
    const divRoot = createRoot(host);
    for (let f = 0; f < frames; f++) {
      const started = performance.now();
      flushSync(() => divRoot.render(divs(f, allChange)));
      if (layout) void (host.firstElementChild as HTMLElement | null)?.offsetHeight; // forces style and layout
      samples.push(performance.now() - started);
      await new Promise((r) => requestAnimationFrame(() => r(undefined)));
    }
    divRoot.unmount();
  }
  const s = (xs: number[]) => summarize(xs.slice(1));
  return {
    slots, frames, width, height,
    rackmap: s(rackmap), rackmapAllChange: s(rackmapAllChange),
    plainDivs: s(plain.all), plainDivsOnePercent: s(plain.onePercent), plainDivsWithLayout: s(plain.allWithLayout),
    model: s(parts.model), layout: s(parts.layout),
    fullPaint: s(parts.fullPaint), fullPaintRaster: s(parts.fullPaintRaster),
    allChangedPaint: s(parts.allChangedPaint), allChangedRaster: s(parts.allChangedRaster),
    onePercentPaint: s(parts.onePercentPaint), onePercentRaster: s(parts.onePercentRaster),
  };
}

(window as unknown as { rackmapBench: typeof run }).rackmapBench = run;
