/** The firmware's own error codes as faults: per-family tables, unknown codes kept, history not judged. */
import type { FirmwareErrorSample } from '@flymining/shared';
import { classifyWhatsminer } from '../../src/miner/backends/error-codes';
import { braiinsRest, BRAIINS_REST } from '../../src/miner';
import { nextReply } from '../miner/next-fixtures';
import type { HealthInput, MinerHealthState } from '../../src/miner/health';
import { evaluateMinerHealth } from '../../src/miner/health';
import type { MinerSpec } from '@flymining/shared';
import { healthySample, s19ProSpec, T0 } from './fixtures';

const evaluate = (input: HealthInput, spec: MinerSpec, state?: MinerHealthState, now = T0) => evaluateMinerHealth(input, spec, state, now);

const whatsminer = (errors: FirmwareErrorSample[]) => healthySample({ vendor: 'whatsminer', firmware: 'whatsminer', model: 'WhatsMiner M60S', firmwareErrors: errors });

describe('sections a protocol does not report', () => {
  test('VNish HTTP (no boards, fans or pools) raises no BOARD_MISSING, FAN_MISSING or POOLS_DEAD; a cgminer sample without boards does', () => {
    const vnishHttp = healthySample({ firmware: 'vnish', protocol: 'vnish', boards: [], fans: [], pools: [], unreported: ['boards', 'fans', 'pools'] });
    expect(evaluate(vnishHttp, s19ProSpec()).faults.map((f) => f.code)).toEqual([]);
    const cgminer = healthySample({ boards: [], fans: [] });
    expect(evaluate(cgminer, s19ProSpec()).faults.map((f) => f.code)).toEqual(expect.arrayContaining(['BOARD_MISSING', 'FAN_MISSING']));
  });
});

describe('firmware error codes', () => {
  test('Whatsminer codes land on their fault class and part, the message naming the code and reason as given', () => {
    const { faults } = evaluate(
      whatsminer([
        { code: '531', text: 'Slot1 not found.' },
        { code: '206', text: 'power input voltage too low' },
        { code: '110', text: '' },
        { code: '411', text: '' },
        { code: '352', text: '' },
        { code: '541023', text: '' },
        { code: '2021', text: '' },
      ]),
      s19ProSpec(),
    );
    const got = faults.filter((f) => f.details?.firmwareCode !== undefined).map((f) => [f.code, f.part, f.details?.firmwareCode]);
    expect(got).toEqual(
      expect.arrayContaining([
        ['HASHBOARD_FAULT', 'board 1 code 531', '531'],
        ['PSU_FAULT', 'psu code 206', '206'],
        ['FAN_FAULT', 'fan 0 code 110', '110'],
        ['BOARD_READ_ERROR', 'board 1 code 411', '411'],
        ['TEMP_PROTECTION', 'board 2 code 352', '352'],
        ['TEMP_PROTECTION', 'board 1 code 541023', '541023'],
        ['NETWORK_FAULT', 'code 2021', '2021'],
      ]),
    );
    expect(got).toHaveLength(7);
    const slot = faults.find((f) => f.code === 'HASHBOARD_FAULT');
    expect(slot?.message).toContain('whatsminer error code 531 "Slot1 not found."');
    expect(slot?.severity).toBe('critical');
  });

  test('an unknown code is kept and shown as FIRMWARE_ERROR, a bare string too; none is dropped', () => {
    const { faults } = evaluate(whatsminer([{ code: '77', text: '' }, { code: 'btminer process is down err', text: 'btminer process is down err' }]), s19ProSpec());
    const unknown = faults.filter((f) => f.code === 'FIRMWARE_ERROR');
    expect(unknown.map((f) => f.details?.firmwareCode).sort()).toEqual(['77', 'btminer process is down err']);
    expect(unknown[0]?.message).toContain('not in our tables');
    expect(classifyWhatsminer('77')).toBeUndefined();
  });

  test('a code that goes away clears its fault; an unread error list keeps what was active', () => {
    const spec = s19ProSpec();
    const first = evaluate(whatsminer([{ code: '206', text: 'low input' }]), spec);
    expect(first.faults.map((f) => f.code)).toContain('PSU_FAULT');
    const unread = evaluate(whatsminer([]), spec, first.state, T0 + 30_000);
    expect(unread.faults.map((f) => f.code)).not.toContain('PSU_FAULT');
    const kept = evaluate({ ...whatsminer([]), firmwareErrors: undefined }, spec, first.state, T0 + 30_000);
    expect(kept.faults.find((f) => f.code === 'PSU_FAULT')?.since).toBe(T0);
  });

  test('Antminer summary status by subsystem; Braiins V2/H2 from the 25.11 capture, only those logged since boot', () => {
    const am = evaluate(healthySample({ firmwareErrors: [{ code: 'fans:0', text: 'fan lost', component: 'fans', level: 'error' }] }), s19ProSpec());
    expect(am.faults.find((f) => f.details?.firmwareCode === 'fans:0')?.code).toBe('FAN_FAULT');

    const sample = braiinsRest.parse({ [BRAIINS_REST.stats]: {}, [BRAIINS_REST.errors]: nextReply('braiins-rest', 'bos-25.11-s19xp-miner_errors.json', 'braiins-rest') });
    const errors = sample.firmwareErrors ?? [];
    const times = errors.map((e) => e.time ?? 0);
    const [oldest, newest] = [Math.min(...times), Math.max(...times)];
    expect(oldest).toBeLessThan(newest);
    const now = newest + 3_600_000;
    const judged = (uptimeS: number) =>
      evaluate(healthySample({ vendor: 'braiins', firmware: 'braiins-os', uptimeS, firmwareErrors: errors, time: now }), s19ProSpec(), undefined, now)
        .faults.filter((f) => f.details?.firmwareCode)
        .map((f) => `${f.code}:${f.details?.firmwareCode}`)
        .sort();
    const classOf = (code: string): string => (code === 'V2' ? 'PSU_FAULT' : 'HASHBOARD_FAULT');
    // Up since before the oldest entry: every code of the log is from this boot.
    expect(judged((now - oldest) / 1000 + 3600)).toEqual(errors.map((e) => `${classOf(e.code)}:${e.code}`).sort());
    // Up since between the two: only the newer one counts.
    const newer = errors.find((e) => e.time === newest)!;
    expect(judged((now - newest) / 1000 + 3600)).toEqual([`${classOf(newer.code)}:${newer.code}`]);
    // Up for ten minutes: the log's entries are history.
    expect(judged(600)).toEqual([]);
  });
});

describe('a firmware code that repeats what a measured rule found', () => {
  test("a stopped fan is paged once (FAN_STOPPED from its rpm) and carries the firmware's own code; alone the code still pages", () => {
    const stopped = healthySample({ vendor: 'whatsminer', firmware: 'whatsminer', model: 'WhatsMiner M60S', firmwareErrors: [{ code: '110', text: 'fan in error' }] });
    stopped.fans = stopped.fans.map((f, i) => (i === 0 ? { ...f, rpm: 0 } : f));
    const { faults } = evaluate(stopped, s19ProSpec());
    expect(faults.map((f) => f.code)).toEqual(['FAN_STOPPED']);
    expect(faults[0]?.details).toMatchObject({ firmwareCode: '110', firmwareText: 'fan in error' });
    const codeOnly = evaluate(whatsminer([{ code: '110', text: 'fan in error' }]), s19ProSpec()).faults.map((f) => f.code);
    expect(codeOnly).toEqual(['FAN_FAULT']);
  });
});
