import type { HealthScrapeFailure } from '../../src/miner/health';
import { T0, SCRAPE_MS, codes, hashingBoard, healthySample, last, only, run, s19ProSpec, sleepingSample, expectFault } from './fixtures';

const spec = s19ProSpec();
const refused: HealthScrapeFailure = { kind: 'refused', message: '10.3.2.47:4028 summary: ECONNREFUSED' };

describe('MINER_UNREACHABLE', () => {
  it.each([
    ['refused', 'connection refused (miner software down or powered off)'],
    ['timeout', 'no answer within the timeout (network/uplink or hung controller)'],
    ['malformed', 'answered garbage'],
    ['too-large', 'answered garbage'],
    ['unreachable', 'no route to the host'],
    ['reset', 'connection reset'],
  ] as const)('tells a %s scrape failure apart in the message', (kind, explanation) => {
    const fault = expectFault(last(spec, [{ kind, message: 'socket detail' }]), 'MINER_UNREACHABLE', { severity: 'critical', says: [`unreachable: ${explanation}`] });
    expect(fault.details).toEqual({ reason: kind, error: 'socket detail' });
  });

  it('keeps the hardware faults of the last good sample as they were, adds nothing else, clears on recovery', () => {
    const fanStopped = healthySample({
      fans: [5400, 0, 5400, 5400].map((rpm, i) => ({ index: i + 1, rpm })),
      errors: [{ command: 'pools', kind: 'timeout', message: 'no reply' }],
    });
    const [before, down, back] = run(spec, [fanStopped, refused, healthySample()]);
    expect(codes(before!)).toEqual(['FAN_STOPPED@fan 2', 'SCRAPE_PARTIAL']);
    expect(codes(down!)).toEqual(['FAN_STOPPED@fan 2', 'MINER_UNREACHABLE']);
    expect(only(down!, 'FAN_STOPPED', 'fan 2')).toEqual(only(before!, 'FAN_STOPPED', 'fan 2'));
    expect(codes(back!)).toEqual([]);
  });

  it('updates the reason but keeps since when the failure kind changes', () => {
    const [first, second] = run(spec, [refused, { kind: 'timeout', message: 'timed out' }]);
    const later = only(second!, 'MINER_UNREACHABLE');
    expect(later.since).toBe(only(first!, 'MINER_UNREACHABLE').since);
    expect(later.details?.reason).toBe('timeout');
  });
});

describe('MINER_NOT_HASHING', () => {
  it('raises while reachable with 0 TH/s or idle, and clears once hashing', () => {
    const [zero, idle, hashing] = run(spec, [
      healthySample({ hashrateThs: 0 }),
      healthySample({ mode: 'idle', hashrateThs: 0 }),
      healthySample(),
    ]);
    expectFault(zero!, 'MINER_NOT_HASHING', { severity: 'critical', says: ['reachable but not hashing (5 s hashrate 0 TH/s)'] });
    expect(only(idle!, 'MINER_NOT_HASHING').message).toContain('mode idle');
    expect(codes(hashing!)).toEqual([]);
  });

  it('waits for a booting miner, but not forever', () => {
    const booting = (uptimeS: number) => healthySample({ mode: 'booting', hashrateThs: 0, uptimeS });
    expect(codes(last(spec, [booting(90)]))).toEqual([]);
    expect(only(last(spec, [booting(900)]), 'MINER_NOT_HASHING').message).toContain('still booting after 15 min');
  });
});

describe('MINER_SLEEPING', () => {
  it('is an info fault that replaces every fan, chip, board and hashrate fault while it lasts', () => {
    const broken = healthySample({
      hashrateThs: 50,
      fans: [0, 0, 0].map((rpm, i) => ({ index: i + 1, rpm })),
      boards: [hashingBoard(1, { chipsFound: 100 }), { index: 2, present: false }, hashingBoard(3)],
      pools: [{ index: 0, url: 'stratum+tcp://pool.example:3333', user: 'u', status: 'dead', active: false }],
    });
    const results = run(spec, [broken, broken, broken, sleepingSample(), sleepingSample({ pools: broken.pools })]);
    expect(codes(results[2]!)).toEqual([
      'BOARD_MISSING@board 2',
      'CHIPS_DEAD@board 1',
      'FAN_MISSING',
      'FAN_STOPPED@fan 1',
      'FAN_STOPPED@fan 2',
      'FAN_STOPPED@fan 3',
      'HASHRATE_LOW',
      'POOLS_DEAD',
    ]);
    expectFault(results[3]!, 'MINER_SLEEPING', { severity: 'info' });
    expect(codes(results[4]!)).toEqual(['MINER_SLEEPING']);
  });
});

describe('MINER_REBOOTED', () => {
  it('raises when uptime goes back and stays until the miner has been up 10 minutes', () => {
    const results = run(spec, [
      healthySample({ uptimeS: 86_400 }),
      healthySample({ uptimeS: 45 }),
      healthySample({ uptimeS: 400, time: T0 + 10 * SCRAPE_MS }),
      healthySample({ uptimeS: 600 }),
    ]);
    expect(codes(results[0]!)).toEqual([]);
    const rebooted = expectFault(results[1]!, 'MINER_REBOOTED', { severity: 'warning', says: ['restarted: up 45 s, was up 24 h at the previous scrape'] });
    expect(rebooted.details).toEqual({ uptimeS: 45, previousUptimeS: 86_400 });
    expect(only(results[2]!, 'MINER_REBOOTED').since).toBe(rebooted.since);
    expect(codes(results[3]!)).toEqual([]);
  });

  it('detects a restart that happened while the miner was unreachable', () => {
    const [, , back] = run(spec, [healthySample({ uptimeS: 7200 }), refused, healthySample({ uptimeS: 120 })]);
    expect(codes(back!)).toEqual(['MINER_REBOOTED']);
  });

  it('does not flag a short uptime without an earlier one to compare', () => {
    expect(codes(last(spec, [healthySample({ uptimeS: 30 })]))).toEqual([]);
  });

  it('expires by wall clock when later samples lack uptime', () => {
    const noUptime = healthySample({ uptimeS: undefined });
    const scrapesIn10Min = (10 * 60_000) / SCRAPE_MS;
    const results = run(spec, [healthySample({ uptimeS: 5000 }), healthySample({ uptimeS: 20 }), ...Array(scrapesIn10Min).fill(noUptime)]);
    expect(codes(results[results.length - 2]!)).toEqual(['MINER_REBOOTED']);
    expect(codes(results[results.length - 1]!)).toEqual([]);
  });
});

describe('SCRAPE_PARTIAL', () => {
  it('is an info fault naming the failed commands', () => {
    const [partial, full] = run(spec, [
      healthySample({ errors: [{ command: 'pools', kind: 'access-denied', message: 'code 45' }] }),
      healthySample(),
    ]);
    expectFault(partial!, 'SCRAPE_PARTIAL', { severity: 'info', says: ['API commands failed: pools (access-denied)'] });
    expect(codes(full!)).toEqual([]);
  });

  it('keeps faults of a section the partial scrape lost instead of calling every board missing', () => {
    const deadChips = healthySample({ boards: [hashingBoard(1, { chipsFound: 100 }), hashingBoard(2), hashingBoard(3)] });
    const statsFailed = healthySample({ boards: [], fans: [], errors: [{ command: 'stats', kind: 'timeout', message: 'no reply' }] });
    const [before, partial] = run(spec, [deadChips, statsFailed]);
    expect(codes(partial!)).toEqual(['CHIPS_DEAD@board 1', 'SCRAPE_PARTIAL']);
    expect(only(partial!, 'CHIPS_DEAD', 'board 1')).toEqual(only(before!, 'CHIPS_DEAD', 'board 1'));
  });
});

describe('HASHRATE_LOW', () => {
  const low = healthySample({ hashrateThs: 80 });

  it('raises after the configured number of consecutive low scrapes, with TH/s and % of nominal', () => {
    const results = run(spec, [low, low, low]);
    expect(codes(results[1]!)).toEqual([]);
    expectFault(results[2]!, 'HASHRATE_LOW', { severity: 'warning', says: ['hashes 80.0 TH/s, 73 % of nominal 110 TH/s, for 3 scrapes in a row (limit 80 %)'] });
  });

  it('starts counting again after a good scrape, and clears on one', () => {
    expect(codes(run(spec, [low, low, healthySample(), low, low])[4]!)).toEqual([]);
    expect(codes(run(spec, [low, low, low, healthySample()])[3]!)).toEqual([]);
  });

  it('does not count or break the streak on a scrape without a hashrate', () => {
    const noRate = healthySample({ hashrateThs: undefined, errors: [{ command: 'summary', kind: 'timeout', message: 'x' }] });
    expect(codes(run(spec, [low, low, noRate])[2]!)).toEqual(['SCRAPE_PARTIAL']);
    expect(codes(run(spec, [low, low, noRate, low])[3]!)).toEqual(['HASHRATE_LOW']);
  });

  it("falls back to the firmware's nominal when the inventory has none", () => {
    const noNominal = s19ProSpec({ nominalThs: 0 });
    const lowVsFirmware = healthySample({ hashrateThs: 60, nominalThs: 100 });
    expect(only(run(noNominal, [lowVsFirmware, lowVsFirmware, lowVsFirmware])[2]!, 'HASHRATE_LOW').message).toContain(
      '60 % of nominal 100 TH/s',
    );
  });

  it('is not judged while the miner sleeps or does not hash', () => {
    expect(codes(run(spec, [low, low, sleepingSample(), low])[3]!)).toEqual([]);
    const zero = healthySample({ hashrateThs: 0 });
    expect(codes(run(spec, [zero, zero, zero])[2]!)).toEqual(['MINER_NOT_HASHING']);
  });
});

describe('POOLS_DEAD', () => {
  const pool = (status: 'alive' | 'dead' | 'disabled' | 'unknown', index = 0) => ({
    index,
    url: `stratum+tcp://pool${index}.example:3333`,
    user: 'farm.c3r247',
    status,
    active: status === 'alive',
  });

  it('raises when no configured pool is alive and clears when one is', () => {
    const [dead, alive] = run(spec, [
      healthySample({ pools: [pool('dead', 0), pool('dead', 1), pool('disabled', 2)] }),
      healthySample({ pools: [pool('dead', 0), pool('alive', 1)] }),
    ]);
    expectFault(dead!, 'POOLS_DEAD', { severity: 'critical', says: ['none of 2 configured pools is alive (stratum+tcp://pool0.example:3333, stratum+tcp://pool1.example:3333)'] });
    expect(codes(alive!)).toEqual([]);
  });

  it('needs pools configured', () => {
    expect(codes(last(spec, [healthySample({ pools: [] })]))).toEqual([]);
    expect(codes(last(spec, [healthySample({ pools: [pool('disabled')] })]))).toEqual([]);
  });
});

describe('since', () => {
  it('stays at the first evaluation of the episode and restarts with a new one', () => {
    const hot = healthySample({ boards: [hashingBoard(1, { boardTempC: 90 }), hashingBoard(2), hashingBoard(3)] });
    const results = run(spec, [healthySample(), hot, hot, hot, healthySample(), hot]);
    const sinces = results.map((r) => r.faults.find((f) => f.code === 'BOARD_OVERHEAT')?.since);
    expect(sinces).toEqual([undefined, T0 + SCRAPE_MS, T0 + SCRAPE_MS, T0 + SCRAPE_MS, undefined, T0 + 5 * SCRAPE_MS]);
  });
});
