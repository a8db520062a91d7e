/**
 * Silent containers (their edge's heartbeats stopped) and the attention list's order: one state over the whole
 * container, one line on the wall, and a real warning never pushed off the screen by stale or silent lines.
 */
import { act, fireEvent, render, screen } from '@testing-library/react';
import { createTheme } from '@grafana/data';
import { attentionLines, attentionText, linesThatFit, type AttentionLine } from '../../src/attention';
import { STATE_PAINT } from '../../src/colors';
import { buildFarm } from '../../src/farm';
import { layoutFarm } from '../../src/geometry';
import { RackMapView } from '../../src/RackMapView';
import { readingsFromRows } from '../../src/rows';
import { clockText, durationText, SILENT_AFTER_INTERVALS } from '../../src/silence';
import { DEFAULT_OPTIONS, type ContainerHeartbeat, type FarmModel, type MinerReading, type RackMapOptions } from '../../src/types';
import { NOW, healthyFarm, reading } from '../fixtures';
import type { RecordingContext } from './setup';

const theme = createTheme({ colors: { mode: 'dark' } });
const settings = { metric: 'health' as const, now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 };
const INTERVAL = 30_000;
const MINUTE = 60_000;

function heartbeat(container: string, ageMs: number, extra: Partial<ContainerHeartbeat> = {}): ContainerHeartbeat {
  return { site: 'north-1', container, edge: `edge-${container}`, time: NOW - ageMs, intervalMs: INTERVAL, ...extra };
}

const statesOf = (farm: FarmModel, container: string) =>
  new Set(farm.containers.find((c) => c.name === container)!.racks.flatMap((r) => r.shelves.flatMap((s) => s.slots.map((c) => c.state))));

/**
 * The incident of issue #9: C03's exporter stopped 10 minutes ago (60 stale slots, no edge there), C04's edge went
 * silent 5 minutes ago, C02 has one miner with dead chips (a warning), C01 one with a stopped fan (critical).
 */
function incident(): { readings: MinerReading[]; heartbeats: ContainerHeartbeat[] } {
  const readings = healthyFarm(4, 3, 4, 5).map((r) => {
    if (r.container === 'C03') return { ...r, time: NOW - 10 * MINUTE };
    if (r.container === 'C04') return { ...r, time: NOW - 5 * MINUTE, faults: r.slot === '1' ? [{ code: 'HASHRATE_LOW', severity: 'warning' as const, part: 'miner' }] : [] };
    if (r.miner === 'C02-R3-S4-5') return { ...r, faults: [{ code: 'CHIPS_DEAD', severity: 'warning' as const, part: 'board 2', since: NOW - 40 * MINUTE }] };
    if (r.miner === 'C01-R2-S2-2') return { ...r, faults: [{ code: 'FAN_STOPPED', severity: 'critical' as const, part: 'fan 1', since: NOW - 2 * MINUTE }] };
    return r;
  });
  return { readings, heartbeats: [heartbeat('C01', 10_000), heartbeat('C02', 12_000), heartbeat('C04', 5 * MINUTE)] };
}

describe('silent containers in the farm model', () => {
  test("a container whose newest heartbeat is older than 3 intervals is silent: every slot silent, whatever the slot's last data said", () => {
    const { readings, heartbeats } = incident();
    const farm = buildFarm(readings, [], settings, heartbeats);
    expect(statesOf(farm, 'C04')).toEqual(new Set(['silent']));
    expect(farm.containers.find((c) => c.name === 'C04')!.silent).toEqual({ edge: 'edge-C04', lastDataMs: NOW - 5 * MINUTE, silentForMs: 5 * MINUTE });
    // Fresh heartbeats: not silent; no heartbeats at all (C03, no edge): stale slot by slot as before.
    expect(farm.containers.find((c) => c.name === 'C01')!.silent).toBeUndefined();
    expect(statesOf(farm, 'C03')).toEqual(new Set(['stale']));
  });

  test('the limit is the edge\'s own interval times three, judged against now', () => {
    const limit = SILENT_AFTER_INTERVALS * INTERVAL;
    const farmAt = (ageMs: number, intervalMs = INTERVAL) => buildFarm([reading('C01-R1-S1-1')], [], settings, [heartbeat('C01', ageMs, { intervalMs })]);
    expect(farmAt(limit - 1000).containers[0]!.silent).toBeUndefined();
    expect(farmAt(limit + 1000).containers[0]!.silent).toBeDefined();
    // An edge sweeping every 2 minutes is late only after 6.
    expect(farmAt(5 * MINUTE, 120_000).containers[0]!.silent).toBeUndefined();
  });

  test("an edge whose clock runs 10 minutes behind is not silent once it measured that offset", () => {
    const skewed = heartbeat('C01', 10 * MINUTE + 5000, { clockOffsetMs: 10 * MINUTE });
    expect(buildFarm([reading('C01-R1-S1-1')], [], settings, [skewed]).containers[0]!.silent).toBeUndefined();
    expect(buildFarm([reading('C01-R1-S1-1')], [], settings, [{ ...skewed, clockOffsetMs: undefined }]).containers[0]!.silent).toBeDefined();
  });

  test('the newest heartbeat of a container counts, whichever edge sent it', () => {
    const farm = buildFarm([reading('C01-R1-S1-1')], [], settings, [heartbeat('C01', 60 * MINUTE, { edge: 'old-edge' }), heartbeat('C01', 10_000)]);
    expect(farm.containers[0]!.silent).toBeUndefined();
  });

  test('a container silent for longer than the data window still has its box and its line', () => {
    const farm = buildFarm(healthyFarm(1, 1, 1, 2), [], settings, [heartbeat('C01', 10_000), heartbeat('C09', 3 * 3_600_000)]);
    expect(farm.containers.map((c) => [c.name, c.silent?.silentForMs])).toEqual([['C01', undefined], ['C09', 3 * 3_600_000]]);
    expect(attentionLines(farm).map((l) => [l.kind, l.container, l.cells.length])).toEqual([['silent', 'C09', 0]]);
  });

  test('heartbeat rows (source miner) and fault since_ms come out of the query rows', () => {
    const { heartbeats, readings } = readingsFromRows([
      { site: 'north-1', container: 'C04', edge: 'edge-C04', source: 'miner', time: NOW - 5 * MINUTE, seq: 812, interval_ms: 15_000, clock_offset_ms: 250 },
      { site: 'north-1', container: 'C04', edge: 'edge-C04', source: 'climate', time: NOW, seq: 3, interval_ms: 10_000 },
      { site: 'north-1', container: 'C04', rack: 'R1', shelf: 'S1', slot: '1', miner: 'C04-R1-S1-1', time: 0, code: 'CHIPS_DEAD', severity: 'warning', part: 'board 1', active: 1, since_ms: NOW - 7 * MINUTE },
    ]);
    expect(heartbeats).toEqual([{ site: 'north-1', container: 'C04', edge: 'edge-C04', time: NOW - 5 * MINUTE, intervalMs: 15_000, clockOffsetMs: 250 }]);
    expect(readings[0]!.faults).toEqual([{ code: 'CHIPS_DEAD', severity: 'warning', part: 'board 1', since: NOW - 7 * MINUTE }]);
  });
});

describe('attention list order', () => {
  const kindsAndWho = (lines: AttentionLine[]) => lines.map((l) => [l.kind, l.cells.length === 1 && l.kind !== 'silent' ? l.cells[0]!.reading!.miner : l.container, l.cells.length]);

  test('criticals, then silent containers, then warnings; 60 stale slots are one line; a silent container is one line', () => {
    const { readings, heartbeats } = incident();
    expect(kindsAndWho(attentionLines(buildFarm(readings, [], settings, heartbeats)))).toEqual([
      ['fault', 'C01-R2-S2-2', 1],
      ['silent', 'C04', 60],
      ['warning', 'C02-R3-S4-5', 1],
      ['stale', 'C03', 60],
    ]);
  });

  test('within a severity the oldest comes first (fault since, silence, stale data), unknown age last', () => {
    const critical = (since?: number) => ({ faults: [{ code: 'FAN_STOPPED', severity: 'critical' as const, part: 'fan 1', ...(since === undefined ? {} : { since }) }] });
    const farm = buildFarm(
      [
        reading('C01-R1-S1-1', critical(NOW - MINUTE)),
        reading('C01-R1-S1-2', critical()),
        reading('C01-R1-S1-3', critical(NOW - 60 * MINUTE)),
        reading('C02-R1-S1-1', { time: NOW - 5 * MINUTE }),
        reading('C03-R1-S1-1', { time: NOW - 50 * MINUTE }),
        reading('C05-R1-S1-1'),
        reading('C06-R1-S1-1'),
      ],
      [],
      settings,
      [heartbeat('C05', 5 * MINUTE), heartbeat('C06', 50 * MINUTE)],
    );
    expect(kindsAndWho(attentionLines(farm))).toEqual([
      ['fault', 'C01-R1-S1-3', 1],
      ['fault', 'C01-R1-S1-1', 1],
      ['fault', 'C01-R1-S1-2', 1],
      ['silent', 'C06', 1],
      ['silent', 'C05', 1],
      ['stale', 'C03-R1-S1-1', 1],
      ['stale', 'C02-R1-S1-1', 1],
    ]);
  });

  test('unreachable miners: the miner when it is one, one line with the names when a container has several', () => {
    const farm = buildFarm(
      [reading('C01-R1-S1-1', { reachable: false }), reading('C02-R1-S1-1', { reachable: false }), reading('C02-R1-S1-3', { reachable: false }), reading('C02-R1-S1-2')],
      [],
      settings,
    );
    const lines = attentionLines(farm);
    expect(kindsAndWho(lines)).toEqual([['unreachable', 'C01-R1-S1-1', 1], ['unreachable', 'C02', 2]]);
    expect(attentionText(lines[1]!, 'UTC')).toEqual({ who: 'C02', what: '2 unreachable', detail: 'C02-R1-S1-1, C02-R1-S1-3' });
  });

  test('when the lines do not fit, the first ones by that order are shown and a "+N more" line counts the rest', () => {
    // 40 criticals in one list: more than a 1080-line screen holds.
    const { readings, heartbeats } = incident();
    const many = readings.map((r) => (r.container === 'C01' && r.slot !== '5' ? { ...r, faults: [{ code: 'CHIP_OVERHEAT', severity: 'critical' as const, part: 'board 1' }] } : r));
    const farm = buildFarm(many, [], settings, heartbeats);
    const lines = attentionLines(farm);
    render(<RackMapView farm={farm} options={{ ...DEFAULT_OPTIONS, tvMode: true }} width={1920} height={1080} theme={theme} />);
    const shown = [...screen.getByTestId('attention-list').querySelectorAll('li[data-state]')] as HTMLElement[];
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(lines.length);
    expect(shown.map((li) => li.dataset.state)).toEqual(lines.slice(0, shown.length).map((l) => l.kind));
    expect(new Set(shown.map((li) => li.dataset.state))).toEqual(new Set(['fault']));
    const hidden = lines.length - shown.length;
    const more = [...screen.getByTestId('attention-more').querySelectorAll('div')].map((d) => d.textContent);
    expect(more).toEqual([`+${hidden} more`, `${hidden - 3} fault, 1 silent, 1 warning, 1 stale data`]);
  });

  test('what fits is counted with the heights the list renders: a taller list holds more, never fewer', () => {
    const hasDetail = Array.from({ length: 100 }, (_, i) => i % 3 === 0);
    const counts = [300, 600, 900, 1200, 5000].map((h) => linesThatFit(hasDetail, h, 24));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[4]).toBe(100);
    expect(linesThatFit([false, false], 2000, 24)).toBe(2);
  });
});

describe('silent container on the rack map and the TV wall', () => {
  function renderIncident(options: Partial<RackMapOptions>, timeZone: string | undefined, width = 1920, height = 1080) {
    const { readings, heartbeats } = incident();
    const farm = buildFarm(readings, [{ container: 'C04', intakeC: 22, exhaustC: 37 }], settings, heartbeats);
    const full = { ...DEFAULT_OPTIONS, ...options };
    const utils = render(<RackMapView farm={farm} options={full} width={width} height={height} theme={theme} timeZone={timeZone} />);
    const ctx = utils.container.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    const listWidth = full.tvMode ? Math.round(Math.min(width * 0.22, 520)) : 0;
    return { ...utils, ctx, farm, geometry: layoutFarm(farm, full, width - listWidth, height) };
  }
  const fillAt = (ctx: RecordingContext, x: number, y: number) => ctx.fills.filter((f) => x >= f.x && x < f.x + f.w && y >= f.y && y < f.y + f.h).pop()?.fill;

  test.each(['health', 'temperature'] as const)('by %s: every slot of the silent container in the silent colour, its header band too, other containers not', (metric) => {
    const { ctx, geometry } = renderIncident({ metric }, 'UTC', 1600, 900);
    const slots = geometry.slots.filter((s) => s.cell.reading);
    for (const box of slots) {
      const fill = fillAt(ctx, box.x + 1, box.y + 1);
      expect({ miner: box.cell.reading!.miner, silent: fill === STATE_PAINT.silent.fill }).toEqual({ miner: box.cell.reading!.miner, silent: box.container === 'C04' });
    }
    const header = geometry.containers.find((c) => c.container.name === 'C04')!;
    expect(fillAt(ctx, header.x + header.w / 2, header.y + 2)).toBe(STATE_PAINT.silent.fill);
    const other = geometry.containers.find((c) => c.container.name === 'C02')!;
    expect(fillAt(ctx, other.x + other.w / 2, other.y + 2)).not.toBe(STATE_PAINT.silent.fill);
  });

  test('the header says how long and since when, in the viewer\'s time zone; the climate of a silent container is not shown as current', () => {
    // NOW is 20:00 UTC; the last heartbeat came 5 minutes earlier.
    const tokyo = renderIncident({}, 'Asia/Tokyo');
    const texts = tokyo.ctx.texts.map((t) => t.text);
    expect(texts).toContain('silent 5 min · last data 04:55');
    expect(texts).not.toContain('in 22.0 °C  out 37.0 °C');
    expect(screen.getByTestId('silent-containers').textContent).toBe('C04: silent 5 min · last data 04:55');
    tokyo.unmount();
    renderIncident({}, 'utc');
    expect(screen.getByTestId('silent-containers').textContent).toBe('C04: silent 5 min · last data 19:55');
  });

  test('TV wall: one "C04 silent" line, the CHIPS_DEAD warning still on screen with 60 stale slots and a silent container', () => {
    renderIncident({ tvMode: true }, 'UTC', 1920, 1080);
    const items = [...screen.getByTestId('attention-list').querySelectorAll('li')] as HTMLElement[];
    const silent = items.filter((li) => li.dataset.state === 'silent');
    expect(silent.map((li) => li.querySelector('div')!.textContent)).toEqual(['C04 silent']);
    expect(silent[0]!.textContent).toContain('silent 5 min · last data 19:55');
    expect(silent[0]!.textContent).toContain('last known: HASHRATE_LOW ×12');
    const warning = items.find((li) => li.dataset.state === 'warning')!;
    expect(warning.textContent).toContain('CHIPS_DEAD');
    expect(items.filter((li) => li.dataset.state === 'stale').map((li) => [li.dataset.container, li.dataset.count])).toEqual([['C03', '60']]);
    expect(screen.queryByTestId('attention-more')).toBeNull();
  });

  test("hovering a slot of a silent container says its values are the edge's last word", () => {
    const { container, geometry } = renderIncident({}, 'UTC', 1200, 700);
    const canvas = container.querySelector('canvas')!;
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, right: 1200, bottom: 700, width: 1200, height: 700, x: 0, y: 0, toJSON: () => ({}) });
    const box = geometry.slots.find((s) => s.cell.reading?.miner === 'C04-R1-S1-1')!;
    act(() => {
      fireEvent.mouseMove(canvas, { clientX: box.x + 1, clientY: box.y + 1 });
    });
    const tooltip = screen.getByTestId('slot-tooltip').textContent;
    expect(tooltip).toContain('State: silent');
    expect(tooltip).toContain('Edge edge-C04 silent 5 min · last data 19:55: the values below are from then');
    expect(tooltip).toContain('HASHRATE_LOW (warning, miner)');
  });

  test('no heartbeats at all (exporter without edges): no container silent, nothing silent drawn or listed', () => {
    const { readings } = incident();
    const farm = buildFarm(readings, [], settings, []);
    expect(farm.containers.filter((c) => c.silent)).toEqual([]);
    render(<RackMapView farm={farm} options={{ ...DEFAULT_OPTIONS, tvMode: true }} width={1920} height={1080} theme={theme} />);
    const ctx = document.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    expect(ctx.fills.map((f) => f.fill)).not.toContain(STATE_PAINT.silent.fill);
    expect(screen.queryByTestId('silent-containers')).toBeNull();
    expect(screen.getByTestId('attention-list').querySelector('li[data-state="silent"]')).toBeNull();
  });
});

describe('times as the wall writes them', () => {
  test('durations from seconds to days', () => {
    expect([40_000, 4 * MINUTE + 59_000, 125 * MINUTE, 120 * MINUTE, 76 * 3_600_000].map(durationText)).toEqual(['40 s', '4 min', '2 h 5 min', '2 h', '3 d 4 h']);
  });

  test('clock in the given zone; with the date a day or more back', () => {
    expect(clockText(NOW, 'UTC')).toBe('20:00');
    expect(clockText(NOW, 'America/New_York')).toBe('15:00');
    expect(clockText(NOW - 26 * 3_600_000, 'UTC', true)).toBe('23 Nov, 18:00');
  });
});
