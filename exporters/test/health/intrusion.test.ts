/** Issue 15, virtual intrusion: POOL_HIJACK, devfee switches, FIRMWARE_CHANGED, MINER_SWAPPED and the change rows. */
import type { MinerSpec, PoolSample } from '@flymining/shared';
import { CHANGE_NOTICE_S, evaluateMinerHealth, parseStratumUrl, type MinerHealthState } from '../../src/miner/health';
import { healthySample, run, s19ProSpec, T0 } from './fixtures';

const OURS = { host: 'pool.example', port: 3333, worker: 'farm.c3r247' };
const spec = (overrides: Partial<MinerSpec> = {}): MinerSpec =>
  s19ProSpec({ expectedPools: { pools: [OURS, { host: 'backup.example', port: 443, worker: 'farm.*' }], devfeeMaxS: 600, devfeePools: [{ firmware: 'vnish', host: 'fee.vnish.example' }] }, ...overrides });
const pool = (index: number, url: string, user: string, over: Partial<PoolSample> = {}): PoolSample => ({ index, url, user, status: 'alive', active: index === 0, ...over });
const codes = (faults: Array<{ code: string }>) => faults.map((f) => f.code);

describe('POOL_HIJACK', () => {
  test('our pool and worker: nothing; a backup pool matching the worker prefix pattern: nothing', () => {
    expect(codes(evaluateMinerHealth(healthySample(), spec(), undefined, T0).faults)).toEqual([]);
    const onBackup = healthySample({ pools: [pool(0, 'stratum+tcp://pool.example:3333', 'farm.c3r247', { status: 'dead', active: false }), pool(1, 'backup.example:443', 'farm.anything', { active: true })] });
    expect(codes(evaluateMinerHealth(onBackup, spec(), undefined, T0).faults)).toEqual([]);
  });

  test('all pools foreign while hashing: critical, naming what was expected and what was found', () => {
    const hijacked = healthySample({ pools: [pool(0, 'stratum+tcp://evil.example:3333', 'thief.w1'), pool(1, 'stratum+tcp://evil.example:443', 'thief.w1', { active: false })] });
    const [fault] = evaluateMinerHealth(hijacked, spec(), undefined, T0).faults;
    expect(fault?.code).toBe('POOL_HIJACK');
    expect(fault?.severity).toBe('critical');
    expect(fault?.message).toContain('all 2 configured pools are foreign and it is hashing');
    expect(fault?.message).toContain('"stratum+tcp://evil.example:3333" as worker "thief.w1"');
    expect(fault?.message).toContain('expected pool.example:3333 as "farm.c3r247" or backup.example:443 as "farm.*"');
  });

  test('our pool with a foreign worker, or our host on another port, is a hijack; the other pools being ours is said', () => {
    const worker = healthySample({ pools: [pool(0, 'stratum+tcp://pool.example:3333', 'thief.c3r247'), pool(1, 'backup.example:443', 'farm.x', { active: false })] });
    const f = evaluateMinerHealth(worker, spec(), undefined, T0).faults[0];
    expect(f?.code).toBe('POOL_HIJACK');
    expect(f?.message).toContain('its active pool is foreign (its other pools are ours)');
    const port = healthySample({ pools: [pool(0, 'stratum+tcp://POOL.example:25', 'farm.c3r247')] });
    expect(codes(evaluateMinerHealth(port, spec(), undefined, T0).faults)).toEqual(['POOL_HIJACK']);
  });

  test('a foreign pool that is configured but not the one hashing is not a hijack; dead pools and a sleeping unit keep the verdict', () => {
    const standby = healthySample({ pools: [pool(0, 'stratum+tcp://pool.example:3333', 'farm.c3r247'), pool(1, 'stratum+tcp://evil.example:3333', 'thief', { active: false })] });
    expect(codes(evaluateMinerHealth(standby, spec(), undefined, T0).faults)).toEqual([]);
    const hijacked = evaluateMinerHealth(healthySample({ pools: [pool(0, 'evil.example:1', 'x')] }), spec(), undefined, T0);
    const allDead = healthySample({ pools: [pool(0, 'evil.example:1', 'x', { status: 'dead', active: false })] });
    expect(codes(evaluateMinerHealth(allDead, spec(), hijacked.state, T0 + 30_000).faults)).toContain('POOL_HIJACK');
  });

  test('without expected pools in the inventory nothing is judged', () => {
    expect(codes(evaluateMinerHealth(healthySample({ pools: [pool(0, 'evil.example:1', 'x')] }), s19ProSpec(), undefined, T0).faults)).toEqual([]);
  });

  test('a devfee switch of the firmware under the limit is recorded once, not paged; past the limit it pages', () => {
    const fee = healthySample({ firmware: 'vnish', pools: [pool(0, 'stratum+tcp://eu.fee.vnish.example:3333', 'vnish.fee')] });
    const normal = healthySample({ firmware: 'vnish' });
    const short = run(spec(), [normal, fee, fee, normal]);
    expect(short.flatMap((r) => codes(r.faults))).toEqual([]);
    expect(short.flatMap((r) => r.changes.filter((c) => c.kind === 'devfee'))).toHaveLength(1);
    // 600 s limit, scrapes 30 s apart: the 22nd devfee scrape is 630 s into the switch.
    const long = run(spec(), [normal, ...new Array<typeof fee>(22).fill(fee)]);
    expect(codes(long[20]!.faults)).toEqual([]);
    const paged = long[22]!.faults[0];
    expect(paged?.code).toBe('POOL_HIJACK');
    expect(paged?.message).toContain('vnish devfee pool');
    // The same pool on another firmware is no devfee: a hijack at once.
    expect(codes(evaluateMinerHealth(healthySample({ pools: fee.pools }), spec(), undefined, T0).faults)).toEqual(['POOL_HIJACK']);
  });

  test('hostile pool text is bounded and escaped in the message', () => {
    const huge = `stratum+tcp://${'a'.repeat(400)}.example:3333\u0007\n`;
    const f = evaluateMinerHealth(healthySample({ pools: [pool(0, huge, `w\u0000${'x'.repeat(300)}`)] }), spec(), undefined, T0).faults[0];
    expect(f?.code).toBe('POOL_HIJACK');
    expect(f!.message.length).toBeLessThan(700);
    expect(f!.message).not.toMatch(/[\x00-\x1f]/);
    expect(f!.message).toContain('\\x00');
    expect(String(f!.details?.found).length).toBeLessThanOrEqual(256);
  });

  test('stratum URLs as firmware writes them', () => {
    expect(parseStratumUrl('stratum+tcp://Pool.Example:3333')).toEqual({ host: 'pool.example', port: 3333 });
    expect(parseStratumUrl('stratum2+tcp://v2.pool.example:3336/9awtMD5KQgvRUh2yFbjVeT7b6hjipWcAsQHd6wEhgtDT9soosna')).toEqual({ host: 'v2.pool.example', port: 3336 });
    expect(parseStratumUrl('pool.example:25')).toEqual({ host: 'pool.example', port: 25 });
    expect(parseStratumUrl('stratum+tcp://user@pool.example')).toEqual({ host: 'pool.example', port: undefined });
    expect(parseStratumUrl('[2001:db8::1]:3333')).toEqual({ host: '2001:db8::1', port: 3333 });
  });
});

describe('FIRMWARE_CHANGED and MINER_SWAPPED', () => {
  test('a changed firmware version raises FIRMWARE_CHANGED once with a change row; it clears after the notice period', () => {
    const before = healthySample({ firmwareVersion: '2024.1', serial: 'SN1', mac: '00:11:22:33:44:55' });
    const after = healthySample({ firmwareVersion: '2026.9-custom', serial: 'SN1', mac: '00:11:22:33:44:55' });
    const [first, changed, kept] = run(spec(), [before, after, after]);
    expect(codes(first!.faults)).toEqual([]);
    expect(first!.changes).toEqual([]);
    const fault = changed!.faults.find((f) => f.code === 'FIRMWARE_CHANGED');
    expect(fault?.message).toContain('from "antminer-stock 2024.1" to "antminer-stock 2026.9-custom"');
    expect(changed!.changes).toEqual([{ kind: 'firmware', before: 'antminer-stock 2024.1', after: 'antminer-stock 2026.9-custom' }]);
    expect(codes(kept!.faults)).toEqual(['FIRMWARE_CHANGED']);
    expect(kept!.changes).toEqual([]);
    const later = evaluateMinerHealth(after, spec(), kept!.state, T0 + CHANGE_NOTICE_S * 1000 + 60_000);
    expect(codes(later.faults)).toEqual([]);
  });

  test('a scrape without version neither raises nor forgets', () => {
    const [, , third] = run(spec(), [healthySample({ firmwareVersion: 'A' }), healthySample({}), healthySample({ firmwareVersion: 'A' })]);
    expect(codes(third!.faults)).toEqual([]);
  });

  test('a new serial or MAC in the slot raises MINER_SWAPPED with change rows', () => {
    const [, swapped] = run(spec(), [healthySample({ serial: 'SN1', mac: '00:11:22:33:44:55' }), healthySample({ serial: 'SN2', mac: '00-11-22-33-44-66' })]);
    const f = swapped!.faults.find((x) => x.code === 'MINER_SWAPPED');
    expect(f?.message).toContain('serial changed from SN1 to "SN2"');
    expect(f?.message).toContain('mac changed from 00:11:22:33:44:55 to "00:11:22:33:44:66"');
    expect(swapped!.changes.map((c) => c.kind).sort()).toEqual(['mac', 'serial']);
  });

  test('a serial listed in the inventory is the truth: the fault stays while another machine stands there, clears when it matches', () => {
    const listed = spec({ serial: 'SN1' });
    const other = evaluateMinerHealth(healthySample({ serial: 'SN9' }), listed, undefined, T0);
    expect(other.faults[0]?.message).toContain('serial "SN9" where the inventory lists SN1');
    const later = evaluateMinerHealth(healthySample({ serial: 'SN9' }), listed, other.state, T0 + 2 * CHANGE_NOTICE_S * 1000);
    expect(codes(later.faults)).toEqual(['MINER_SWAPPED']);
    expect(codes(evaluateMinerHealth(healthySample({ serial: 'SN1' }), listed, later.state, T0 + 2 * CHANGE_NOTICE_S * 1000 + 1).faults)).toEqual([]);
  });

  test('a changed pool list is a change row even when still ours', () => {
    const state: MinerHealthState | undefined = undefined;
    const [, second] = run(spec(), [healthySample(), healthySample({ pools: [pool(0, 'stratum+tcp://backup.example:443', 'farm.c3r247')] })], state);
    expect(second!.changes).toEqual([{ kind: 'pools', before: '0 stratum+tcp://pool.example:3333 farm.c3r247', after: '0 stratum+tcp://backup.example:443 farm.c3r247' }]);
  });
});
