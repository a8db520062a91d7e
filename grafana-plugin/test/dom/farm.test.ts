import { attentionKey, attentionLines } from '../../src/attention';
import { buildFarm, FarmBuilder, slotLink } from '../../src/farm';
import { FieldType, toDataFrame } from '@grafana/data';
import { rowsFromFrames } from '../../src/frames';
import { readingsFromRows } from '../../src/rows';
import type { FarmModel, MinerReading, SlotCell } from '../../src/types';
import { NOW, healthyFarm, reading } from '../fixtures';

const settings = { metric: 'temperature' as const, now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 };

function cell(farm: FarmModel, container: string, rack: string, shelf: string, slot: string): SlotCell | undefined {
  return farm.containers.find((c) => c.name === container)?.racks.find((r) => r.name === rack)?.shelves.find((s) => s.name === shelf)?.slots.find((s) => s.slot === slot);
}

describe('query rows → farm model', () => {
  test('tags place each miner; containers, racks and slots are in natural order and gaps are empty slots', () => {
    const farm = buildFarm([reading('C10-R1-S1-1'), reading('C02-R10-S1-1'), reading('C02-R2-S1-3'), reading('C02-R2-S1-1')], [], settings);
    expect(farm.containers.map((c) => c.name)).toEqual(['C02', 'C10']);
    expect(farm.containers[0]!.racks.map((r) => r.name)).toEqual(['R2', 'R10']);
    expect(farm.containers[0]!.racks[0]!.shelves[0]!.slots.map((s) => [s.slot, s.state])).toEqual([['1', 'ok'], ['2', 'empty'], ['3', 'ok']]);
    expect(farm.slotCount).toBe(5);
  });

  test('slots per shelf draws the missing slots at the end of a shelf as empty', () => {
    const farm = buildFarm([reading('C01-R1-S1-1')], [], { ...settings, slotsPerShelf: 4 });
    expect(farm.containers[0]!.racks[0]!.shelves[0]!.slots.map((s) => s.state)).toEqual(['ok', 'empty', 'empty', 'empty']);
  });

  test('a miner that stopped answering is unreachable, never its last (healthy, cool) value', () => {
    const farm = buildFarm([reading('C01-R1-S1-1', { reachable: false, tempMaxC: 40 })], [], settings);
    expect(cell(farm, 'C01', 'R1', 'S1', '1')).toMatchObject({ state: 'unreachable' });
    expect(cell(farm, 'C01', 'R1', 'S1', '1')!.value).toBeUndefined();
  });

  test('old data is stale, a sleeping miner is sleeping, a missing metric is no data', () => {
    const farm = buildFarm(
      [
        reading('C01-R1-S1-1', { time: NOW - 10 * 60_000 }),
        reading('C01-R1-S1-2', { mode: 'sleeping', tempMaxC: 30 }),
        reading('C01-R1-S1-3', { tempMaxC: undefined }),
        reading('C01-R1-S1-4', { time: undefined }),
      ],
      [],
      settings,
    );
    expect(['1', '2', '3', '4'].map((s) => cell(farm, 'C01', 'R1', 'S1', s)!.state)).toEqual(['stale', 'sleeping', 'no-data', 'no-data']);
  });

  test('hashrate is a share of nominal; health ranks faults; a critical fault makes the slot a fault', () => {
    const r = reading('C01-R1-S1-1', { hashrateThs: 55, nominalThs: 110, faults: [{ code: 'FAN_STOPPED', severity: 'critical', part: 'fan 1' }] });
    expect(cell(buildFarm([r], [], { ...settings, metric: 'hashrate' }), 'C01', 'R1', 'S1', '1')).toMatchObject({ state: 'fault', value: 50 });
    expect(cell(buildFarm([r], [], { ...settings, metric: 'health' }), 'C01', 'R1', 'S1', '1')).toMatchObject({ state: 'fault', value: 2 });
  });

  test('rows of the four queries merge into readings: values, reachability time, active faults only, container climate', () => {
    const place = { site: 'north-1', container: 'C01', rack: 'R1', shelf: 'S1', slot: '2', miner: 'C01-R1-S1-2' };
    const { readings, climates } = readingsFromRows([
      { ...place, time: NOW - 5000, reachable: 1 },
      { ...place, time: NOW - 3_600_000, temp_max_c: 81.5, hashrate_ths: 98, nominal_ths: 110, fan_min_rpm: 0, power_w: 3300, mode: 'hashing', model: 'Antminer S19 Pro' },
      { ...place, time: 0, code: 'FAN_STOPPED', severity: 'critical', part: 'fan 1', active: 1, message: 'fan 1 stopped' },
      { ...place, time: 0, code: 'HASHRATE_LOW', severity: 'warning', part: 'miner', active: 0 },
      { site: 'north-1', container: 'C01', rack: '-', shelf: '-', slot: '-', miner: 'C01', time: 0, code: 'INTAKE_TOO_HOT', severity: 'critical', part: 'intake', active: 1 },
      { site: 'north-1', container: 'C01', time: NOW, intake_c: 24.5, exhaust_c: 41 },
    ]);
    expect(readings).toEqual([
      {
        ...place, time: NOW - 5000, reachable: true, tempMaxC: 81.5, hashrateThs: 98, nominalThs: 110, fanMinRpm: 0, powerW: 3300, mode: 'hashing', model: 'Antminer S19 Pro',
        faults: [{ code: 'FAN_STOPPED', severity: 'critical', part: 'fan 1', message: 'fan 1 stopped' }],
      },
    ]);
    expect(climates).toEqual([{ container: 'C01', intakeC: 24.5, exhaustC: 41 }]);
    expect(buildFarm(readings, climates, settings).containers[0]!.climate).toEqual({ container: 'C01', intakeC: 24.5, exhaustC: 41 });
  });

  test('raw rows of several sweeps, in any order: each value and the reachability come from the newest row that has them', () => {
    const place = { site: 'north-1', container: 'C01', rack: 'R1', shelf: 'S1', slot: '3', miner: 'C01-R1-S1-3' };
    const values = { ...place, model: 'Antminer S19 Pro', nominal_ths: 110, mode: 'hashing' };
    const { readings } = readingsFromRows([
      // Newest first, then the oldest, then the middle sweep: no order is assumed.
      { ...place, time: NOW - 10_000, reachable: 0 },
      { ...values, time: NOW - 10_000, temp_max_c: 90, hashrate_ths: 0, fan_min_rpm: null, power_w: 200, mode: 'sleeping' },
      { ...place, time: NOW - 130_000, reachable: 1 },
      { ...values, time: NOW - 130_000, temp_max_c: 70, hashrate_ths: 100, fan_min_rpm: 4200, power_w: 3200 },
      { ...place, time: NOW - 70_000, reachable: 1 },
      { ...values, time: NOW - 70_000, temp_max_c: 75, hashrate_ths: 95, fan_min_rpm: 4300, power_w: 3100 },
    ]);
    expect(readings).toEqual([
      { ...place, time: NOW - 10_000, reachable: false, tempMaxC: 90, hashrateThs: 0, nominalThs: 110, fanMinRpm: 4300, powerW: 200, mode: 'sleeping', model: 'Antminer S19 Pro', faults: [] },
    ]);
    // The same raw rows as Grafana hands them over: one table frame, a row per point.
    const tags = (n: number) => Object.entries(place).map(([name, value]) => ({ name, type: FieldType.string, values: Array<string>(n).fill(value) }));
    const frame = toDataFrame({
      fields: [
        { name: 'Time', type: FieldType.time, values: [NOW - 10_000, NOW - 130_000] },
        ...tags(2),
        { name: 'temp_max_c', type: FieldType.number, values: [90, 70] },
        { name: 'fan_min_rpm', type: FieldType.number, values: [null, 4200] },
      ],
    });
    expect(readingsFromRows(rowsFromFrames([frame])).readings).toEqual([{ ...place, tempMaxC: 90, fanMinRpm: 4200, faults: [] }]);
    // A miner with a scrape attempt but no values in the values' window (older than it) is placed, and stale.
    const stale = readingsFromRows([{ ...place, time: NOW - 10 * 60_000, reachable: 1 }]).readings;
    expect(cell(buildFarm(stale, [], settings), 'C01', 'R1', 'S1', '3')).toMatchObject({ state: 'stale', reading: { time: NOW - 10 * 60_000 } });
  });

  test('the attention list puts faults first, then unreachable and stale miners; healthy and empty slots are not on it', () => {
    const farm = buildFarm(
      [
        reading('C01-R1-S1-1', { time: NOW - 600_000 }),
        reading('C01-R1-S1-2', { reachable: false }),
        reading('C01-R1-S1-4', { faults: [{ code: 'CHIP_OVERHEAT', severity: 'critical', part: 'board 1' }] }),
        reading('C01-R1-S1-5'),
      ],
      [],
      settings,
    );
    expect(attentionLines(farm).map((l) => [l.cells[0]!.reading!.miner, l.kind])).toEqual([
      ['C01-R1-S1-4', 'fault'],
      ['C01-R1-S1-2', 'unreachable'],
      ['C01-R1-S1-1', 'stale'],
    ]);
  });

  test('a slot link names the miner, URL-encoded', () => {
    expect(slotLink('/d/x?var-miner={miner}&c={container}', reading('C01-R1-S1-1', { miner: 'C01 R1#1' }))).toBe('/d/x?var-miner=C01%20R1%231&c=C01');
  });
});

describe('FarmBuilder: refreshes patch the last farm', () => {
  const hot = (r: MinerReading, t: number) => ({ ...r, tempMaxC: t });

  test('a patched farm equals a farm built from scratch, through value changes, faults, a miner going silent and the clock moving on', () => {
    const builder = new FarmBuilder();
    let readings = healthyFarm(2, 2, 3, 4);
    const steps: Array<{ change: (rs: MinerReading[]) => MinerReading[]; now: number }> = [
      { change: (rs) => rs, now: NOW },
      { change: (rs) => rs.map((r) => (r.miner === 'C01-R1-S1-2' ? hot(r, 99) : r)), now: NOW + 1_000 },
      { change: (rs) => rs.map((r) => (r.miner === 'C02-R2-S3-4' ? { ...r, faults: [{ code: 'FAN_STOPPED', severity: 'critical' as const, part: 'fan 1' }] } : r)), now: NOW + 2_000 },
      { change: (rs) => rs.map((r) => (r.miner === 'C02-R1-S1-1' ? { ...r, reachable: false } : r)), now: NOW + 3_000 },
      // No new data for one miner while the clock moves past the stale limit: its reading is the same, its state is not.
      { change: (rs) => rs.map((r) => (r.miner === 'C01-R2-S3-1' ? { ...r, time: NOW - 170_000 } : r)), now: NOW + 20_000 },
      { change: (rs) => rs.map((r) => ({ ...r })), now: NOW + 20_000 },
    ];
    for (const step of steps) {
      readings = step.change(readings);
      const stepSettings = { ...settings, now: step.now };
      expect(builder.build(readings, [], stepSettings)).toEqual(buildFarm(readings, [], stepSettings));
    }
    expect(cell(builder.build(readings, [], { ...settings, now: NOW + 20_000 }), 'C01', 'R2', 'S3', '1')!.state).toBe('stale');
  });

  test('only the changed cell is a new object, in a new shelf, rack and container; the rest is the last farm own', () => {
    const builder = new FarmBuilder();
    const readings = healthyFarm(2, 2, 3, 4);
    const before = builder.build(readings, [], settings);
    // Parsed anew (new objects, same values): nothing changed, so the very same farm.
    expect(builder.build(readings.map((r) => ({ ...r, faults: [...r.faults] })), [], settings)).toBe(before);
    const after = builder.build(readings.map((r) => (r.miner === 'C01-R1-S2-3' ? hot(r, 95) : { ...r })), [], settings);
    expect(cell(after, 'C01', 'R1', 'S2', '3')).not.toBe(cell(before, 'C01', 'R1', 'S2', '3'));
    expect(cell(after, 'C01', 'R1', 'S2', '3')!.value).toBe(95);
    expect(cell(after, 'C01', 'R1', 'S2', '2')).toBe(cell(before, 'C01', 'R1', 'S2', '2'));
    expect(after.containers[0]!.racks[0]!.shelves[0]).toBe(before.containers[0]!.racks[0]!.shelves[0]);
    expect(after.containers[0]!.racks[1]).toBe(before.containers[0]!.racks[1]);
    expect(after.containers[1]).toBe(before.containers[1]);
    expect(after.containers[0]).not.toBe(before.containers[0]);
  });

  test('a new miner, a new climate or two miners in one slot build the farm anew', () => {
    const builder = new FarmBuilder();
    const readings = healthyFarm(1, 1, 2, 2);
    builder.build(readings, [], settings);
    const more = [...readings, reading('C01-R1-S2-3')];
    expect(builder.build(more, [], settings)).toEqual(buildFarm(more, [], settings));
    const climate = [{ container: 'C01', intakeC: 21 }];
    expect(builder.build(more, climate, settings).containers[0]!.climate).toEqual(climate[0]);
    // Two miners claim C01-R1-S1-1: the newer stands there, then the older one's values change: still the newer.
    const claimed = [...more, reading('C01-R1-S1-1', { miner: 'moved-in', time: NOW - 1_000 })];
    builder.build(claimed, climate, settings);
    const changed = claimed.map((r, i) => (i === 0 ? hot(r, 101) : r));
    expect(builder.build(changed, climate, settings)).toEqual(buildFarm(changed, climate, settings));
    expect(cell(builder.build(changed, climate, settings), 'C01', 'R1', 'S1', '1')!.reading!.miner).toBe('moved-in');
  });
});

describe('attentionKey', () => {
  test('equal for lines rebuilt from equal readings, different when what a line says changes', () => {
    const readings = healthyFarm(1, 1, 2, 3).map((r) => (r.miner === 'C01-R1-S1-2' ? { ...r, reachable: false } : r));
    const key = attentionKey(attentionLines(buildFarm(readings, [], settings)), 'UTC');
    expect(attentionKey(attentionLines(buildFarm(readings.map((r) => ({ ...r })), [], settings)), 'UTC')).toBe(key);
    const another = readings.map((r) => (r.miner === 'C01-R1-S2-1' ? { ...r, reachable: false } : r));
    expect(attentionKey(attentionLines(buildFarm(another, [], settings)), 'UTC')).not.toBe(key);
  });
});
