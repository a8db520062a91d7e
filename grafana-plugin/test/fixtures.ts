/** Readings as the queries return them, for tests of the mapping, layout and rendering. */
import type { MinerReading } from '../src/types';

export const NOW = Date.parse('2026-11-24T20:00:00Z');

export function reading(place: string, extra: Partial<MinerReading> = {}): MinerReading {
  const [container, rack, shelf, slot] = place.split('-') as [string, string, string, string];
  return {
    site: 'north-1', container, rack, shelf, slot, miner: place, time: NOW - 20_000, reachable: true,
    tempMaxC: 70, hashrateThs: 100, nominalThs: 110, fanMinRpm: 4200, powerW: 3250, mode: 'hashing', model: 'Antminer S19 Pro',
    faults: [], ...extra,
  };
}

/** containers × racks × shelves × slots healthy miners. */
export function healthyFarm(containers: number, racks: number, shelves: number, slots: number): MinerReading[] {
  const out: MinerReading[] = [];
  for (let c = 1; c <= containers; c++)
    for (let r = 1; r <= racks; r++)
      for (let s = 1; s <= shelves; s++)
        for (let n = 1; n <= slots; n++) out.push(reading(`C${String(c).padStart(2, '0')}-R${r}-S${s}-${n}`));
  return out;
}
