/** The band's figures and texts: units, what counts as hashing, the MTTR trend (shorter is better). */
import { farmFigures, hashrateText, mttrTrend, shareText, untilText } from '../../tvwall/band-figures';
import type { MinerReading } from '../../src/types';

const NOW = Date.parse('2026-11-27T14:00:00Z');
const reading = (miner: string, r: Partial<MinerReading>): MinerReading => ({ site: 's', container: 'C01', rack: 'R1', shelf: 'S1', slot: miner, miner, faults: [], time: NOW - 10_000, ...r });

describe('TV wall band figures', () => {
  test('TH/s below 1000 TH/s, PH/s from there, both numbers in the same unit', () => {
    expect(hashrateText(812.44, 840)).toBe('812.4 / 840.0 TH/s');
    expect(hashrateText(990, 1000)).toBe('0.99 / 1.00 PH/s');
    expect(hashrateText(1234, 1400)).toBe('1.23 / 1.40 PH/s');
    expect(shareText(1234, 1400)).toBe('88 %');
    expect(shareText(0, 0)).toBe('– %');
  });

  test('hashing: answering, fresh and in mode hashing; nominal counts every miner', () => {
    const figures = farmFigures(
      [
        reading('a', { reachable: true, mode: 'hashing', hashrateThs: 100, nominalThs: 110 }),
        reading('b', { reachable: false, mode: 'hashing', hashrateThs: 90, nominalThs: 110 }),
        reading('c', { reachable: true, mode: 'sleeping', hashrateThs: 0, nominalThs: 110 }),
        reading('d', { reachable: true, mode: 'hashing', hashrateThs: 95, nominalThs: 110, time: NOW - 600_000 }),
        reading('e', { reachable: true, hashrateThs: 50, nominalThs: 60 }),
      ],
      NOW,
      180_000,
    );
    expect(figures).toEqual({ hashrateThs: 150, nominalThs: 500, hashing: 2, total: 5 });
  });

  test('MTTR trend: shorter this week is better, longer worse, none without both weeks', () => {
    expect(mttrTrend(3600, 7200)).toBe('better');
    expect(mttrTrend(7200, 3600)).toBe('worse');
    expect(mttrTrend(3600, 3600)).toBe('same');
    expect(mttrTrend(null, 3600)).toBeUndefined();
    expect(mttrTrend(3600, null)).toBeUndefined();
  });

  test('on call until: the time alone today, with the date on another day, in the rota zone', () => {
    expect(untilText(Date.parse('2026-11-27T20:00:00Z'), NOW, 'UTC')).toBe('until 20:00');
    expect(untilText(Date.parse('2026-11-30T08:00:00Z'), NOW, 'UTC')).toBe('until 30 Nov, 08:00');
    // 20:00 UTC is already the next day in Tokyo.
    expect(untilText(Date.parse('2026-11-27T20:00:00Z'), NOW, 'Asia/Tokyo')).toBe('until 28 Nov, 05:00');
  });
});
