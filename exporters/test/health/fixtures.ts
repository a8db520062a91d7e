import type { BoardSample, Fault, MinerSample, MinerSpec } from '@flymining/shared';
import { evaluateMinerHealth, type HealthEvaluation, type HealthInput, type MinerHealthState } from '../../src/miner/health';

export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
export const SCRAPE_MS = 30_000;

export function s19ProSpec(overrides: Partial<MinerSpec> = {}): MinerSpec {
  return {
    id: 'C3-R2-4-7',
    host: '10.3.2.47',
    port: 4028,
    model: 'Antminer S19 Pro',
    nominalThs: 110,
    fans: 4,
    hashboards: 3,
    chipsPerBoard: 114,
    cooling: 'air',
    thresholds: {
      chipOverheatC: 95,
      boardOverheatC: 85,
      lowHashrateShare: 0.8,
      lowHashrateScrapes: 3,
      fanStoppedRpm: 300,
    },
    location: { site: 'north', container: 'C3', rack: 'R2', shelf: '4', slot: '7' },
    ...overrides,
  };
}

export function hashingBoard(index: number, overrides: Partial<BoardSample> = {}): BoardSample {
  return {
    index,
    present: true,
    hashrateThs: 36.7,
    chipsFound: 114,
    chipsOk: 114,
    chipsBad: 0,
    boardTempC: 62,
    chipTempC: 76,
    ...overrides,
  };
}

/** A healthy, hashing S19 Pro: three boards, four fans, one live pool, up for a day. */
export function healthySample(overrides: Partial<MinerSample> = {}): MinerSample {
  return {
    time: T0,
    vendor: 'antminer',
    firmware: 'antminer-stock',
    model: 'Antminer S19 Pro',
    mode: 'hashing',
    hashrateThs: 110.1,
    hashrateAvgThs: 109.8,
    nominalThs: 110,
    boards: [hashingBoard(1), hashingBoard(2), hashingBoard(3)],
    fans: [1, 2, 3, 4].map((index) => ({ index, rpm: 5400 })),
    pools: [{ index: 0, url: 'stratum+tcp://pool.example:3333', user: 'farm.c3r247', status: 'alive', active: true }],
    uptimeS: 86_400,
    errors: [],
    ...overrides,
  };
}

/** A sleeping S17+-style unit: fans 0, no chips found on any chain, 0 TH/s (QUIRKS §10). */
export function sleepingSample(overrides: Partial<MinerSample> = {}): MinerSample {
  return healthySample({
    mode: 'sleeping',
    hashrateThs: 0,
    boards: [1, 2, 3].map((index) => ({ index, present: false, hashrateThs: 0, chipsFound: 0, chipsOk: 0, chipsBad: 114 })),
    fans: [1, 2, 3, 4].map((index) => ({ index, rpm: 0 })),
    ...overrides,
  });
}

/** Feeds the inputs one scrape apart and returns every evaluation. */
export function run(spec: MinerSpec, inputs: HealthInput[], start: MinerHealthState | undefined = undefined): HealthEvaluation[] {
  const results: HealthEvaluation[] = [];
  let state = start;
  inputs.forEach((input, i) => {
    const result = evaluateMinerHealth(input, spec, state, T0 + i * SCRAPE_MS);
    results.push(result);
    state = result.state;
  });
  return results;
}

export function last(spec: MinerSpec, inputs: HealthInput[]): HealthEvaluation {
  const results = run(spec, inputs);
  const final = results[results.length - 1];
  if (!final) throw new Error('no inputs');
  return final;
}

export function codes(result: HealthEvaluation): string[] {
  return result.faults.map((f) => (f.part ? `${f.code}@${f.part}` : f.code)).sort();
}

export function only(result: HealthEvaluation, code: Fault['code'], part = ''): Fault {
  const matches = result.faults.filter((f) => f.code === code && f.part === part);
  if (matches.length !== 1) throw new Error(`expected one ${code}@${part}, got ${codes(result).join(', ') || 'none'}`);
  return matches[0] as Fault;
}

/** The message tells a technician where to walk. */
export function expectLocated(fault: Fault): void {
  expect(fault.message).toContain('container C3');
  expect(fault.message).toContain('rack R2');
  expect(fault.message).toContain('shelf 4');
  expect(fault.message).toContain('slot 7');
}

/** The one fault `code` (at `part`) of `result`: its severity, what its message says, and where the miner stands. */
export function expectFault(result: HealthEvaluation, code: Fault['code'], expected: { part?: string; severity: Fault['severity']; says?: string[] }): Fault {
  const fault = only(result, code, expected.part);
  expect(fault.severity).toBe(expected.severity);
  for (const text of expected.says ?? []) expect(fault.message).toContain(text);
  expectLocated(fault);
  return fault;
}
