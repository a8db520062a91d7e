import { act, fireEvent, render, screen } from '@testing-library/react';
import { createTheme } from '@grafana/data';
import { STATE_PAINT } from '../../src/colors';
import { buildFarm, FarmBuilder } from '../../src/farm';
import { layoutFarm } from '../../src/geometry';
import { RackMapView } from '../../src/RackMapView';
import { DEFAULT_OPTIONS, type RackMapOptions } from '../../src/types';
import { NOW, healthyFarm, reading } from '../fixtures';
import type { RecordingContext } from './setup';

const theme = createTheme({ colors: { mode: 'dark' } });

function farmWithTrouble(metric: RackMapOptions['metric']) {
  const readings = healthyFarm(2, 2, 3, 4).map((r) => {
    if (r.miner === 'C01-R2-S2-3') return { ...r, faults: [{ code: 'FAN_STOPPED', severity: 'critical' as const, part: 'fan 1', message: 'fan 1 stopped' }] };
    if (r.miner === 'C02-R1-S1-1') return { ...r, reachable: false };
    if (r.miner === 'C02-R1-S1-2') return { ...r, tempMaxC: 99 };
    return r;
  });
  return buildFarm(readings, [{ container: 'C01', intakeC: 24.4, exhaustC: 39.9 }], { metric, now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 });
}

function lastFillAt(ctx: RecordingContext, x: number, y: number) {
  const hits = ctx.fills.filter((f) => x >= f.x && x < f.x + f.w && y >= f.y && y < f.y + f.h);
  return hits[hits.length - 1];
}

function fillAt(ctx: RecordingContext, x: number, y: number): string | undefined {
  return lastFillAt(ctx, x, y)?.fill;
}

function renderMap(options: Partial<RackMapOptions>, width = 1200, height = 700) {
  const farm = farmWithTrouble(options.metric ?? 'health');
  const full = { ...DEFAULT_OPTIONS, ...options };
  const utils = render(<RackMapView farm={farm} options={full} width={width} height={height} theme={theme} />);
  const canvas = utils.container.querySelector('canvas')!;
  const ctx = canvas.getContext('2d') as unknown as RecordingContext;
  const listWidth = full.tvMode ? Math.round(Math.min(width * 0.22, 520)) : 0;
  const geometry = layoutFarm(farm, full, width - listWidth, height);
  const centreOf = (miner: string) => {
    const box = geometry.slots.find((s) => s.cell.reading?.miner === miner)!;
    return [box.x + 1, box.y + 1] as const;
  };
  return { ...utils, canvas, ctx, centreOf };
}

describe('rack map rendering', () => {
  test('by health: the faulted slot is painted in the fault colour, the unreachable one in its own, a healthy one in neither', () => {
    const { ctx, centreOf } = renderMap({ metric: 'health' });
    expect(fillAt(ctx, ...centreOf('C01-R2-S2-3'))).toBe(STATE_PAINT.fault.fill);
    expect(fillAt(ctx, ...centreOf('C02-R1-S1-1'))).toBe(STATE_PAINT.unreachable.fill);
    const healthy = fillAt(ctx, ...centreOf('C01-R1-S1-1'));
    expect([STATE_PAINT.fault.fill, STATE_PAINT.unreachable.fill, STATE_PAINT['no-data'].fill]).not.toContain(healthy);
  });

  test("by temperature: a hot miner takes the scale's red, a cool one another colour, the unreachable one never a scale colour", () => {
    const { ctx, centreOf } = renderMap({ metric: 'temperature' });
    const hot = fillAt(ctx, ...centreOf('C02-R1-S1-2'));
    const cool = fillAt(ctx, ...centreOf('C01-R1-S1-1'));
    expect(hot).toBe(theme.visualization.getColorByName('red'));
    expect(cool).toBe(theme.visualization.getColorByName('green'));
    expect(fillAt(ctx, ...centreOf('C02-R1-S1-1'))).toBe(STATE_PAINT.unreachable.fill);
  });

  test('container headers show the container climate when the data has it', () => {
    const { ctx } = renderMap({ metric: 'health' });
    expect(ctx.texts.map((t) => t.text)).toEqual(expect.arrayContaining(['C01', 'in 24.4 °C  out 39.9 °C', 'C02']));
  });

  test('TV mode lists the miners needing attention, worst first, without hovering', () => {
    renderMap({ tvMode: true });
    const items = screen.getByTestId('attention-list').querySelectorAll('li');
    expect([...items].map((li) => [li.dataset.miner, li.dataset.state])).toEqual([
      ['C01-R2-S2-3', 'fault'],
      ['C02-R1-S1-1', 'unreachable'],
    ]);
    expect(items[0]!.textContent).toContain('FAN_STOPPED');
  });

  test('TV mode: when other miners need attention after a refresh, the list names them and their faults, not the last ones', () => {
    const options = { ...DEFAULT_OPTIONS, metric: 'health' as const, tvMode: true };
    const faultOn = (miners: string[], code: string) =>
      buildFarm(healthyFarm(2, 2, 3, 4).map((r) => (miners.includes(r.miner) ? { ...r, faults: [{ code, severity: 'critical' as const, part: 'fan 1' }] } : r)), [], { metric: 'health', now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 });
    const shown = () => [...screen.getByTestId('attention-list').querySelectorAll('li')].map((li) => [li.dataset.miner, li.dataset.state, li.textContent]);
    const { rerender } = render(<RackMapView farm={faultOn(['C01-R1-S1-1', 'C01-R1-S1-2'], 'FAN_STOPPED')} options={options} width={1200} height={700} theme={theme} />);
    expect(shown().map(([miner]) => miner)).toEqual(['C01-R1-S1-1', 'C01-R1-S1-2']);
    rerender(<RackMapView farm={faultOn(['C02-R2-S3-4'], 'CHIPS_DEAD')} options={options} width={1200} height={700} theme={theme} />);
    expect(shown()).toEqual([['C02-R2-S3-4', 'fault', expect.stringContaining('CHIPS_DEAD')]]);
    expect(shown()[0]![2]).not.toContain('FAN_STOPPED');
  });

  test("hovering a slot shows the miner's key values and its active faults", () => {
    const { canvas, centreOf } = renderMap({ metric: 'health' });
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, right: 1200, bottom: 700, width: 1200, height: 700, x: 0, y: 0, toJSON: () => ({}) });
    const [x, y] = centreOf('C01-R2-S2-3');
    act(() => {
      fireEvent.mouseMove(canvas, { clientX: x, clientY: y });
    });
    const tooltip = screen.getByTestId('slot-tooltip');
    expect(tooltip.textContent).toContain('C01-R2-S2-3');
    expect(tooltip.textContent).toContain('FAN_STOPPED (critical, fan 1)');
    expect(tooltip.textContent).toContain('100.0 TH/s (91 %)');
  });

  test('a stale miner keeps its place but is drawn stale', () => {
    const farm = buildFarm([reading('C01-R1-S1-1', { time: NOW - 3_600_000 })], [], { metric: 'temperature', now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 });
    const { container } = render(<RackMapView farm={farm} options={{ ...DEFAULT_OPTIONS, metric: 'temperature' }} width={300} height={200} theme={theme} />);
    const ctx = container.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    expect(ctx.fills.map((f) => f.fill)).toContain(STATE_PAINT.stale.fill);
  });

  test('an update that changes one miner repaints only that slot, and the canvas ends up as a full paint would', () => {
    const options = { ...DEFAULT_OPTIONS, metric: 'health' as const };
    const settings = { metric: 'health' as const, now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 };
    const healthy = healthyFarm(2, 2, 3, 4);
    const { container, rerender } = render(<RackMapView farm={buildFarm(healthy, [], settings)} options={options} width={900} height={500} theme={theme} />);
    const ctx = container.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    const fullPaintRects = ctx.fills.length;
    const broken = healthy.map((r) => (r.miner === 'C02-R2-S3-4' ? { ...r, faults: [{ code: 'BOARD_MISSING', severity: 'critical' as const, part: 'board 2' }] } : r));
    const farm = buildFarm(broken, [], settings);
    rerender(<RackMapView farm={farm} options={options} width={900} height={500} theme={theme} />);
    expect(ctx.fills.length - fullPaintRects).toBeLessThanOrEqual(2);
    const box = layoutFarm(farm, options, 900, 500).slots.find((s) => s.cell.reading?.miner === 'C02-R2-S3-4')!;
    expect(fillAt(ctx, box.x + 1, box.y + 1)).toBe(STATE_PAINT.fault.fill);
    // A change outside the slots (climate arrives in a header) repaints everything.
    rerender(<RackMapView farm={buildFarm(broken, [{ container: 'C01', intakeC: 20 }], settings)} options={options} width={900} height={500} theme={theme} />);
    expect(ctx.fills.length).toBeGreaterThanOrEqual(fullPaintRects);
    expect(ctx.texts.map((t) => t.text)).toContain('in 20.0 °C');
  });

  test("with a FarmBuilder's farms, slots whose cells were kept are not painted again, a changed one is", () => {
    const options = { ...DEFAULT_OPTIONS, metric: 'temperature' as const, showLabels: false, tvMode: true };
    const settings = { metric: 'temperature' as const, now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 };
    const builder = new FarmBuilder();
    const readings = healthyFarm(2, 2, 3, 4);
    const { container, rerender } = render(<RackMapView farm={builder.build(readings, [], settings)} options={options} width={900} height={500} theme={theme} />);
    const ctx = container.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    const fullPaint = ctx.fills.length;
    rerender(<RackMapView farm={builder.build(readings.map((r) => ({ ...r })), [], settings)} options={options} width={900} height={500} theme={theme} />);
    expect(ctx.fills.length).toBe(fullPaint);
    const farm = builder.build(readings.map((r) => (r.miner === 'C02-R1-S3-2' ? { ...r, tempMaxC: 100 } : { ...r })), [], settings);
    rerender(<RackMapView farm={farm} options={options} width={900} height={500} theme={theme} />);
    expect(ctx.fills.length).toBe(fullPaint + 1);
    const box = layoutFarm(farm, options, 900 - Math.round(Math.min(900 * 0.22, 520)), 500).slots.find((s) => s.cell.reading?.miner === 'C02-R1-S3-2')!;
    expect(fillAt(ctx, box.x + box.size / 2, box.y + box.size / 2)).toBe(theme.visualization.getColorByName('red'));
  });

  test('changed slots are painted over the old ones, a few or all of them, and a healed slot loses its mark', () => {
    const options = { ...DEFAULT_OPTIONS, metric: 'temperature' as const, showLabels: false };
    const settings = { metric: 'temperature' as const, now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 };
    const faulted = healthyFarm(2, 2, 3, 4).map((r) => (r.miner === 'C01-R1-S1-1' ? { ...r, faults: [{ code: 'FAN_STOPPED', severity: 'critical' as const, part: 'fan 1' }] } : r));
    const { container, rerender } = render(<RackMapView farm={buildFarm(faulted, [], settings)} options={options} width={900} height={500} theme={theme} />);
    const ctx = container.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    const mark = ctx.texts.find((t) => t.text === '!')!;
    expect(mark).toBeDefined();
    const fullPaint = { fills: ctx.fills.length, texts: ctx.texts.length };
    // Three miners 30 °C hotter (green to red), the faulted one among them with its fan fixed: three fills on top.
    const hot = new Set(['C01-R1-S1-1', 'C01-R1-S1-2', 'C02-R2-S3-4']);
    const few = faulted.map((r) => (hot.has(r.miner) ? { ...r, tempMaxC: (r.tempMaxC ?? 60) + 30, faults: [] } : r));
    rerender(<RackMapView farm={buildFarm(few, [], settings)} options={options} width={900} height={500} theme={theme} />);
    expect(ctx.fills.length - fullPaint.fills).toBe(3);
    expect(ctx.texts.length).toBe(fullPaint.texts); // nothing drawn on top: the new fill covers the old mark
    const healed = layoutFarm(buildFarm(few, [], settings), options, 900, 500).slots.find((s) => s.cell.reading?.miner === 'C01-R1-S1-1')!;
    expect(lastFillAt(ctx, mark.x, mark.y)).toMatchObject({ fill: theme.visualization.getColorByName('red') });
    expect(lastFillAt(ctx, mark.x, mark.y)!.seq).toBeGreaterThan(mark.seq);
    expect([healed.x, healed.y]).toEqual([Math.round(healed.x), Math.round(healed.y)]);
    // Every miner hotter: each slot that was not red yet is painted over; headers and labels are not drawn again.
    const before = { fills: ctx.fills.length, texts: ctx.texts.length };
    const farm = buildFarm(few.map((r) => ({ ...r, tempMaxC: 100 })), [], settings);
    rerender(<RackMapView farm={farm} options={options} width={900} height={500} theme={theme} />);
    expect(ctx.fills.length - before.fills).toBe(48 - hot.size);
    expect(ctx.texts.length).toBe(before.texts);
    for (const box of layoutFarm(farm, options, 900, 500).slots) {
      expect(lastFillAt(ctx, box.x + box.size / 2, box.y + box.size / 2)?.fill).toBe(theme.visualization.getColorByName('red'));
    }
  });
});
