import type { FaultEvent } from '@flymining/shared';
import { HealthTracker, evaluateMinerHealth } from '../../src/miner/health';
import { T0, SCRAPE_MS, hashingBoard, healthySample, s19ProSpec } from './fixtures';

const spec = s19ProSpec();
const hot = healthySample({ boards: [hashingBoard(1, { chipTempC: 99 }), hashingBoard(2), hashingBoard(3)] });

function summary(events: FaultEvent[]): string[] {
  return events.map((e) => `${e.type} ${e.fault.code}${e.fault.part ? `@${e.fault.part}` : ''}`).sort();
}

describe('HealthTracker', () => {
  it('emits a raised event once per episode and a cleared event once it ends', () => {
    const tracker = new HealthTracker('exporter-c3');
    const updates = [hot, hot, hot, healthySample(), healthySample()].map((input, i) => tracker.update(spec, input, T0 + i * SCRAPE_MS));
    expect(updates.map(summary)).toEqual([['raised CHIP_OVERHEAT@board 1'], [], [], ['cleared CHIP_OVERHEAT@board 1'], []]);
    const [raised] = updates[0]!;
    expect(raised).toMatchObject({ at: T0, source: 'exporter-c3', fault: { since: T0, minerId: 'C3-R2-4-7' } });
    const [cleared] = updates[3]!;
    expect(cleared).toMatchObject({ at: T0 + 3 * SCRAPE_MS, fault: { since: T0 } });
  });

  it('emits only MINER_UNREACHABLE when a faulty miner stops answering, then clears it on recovery', () => {
    const tracker = new HealthTracker('exporter-c3');
    tracker.update(spec, hot, T0);
    expect(summary(tracker.update(spec, { kind: 'timeout', message: 'no reply in 5000 ms' }, T0 + SCRAPE_MS))).toEqual([
      'raised MINER_UNREACHABLE',
    ]);
    expect(summary(tracker.update(spec, hot, T0 + 2 * SCRAPE_MS))).toEqual(['cleared MINER_UNREACHABLE']);
  });

  it('keeps miners apart', () => {
    const other = s19ProSpec({ id: 'C3-R2-4-8', location: { ...spec.location, slot: '8' } });
    const tracker = new HealthTracker('exporter-c3');
    tracker.update(spec, hot, T0);
    expect(tracker.update(other, healthySample(), T0)).toEqual([]);
    expect(tracker.activeFaults(other.id)).toEqual([]);
    expect(tracker.activeFaults(spec.id).map((f) => f.code)).toEqual(['CHIP_OVERHEAT']);
    expect(tracker.activeFaults()).toHaveLength(1);
  });

  it('clears every fault of a forgotten miner and starts afresh if it comes back', () => {
    const tracker = new HealthTracker('exporter-c3');
    tracker.update(spec, hot, T0);
    tracker.update(spec, { kind: 'refused', message: 'ECONNREFUSED' }, T0 + SCRAPE_MS);
    expect(summary(tracker.forget(spec.id, T0 + 2 * SCRAPE_MS))).toEqual([
      'cleared CHIP_OVERHEAT@board 1',
      'cleared MINER_UNREACHABLE',
    ]);
    expect(tracker.activeFaults()).toEqual([]);
    expect(tracker.forget(spec.id, T0 + 3 * SCRAPE_MS)).toEqual([]);
    const [again] = tracker.update(spec, hot, T0 + 4 * SCRAPE_MS);
    expect(again).toMatchObject({ type: 'raised', fault: { since: T0 + 4 * SCRAPE_MS } });
  });

  it('restores a saved state without announcing its faults again', () => {
    const first = new HealthTracker('exporter-c3');
    first.update(spec, hot, T0);
    const saved = JSON.parse(JSON.stringify(first.stateOf(spec.id)));
    const second = new HealthTracker('exporter-c3');
    second.restore(spec.id, saved);
    expect(second.update(spec, hot, T0 + SCRAPE_MS)).toEqual([]);
    expect(second.activeFaults(spec.id)[0]?.since).toBe(T0);
  });

  it('keeps up with a 5,000-miner sweep', () => {
    const specs = Array.from({ length: 5000 }, (_, i) => s19ProSpec({ id: `m${i}` }));
    const tracker = new HealthTracker('bench');
    const started = process.hrtime.bigint();
    for (let sweep = 0; sweep < 3; sweep++) {
      specs.forEach((s, i) => tracker.update(s, i % 10 === 0 ? hot : healthySample(), T0 + sweep * SCRAPE_MS));
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(tracker.activeFaults()).toHaveLength(500);
    // Three sweeps must fit easily in one 30 s sweep interval; generous so a slow CI machine passes.
    expect(elapsedMs).toBeLessThan(3000);
  });
});

describe('evaluateMinerHealth', () => {
  it('is pure: the previous state is not modified', () => {
    const first = evaluateMinerHealth(hot, spec, undefined, T0);
    const frozen = JSON.stringify(first.state);
    evaluateMinerHealth(healthySample(), spec, first.state, T0 + SCRAPE_MS);
    evaluateMinerHealth({ kind: 'refused', message: 'x' }, spec, first.state, T0 + SCRAPE_MS);
    expect(JSON.stringify(first.state)).toBe(frozen);
  });
});
