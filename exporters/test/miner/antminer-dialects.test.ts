import { antminerStock, braiinsOsBmminer, cleanModel, detectDialect, hiveon, luxos, splitDashTemps, vnish } from '../../src/miner';
import { board, replies, repliesOf, reply } from './fixtures';

/** Values below were read by hand from the raw corpus files named in each test. */


describe('helpers for Bitmain stats strings', () => {
  it('splits dash-joined temperatures keeping negative values (S19 Pro cold: temp_pcb1, temp_pic1)', () => {
    expect(splitDashTemps('2--1-20-22')).toEqual([2, -1, 20, 22]);
    expect(splitDashTemps('-8--11-10-12')).toEqual([-8, -11, 10, 12]);
    expect(splitDashTemps('25-61')).toEqual([25, 61]);
    expect(splitDashTemps('-')).toEqual([]);
  });

  it('cleans messy Type strings', () => {
    expect(cleanModel('Antminer S9\nV1.3.58')).toBe('Antminer S9');
    expect(cleanModel('Antminer S9 Pro (v5.1) ')).toBe('Antminer S9 Pro (v5.1)');
    expect(cleanModel('Antminer S9 (vnish 3.8.6)')).toBe('Antminer S9');
    expect(cleanModel('Antminer S19JPRO Hiveon')).toBe('Antminer S19JPRO');
    expect(cleanModel('braiins-am1-s9')).toBe('Antminer S9');
  });
});

describe('stock Antminer', () => {
  it('S17 Pro (version, stats, pools): boards from chain_rateN, 48 chips each, temps, 4 fans, active pool', () => {
    const set = replies({ version: 'antminer-s17pro-version.json', stats: 'antminer-s17pro-stats.json', pools: 'antminer-s17pro-pools.json' });
    expect(detectDialect({ version: set.version })).toBe(antminerStock);
    const sample = antminerStock.parse(set);
    expect(sample).toMatchObject({ vendor: 'antminer', firmware: 'antminer-stock', model: 'Antminer S17 Pro', mode: 'hashing', uptimeS: 253447 });
    expect(sample.firmwareVersion).toBe('BMMiner 1.0.0 / 19.10.1.3');
    expect(sample.hashrateThs).toBeCloseTo(54.99701, 5); // "GHS 5s":"54997.01" is a string
    expect(sample.hashrateAvgThs).toBeCloseTo(54.51207, 5);
    expect(sample.nominalThs).toBeCloseTo(53.619, 5);
    expect(sample.boards.map((b) => b.index)).toEqual([1, 2, 3]); // slots 4..16 are padding
    expect(board(sample, 1).hashrateThs).toBeCloseTo(17.96826, 5);
    expect(board(sample, 2).hashrateThs).toBeCloseTo(18.418, 5);
    expect(board(sample, 3).hashrateThs).toBeCloseTo(18.61075, 5);
    expect(board(sample, 1)).toMatchObject({ present: true, chipsFound: 48, chipsOk: 48, chipsBad: 0, boardTempC: 50, chipTempC: 80, hwErrors: 731, frequencyMhz: 570 });
    expect(board(sample, 3)).toMatchObject({ boardTempC: 45, chipTempC: 63, hwErrors: 1080, frequencyMhz: 566 });
    expect(sample.fans).toEqual([
      { index: 1, rpm: 2400 },
      { index: 2, rpm: 3000 },
      { index: 3, rpm: 3120 },
      { index: 4, rpm: 2400 },
    ]);
    expect(sample.pools).toHaveLength(3);
    // All three claim Stratum Active; the lowest priority alive one is the one mining.
    expect(sample.pools.map((p) => p.active)).toEqual([true, false, false]);
    expect(sample.pools[0]).toMatchObject({ url: 'stratum+tcp://xxxxxx:3333', status: 'alive', accepted: 86241, rejected: 411, stale: 116 });
    expect(sample.pools[0]?.lastShareTime).toBeUndefined(); // "0:00:03" is an age, not a time
  });

  it('S9 with a bad temperature sensor: chains 6..8, fans in slots 5/6, the -83 chip reading kept for fault detection', () => {
    const set = replies({ version: 'antminer-s9-bad-temp-sensor-version.json', stats: 'antminer-s9-bad-temp-sensor-stats.json' });
    expect(detectDialect({ version: set.version })).toBe(antminerStock);
    const sample = antminerStock.parse(set);
    expect(sample.model).toBe('Antminer S9');
    expect(sample.boards.map((b) => b.index)).toEqual([6, 7, 8]);
    expect(board(sample, 6).hashrateThs).toBeCloseTo(4.61885, 5);
    expect(board(sample, 7)).toMatchObject({ boardTempC: 0, chipTempC: -83, chipsFound: 63, hwErrors: 289 });
    expect(board(sample, 8)).toMatchObject({ boardTempC: 73, chipTempC: 62, hwErrors: 175165 });
    expect(sample.fans).toEqual([
      { index: 5, rpm: 3720 },
      { index: 6, rpm: 2400 },
    ]);
    expect(sample.hashrateThs).toBeCloseTo(13.88381, 5);
  });

  it('S9 version alone (2017 firmware) identifies stock firmware', () => {
    const version = reply('antminer-s9-version.json');
    expect(detectDialect({ version })).toBe(antminerStock);
  });

  it('T15: CGMiner, Mode "H", string frequencies, fans 1/2', () => {
    const set = replies({ version: 'antminer-t15-version.json', stats: 'antminer-t15-stats.json' });
    expect(detectDialect({ version: set.version })).toBe(antminerStock);
    const sample = antminerStock.parse(set);
    expect(sample).toMatchObject({ model: 'Antminer T15', mode: 'hashing', firmwareVersion: 'CGMiner 4.9.0 / 27.10.1.3' });
    expect(sample.hashrateThs).toBeCloseTo(21.61578, 5);
    expect(sample.boards.map((b) => [b.index, b.frequencyMhz, b.chipsFound, b.boardTempC, b.chipTempC])).toEqual([
      [1, 520, 60, 40, 29],
      [2, 420, 60, 35, 29],
      [3, 519, 60, 39, 28],
    ]);
    expect(board(sample, 2).hashrateThs).toBeCloseTo(6.57489, 5);
    expect(sample.fans).toEqual([
      { index: 1, rpm: 2880 },
      { index: 2, rpm: 2880 },
    ]);
  });

  it('S9k: version with trailing garbage, two-value temp strings, string frequencies', () => {
    const set = replies({ version: 'antminer-s9k-version.json', stats: 'antminer-s9k-stats.json' });
    expect(detectDialect({ version: set.version })).toBe(antminerStock);
    const sample = antminerStock.parse(set);
    expect(sample.model).toBe('Antminer S9k');
    expect(sample.boards.map((b) => [b.index, b.frequencyMhz, b.boardTempC, b.chipTempC, b.hwErrors])).toEqual([
      [1, 375, 61, 51, 6738],
      [2, 385, 60, 56, 1841],
      [3, 385, 58, 48, 2789],
    ]);
    expect(sample.fans.map((f) => f.rpm)).toEqual([2280, 3720]);
    expect(sample.uptimeS).toBe(367506);
  });

  it.each([
    ['antminer-s17plus-sleeping', 'Antminer S17+', 279],
    ['antminer-t17plus-sleeping', 'Antminer T17+', 8105],
  ])('%s: Mode 254 is sleeping, with no boards declared dead and no fans', (prefix, model, uptime) => {
    const set = replies({ version: `${prefix}-version.json`, stats: `${prefix}-stats.json` });
    expect(detectDialect({ version: set.version })).toBe(antminerStock);
    const sample = antminerStock.parse(set);
    expect(sample).toMatchObject({ model, mode: 'sleeping', hashrateThs: 0, boards: [], fans: [], uptimeS: uptime });
  });

  it('S19 "sleeping": GHS 0 is idle; chain 1 is missing; all-x chips are not counted as bad while not hashing', () => {
    const set = replies({ version: 'antminer-s19-sleeping-version.json', stats: 'antminer-s19-sleeping-stats.json' });
    const sample = antminerStock.parse(set);
    expect(sample.mode).toBe('idle');
    expect(board(sample, 1)).toEqual({ index: 1, present: false });
    expect(board(sample, 2)).toMatchObject({ present: true, chipsFound: 76, hashrateThs: 0, boardTempC: 40, chipTempC: 40 });
    expect(board(sample, 2).chipsBad).toBeUndefined();
    expect(sample.fans.map((f) => f.rpm)).toEqual([1560, 1560, 600, 720]);
  });

  it('S19 Pro in a cold room: temps from tempN/temp2_N, 114 chips, "total rate" key with a space ignored', () => {
    const set = replies({ version: 'antminer-s19pro-cold-version.json', stats: 'antminer-s19pro-cold-stats.json' });
    const sample = antminerStock.parse(set);
    expect(sample.boards.map((b) => [b.index, b.boardTempC, b.chipTempC, b.chipsOk])).toEqual([
      [1, 22, 27, 114],
      [2, 20, 25, 114],
      [3, 21, 26, 114],
    ]);
    expect(board(sample, 3).hashrateThs).toBeCloseTo(34.94248, 5);
    expect(sample.nominalThs).toBeCloseTo(111.859, 5);
  });

  it('S19 Pro overheated (stats only): not hashing although GHS av still shows 0.74 TH/s; chips 93-97 °C', () => {
    const sample = antminerStock.parse({ stats: reply('antminer-s19pro-overheating-stats.json') });
    expect(sample.model).toBe('Antminer S19 Pro');
    expect(sample.mode).toBe('idle');
    expect(sample.hashrateAvgThs).toBeCloseTo(0.73737, 5);
    expect(sample.boards.map((b) => b.chipTempC)).toEqual([93, 94, 97]);
    expect(sample.boards.every((b) => b.chipsBad === undefined && b.hashrateThs === 0)).toBe(true);
  });

  it('S19 Pro overheated after 321734 s: averages lag (GHS av 93.6 TH/s, GHS 5s 0)', () => {
    const set = replies({ version: 'antminer-s19pro-overheating-2-version.json', stats: 'antminer-s19pro-overheating-2-stats.json' });
    const sample = antminerStock.parse(set);
    expect(sample).toMatchObject({ mode: 'idle', hashrateThs: 0, uptimeS: 321734, hwErrors: 880 + 885 + 943 });
    expect(sample.hashrateAvgThs).toBeCloseTo(93.55698, 5);
    expect(sample.efficiencyJth).toBeUndefined();
  });

  it('S19 Pro 2022 (version, stats, summary, pools, devs): summary totals, "Pool Stale%%" pools, devs ignored', () => {
    const set = repliesOf('antminer-s19pro-2022', 'version', 'stats', 'summary', 'pools', 'devs');
    expect(detectDialect({ version: set.version })).toBe(antminerStock);
    const sample = antminerStock.parse(set);
    expect(sample.hashrateThs).toBeCloseTo(110.56689, 5);
    expect(sample.hashrateAvgThs).toBeCloseTo(111.83485, 5); // summary's value (stats says 111834.63)
    expect(sample).toMatchObject({ nominalThs: 110, uptimeS: 50474, hwErrors: 562, model: 'Antminer S19 Pro' });
    expect(sample.boards.map((b) => b.hashrateThs?.toFixed(5))).toEqual(['37.60330', '35.53622', '37.42738']);
    expect(sample.pools.map((p) => [p.index, p.status, p.active, p.accepted])).toEqual([
      [0, 'alive', true, 4057],
      [1, 'alive', false, 0],
      [2, 'alive', false, 0],
    ]);
    // devs on this firmware is one BTM_SOC pseudo-device with MHS 5s 0.0: it must not lower the hashrate.
    expect(antminerStock.commands).not.toContain('devs');
  });
});

describe('Hiveon', () => {
  it('S9 Hiveon: detected from "rwglr"/"Hiveon", `}{` stats repaired, x not trusted as dead chips', () => {
    const set = replies({ version: 'hiveon-antminer-s9-version.json', stats: 'hiveon-antminer-s9-stats.json' });
    expect(detectDialect({ version: set.version })).toBe(hiveon);
    const sample = hiveon.parse(set);
    expect(sample).toMatchObject({ firmware: 'hiveon', model: 'Antminer S9', uptimeS: 69, mode: 'hashing' });
    expect(sample.firmwareVersion).toBe('Hiveon BMMiner 2.0.0 rwglr / 30.0.1.3');
    expect(sample.boards.map((b) => b.hashrateThs?.toFixed(5))).toEqual(['3.91164', '3.91370', '3.95605']);
    expect(sample.boards.map((b) => [b.boardTempC, b.chipTempC, b.chipsBad])).toEqual([
      [59, 74, undefined],
      [50, 65, undefined],
      [57, 72, undefined],
    ]);
    expect(sample.fans).toEqual([
      { index: 5, rpm: 3840 },
      { index: 6, rpm: 4920 },
    ]);
  });
});

describe('Vnish', () => {
  it('S9 Vnish 3.8.6 (version, stats with `}{`, pools): power per chain, dev-fee pool not active, 4 pools listed', () => {
    const set = replies({ version: 'vnish-antminer-s9-version.json', stats: 'vnish-antminer-s9-stats.json', pools: 'vnish-antminer-s9-pools.json' });
    expect(detectDialect({ version: set.version })).toBe(vnish);
    const sample = vnish.parse(set);
    expect(sample).toMatchObject({ firmware: 'vnish', model: 'Antminer S9', powerW: 1485 });
    expect(sample.firmwareVersion).toBe('vnish 3.8.6 (CGMiner 4.11.1 / 26.0.1.3)');
    expect(sample.boards.map((b) => [b.index, b.powerW, b.frequencyMhz, b.hwErrors])).toEqual([
      [6, 495, 600, 1],
      [7, 495, 600, 3],
      [8, 495, 600, 293],
    ]);
    expect(sample.efficiencyJth).toBeCloseTo(1485 / 12.90071, 3);
    expect(sample.pools).toHaveLength(4); // Msg says "6 Pool(s)"
    expect(sample.pools.map((p) => [p.url, p.status, p.active])).toEqual([
      ['stratum+tcp://solo.antpool.com:3333', 'alive', true],
      ['stratum+tcp://stratum.antpool.com:3333', 'alive', false],
      ['stratum+tcp://cn.ss.btc.com:3333', 'dead', false],
      ['DevFee', 'alive', false],
    ]);
  });

  it('S17+ Vnish 2.0.3: version without Type is not conclusive; stats decides; 5 x chips on board 1', () => {
    const set = replies({ version: 'vnish-antminer-s17plus-version.json', stats: 'vnish-antminer-s17plus-stats.json', pools: 'vnish-antminer-s17plus-pools.json' });
    expect(detectDialect({ version: set.version })).toBeUndefined();
    expect(detectDialect({ version: set.version, stats: set.stats })).toBe(vnish);
    const sample = vnish.parse(set);
    expect(sample).toMatchObject({ model: 'Antminer S17+', firmwareVersion: 'vnish 2.0.3 (CGMiner 4.11.1 / 35.0.1.3)', powerW: 991 + 1013 + 987 });
    expect(board(sample, 1)).toMatchObject({ chipsFound: 65, chipsOk: 60, chipsBad: 5, boardTempC: 66, chipTempC: 81, powerW: 991 });
    expect(board(sample, 1).hashrateThs).toBeCloseTo(24.32687, 5);
    expect(board(sample, 2)).toMatchObject({ chipsOk: 65, chipsBad: 0 });
    // Two empty (unconfigured) slots are skipped; the two DevFee pools are listed but not active.
    expect(sample.pools.map((p) => [p.index, p.url, p.active])).toEqual([
      [0, 'stratum+tcp://sha256.eu.mine.zpool.ca:3333', true],
      [3, 'DevFee', false],
      [4, 'DevFee', false],
    ]);
  });
});

describe('LuxOS', () => {
  const set = () =>
    repliesOf('luxos-antminer-s19kpro', 'version', 'summary', 'stats', 'devs', 'pools', 'fans', 'temps', 'power', 'config');

  it('S19k Pro: detected from LUXminer; summary totals, per-board devs (0-based, out of order), power', () => {
    const all = set();
    expect(detectDialect({ version: all.version })).toBe(luxos);
    const sample = luxos.parse(all);
    expect(sample).toMatchObject({ firmware: 'luxos', model: 'Antminer S19k Pro', firmwareVersion: 'LUXminer 2025.4.8.220305-57b389c7', powerW: 1051, uptimeS: 3453 });
    expect(sample.hashrateThs).toBeCloseTo(59.75606, 5);
    expect(sample.nominalThs).toBeCloseTo(3 * 20.6514, 5); // devs "Nominal MHS", not stats "total rate" 18972.63
    expect(sample.boards.map((b) => b.index)).toEqual([0, 1, 2]);
    expect(board(sample, 0).hashrateThs).toBeCloseTo(19.77383, 5); // ASC 0 "MHS 5s"
    expect(board(sample, 2).hashrateThs).toBeCloseTo(20.75165, 5);
    expect(sample.boards.every((b) => b.chipsFound === 77 && b.boardTempC === 47)).toBe(true);
    expect(sample.fans).toEqual([
      { index: 0, rpm: 1920, percent: 20 },
      { index: 1, rpm: 1920, percent: 20 },
      { index: 2, rpm: 2340, percent: 20 },
      { index: 3, rpm: 2340, percent: 20 },
    ]);
    expect(sample.pools.map((p) => [p.status, p.active])).toEqual([
      ['alive', true],
      ['dead', false],
      ['alive', false],
      ['dead', false],
    ]);
    expect(sample.efficiencyJth).toBeCloseTo(1051 / 56.91791, 3);
  });

  it('stats alone does not pass for stock firmware (no BMMiner key, LUXminer in STATUS)', () => {
    expect(detectDialect({ stats: set().stats })).toBe(luxos);
  });

  it('the LuxOS S9 documentation example is detected as LuxOS', () => {
    expect(detectDialect({ version: reply('luxos-antminer-s9-version-docs.json') })).toBe(luxos);
  });
});

describe('early Braiins OS (bmminer based)', () => {
  it('Type "braiins-am1-s9" selects the bmminer-era Braiins dialect, not stock', () => {
    const version = reply('braiins-os-s9-2018-bmminer-version.json');
    const dialect = detectDialect({ version });
    expect(dialect).toBe(braiinsOsBmminer);
    expect(dialect?.family).toBe('braiins-os');
    expect(dialect?.commands).toContain('stats');
  });
});
