import { attentionLines } from '../../src/attention';
import { buildFarm, slotLink } from '../../src/farm';
import { readingsFromRows } from '../../src/rows';
import type { FarmModel, SlotCell } from '../../src/types';
import { NOW, reading } from '../fixtures';

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
