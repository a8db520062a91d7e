/**
 * ePIC umcOS / PowerPlay HTTP replies on port 4028 (shared/miner-api-next/epic): MH/s hash rates, `HBs[].Hashrate`
 * as `[MH/s, percent of ideal, ?]`, HBStatus per slot, fan RPMs with nulls for absent slots, per-chip arrays with
 * `Total` a number in /temps and /clocks but an array in /hashrate.
 */
import { FaultError } from '../faults';
import { fixed, writeJson, type WireObject, type WireValue } from '../json';
import type { MinerReading, SimMiner } from '../miner';
import { effectivePowerLimitW } from '../replies/cgminer-writes';
import { macFromId, stableHex } from '../replies/common';

const flt = (v: number): WireValue => (Number.isInteger(v) ? fixed(v, 1) : Math.round(v * 1000) / 1000);
const FAN_SLOTS = 12;

export function epicLastError(miner: SimMiner): string | null {
  const e = miner.firmwareErrors()[0];
  if (e) return e.reason ?? e.code;
  if (miner.activeFaults().psuFault) return 'PSU: output voltage lost';
  return null;
}

export function epicSummary(miner: SimMiner, r: MinerReading): string {
  const p = miner.profile;
  const f = miner.activeFaults();
  const now = Math.floor(r.nowMs / 1000);
  const startup = now - r.uptimeS;
  const state = r.mode === 'sleeping' ? 'Idling' : r.mode === 'booting' ? 'Initializing' : r.mode === 'hashing' ? 'Mining' : 'Idling';
  const hbs: WireObject[] = [];
  r.boards.forEach((b, index) => {
    if (!b.present) return;
    hbs.push({
      Index: index,
      'Input Voltage': flt(b.rateGhs > 0 ? 12.6 : 0),
      'Output Voltage': flt(0),
      'Input Current': flt(0),
      'Output Current': flt(0),
      'Input Power': flt(0),
      'Output Power': flt(0),
      Temperature: flt(Math.round(b.boardTempC * 1000) / 1000),
      'Core Clock': [],
      Hashrate: [flt(Math.round(b.rateGhs * 1000)), flt(b.idealGhs > 0 ? Math.round((b.rateGhs / b.idealGhs) * 1000) / 10 : 0), flt(0.8)],
      'Core Clock Avg': flt(b.rateGhs > 0 ? b.frequencyMhz + 2.5 : 0),
    });
  });
  const fansRpm: WireObject = {};
  for (let i = 0; i < FAN_SLOTS; i++) fansRpm[`Fans Speed ${i + 1}`] = i < r.fansRpm.length ? (r.fansRpm[i] ?? 0) : null;
  const pool = r.pools.find((x) => x.active) ?? r.pools[0];
  return writeJson({
    Status: { 'Operating State': state, 'Last Command': null, 'Last Command Result': null, 'Last Error': epicLastError(miner) },
    Hostname: `epic${stableHex(miner.id, 6)}`,
    PresetInfo: { 'Target Power': effectivePowerLimitW(miner) },
    Software: miner.versionOr(p.api?.firmwareVersion ?? 'PowerPlay-BMS v1.5.13'),
    'OS Type': 'umcOS',
    Mining: { Coin: 'BTC', Algorithm: 'SHA-256' },
    Stratum: {
      'Config Id': 0,
      'Current Pool': (pool?.url ?? '').replace(/^stratum\+tcp:\/\//, ''),
      'Current User': pool?.user ?? '',
      IsPoolConnected: pool?.active ?? false,
      'Average Latency': 0.038,
      'Worker Unique Id': true,
      'Worker Unique Id Variant': 'IpAddress',
    },
    Session: {
      'Startup Timestamp': startup,
      'Startup String': new Date(startup * 1000).toUTCString().replace('GMT', '+0000'),
      Uptime: r.uptimeS,
      'Last Work Timestamp': now - 30,
      'Last Work Timer': 30,
      WorkReceived: Math.floor(r.uptimeS / 36),
      'Active HBs': hbs.length,
      'Average MHs': flt(Math.round(r.avgGhs * 1000)),
      LastAverageMHs: { Hashrate: flt(Math.round(r.avg30mGhs * 1000)), Timestamp: now - (now % 900) },
      Accepted: r.accepted,
      Rejected: r.rejected,
      Submitted: r.accepted + r.rejected,
      'Last Accepted Share Timestamp': now - (pool?.lastShareAgoS ?? 0),
      'Last Accepted Share Timer': pool?.lastShareAgoS ?? 0,
      Difficulty: flt(pool?.difficulty ?? 0),
    },
    HBs: hbs,
    HBStatus: r.boards.map((b, index) => ({ Index: index, Enabled: b.present, Detected: b.present })),
    Fans: { 'Fans Speed': Math.round(r.fanPercent), 'Fan Mode': { Auto: { 'Target Temperature': 60, 'Idle Speed': 20 } }, 'Minimum Working Fans': 0 },
    'Fans Rpm': fansRpm,
    Misc: { 'Locate Miner State': miner.commandedState().blinking, 'Shutdown Temp': flt(85), 'Critical Temp': flt(100) },
    // The real summary echoes pool passwords here; ours are placeholders.
    StratumConfigs: r.pools.map((x) => ({ pool: x.url, login: x.user, password: 'x' })),
    PerpetualTune: epicTune(miner),
    'Power Supply Stats': {
      'Input Voltage': flt(0),
      'Output Voltage': flt(f.psuFault ? 0 : 12.595),
      'Input Current': flt(0),
      'Output Current': flt(0),
      'Input Power': flt(Math.round(r.powerW * 10) / 10),
      'Output Power': flt(0),
      'Target Voltage': 12600,
    },
    HwConfig: { 'Boards Target Clock': r.boards.map((b, index) => ({ Index: index, Data: flt(p.frequencyMhz) })) },
    IdleOnConnectionLost: true,
    Overdrive: false,
    'Disable Board On Failure': true,
    'Enable Boards On Idle': false,
    'Last License Error': null,
  });
}

export function epicCapabilities(miner: SimMiner): string {
  const p = miner.profile;
  return writeJson({
    Model: p.model,
    'Model Subtype': 'BHB56801',
    'Chip Type': 'BM1366',
    'Board Serial Numbers': Array.from({ length: p.boards }, (_, i) => `YNAH${stableHex(`${miner.identityKey}/hb${i}`, 13).toUpperCase()}`),
    'Control Board Version': { somBoardVersion: '7.1.0', carrierBoardVersion: '4.1.0', cpuSerial: stableHex(`${miner.identityKey}/cpu`, 24), cpuHardware: 'STM32 (Device Tree Support)' },
    'Default Clock': p.frequencyMhz,
    'Default Voltage': 12900,
    'Default Hashrate': p.nominalThs,
    'Chips Per Bank': 10,
    'Max HBs': p.boards,
    'Max Clock Configs': 1,
    Coins: ['BTC'],
    Display: ['ClksAndVoltage', 'ShutdownTemp', 'PerpetualTune'],
    'Tune Presets': [
      { voltage: 12300, clk: 272, hashrate: flt(80), power: 1700 },
      { voltage: 12900, clk: 482, hashrate: flt(142), power: 3350 },
    ],
    PerpetualTune: [
      { algorithm: 'VoltageOptimizer', name: 'Voltage Optimizer', description: 'Holds the target hashrate while lowering voltage.', min: 60, max: 300 },
      { algorithm: 'BoardTune', name: 'Board Tune', description: 'Tunes board clocks, then voltage.', min: 60, max: 300 },
    ],
    'Temp Sensor Info': { Type: 'Board', Count: 2 },
    'Psu Info': { 'PSU Type': 118, FW: 25, 'Min Vout': 11877, 'Max Vout': 15182 },
    'Performance Estimator': { 'Chip Count': p.chipsPerBoard, 'Hashes Per Second Per Chip': flt(894) },
    'Voltage Estimator': { Slope: 0.0041, 'Y Intercept': flt(11) },
  });
}

export function epicNetwork(miner: SimMiner): string {
  return writeJson({ dhcp: { address: miner.spec.host, netmask: '255.0.0.0', gateway: '127.0.0.1', dns: '127.0.0.1', mac_address: macFromId(miner.identityKey) } });
}

/** /temps: two board sensors per slot, disabled slots still listed. */
export function epicTemps(r: MinerReading): string {
  return writeJson(r.boards.map((b, Index) => ({ Index, Data: b.present ? [flt(Math.round((b.boardTempC - 12) * 1000) / 1000), flt(Math.round(b.boardTempC * 1000) / 1000)] : [], Total: flt(0) })));
}

/** Per-chip arrays of the enabled boards. */
function perChip(r: MinerReading, value: (boardIndex: number, chip: number) => WireValue, total: (boardIndex: number) => WireValue): string {
  const out: WireObject[] = [];
  r.boards.forEach((b, Index) => {
    if (!b.present) return;
    out.push({ Index, Data: Array.from({ length: b.chipsFound }, (_, c) => value(Index, c)), Total: total(Index) });
  });
  return writeJson(out);
}

export function epicChipTemps(r: MinerReading): string {
  // This model measures no chip temperatures: all 0.0, as the capture shows.
  return perChip(r, () => flt(0), () => flt(0));
}

export function epicClocks(r: MinerReading): string {
  return perChip(r, (b) => flt((r.boards[b]?.rateGhs ?? 0) > 0 ? (r.boards[b]?.frequencyMhz ?? 0) + 2.5 : 0), () => flt(0));
}

export function epicHashrate(r: MinerReading): string {
  return perChip(
    r,
    (b, c) => {
      const board = r.boards[b];
      const perChipMhs = board && board.chipsFound > 0 ? (board.rateGhs * 1000) / board.chipsFound : 0;
      // Chips differ: a fixed per-chip spread of about ±20 %.
      const spread = 1 + 0.2 * Math.sin(c * 1.7 + b);
      const mhs = Math.round(perChipMhs * spread * 100) / 100;
      const pct = board && board.idealGhs > 0 ? Math.round(((perChipMhs * spread * board.chipsFound) / (board.idealGhs * 1000)) * 1000) / 10 : 0;
      return [flt(mhs), flt(pct), flt(Math.round(pct / 2.45) / 10)];
    },
    (b) => {
      const board = r.boards[b];
      const pct = board && board.idealGhs > 0 ? Math.round((board.rateGhs / board.idealGhs) * 1000) / 10 : 0;
      return [flt(Math.round((board?.rateGhs ?? 0) * 1000)), flt(pct), flt(Math.round(pct / 2.45) / 10)];
    },
  );
}

/** The tuning block: the stock VoltageOptimizer on a hash-rate target, or PowerTune on the commanded watts. */
function epicTune(miner: SimMiner): WireObject {
  const target = miner.commandedState().powerTargetW;
  if (target !== null) return { Running: true, Algorithm: { PowerTune: { Optimized: false, Target: target, 'Throttle Target': null, 'Min Throttle Target': 50, 'Throttle Step': 5, Unit: 'W' } } };
  return { Running: true, Algorithm: { VoltageOptimizer: { Optimized: false, Target: miner.profile.nominalThs, 'Throttle Target': null, 'Min Throttle Target': 50, 'Throttle Step': 5, Unit: 'TH/s' } } };
}

const API = 'epic';

/**
 * One write POST (EPIC-DASH, PYASIC-EPIC, ASICRS-EPIC): the body's `password` checked, then `param` carried out;
 * `{"result":true,"error":null}`, or `{"result":false,"error":…}` with 400 for a parameter the firmware rejects.
 */
export function epicWrite(miner: SimMiner, path: string, body: Readonly<Record<string, unknown>>): { status: number; body: string } {
  const done = { status: 200, body: '{"result":true,"error":null}' };
  const rejected = (error: string): { status: number; body: string } => ({ status: 400, body: writeJson({ result: false, error }) });
  if (body.password !== miner.credential('epic').password) return { status: 401, body: '{"result":false,"error":"Incorrect password"}' };
  const param = body.param;
  try {
    switch (path) {
      case '/reboot':
      case '/softreboot':
        miner.commandReboot(API);
        return done;
      case '/miner':
        if (param === 'Stop') miner.commandSleep(API);
        else if (param === 'Autostart') miner.commandWake(API);
        else return rejected(`Invalid miner command ${JSON.stringify(param)}`);
        return done;
      case '/identify':
        if (typeof param !== 'boolean') return rejected('param must be a boolean');
        miner.commandBlink(API, param);
        return done;
      case '/perpetualtune':
        return typeof param === 'boolean' ? done : rejected('param must be a boolean');
      case '/perpetualtune/algo': {
        const algo = param && typeof param === 'object' ? (param as Record<string, unknown>) : {};
        if (algo.algo !== 'PowerTune' || typeof algo.target !== 'number') return rejected('this simulator tunes PowerTune with a numeric target only');
        miner.commandPowerTarget(API, algo.target);
        return done;
      }
      case '/coin': {
        const coin = param && typeof param === 'object' ? (param as Record<string, unknown>) : {};
        const configs = Array.isArray(coin.stratum_configs) ? coin.stratum_configs : undefined;
        if (!configs || configs.length === 0) return rejected('stratum_configs missing');
        const pools = configs.map((c: unknown) => (c && typeof c === 'object' ? (c as Record<string, unknown>) : {}));
        if (pools.some((c) => typeof c.pool !== 'string' || typeof c.login !== 'string')) return rejected('each stratum config needs pool and login');
        miner.commandPools(API, pools.map((c) => ({ url: String(c.pool), user: String(c.login) })));
        return done;
      }
      case '/shutdowntemp':
      case '/fanspeed':
        return done;
    }
  } catch (err) {
    if (err instanceof FaultError) return rejected(err.message);
    throw err;
  }
  return { status: 404, body: '{"result":false,"error":"Unknown endpoint"}' };
}
