/**
 * Curtailed miner-hours per container and day from the control audit in the real InfluxDB, written as the edge writes
 * it (AuditPoints: control_action; miner rows as line protocol). And what billing would credit: its own delivered
 * hashrate plus the withheld TH/s equals the hashrate of a day without curtailment.
 */
import { encodePoints, readCurtailedHours, type InfluxStore, type SchemaPoint } from '@flymining/shared';
import { InfluxHashrateSource } from '../../../billing/src/hashrate';
import { openTestStore } from '../../../shared/test/influx/helpers';
import { AuditPoints } from '../../src/miner/control/audit';
import type { ActionOutcome, ActionResult } from '../../src/miner/control/executor';
import type { MinerAction } from '../../src/miner/control/types';
import { HOUR, MINUTE, target } from './policy-fixtures';

const DAY = '2026-11-26';
const D = Date.parse(`${DAY}T00:00:00Z`);

let store: InfluxStore;

function action(at: number, minerId: string, container: string, kind: MinerAction['kind'], actor: string, outcome: ActionOutcome = 'confirmed', site = 'SIM'): ActionResult {
  return {
    time: at,
    target: target(minerId, container, { site }),
    action: { kind } as MinerAction,
    actor: { kind: actor === 'curtailment' ? 'policy' : 'staff', name: actor },
    reason: '',
    outcome,
    detail: '',
    reply: '',
    durationMs: 20,
  };
}

/** A miner's rows of the day every 10 min: its rate while hashing, 0 while asleep. */
function minerRows(minerId: string, container: string, rateThs: number, nominalThs: number, asleep: (t: number) => boolean): SchemaPoint<'miner'>[] {
  return Array.from({ length: 144 }, (_, i) => {
    const time = D + i * 10 * MINUTE;
    return { measurement: 'miner', tags: { site: 'SIM', container, rack: 'R01', shelf: 'S1', slot: '1', miner: minerId }, fields: { hashrate_ths: asleep(time) ? 0 : rateThs, nominal_ths: nominalThs }, time };
  });
}

beforeAll(async () => {
  store = await openTestStore('curtailed');
  const audit = new AuditPoints(store);
  const at = (h: number) => D + h * HOUR;
  for (const r of [
    // m1: curtailed from the evening before to 02:00, and from 18:00 to the end of the day: 8 h.
    action(at(-2), 'm1', 'C01', 'sleep', 'curtailment'),
    action(at(2), 'm1', 'C01', 'wake', 'curtailment'),
    action(at(18), 'm1', 'C01', 'sleep', 'curtailment'),
    action(at(20), 'm1', 'C01', 'sleep', 'curtailment'), // a repeated sleep keeps the first start
    // m2: staff slept it 10:00-12:00: not curtailment.
    action(at(10), 'm2', 'C01', 'sleep', 'ana'),
    action(at(12), 'm2', 'C01', 'wake', 'ana'),
    // m3: a refused sleep does not count; slept 09:00, rebooted by staff 09:30 (a reboot wakes it): 0.5 h.
    action(at(8), 'm3', 'C01', 'sleep', 'curtailment', 'refused'),
    action(at(9), 'm3', 'C01', 'sleep', 'curtailment'),
    action(at(9.5), 'm3', 'C01', 'reboot', 'ana'),
    // m4: curtailed three days ago and never woken: the whole day.
    action(at(-72), 'm4', 'C02', 'sleep', 'curtailment'),
    // m5: curtailed the evening before, then staff slept it for their own reason: not curtailment's hours.
    action(at(-4), 'm5', 'C02', 'sleep', 'curtailment'),
    action(at(-3), 'm5', 'C02', 'sleep', 'ana'),
    // m6: the next day only; m7: another site.
    action(at(25), 'm6', 'C01', 'sleep', 'curtailment'),
    action(at(1), 'm7', 'C01', 'sleep', 'curtailment', 'confirmed', 'OTHER'),
  ])
    audit.record(r);
  store.write(
    encodePoints([
      ...minerRows('m1', 'C01', 100, 104, (t) => t < D + 2 * HOUR || t >= D + 18 * HOUR),
      ...minerRows('m2', 'C01', 90, 95, (t) => t >= D + 10 * HOUR && t < D + 12 * HOUR),
      ...minerRows('m3', 'C01', 0, 110, () => true), // broken all day: only its nominal is known
    ]),
  );
  await store.flush();
});

afterAll(async () => {
  await store?.close();
});

describe('curtailed miner-hours from control_action', () => {
  it('per container and miner, across midnight, ended by any wake, reboot or someone else’s sleep', async () => {
    const day = await readCurtailedHours(store, DAY, { site: 'SIM', now: D + 3 * 86_400_000 });
    expect(day.containers.map((c) => [c.container, c.miners, c.minerHours])).toEqual([
      ['C01', 2, 8.5],
      ['C02', 1, 24],
    ]);
    expect(day.containers[0]!.detail).toEqual([
      { miner: 'm1', hours: 8, rateThs: 100, rateFrom: 'hashing' },
      { miner: 'm3', hours: 0.5, rateThs: 110, rateFrom: 'nominal' },
    ]);
    expect(day.containers[1]!.detail).toEqual([{ miner: 'm4', hours: 24, rateThs: 0, rateFrom: 'unknown' }]);
    expect(day.containers[0]!.withheldThs).toBeCloseTo((8 * 100 + 0.5 * 110) / 24, 9);
    expect(day.minerHours).toBe(32.5);
  });

  it('a day not over yet counts up to now; without the site filter every site counts', async () => {
    const noon = await readCurtailedHours(store, DAY, { site: 'SIM', now: D + 12 * HOUR });
    expect(noon.containers.map((c) => [c.container, c.minerHours])).toEqual([
      ['C01', 2.5],
      ['C02', 12],
    ]);
    const everywhere = await readCurtailedHours(store, DAY, { now: D + 3 * 86_400_000 });
    expect(everywhere.containers.find((c) => c.container === 'C01')!.detail.map((m) => m.miner)).toEqual(['m1', 'm3', 'm7']);
    await expect(readCurtailedHours(store, '26.11.2026')).rejects.toThrow('day "26.11.2026": expected YYYY-MM-DD');
  });

  it("billing's delivered hashrate plus the withheld TH/s is the day as if the curtailed hours were hashed", async () => {
    const billed = await new InfluxHashrateSource(store, 'SIM').dayHashrate(DAY);
    const delivered = Number(billed.containers.find((c) => c.container === 'C01')!.deliveredThs);
    // m1 hashed 16 h of 24 at 100, m2 22 h at 90 (staff's sleep is not curtailment), m3 nothing.
    expect(delivered).toBeCloseTo((16 / 24) * 100 + (22 / 24) * 90, 4);
    const withheld = (await readCurtailedHours(store, DAY, { site: 'SIM', now: D + 3 * 86_400_000 })).containers[0]!.withheldThs;
    // As if hashed: m1 all day at 100, m2 as it was, m3 its half hour at its nominal.
    expect(delivered + withheld).toBeCloseTo(100 + (22 / 24) * 90 + (0.5 * 110) / 24, 4);
  });
});
