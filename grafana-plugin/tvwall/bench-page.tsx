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
import { buildFarm, FarmBuilder } from '../src/farm';
import { layoutFarm } from '../src/geometry';
import { paintFarm, paintFarmIncremental, type PaintedFrame } from '../src/paint';
import { RackMapView } from '../src/RackMapView';
import { DEFAULT_OPTIONS, type MinerReading } from '../src/types';
import { summarize } from './timing';

/**
 * 20 containers × 5 racks × 5 shelves × 10 slots = 5,000 for the default size. allChange: every slot's temperature
 * moves each frame and the unreachable ones (1 in 97) shift by one; otherwise only the temperature of 1 % of the
 * slots moves (a typical refresh) and the unreachable ones stay where they are.
 */
function syntheticReadings(slots: number, frame: number, now: number, allChange = true): MinerReading[] {
  const readings: MinerReading[] = [];
  for (let i = 0; i < slots; i++) {
    const container = `C${String(Math.floor(i / 250) + 1).padStart(2, '0')}`;
    const rack = `R${Math.floor((i % 250) / 50) + 1}`;
    const shelf = `S${Math.floor((i % 50) / 10) + 1}`;
    const temp = 60 + ((i * 7 + (allChange || i % 100 === frame % 100 ? frame * 13 : 0)) % 45);
    readings.push({
      site: 'bench', container, rack, shelf, slot: String((i % 10) + 1), miner: `${container}-${rack}-${shelf}-${(i % 10) + 1}`,
      time: now, reachable: (i + (allChange ? frame : 0)) % 97 !== 0, tempMaxC: temp, hashrateThs: 100, nominalThs: 110, fanMinRpm: 4000, powerW: 3200,
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
  const builder = new FarmBuilder();
  for (const [samples, allChange] of [[rackmap, false], [rackmapAllChange, true]] as const) {
    for (let f = 0; f < frames; f++) {
      const readings = syntheticReadings(slots, f, now, allChange);
      const started = performance.now();
      const farm = builder.build(readings, [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 });
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
    modelPatched: [] as number[],
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
    // The same farm patched by a FarmBuilder that built the previous refresh: 1 % of the slots changed.
    const patcher = new FarmBuilder();
    patcher.build(syntheticReadings(slots, f, now, false), [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 });
    const onePercentReadings = syntheticReadings(slots, f + 1, now, false);
    t = performance.now();
    patcher.build(onePercentReadings, [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 });
    parts.modelPatched.push(performance.now() - t);
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
  const divs = (f: number, allChange: boolean) => plainDivs(slots, width, height, f, allChange);
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
    model: s(parts.model), modelPatched: s(parts.modelPatched), layout: s(parts.layout),
    fullPaint: s(parts.fullPaint), fullPaintRaster: s(parts.fullPaintRaster),
    allChangedPaint: s(parts.allChangedPaint), allChangedRaster: s(parts.allChangedRaster),
    onePercentPaint: s(parts.onePercentPaint), onePercentRaster: s(parts.onePercentRaster),
  };
}

/** The baseline: 5,000 absolutely-positioned divs in a grid, each coloured by React; 1 % or all of them change per frame. */
function plainDivs(slots: number, width: number, height: number, frame: number, allChange: boolean): React.JSX.Element {
  const side = Math.floor(Math.sqrt((width * height) / slots));
  const perRow = Math.floor(width / side);
  return (
    <div style={{ position: 'relative', width, height }}>
      {Array.from({ length: slots }, (_, i) => {
        const shade = allChange || i % 100 === frame % 100 ? frame * 13 : 0;
        return <div key={i} style={{ position: 'absolute', left: (i % perRow) * side, top: Math.floor(i / perRow) * side, width: side - 1, height: side - 1, background: `hsl(${(i * 7 + shade) % 120}, 80%, 45%)` }} />;
      })}
    </div>
  );
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));

/**
 * The same updates up to pixels, for the rack map and the divs alike: before each update the page asks
 * bench/rackmap-render.ts for a CPU mark (it reads what chromium's renderer and GPU process have used so far), and
 * after it waits three animation frames and 60 ms, so the frame holding the update is styled, laid out, painted,
 * rasterised and composited before the next mark. Vsync waits are not CPU, so they are not counted. Each update
 * runs in a task of its own, like a fetch's answer on the wall; the page times our synchronous JavaScript (model,
 * React, layout, the canvas's drawing calls) by its own clock.
 */
async function runToPixels(slots: number, frames: number, width: number, height: number) {
  const cpuMark = (window as unknown as { rackmapCpuMark: (label: string) => Promise<void> }).rackmapCpuMark;
  const theme = createTheme({ colors: { mode: 'dark' } });
  const host = document.getElementById('root')!;
  const options = { ...DEFAULT_OPTIONS, metric: 'temperature' as const, tvMode: true };
  const now = Date.now();
  const ours: Record<string, number[]> = {};
  type Root = ReturnType<typeof createRoot>;
  // The readings arrive before the update's task (on the wall: fetched and parsed), so the update holds only our work.
  const builder = new FarmBuilder();
  const rackmap = (allChange: boolean) => (f: number) => {
    const readings = syntheticReadings(slots, f, now, allChange);
    return (root: Root) => {
      const farm = builder.build(readings, [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 });
      flushSync(() => root.render(<RackMapView farm={farm} options={options} width={width} height={height} theme={theme} />));
    };
  };
  const divs = (allChange: boolean) => (f: number) => (root: Root) => flushSync(() => root.render(plainDivs(slots, width, height, f, allChange)));
  // The floors of software rendering, for the record: an update task that changes nothing (the marks, the frames
  // waited and the timers cost this much whatever is drawn), and a bare opaque canvas of the map's size whose slot
  // rectangles (the map's own places) are redrawn, 1 % or all of them, with no model, React or attention list:
  // what chromium's copy of the canvas into the frame and its compositing cost for such a change alone.
  const mapWidth = width - Math.round(Math.min(width * 0.22, 520));
  const places = layoutFarm(buildFarm(syntheticReadings(slots, 0, now), [], { metric: options.metric, now, staleAfterMs: 180_000, slotsPerShelf: 0 }), options, mapWidth, height).slots;
  const colours = ['#73bf69', '#fade2a', '#ff9830', '#f2495c'];
  const bareCanvas = (allChange: boolean) => (f: number) => (root: Root) => {
    if (f === 0) flushSync(() => root.render(<canvas width={mapWidth} height={height} style={{ width: mapWidth, height }} />));
    const ctx = host.querySelector('canvas')!.getContext('2d', { alpha: false })!;
    if (f === 0) ctx.fillRect(0, 0, mapWidth, height);
    const byColour = colours.map(() => [] as number[]);
    // 1 %: the slots changed now and those changed last time (back to their colour), as in the map's 1 % series.
    places.forEach((_, i) => (allChange || f === 0 || i % 100 === f % 100 || i % 100 === (f + 99) % 100) && byColour[(i * 7 + (i % 100 === f % 100 || allChange ? f : 0)) % colours.length]!.push(i));
    byColour.forEach((indexes, c) => {
      ctx.fillStyle = colours[c]!;
      for (const i of indexes) ctx.fillRect(places[i]!.x, places[i]!.y, places[i]!.size, places[i]!.size);
    });
  };
  const series: Array<[string, (frame: number) => (root: Root) => void]> = [
    ['rackmap-1%', rackmap(false)],
    ['rackmap-all', rackmap(true)],
    ['divs-1%', divs(false)],
    ['divs-all', divs(true)],
    ['empty', () => () => undefined],
    ['canvas-1%', bareCanvas(false)],
    ['canvas-all', bareCanvas(true)],
  ];
  for (const [name, prepare] of series) {
    const root = createRoot(host);
    const samples: number[] = [];
    // Frame 0 builds the page (new canvas or 5,000 new divs): timed, then dropped by the caller like the others.
    for (let f = 0; f < frames; f++) {
      const update = prepare(f);
      // A task of its own, like a fetch's answer on the wall (after a frame callback it would share the frame's task).
      await new Promise((resolve) => setTimeout(resolve, 0));
      await cpuMark(`${name}|${f}`);
      performance.mark(`px|${name}|${f}`);
      const started = performance.now();
      update(root);
      samples.push(performance.now() - started);
      // Room for the frame to be rasterised and drawn even on a busy machine, before the next update's mark.
      for (let k = 0; k < 3; k++) await nextFrame();
      await new Promise((resolve) => setTimeout(resolve, 60));
      await nextFrame();
    }
    await cpuMark(`${name}|end`);
    performance.mark(`px|${name}|end`);
    ours[name] = samples;
    root.unmount();
    for (let k = 0; k < 3; k++) await nextFrame();
  }
  return ours;
}

(window as unknown as { rackmapBench: typeof run }).rackmapBench = run;
(window as unknown as { rackmapToPixels: typeof runToPixels }).rackmapToPixels = runToPixels;
