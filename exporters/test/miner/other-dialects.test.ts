import type { JsonObject } from '@flymining/shared';
import {
  avalon,
  braiinsOs,
  detectDialect,
  DETECTION_COMMANDS,
  num,
  parseMinerReply,
  parseModuleFields,
  splitMultiReply,
  whatsminer,
  whatsminerMiningOff,
} from '../../src/miner';
import { board, rawFixture, replies, repliesOf, reply } from './fixtures';

/** A multi-command reply has no top-level STATUS: it is split before any envelope check. */
const multiReply = (name: string): JsonObject => parseMinerReply(rawFixture(name), name).value;

/** Values below were read by hand from the raw corpus files named in each test. */


describe('Braiins OS (bosminer)', () => {
  it.each([
    ['braiins-bos-s9', 'BOSminer 0.2.0-d360818'],
    ['braiins-bosplus-s9', 'BOSminer+ 0.2.0-36c56a9363'],
  ])('%s is detected from its version reply', (prefix, firmwareVersion) => {
    const set = replies({ version: `${prefix}-version.json`, summary: `${prefix}-summary.json` });
    expect(detectDialect({ version: set.version })).toBe(braiinsOs);
    expect(braiinsOs.parse(set).firmwareVersion).toBe(firmwareVersion);
  });

  it('BOS S9 at 92 s uptime: MH/s summary, averages lag, boards 6/7/8 from temps, 2 of 4 fan slots spin, dead pool', () => {
    const set = repliesOf('braiins-bos-s9', 'version', 'summary', 'pools', 'fans', 'temps');
    const sample = braiinsOs.parse(set);
    expect(sample).toMatchObject({ vendor: 'braiins', firmware: 'braiins-os', mode: 'hashing', uptimeS: 92, hwErrors: 0 });
    expect(sample.hashrateThs).toBeCloseTo(14.27443, 5);
    expect(sample.boards).toEqual([
      { index: 6, present: true, boardTempC: 53 },
      { index: 7, present: true, boardTempC: 46 },
      { index: 8, present: true, boardTempC: 52 },
    ]);
    expect(sample.fans).toEqual([
      { index: 0, rpm: 1560, percent: 1 },
      { index: 1, rpm: 1560, percent: 1 },
    ]);
    expect(sample.pools.map((p) => [p.user, p.status, p.active, p.lastShareTime])).toEqual([
      ['antminer_1', 'alive', true, 1597197610000],
      ['!non-existent-user!', 'dead', false, undefined],
    ]);
  });

  it('BOS+ S9: temps, fans at 40 %, three alive pools with the first active', () => {
    const set = repliesOf('braiins-bosplus-s9', 'version', 'summary', 'pools', 'fans', 'temps');
    const sample = braiinsOs.parse(set);
    expect(sample.hashrateThs).toBeCloseTo(15.74092, 5);
    expect(sample.hashrateAvgThs).toBeCloseTo(11.9883, 4);
    expect(sample.boards.map((b) => [b.index, b.boardTempC, b.chipTempC])).toEqual([
      [6, 75, undefined],
      [7, 63, undefined],
      [8, 70, undefined],
    ]);
    expect(sample.fans.map((f) => f.rpm)).toEqual([2820, 3780]);
    expect(sample.pools.map((p) => p.active)).toEqual([true, false, false]);
    expect(sample.hwErrors).toBe(186);
  });

  it('BOS+ 0.4.0 devs: per-board MH/s and Nominal MHS on IDs 6/7/8; detected from its STATUS Description', () => {
    const devs = reply('braiins-bosplus-s9-0.4.0-devs.json');
    expect(detectDialect({ devs })).toBe(braiinsOs);
    // The corpus has no summary from this 0.4.0 unit: a minimal one stands in so the required command is there.
    const summary: JsonObject = { STATUS: [{ STATUS: 'S', Code: 11 }], SUMMARY: [{ 'MHS 5s': 13584082.877655516, Elapsed: 55 }], id: 1 };
    const sample = braiinsOs.parse({ summary, devs });
    expect(sample.boards.map((b) => [b.index, b.hashrateThs?.toFixed(5), b.hwErrors])).toEqual([
      [6, '4.68307', 0],
      [7, '4.68791', 0],
      [8, '4.21310', 1],
    ]);
    expect(sample.nominalThs).toBeCloseTo(3 * 4.6683, 5);
  });
});

describe('Whatsminer', () => {
  it('fw 20210322 (summary, devs, pools, status, get_version): hashing at 70.7 TH/s despite btmineroff "true"', () => {
    const set = repliesOf('whatsminer-fw20210322', 'summary', 'devs', 'pools', 'status', 'get_version');
    expect(detectDialect({ summary: set.summary })).toBe(whatsminer);
    expect(detectDialect({ get_version: set.get_version })).toBe(whatsminer);
    expect(whatsminerMiningOff(set.status)).toBe(true);
    const sample = whatsminer.parse(set);
    expect(sample).toMatchObject({ vendor: 'whatsminer', mode: 'hashing', firmwareVersion: '20210322.22.REL', nominalThs: 68.796, powerW: 3417, uptimeS: 10154, hwErrors: 69 });
    expect(sample.hashrateThs).toBeCloseTo(70.66811, 5);
    expect(sample.efficiencyJth).toBeCloseTo(3417 / 67.75325, 3);
    expect(board(sample, 0)).toMatchObject({ chipsFound: 105, boardTempC: 70, chipTempC: 90, frequencyMhz: 650, hwErrors: 15 });
    expect(board(sample, 1).hashrateThs).toBeCloseTo(25.56732, 5);
    expect(sample.fans).toEqual([
      { index: 0, rpm: 6450 },
      { index: 1, rpm: 6480 },
    ]);
    expect(sample.pools.map((p) => [p.index, p.active, p.lastShareTime])).toEqual([
      [1, true, 1761061364000],
      [2, false, undefined],
      [3, false, undefined],
    ]);
  });

  it('the M31S sleeping status (API v1.3) says mining is off', () => {
    expect(whatsminerMiningOff(reply('whatsminer-m31s-sleeping-status.json'))).toBe(true);
  });

  it('a sleeping miner (status btmineroff, zero hashrate) is sleeping, not idle', () => {
    const summary: JsonObject = { STATUS: [{ STATUS: 'S' }], SUMMARY: [{ 'MHS 5s': 0, 'MHS av': 1e6, Elapsed: 10 }] };
    const sample = whatsminer.parse({ summary, status: reply('whatsminer-m31s-sleeping-status.json') });
    expect(sample.mode).toBe('sleeping');
    expect(sample.firmwareVersion).toBe('20210109.22.REL');
  });

  it('M31S (summary, edevs, pools): a stopped outlet fan reads 0 rpm; reported Power Rate; Env Temp', () => {
    const set = replies({ summary: 'whatsminer-m31s-summary.json', edevs: 'whatsminer-m31s-edevs.json', pools: 'whatsminer-m31s-pools.json' });
    expect(detectDialect({ summary: set.summary })).toBe(whatsminer);
    const sample = whatsminer.parse(set);
    expect(sample).toMatchObject({ firmwareVersion: '20201202.22.REL', nominalThs: 75.697, powerW: 3553, efficiencyJth: 46.31, ambientTempC: 7 });
    expect(sample.fans).toEqual([
      { index: 0, rpm: 5700 },
      { index: 1, rpm: 0 },
    ]);
    expect(board(sample, 1)).toMatchObject({ chipTempC: 93, frequencyMhz: 726, boardTempC: 72 });
    expect(sample.pools[0]).toMatchObject({ index: 1, url: 'stratum+tcp://btc.ss.poolin.com:443', active: true, accepted: 2296 });
  });

  it('M30S (summary, edevs, pools): 156 chips per board, efficiency derived from Power and MHS av', () => {
    const set = replies({ summary: 'whatsminer-m30s-summary.json', edevs: 'whatsminer-m30s-edevs.json', pools: 'whatsminer-m30s-pools.json' });
    const sample = whatsminer.parse(set);
    expect(sample).toMatchObject({ firmwareVersion: '20200512.13.REL', powerW: 3230, ambientTempC: 11 });
    expect(sample.hashrateThs).toBeCloseTo(85.03843, 5);
    expect(sample.efficiencyJth).toBeCloseTo(3230 / 85.10640, 3);
    expect(sample.boards.map((b) => b.chipsFound)).toEqual([156, 156, 156]);
    expect(sample.fans.map((f) => f.rpm)).toEqual([2370, 2430]);
  });

  it('M20S fw 20200917 (summary with \\\' escape, devs)', () => {
    const set = replies({ summary: 'whatsminer-m20s-fw20200917-summary.json', devs: 'whatsminer-m20s-fw20200917-devs.json' });
    const sample = whatsminer.parse(set);
    expect(sample).toMatchObject({ firmwareVersion: '20200917.22.REL', powerW: 3491, ambientTempC: 28.5, nominalThs: 67.051 });
    expect(board(sample, 0)).toMatchObject({ chipsFound: 111, boardTempC: 71.5, chipTempC: 87.7, frequencyMhz: 617 });
  });

  it('M20S 2019 (summary, pools, stats): boards from the SMn stats entries', () => {
    const set = replies({ summary: 'whatsminer-m20s-summary.json', pools: 'whatsminer-m20s-pools.json', stats: 'whatsminer-m20s-stats.json' });
    expect(detectDialect({ summary: set.summary })).toBe(whatsminer);
    const sample = whatsminer.parse(set);
    expect(sample.hashrateThs).toBeCloseTo(65.3713, 4);
    expect(sample.powerW).toBeUndefined();
    expect(sample.boards.map((b) => [b.index, b.chipsFound, b.boardTempC, b.frequencyMhz])).toEqual([
      [0, 105, 75, 656],
      [1, 105, 73, 636],
      [2, 105, 72.5, 616],
    ]);
    expect(sample.pools[0]).toMatchObject({ active: true, lastShareTime: 1560974720000 });
  });

  it('M3 2018 (summary, pools, stats): ok/err chips per board, dead first pool', () => {
    const set = replies({ summary: 'whatsminer-m3-summary.json', pools: 'whatsminer-m3-pools.json', stats: 'whatsminer-m3-stats.json' });
    expect(detectDialect({ summary: set.summary })).toBe(whatsminer);
    const sample = whatsminer.parse(set);
    expect(sample.boards.map((b) => [b.chipsFound, b.chipsOk, b.chipsBad, b.boardTempC])).toEqual([
      [63, 62, 1, 85.5],
      [63, 63, 0, 75],
      [63, 62, 1, 75.5],
    ]);
    expect(sample.pools.map((p) => [p.status, p.active])).toEqual([
      ['dead', false],
      ['alive', true],
      ['alive', false],
    ]);
    expect(sample.fans.map((f) => f.rpm)).toEqual([5730, 5880]);
  });
});

describe('Avalon', () => {
  it('reads Key[value] strings, including the glued Elapsed[103840]BOOTBY[1]', () => {
    const stats = reply('avalon-1047-stats.json');
    const entry = (stats.STATS as JsonObject[])[0];
    const fields = parseModuleFields(String(entry?.['MM ID0']));
    expect(fields.Elapsed).toBe('103840');
    expect(fields.BOOTBY).toBe('1');
    expect(fields.SYSTEMSTATU).toBe('Work: In Work, Hash Board: 2 ');
    expect(fields.MGHS).toBe('18727.58 18507.76');
  });

  it('1047 stats only: In Work is hashing; per-board averages, 120 chips per board, PS power, two fans', () => {
    const stats = reply('avalon-1047-stats.json');
    expect(detectDialect({ stats })).toBe(avalon);
    const sample = avalon.parse({ stats });
    expect(sample).toMatchObject({ model: 'AvalonMiner 1047', mode: 'hashing', powerW: 2288, hwErrors: 135, ambientTempC: 28, uptimeS: 103808 });
    expect(sample.firmwareVersion).toBe('1047-19120401_d46bc64_0367a8b');
    expect(sample.hashrateAvgThs).toBeCloseTo(37.23534, 5);
    expect(sample.nominalThs).toBeCloseTo(37.76867, 5);
    expect(sample.boards.map((b) => [b.index, b.hashrateThs?.toFixed(5), b.chipsFound, b.chipTempC])).toEqual([
      [0, '18.72758', 120, 75],
      [1, '18.50776', 120, 70],
    ]);
    expect(sample.fans).toEqual([
      { index: 1, rpm: 2984, percent: 47 },
      { index: 2, rpm: 2972, percent: 47 },
    ]);
  });

  it('1047 pools+summary+stats multi-command reply: split, then summary MHS 30s gives the hashrate', () => {
    const split = splitMultiReply('pools+summary+stats', multiReply('avalon-1047-pools+summary+stats.json'));
    const set: Record<string, JsonObject> = {};
    for (const [command, result] of Object.entries(split)) if (result.ok) set[command] = result.reply;
    const sample = avalon.parse(set);
    expect(sample.hashrateThs).toBeCloseTo(32.24742, 5);
    expect(sample.hashrateAvgThs).toBeCloseTo(25.53675, 5);
    expect(sample.powerW).toBeUndefined(); // PS[0 0 0 0 0 0]: not measured
    expect(sample.uptimeS).toBe(155);
    expect(sample.pools.map((p) => [p.url, p.active])).toEqual([
      ['stratum+tcp://sha256.mining-dutch.nl:9996', true],
      ['stratum+tcp://sha256.antpool.com:3333', false],
      [expect.any(String), false],
    ]);
    expect(board(sample, 1).hashrateThs).toBeCloseTo(12.81216, 5);
  });

  it('1047 nan variant: "MHS av":nan gives no summary average (the firmware GHSavg is used), never 0', () => {
    const whole = multiReply('avalon-1047-pools+summary+stats-nan.json');
    const split = splitMultiReply('pools+summary+stats', whole);
    const summary = split.summary?.ok ? split.summary.reply : undefined;
    expect(num(((summary?.SUMMARY as JsonObject[]) ?? [])[0]?.['MHS av'])).toBeUndefined();
    const set: Record<string, JsonObject> = {};
    for (const [command, result] of Object.entries(split)) if (result.ok) set[command] = result.reply;
    const sample = avalon.parse(set);
    expect(sample.hashrateAvgThs).toBeCloseTo(25.17476, 5);
    expect(sample.hashrateThs).toBe(0); // "MHS 30s":0 in this author-written variant
  });

  it('1246 stats: three boards, GHSspd as the live rate, four fans', () => {
    const sample = avalon.parse({ stats: reply('avalon-1246-stats.json') });
    expect(sample).toMatchObject({ model: 'AvalonMiner 1246', mode: 'hashing', powerW: 3189, hwErrors: 2735, ambientTempC: 30 });
    expect(sample.hashrateThs).toBeCloseTo(81.07268, 5);
    expect(sample.boards.map((b) => [b.hashrateThs?.toFixed(5), b.chipTempC, b.chipsFound])).toEqual([
      ['26.90701', 77, 120],
      ['26.02506', 77, 120],
      ['26.72456', 76, 120],
    ]);
    expect(sample.fans.map((f) => f.rpm)).toEqual([5344, 5392, 5349, 5309]);
  });

  it('741 controller (stats, pools): ten modules, one board and one fan each; escaped slashes in the pool URL', () => {
    const set = replies({ stats: 'avalon-741-stats.json', pools: 'avalon-741-pools.json' });
    expect(detectDialect({ stats: set.stats })).toBe(avalon);
    const sample = avalon.parse(set);
    expect(sample.model).toBe('AvalonMiner 741');
    expect(sample.boards).toHaveLength(10);
    expect(board(sample, 0)).toMatchObject({ chipTempC: 89, hwErrors: 0, frequencyMhz: 606.93 });
    expect(board(sample, 0).hashrateThs).toBeCloseTo(6.83648, 5);
    expect(board(sample, 1).hwErrors).toBe(88);
    expect(sample.fans[0]).toEqual({ index: 0, rpm: 2550, percent: 36 });
    expect(sample.fans).toHaveLength(10);
    expect(sample.pools[0]).toMatchObject({ url: 'stratum+tcp://stratum.antpool.com:3333', user: 'Yop yop', active: true, lastShareTime: 1487889012000 });
    expect(sample.uptimeS).toBe(118);
  });

  it('8xx controller mixing 841 and 821 modules', () => {
    const sample = avalon.parse({ stats: reply('avalon-8xx-stats.json') });
    expect(sample.model).toBe('AvalonMiner 841/821');
    expect(sample.fans.map((f) => [f.rpm, f.percent])).toEqual([
      [5730, 100],
      [5850, 100],
      [5610, 100],
    ]);
  });

  it('Avalon Q (version, summary, stats, pools): soft-off In Idle is sleeping; MHS av lags; no fans spin', () => {
    const set = replies({ version: 'avalon-q-version.json', summary: 'avalon-q-summary.json', stats: 'avalon-q-stats.json', pools: 'avalon-q-pools.json' });
    expect(detectDialect({ version: set.version })).toBe(avalon);
    const sample = avalon.parse(set);
    expect(sample).toMatchObject({ model: 'Avalon Q', mode: 'sleeping', hashrateThs: 0, fans: [], ambientTempC: 26, uptimeS: 37714 });
    expect(sample.hashrateAvgThs).toBeCloseTo(44.5396, 4);
    expect(sample.nominalThs).toBeCloseTo(55.03279, 5);
    expect(sample.boards).toEqual([{ index: 0, present: true, chipsFound: 160 }]); // HBinfo PVT_T0 has 160 chips
    expect(sample.pools[0]).toMatchObject({ user: 'worker1', active: true });
    expect(sample.pools[0]?.lastShareTime).toBeUndefined(); // 31279 is seconds since boot
  });

  it('Avalon Q litestats carries the same summary string: sleeping', () => {
    const sample = avalon.parse({ stats: reply('avalon-q-litestats.json') });
    expect(sample.mode).toBe('sleeping');
    expect(sample.nominalThs).toBeCloseTo(55.03279, 5);
  });

  it('Avalon Q devs reports Temperature 0.00 and no live rate (soft-off)', () => {
    const dev = (reply('avalon-q-devs.json').DEVS as JsonObject[])[0];
    expect(num(dev?.['MHS 5s'])).toBe(0);
    expect(num(dev?.['MHS av'])).toBeCloseTo(44046770.26, 2);
  });
});

describe('detection order', () => {
  it('starts with version, then summary, then stats', () => {
    expect(DETECTION_COMMANDS).toEqual(['version', 'summary', 'stats']);
  });

  it('an error-only probe identifies nothing', () => {
    expect(detectDialect({})).toBeUndefined();
  });
});
