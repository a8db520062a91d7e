/**
 * Bitmain-style replies: stock bmminer on S19/S21 (numbers mostly numeric, chains 1-4), the old S9 BMMiner 2.0.0 line
 * shared by stock, Hiveon and Vnish (numbers-as-strings, chains 6-8 padded to 16, STATS joined with `}{`), and LuxOS.
 */
import type { SimProfile } from '../catalog';
import { newApiStats, newApiSummary } from '../next/antminer-web';
import { fixed, writeJson, type WireObject, type WireValue } from '../json';
import type { BoardReading, MinerReading } from '../miner';
import { luxosConfigFields, luxosControl, luxosCurrentProfile } from './luxos';
import {
  CGMINER4_POOLS,
  chipStatusString,
  poolEntries,
  poolsReply,
  type PoolFormat,
  clockTime,
  f2,
  f6,
  f8,
  round2,
  sectionReply,
  serdeFloat,
  shortDifficulty,
  stableHex,
  statusObject,
  unixSeconds,
  type DialectWriter,
  type ReplyContext,
} from './common';

/** Chips read 'x' on every chain while the unit is not hashing (QUIRKS §8: S19 sleeping and overheating captures). */
function allChipsBad(r: MinerReading): boolean {
  return r.mode === 'sleeping' || r.mode === 'overheated';
}

/** Firmware modes: 2 = normal, 254 = sleep (QUIRKS §10). */
function modeNumber(r: MinerReading): number {
  return r.mode === 'sleeping' ? 254 : 2;
}

const int = (v: number): number => Math.round(v);

/** Four sensor values around a board joined with '-' (negative values give "2--1-20-22", as real firmware does). */
function fourSensors(values: readonly number[]): string {
  return values.map(int).join('-');
}

function boardSensorStrings(profile: SimProfile, b: BoardReading | undefined): { pcb: string; chip: string; pic: string } {
  if (!b?.present) return { pcb: '0-0-0-0', chip: '0-0-0-0', pic: '0-0-0-0' };
  const pcb = [b.boardTempC, b.boardTempC - 26, b.boardTempC - 9, b.boardTempC - 8];
  // Hydro units put water inlet/outlet pairs in temp_chipN (QUIRKS §9, pyasic #295).
  const chip =
    profile.cooling === 'hydro'
      ? [b.inletTempC, b.inletTempC, b.outletTempC, b.outletTempC]
      : [b.chipTempC, b.chipTempC - 26, b.chipTempC - 9, b.chipTempC - 8];
  return { pcb: fourSensors(pcb), chip: fourSensors(chip), pic: fourSensors(pcb.map((t) => t - 10)) };
}

function hottestChipC(profile: SimProfile, b: BoardReading): number {
  return profile.cooling === 'hydro' ? b.outletTempC : b.chipTempC;
}

function percentOf(part: number, whole: number): number {
  return whole > 0 ? (part / whole) * 100 : 0;
}

/** S19 bmminer writes doubles at full precision ("1305083904.0") and spells "Pool Stale%%". */
const S19_POOLS: PoolFormat = {
  ...CGMINER4_POOLS,
  diff: serdeFloat,
  pct: (v) => serdeFloat(round2(v)),
  bestShare: serdeFloat,
  staleKey: 'Pool Stale%%',
};

// ---------------------------------------------------------------------------------------------------------------
// Stock bmminer, S19 / S21 generation

const S19_VERSION = { BMMiner: '1.0.0', Miner: '49.0.1.3', CompileTime: 'Tue Dec  6 16:12:30 CST 2022' };

function s19Stats(ctx: ReplyContext): WireObject {
  const { profile: p, reading: r } = ctx;
  const bad = allChipsBad(r);
  const present = r.boards.filter((b) => b.present);
  const s: WireObject = {
    STATS: 0,
    ID: 'BTM_SOC0',
    Elapsed: r.uptimeS,
    Calls: 0,
    Wait: 0,
    Max: 0,
    Min: 99999999,
    'GHS 5s': f2(r.rateGhs),
    'GHS av': f2(r.avgGhs),
    rate_30m: f2(r.avg30mGhs),
    Mode: modeNumber(r),
    miner_count: present.length,
    frequency: p.frequencyMhz,
    fan_num: p.fanSlotCount,
  };
  for (let slot = 1; slot <= p.fanSlotCount; slot++) {
    const fanIndex = p.fanSlots.indexOf(slot);
    s[`fan${slot}`] = fanIndex >= 0 ? (r.fansRpm[fanIndex] ?? 0) : 0;
  }
  s.temp_num = present.length;
  // Only chains with a board get tempN / temp2_N keys; a missing board's keys are absent (QUIRKS §8).
  r.boards.forEach((b, i) => {
    if (!b.present) return;
    const chain = p.chainBase + i;
    s[`temp${chain}`] = int(b.boardTempC);
    s[`temp2_${chain}`] = int(hottestChipC(p, b));
  });
  const sensors = Array.from({ length: p.chainSlots }, (_, i) => boardSensorStrings(p, r.boards[i]));
  sensors.forEach((t, i) => (s[`temp_pcb${p.chainBase + i}`] = t.pcb));
  sensors.forEach((t, i) => (s[`temp_chip${p.chainBase + i}`] = t.chip));
  sensors.forEach((t, i) => (s[`temp_pic${p.chainBase + i}`] = t.pic));
  Object.assign(s, {
    total_rateideal: serdeFloat(r.idealGhs),
    rate_unit: 'GH',
    total_freqavg: p.frequencyMhz,
    total_acn: present.reduce((sum, b) => sum + b.chipsFound, 0),
    'total rate': f2(r.avgGhs),
    temp_max: 0,
    no_matching_work: r.hwErrors,
  });
  forEachChain(p, r, (chain, b) => (s[`chain_acn${chain}`] = b?.present ? b.chipsFound : 0));
  forEachChain(p, r, (chain, b) => (s[`chain_acs${chain}`] = b?.present ? chipStatusString(b.chipsFound, b.chipsBad, p.chipGroup, bad) : ''));
  forEachChain(p, r, (chain, b) => (s[`chain_hw${chain}`] = b?.hwErrors ?? 0));
  forEachChain(p, r, (chain, b) => (s[`chain_rate${chain}`] = b?.present ? b.rateGhs.toFixed(2) : ''));
  forEachChain(p, r, (chain, b) => (s[`freq${chain}`] = b?.frequencyMhz ?? 0));
  s.miner_version = ctx.miner.versionOr(S19_VERSION.Miner);
  s.miner_id = stableHex(ctx.miner.identityKey, 16);
  return s;
}

function forEachChain(p: SimProfile, r: MinerReading, fn: (chain: number, board: BoardReading | undefined) => void): void {
  for (let i = 0; i < p.chainSlots; i++) fn(p.chainBase + i, r.boards[i]);
}

function s19Summary(r: MinerReading): WireObject {
  const when = unixSeconds(r);
  return {
    Elapsed: r.uptimeS,
    'GHS 5s': f2(r.rateGhs),
    'GHS av': f2(r.avgGhs),
    'GHS 30m': f2(r.avg30mGhs),
    'Found Blocks': 0,
    Getwork: Math.floor(r.uptimeS / 12),
    Accepted: r.accepted,
    Rejected: r.rejected,
    'Hardware Errors': r.hwErrors,
    Utility: f2(r.uptimeS > 0 ? (r.accepted * 60) / r.uptimeS : 0),
    Discarded: Math.floor(r.uptimeS * 90),
    Stale: r.stale,
    'Get Failures': 0,
    'Local Work': Math.floor(r.uptimeS * 90),
    'Remote Failures': 0,
    'Network Blocks': Math.floor(r.uptimeS / 600),
    'Total MH': serdeFloat(Math.round(r.avgGhs * 1000 * r.uptimeS)),
    'Work Utility': f2(r.uptimeS > 0 ? (r.difficultyAccepted * 60) / r.uptimeS : 0),
    'Difficulty Accepted': serdeFloat(r.difficultyAccepted),
    'Difficulty Rejected': serdeFloat(r.difficultyRejected),
    'Difficulty Stale': serdeFloat(0),
    'Best Share': r.bestShare,
    'Device Hardware%': serdeFloat(0),
    'Device Rejected%': serdeFloat(round2(percentOf(r.rejected, r.accepted + r.rejected))),
    'Pool Rejected%': serdeFloat(round2(percentOf(r.rejected, r.accepted + r.rejected))),
    'Pool Stale%': serdeFloat(0),
    'Last getwork': when,
  };
}

function newApi(ctx: ReplyContext): boolean {
  return ctx.request?.new_api === true && ctx.profile.firmware === 'antminer-stock';
}

export const bmminerWriter: DialectWriter = {
  description: () => 'cgminer 1.0.0',
  writeOptions: {},
  commands: {
    version: (ctx) =>
      sectionReply(ctx, bmminerWriter, 22, 'CGMiner versions', 'VERSION', [
        { BMMiner: S19_VERSION.BMMiner, API: '3.1', Miner: ctx.miner.versionOr(S19_VERSION.Miner), CompileTime: S19_VERSION.CompileTime, Type: ctx.profile.model },
      ]),
    // Stock firmware answers `"new_api": true` (top level only) with the web CGI's layout (antminer-new-api/PROTOCOLS.md).
    summary: (ctx) =>
      newApi(ctx) ? newApiSummary(ctx.miner, ctx.reading) : sectionReply(ctx, bmminerWriter, 11, 'Summary', 'SUMMARY', [s19Summary(ctx.reading)]),
    stats: (ctx) =>
      newApi(ctx)
        ? newApiStats(ctx.miner, ctx.reading)
        : sectionReply(ctx, bmminerWriter, 70, 'CGMiner stats', 'STATS', [{ ...S19_VERSION, Miner: ctx.miner.versionOr(S19_VERSION.Miner), Type: ctx.profile.model }, s19Stats(ctx)]),
    pools: (ctx) => poolsReply(ctx, bmminerWriter, S19_POOLS),
    // Stock S19 devs: one pseudo-device with no hashrate (QUIRKS §6) and the 'Tenperature' typo (§13).
    devs: (ctx) => {
      const r = ctx.reading;
      const when = unixSeconds(r);
      return sectionReply(ctx, bmminerWriter, 9, '1 ASC(s)', 'DEVS', [
        {
          ASC: 0,
          Name: 'BTM_SOC',
          ID: 0,
          Enabled: 'Y',
          Status: 'Alive',
          Tenperature: serdeFloat(0),
          'MHS av': serdeFloat(0),
          'MHS 5s': serdeFloat(0),
          Accepted: r.accepted,
          Rejected: r.rejected,
          'Hardware Errors': 0,
          Utility: serdeFloat(0),
          'Last Share Pool': 0,
          'Last Share Time': when,
          'Total MH': serdeFloat(0),
          'Diff1 Work': 0,
          'Difficulty Accepted': r.difficultyAccepted,
          'Difficulty Rejected': r.difficultyRejected,
          'Last Share Difficulty': when,
          'Last Valid Work': when,
          'Device Hardware%': serdeFloat(0),
          'Device Rejected%': serdeFloat(0),
          'Device Elapsed': r.uptimeS,
        },
      ]);
    },
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Old S9 line: stock BMMiner 2.0.0, Hiveon, Vnish

interface S9Flavour {
  versionKey: 'BMMiner' | 'CGMiner';
  /** The version object inside `stats` uses its own key on Vnish ("Cgminer", QUIRKS §5). */
  statsVersionKey: 'BMMiner' | 'Cgminer';
  version: string;
  api: string;
  miner: string;
  compileTime: string;
  description: string;
  msgPrefix: 'BMMiner' | 'CGMiner';
  /** Stock writes frequency as a number, Hiveon and Vnish as a string. */
  frequencyAsString: boolean;
  pools: PoolFormat;
}

const S9_FLAVOURS: Record<'antminer-stock' | 'hiveon' | 'vnish', S9Flavour> = {
  'antminer-stock': {
    versionKey: 'BMMiner',
    statsVersionKey: 'BMMiner',
    version: '2.0.0',
    api: '3.1',
    miner: '30.0.1.3',
    compileTime: 'Wed Jul 31 16:18:27 CST 2019',
    description: 'bmminer 1.0.0',
    msgPrefix: 'BMMiner',
    frequencyAsString: false,
    pools: CGMINER4_POOLS,
  },
  hiveon: {
    versionKey: 'BMMiner',
    statsVersionKey: 'BMMiner',
    version: '2.0.0 rwglr',
    api: '3.1',
    miner: '30.0.1.3',
    compileTime: 'Tue Nov 20 10:12:30 UTC 2019',
    description: 'bmminer 1.0.0',
    msgPrefix: 'BMMiner',
    frequencyAsString: true,
    pools: CGMINER4_POOLS,
  },
  vnish: {
    versionKey: 'CGMiner',
    statsVersionKey: 'Cgminer',
    version: '4.11.1',
    api: '3.7',
    miner: '26.0.1.3',
    compileTime: 'Fri May  8 15:27:59 CST 2020',
    description: 'cgminer 4.11.1',
    msgPrefix: 'CGMiner',
    frequencyAsString: true,
    pools: { ...CGMINER4_POOLS, extraFields: { Boost: 'Normal' } },
  },
};

function s9Flavour(p: SimProfile): S9Flavour {
  return p.firmware === 'hiveon' || p.firmware === 'vnish' ? S9_FLAVOURS[p.firmware] : S9_FLAVOURS['antminer-stock'];
}

function s9StatsObject(ctx: ReplyContext, flavour: S9Flavour): WireObject {
  const { profile: p, reading: r } = ctx;
  const slots = Array.from({ length: p.chainSlots }, (_, i) => i + 1);
  const boardAt = (slot: number): BoardReading | undefined => {
    const b = r.boards[slot - p.chainBase];
    return b?.present ? b : undefined;
  };
  const present = r.boards.filter((b) => b.present);
  const s: WireObject = {
    STATS: 0,
    ID: 'BC50',
    Elapsed: r.uptimeS,
    Calls: 0,
    Wait: f6(0),
    Max: f6(0),
    Min: f6(99999999),
    // The old line sends the 5 s rate as a string and the average as a number (QUIRKS §6).
    'GHS 5s': r.rateGhs.toFixed(2),
    'GHS av': f2(r.avgGhs),
    miner_count: present.length,
    frequency: flavour.frequencyAsString ? String(p.frequencyMhz) : p.frequencyMhz,
    fan_num: p.fans,
  };
  for (let slot = 1; slot <= p.fanSlotCount; slot++) {
    const fanIndex = p.fanSlots.indexOf(slot);
    s[`fan${slot}`] = fanIndex >= 0 ? (r.fansRpm[fanIndex] ?? 0) : 0;
  }
  s.temp_num = present.length;
  for (const n of slots) s[`temp${n}`] = int(boardAt(n)?.boardTempC ?? 0);
  for (const n of slots) s[`temp2_${n}`] = int(boardAt(n)?.chipTempC ?? 0);
  for (const n of slots) s[`temp3_${n}`] = 0;
  for (const n of slots) s[`freq_avg${n}`] = f2(boardAt(n)?.frequencyMhz ?? 0);
  Object.assign(s, {
    total_rateideal: f2(r.idealGhs),
    total_freqavg: f2(present.length > 0 ? p.frequencyMhz : 0),
    total_acn: present.reduce((sum, b) => sum + b.chipsFound, 0),
    total_rate: f2(r.rateGhs),
  });
  for (const n of slots) s[`chain_rateideal${n}`] = f2(boardAt(n)?.idealGhs ?? 0);
  s.temp_max = int(Math.max(0, ...present.map((b) => b.chipTempC)));
  s['Device Hardware%'] = fixed(0.0184 * Math.min(1, r.hwErrors / 1000), 4);
  s.no_matching_work = r.hwErrors;
  for (const n of slots) s[`chain_acn${n}`] = boardAt(n)?.chipsFound ?? 0;
  for (const n of slots) {
    const b = boardAt(n);
    s[`chain_acs${n}`] = b ? chipStatusString(b.chipsFound, b.chipsBad, p.chipGroup, false) : '';
  }
  for (const n of slots) s[`chain_hw${n}`] = boardAt(n)?.hwErrors ?? 0;
  for (const n of slots) {
    const b = boardAt(n);
    s[`chain_rate${n}`] = b ? b.rateGhs.toFixed(2) : '';
  }
  const populated = slots.filter((n) => boardAt(n));
  for (const n of populated) s[`chain_xtime${n}`] = '{}';
  for (const n of populated) s[`chain_offside_${n}`] = '0';
  for (const n of populated) s[`chain_opencore_${n}`] = '0';
  if (p.firmware === 'vnish') {
    for (const n of populated) s[`chain_vol${n}`] = 920;
    for (const n of populated) s[`chain_consumption${n}`] = int(boardAt(n)?.powerW ?? 0);
  }
  s.miner_version = flavour.miner;
  if (p.firmware === 'hiveon') {
    for (const n of slots) s[`chain_power${n}`] = f2(boardAt(n) ? 11.55 : 0);
    s.chain_power = `${(populated.length * 11.55).toFixed(2)} (AB)`;
  }
  if (p.firmware === 'vnish') {
    s.manual_fan_mode = false;
    s.build_version = '3.8.6';
  }
  return s;
}

/** Same counters as the newer line, but the 5 s rate is a string, doubles are printf'd and it says "Getworks". */
function s9Summary(r: MinerReading): WireObject {
  const rejectedPct = percentOf(r.rejected, r.accepted + r.rejected);
  return {
    Elapsed: r.uptimeS,
    'GHS 5s': r.rateGhs.toFixed(2),
    'GHS av': f2(r.avgGhs),
    'Found Blocks': 0,
    Getworks: Math.floor(r.uptimeS / 30),
    Accepted: r.accepted,
    Rejected: r.rejected,
    'Hardware Errors': r.hwErrors,
    Utility: f2(r.uptimeS > 0 ? (r.accepted * 60) / r.uptimeS : 0),
    Discarded: Math.floor(r.uptimeS * 3),
    Stale: r.stale,
    'Get Failures': 0,
    'Local Work': Math.floor(r.uptimeS * 40),
    'Remote Failures': 0,
    'Network Blocks': Math.floor(r.uptimeS / 600),
    'Total MH': fixed(Math.round(r.avgGhs * 1000 * r.uptimeS), 4),
    'Work Utility': f2(r.uptimeS > 0 ? (r.difficultyAccepted * 60) / r.uptimeS : 0),
    'Difficulty Accepted': f8(r.difficultyAccepted),
    'Difficulty Rejected': f8(r.difficultyRejected),
    'Difficulty Stale': f8(0),
    'Best Share': r.bestShare,
    'Device Hardware%': fixed(0, 4),
    'Device Rejected%': fixed(rejectedPct, 4),
    'Pool Rejected%': fixed(rejectedPct, 4),
    'Pool Stale%': fixed(0, 4),
    'Last getwork': unixSeconds(r),
  };
}

export const bmminerS9Writer: DialectWriter = {
  description: (p) => s9Flavour(p).description,
  writeOptions: {},
  commands: {
    version: (ctx) => {
      const fl = s9Flavour(ctx.profile);
      return sectionReply(ctx, bmminerS9Writer, 22, `${fl.msgPrefix} versions`, 'VERSION', [
        { [fl.versionKey]: fl.version, API: fl.api, Miner: ctx.miner.versionOr(fl.miner), CompileTime: fl.compileTime, Type: ctx.profile.model },
      ]);
    },
    summary: (ctx) => sectionReply(ctx, bmminerS9Writer, 11, 'Summary', 'SUMMARY', [s9Summary(ctx.reading)]),
    // Old bmminer/cgminer forks join the two STATS objects without a comma: `}{` (QUIRKS §3).
    stats: (ctx) => {
      const fl = s9Flavour(ctx.profile);
      const status = statusObject('S', ctx.when, 70, `${fl.msgPrefix} stats`, fl.description);
      const versionObject = { [fl.statsVersionKey]: fl.version, Miner: ctx.miner.versionOr(fl.miner), CompileTime: fl.compileTime, Type: ctx.profile.model };
      return `{"STATUS":[${writeJson(status)}],"STATS":[${writeJson(versionObject)}${writeJson(s9StatsObject(ctx, fl))}],"id":1}`;
    },
    pools: (ctx) => poolsReply(ctx, bmminerS9Writer, s9Flavour(ctx.profile).pools),
  },
};

// ---------------------------------------------------------------------------------------------------------------
// LuxOS

const LUXOS_VERSION = { LUXminer: '2025.4.8.220305-57b389c7', Miner: '2025.4.8.220305', CompileTime: 'Tue Apr  8 22:05:35 UTC 2025' };
/** LuxOS fan labels do not follow the index (QUIRKS §7). */
const LUXOS_FAN_LABELS = ['FAN4', 'FAN2', 'FAN1', 'FAN3'];
const LUXOS_CONNECTORS = ['J7', 'J8', 'J9'];
const f1 = (v: number) => fixed(v, 1);

function luxosSummary(r: MinerReading): WireObject {
  const ghs = (factor: number) => round2(r.avg30mGhs * factor + (r.rateGhs - r.avg30mGhs) * (1 - factor));
  return {
    Accepted: r.accepted,
    'Best Share': r.bestShare,
    'Device Hardware%': f1(0),
    'Device Rejected%': f1(0),
    'Difficulty Accepted': r.difficultyAccepted,
    'Difficulty Rejected': r.difficultyRejected,
    'Difficulty Stale': 0,
    Discarded: 0,
    Elapsed: r.uptimeS,
    'Found Blocks': 0,
    'GHS 15m': ghs(0.9),
    'GHS 1m': ghs(0.3),
    'GHS 24h': round2(r.avgGhs),
    'GHS 30m': round2(r.avg30mGhs),
    'GHS 5m': ghs(0.7),
    'GHS 5s': round2(r.rateGhs),
    'GHS av': round2(r.avgGhs),
    'Get Failures': 0,
    Getworks: Math.floor(r.uptimeS / 5),
    'Hardware Errors': r.hwErrors,
    'Last getwork': unixSeconds(r),
    'Local Work': 0,
    'Network Blocks': 0,
    'Pool Rejected%': round2(percentOf(r.rejected, r.accepted + r.rejected)),
    'Pool Stale%': f1(0),
    Rejected: r.rejected,
    'Remote Failures': 0,
    Stale: 0,
    'Total MH': r.avgGhs * 1000,
    Utility: round2(r.uptimeS > 0 ? (r.accepted * 60) / r.uptimeS : 0),
    'Work Utility': 11.5,
  };
}

function luxosStats(ctx: ReplyContext): WireObject {
  const { profile: p, reading: r } = ctx;
  const s = s19Stats(ctx);
  // LuxOS writes temperatures and clocks as floats and an empty chain's rate as "0".
  for (const key of Object.keys(s)) {
    const v = s[key];
    if (/^(temp\d+|temp2_\d+)$/.test(key) && typeof v === 'number') s[key] = f1(v);
    if (/^freq\d+$/.test(key) && typeof v === 'number') s[key] = f1(v);
    if (/^chain_rate\d+$/.test(key) && v === '') s[key] = '0';
  }
  s['total rate'] = round2(r.rateGhs);
  s['GHS 5s'] = round2(r.rateGhs);
  s['GHS av'] = round2(r.avgGhs);
  s.total_freqavg = f1(p.frequencyMhz);
  s.temp_max = f1(Math.max(0, ...r.boards.map((b) => (b.present ? int(b.chipTempC) : 0))));
  s.total_rateideal = round2(r.idealGhs);
  s.miner_id = stableHex(ctx.miner.identityKey, 12);
  s.miner_version = LUXOS_VERSION.Miner;
  return s;
}

function luxosDevs(ctx: ReplyContext): WireObject[] {
  const r = ctx.reading;
  const devs: WireObject[] = [];
  r.boards.forEach((b, i) => {
    if (!b.present) return;
    const mhs = b.rateGhs * 1000;
    devs.push({
      ASC: i,
      Accepted: b.accepted,
      Board: 'BHB56903',
      Connector: LUXOS_CONNECTORS[i] ?? `J${7 + i}`,
      'Device Elapsed': r.uptimeS,
      'Device Hardware%': 0,
      'Device Rejected%': 0,
      'Diff1 Work': b.accepted * 32768,
      'Difficulty Accepted': b.accepted * 32768,
      'Difficulty Rejected': 0,
      Enabled: 'Y',
      'Hardware Error MHS 15m': 0,
      'Hardware Errors': b.hwErrors,
      ID: i,
      IsRamping: false,
      IsUserShutdown: false,
      'Last Share Difficulty': 32768,
      'Last Share Pool': 0,
      'Last Share Time': unixSeconds(r),
      'Last Valid Work': unixSeconds(r),
      'MHS 15m': mhs,
      'MHS 1m': mhs,
      'MHS 30m': mhs,
      'MHS 5m': mhs,
      'MHS 5s': mhs,
      'MHS 60m': mhs,
      'MHS av': r.boards.length > 0 ? (r.avgGhs * 1000) / r.boards.length : 0,
      Name: '',
      'Nominal MHS': f1(b.idealGhs * 1000),
      Profile: luxosCurrentProfile(ctx.miner).name,
      Rejected: 0,
      SerialNumber: `JYZZ${stableHex(`${ctx.miner.identityKey}/${i}`, 13).toUpperCase()}`,
      Status: 'Alive',
      Temperature: f1(int(b.boardTempC)),
      'Total MH': (r.avgGhs * 1000) / r.boards.length,
      Utility: 0,
    });
  });
  return devs;
}

export const luxosWriter: DialectWriter = {
  description: () => `LUXminer ${LUXOS_VERSION.LUXminer}`,
  writeOptions: { sortKeys: true },
  control: (ctx, command, request) => luxosControl(ctx, luxosWriter.description(ctx.profile), command, request),
  commands: {
    version: (ctx) =>
      sectionReply(ctx, luxosWriter, 22, 'LUXminer versions', 'VERSION', [{ API: '3.7', ...LUXOS_VERSION, LUXminer: ctx.miner.versionOr(LUXOS_VERSION.LUXminer), Type: ctx.profile.model }]),
    summary: (ctx) => sectionReply(ctx, luxosWriter, 11, 'Summary', 'SUMMARY', [luxosSummary(ctx.reading)]),
    stats: (ctx) =>
      sectionReply(ctx, luxosWriter, 70, 'LUXminer stats', 'STATS', [
        { CompileTime: LUXOS_VERSION.CompileTime, Miner: LUXOS_VERSION.Miner, Type: ctx.profile.model },
        luxosStats(ctx),
      ]),
    devs: (ctx) => {
      const devs = luxosDevs(ctx);
      return sectionReply(ctx, luxosWriter, 9, `${devs.length} ASC(s)`, 'DEVS', devs);
    },
    pools: (ctx) => {
      const items = poolEntries(ctx.reading, S19_POOLS).map((item) => {
        // LuxOS renames "Long Poll" to "Long Pool" (sic, QUIRKS §6) and has no double-% key.
        const { 'Long Poll': longPoll, 'Pool Stale%%': stale, ...rest } = item;
        return { ...rest, 'Long Pool': longPoll ?? 'N', 'Pool Stale%': stale ?? 0 };
      });
      return sectionReply(ctx, luxosWriter, 7, `${items.length} Pool(s)`, 'POOLS', items);
    },
    fans: (ctx) => {
      const r = ctx.reading;
      const fans = r.fansRpm.map((rpm, i) => ({ FAN: LUXOS_FAN_LABELS[i] ?? `FAN${i + 1}`, ID: i, RPM: rpm, Speed: int(r.fanPercent) }));
      const status = statusObject('S', ctx.when, 202, `${fans.length} Fan(s)`, luxosWriter.description(ctx.profile));
      return writeJson({ FANCTRL: [{ MinFans: 3, PowerOffSpeed: 20 }], FANS: fans, STATUS: [status], id: 1 }, { sortKeys: true });
    },
    temps: (ctx) => {
      const temps: WireObject[] = [];
      ctx.reading.boards.forEach((b, i) => {
        if (!b.present) return;
        const exhaust = f1(int(b.boardTempC));
        const intake = f1(int(ctx.reading.intakeC + 8));
        temps.push({ BottomLeft: exhaust, BottomRight: intake, ID: i, TEMP: i, TopLeft: exhaust, TopRight: intake });
      });
      const label = (text: string, row: number, col: number) => ({ Label: text, Position: [row, col] });
      const metadata = {
        BottomLeft: label('Board Exhaust (bottom)', 1, 0),
        BottomRight: label('Board Intake (bottom)', 1, 1),
        TopLeft: label('Board Exhaust (top)', 0, 0),
        TopRight: label('Board Intake (top)', 0, 1),
      };
      const status = statusObject('S', ctx.when, 201, `${temps.length} Temp(s)`, luxosWriter.description(ctx.profile));
      return writeJson({ METADATA: [metadata], STATUS: [status], TEMPS: temps, id: 1 }, { sortKeys: true });
    },
    power: (ctx) => sectionReply(ctx, luxosWriter, 311, 'Power usage', 'POWER', [{ PSU: false, Watts: int(ctx.reading.powerW) }]),
    config: (ctx) =>
      sectionReply(ctx, luxosWriter, 33, 'LUXminer config', 'CONFIG', [
        {
          'ASC Count': ctx.reading.boards.filter((b) => b.present).length,
          Cooling: 'Air',
          CurtailMode: ctx.reading.mode === 'sleeping' ? 'Sleep' : 'None',
          Hostname: ctx.miner.id,
          IPAddr: ctx.miner.spec.host,
          IsTuning: false,
          MACAddr: stableHex(ctx.miner.identityKey, 12).replace(/(..)(?!$)/g, '$1:'),
          Model: ctx.profile.model,
          NameplateTHS: ctx.profile.nominalThs,
          OS: 'LuxOS',
          'Pool Count': ctx.reading.pools.length,
          ...luxosConfigFields(ctx.miner),
          SystemStatus: 'Normal',
        },
      ]),
  },
};

