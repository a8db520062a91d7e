import { buildFarm, FarmBuilder } from '../../src/farm';
import { layoutFarm, slotAt, type FarmGeometry } from '../../src/geometry';
import { NOW, healthyFarm, reading } from '../fixtures';

const settings = { metric: 'health' as const, now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 };
const layout = { containersPerRow: 0, rackOrientation: 'vertical' as const, showLabels: true, tvMode: false };

function overlaps(g: FarmGeometry): number {
  const sorted = [...g.slots].sort((a, b) => a.y - b.y || a.x - b.x);
  let count = 0;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.y < sorted[i]!.y + sorted[i]!.size; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      if (a.x < b.x + b.size && b.x < a.x + a.size) count++;
    }
  }
  return count;
}

describe('layout', () => {
  test('5,000 slots fit a 4K screen in TV mode with no slot outside it or on another, each at least 10 px', () => {
    const farm = buildFarm(healthyFarm(20, 5, 5, 10), [], settings);
    const g = layoutFarm(farm, { ...layout, tvMode: true }, 3840, 2160);
    expect(g.slots).toHaveLength(5000);
    for (const s of g.slots) {
      expect(s.x).toBeGreaterThanOrEqual(0);
      expect(s.y).toBeGreaterThanOrEqual(0);
      expect(s.x + s.size).toBeLessThanOrEqual(3840);
      expect(s.y + s.size).toBeLessThanOrEqual(2160);
    }
    expect(overlaps(g)).toBe(0);
    expect(g.slots[0]!.size).toBeGreaterThanOrEqual(10);
  });

  test('containers per row is obeyed; auto picks the grid with the largest slots', () => {
    const farm = buildFarm(healthyFarm(4, 2, 4, 6), [], settings);
    const twoPerRow = layoutFarm(farm, { ...layout, containersPerRow: 2 }, 1600, 900);
    expect(twoPerRow.columns).toBe(2);
    expect(new Set(twoPerRow.containers.map((c) => c.y)).size).toBe(2);
    const auto = layoutFarm(farm, layout, 1600, 900);
    for (const columns of [1, 2, 3, 4]) {
      expect(auto.cellPx).toBeGreaterThanOrEqual(layoutFarm(farm, { ...layout, containersPerRow: columns }, 1600, 900).cellPx);
    }
  });

  test('vertical racks put a shelf on a row; horizontal racks put it in a column', () => {
    const farm = buildFarm(healthyFarm(1, 1, 2, 3), [], settings);
    const find = (g: FarmGeometry, shelf: string, slot: string) => g.slots.find((s) => s.shelf === shelf && s.cell.slot === slot)!;
    const v = layoutFarm(farm, layout, 800, 600);
    expect(find(v, 'S1', '3').y).toBe(find(v, 'S1', '1').y);
    expect(find(v, 'S1', '3').x).toBeGreaterThan(find(v, 'S1', '1').x);
    const h = layoutFarm(farm, { ...layout, rackOrientation: 'horizontal' }, 800, 600);
    expect(find(h, 'S1', '3').x).toBe(find(h, 'S1', '1').x);
    expect(find(h, 'S1', '3').y).toBeGreaterThan(find(h, 'S1', '1').y);
  });

  test('the slot under the pointer is found; gaps between slots hit nothing', () => {
    const g = layoutFarm(buildFarm(healthyFarm(1, 1, 1, 3), [], settings), layout, 400, 200);
    const second = g.slots[1]!;
    expect(slotAt(g, second.x + 1, second.y + 1)?.cell.slot).toBe('2');
    expect(slotAt(g, second.x + second.size + 0.5, second.y + 1)).toBeUndefined();
  });

  test('a refresh of the same shape keeps every box in place, new boxes only for changed miners; another shape is laid out anew', () => {
    const builder = new FarmBuilder();
    const readings = healthyFarm(2, 2, 3, 4);
    const first = layoutFarm(builder.build(readings, [], settings), layout, 1600, 900);
    const faulted = readings.map((r) => (r.miner === 'C02-R1-S2-3' ? { ...r, faults: [{ code: 'FAN_STOPPED', severity: 'critical' as const, part: 'fan 1' }] } : r));
    const farm = builder.build(faulted, [], settings);
    const kept = layoutFarm(farm, layout, 1600, 900, first);
    expect(kept).toEqual(layoutFarm(farm, layout, 1600, 900));
    expect(kept.positions).toBe(first.positions);
    expect(kept.slots.filter((box, i) => box !== first.slots[i]).map((box) => [box.cell.reading?.miner, box.cell.state])).toEqual([['C02-R1-S2-3', 'fault']]);
    // A fifth slot on one shelf: every place may move.
    const grown = buildFarm([...faulted, reading('C01-R1-S1-5')], [], settings);
    const relaid = layoutFarm(grown, layout, 1600, 900, kept);
    expect(relaid).toEqual(layoutFarm(grown, layout, 1600, 900));
    expect(relaid.slots).toHaveLength(kept.slots.length + 1);
    // The same farm on a panel of another size: laid out for that size.
    expect(layoutFarm(farm, layout, 1200, 700, kept)).toEqual(layoutFarm(farm, layout, 1200, 700));
  });
});
