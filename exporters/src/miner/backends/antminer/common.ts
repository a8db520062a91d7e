import type { BoardSample, FanSample, FirmwareFamily, JsonObject, MinerMode, Vendor } from '@flymining/shared';
import type { Dialect, ParsedMiner, Replies } from '../types';
import {
  compact,
  deriveEfficiency,
  firstDefined,
  firstOf,
  ghsToThs,
  max,
  modeFromHashrate,
  num,
  parsePools,
  positive,
  requireReply,
  sectionOf,
  sum,
  text,
} from '../common/values';
import { DialectError } from '../types';
import { statusDescription } from '../../envelope';
import { MINER_LIMITS, TEXT_LIMITS } from '../../limits';

/**
 * The Bitmain-style `stats` reply shared by stock, Hiveon, Vnish, LuxOS and early Braiins OS firmware
 * (QUIRKS §6-§9): STATS[0] is a version object, STATS[1] holds chains, temperatures and fans as numbered keys.
 */

/** Bitmain's sleep mode value (S17+/T17+ captures). */
export const SLEEP_MODE = 254;
/** Every Antminer with numbered chains has at least three board slots. */
const MIN_BOARD_SLOTS = 3;
/** Firmware pads chains and fans up to 16 slots. */
const MAX_SLOTS = 16;

/** `prefix` + slot number keys of the stats entry (`chain_acn1` …), by prefix, built once. */
const slotKeyCache = new Map<string, string[]>();

/**
 * The key of slot `n` (1 ≤ n ≤ MAX_SLOTS) with this prefix: a key built anew for every read costs a string and its
 * hashing, some 60 of them per miner and sweep.
 */
function slotKey(prefix: string, n: number): string {
  let keys = slotKeyCache.get(prefix);
  if (keys === undefined) {
    keys = Array.from({ length: MAX_SLOTS + 1 }, (_, i) => `${prefix}${i}`);
    slotKeyCache.set(prefix, keys);
  }
  return keys[n] ?? `${prefix}${n}`;
}

export interface AntminerStatsOptions {
  /** Whether `x` in chain_acsN means a bad chip on this firmware (not on Hiveon, QUIRKS §8). */
  trustChipErrors: boolean;
}

export interface AntminerStatsReading {
  /** STATS[0]: the version object (BMMiner/CGMiner/Cgminer, Miner, CompileTime, Type). */
  versionInfo: JsonObject | undefined;
  hashrateThs?: number;
  hashrateAvgThs?: number;
  nominalThs?: number;
  uptimeS?: number;
  hwErrors?: number;
  powerW?: number;
  sleeping: boolean;
  boards: BoardSample[];
  fans: FanSample[];
}

/**
 * Splits dash-joined temperature lists, keeping negative values: "2--1-20-22" is [2, -1, 20, 22]
 * (QUIRKS §9). "-" alone (absent chain) is an empty list. At most one reading per chip is kept.
 */
export function splitDashTemps(value: string | undefined): number[] {
  if (value === undefined) return [];
  const temps: number[] = [];
  for (const match of value.matchAll(/(?:^|(?<=-))-?\d+(?:\.\d+)?/g)) {
    if (temps.length >= MINER_LIMITS.chipsPerBoard) break;
    temps.push(Number(match[0]));
  }
  return temps;
}

/** A model or firmware text from the reply, cut before any regex reads it (a hostile Type can be 1 MiB). */
export function modelSource(value: string | undefined): string | undefined {
  return value === undefined || value.length <= TEXT_LIMITS.modelSource ? value : value.slice(0, TEXT_LIMITS.modelSource);
}

/** Counts chip status characters; group sizes and spaces vary per model, `-` can be filler (QUIRKS §8). */
function countChips(acs: string | undefined, mark: 'o' | 'x'): number | undefined {
  if (acs === undefined || acs.trim() === '') return undefined;
  let count = 0;
  for (const ch of acs) if (ch === mark) count++;
  return count;
}

/** Hashrate unit of chain_rateN and GHS keys; "GH" unless the firmware says otherwise. */
function rateToThs(value: number | undefined, unit: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  switch ((unit ?? 'GH').toUpperCase()) {
    case 'MH':
      return value / 1e6;
    case 'TH':
      return value;
    default:
      return value / 1000;
  }
}

function boardSlots(data: JsonObject): number[] {
  const populated: number[] = [];
  for (let n = 1; n <= MAX_SLOTS; n++) {
    if ((num(data[slotKey('chain_acn', n)]) ?? 0) > 0 || (num(data[slotKey('chain_rate', n)]) ?? 0) > 0) populated.push(n);
  }
  if (populated.length === 0) return [];
  // S9 numbers its chains 6..8; everything else starts at 1 (QUIRKS §8).
  const base = populated.every((n) => n >= 6) ? 6 : 1;
  const last = Math.max(base + MIN_BOARD_SLOTS - 1, ...populated);
  const slots: number[] = [];
  for (let n = base; n <= last; n++) slots.push(n);
  return slots;
}

function readBoard(data: JsonObject, n: number, unit: string | undefined, hydro: boolean, options: AntminerStatsOptions): BoardSample {
  const chipsFound = num(data[slotKey('chain_acn', n)]);
  const hashrateThs = rateToThs(num(data[slotKey('chain_rate', n)]), unit);
  const present = (chipsFound ?? 0) > 0 || (hashrateThs ?? 0) > 0;
  if (!present) return { index: n, present: false };

  const acs = text(data[slotKey('chain_acs', n)]);
  const hashing = (hashrateThs ?? 0) > 0;
  const pcbTemps = splitDashTemps(text(data[slotKey('temp_pcb', n)]));
  const chipTemps = splitDashTemps(text(data[slotKey('temp_chip', n)]));
  const board: BoardSample = {
    index: n,
    present: true,
    hashrateThs,
    chipsFound,
    // 'x' marks every chip while a board does not hash (S19 sleeping/overheated), so chip health only counts while hashing.
    chipsOk: hashing ? countChips(acs, 'o') : undefined,
    chipsBad: hashing && options.trustChipErrors ? countChips(acs, 'x') : undefined,
    // tempN / temp2_N are the firmware's board and chip readings; the dash-joined lists are the fallback.
    boardTempC: firstDefined(num(data[slotKey('temp', n)]), max(pcbTemps)),
    chipTempC: firstDefined(num(data[slotKey('temp2_', n)]), max(chipTemps)),
    hwErrors: num(data[slotKey('chain_hw', n)]),
    frequencyMhz: firstDefined(positive(data[slotKey('freq', n)]), positive(data[slotKey('freq_avg', n)])),
    powerW: positive(data[slotKey('chain_consumption', n)]),
  };
  if (hydro && chipTemps.length === 4) {
    // Hydro units report water temperatures in temp_chipN: first pair inlet, second pair outlet (PYASIC-295).
    board.inletTempC = max(chipTemps.slice(0, 2));
    board.outletTempC = max(chipTemps.slice(2, 4));
  }
  return compact(board);
}

function readFans(data: JsonObject, hydro: boolean): FanSample[] {
  if (hydro) return [];
  const fanCount = num(data.fan_num) ?? 0;
  const slots: Array<{ index: number; rpm: number }> = [];
  for (let n = 1; n <= MAX_SLOTS; n++) {
    const rpm = num(data[slotKey('fan', n)]);
    if (rpm !== undefined) slots.push({ index: n, rpm });
  }
  const spinning = slots.filter((s) => s.rpm > 0);
  // S17/S19 use fan1..fan_num, so a 0 there is a stopped fan; S9 uses fan5/fan6 with fan_num 2, where
  // slots up to fan_num are padding. Report the first fan_num slots only when every spinning fan lies there.
  if (fanCount > 0 && spinning.every((s) => s.index <= fanCount)) return slots.filter((s) => s.index <= fanCount);
  return spinning;
}

/** Reads a Bitmain-style `stats` reply. */
export function readAntminerStats(stats: JsonObject, options: AntminerStatsOptions): AntminerStatsReading {
  const entries = sectionOf(stats, 'STATS');
  const versionInfo = entries.find((e) => e.Type !== undefined || e.Miner !== undefined);
  const data = entries.find((e) => e.Elapsed !== undefined || e['GHS 5s'] !== undefined);
  if (!data) throw new DialectError('stats', 'STATS has no miner entry (no Elapsed / GHS 5s)');

  const unit = text(data.rate_unit);
  const hydro = /hyd/i.test(text(versionInfo?.Type) ?? '');
  const sleeping = num(data.Mode) === SLEEP_MODE;
  const boards = boardSlots(data).map((n) => readBoard(data, n, unit, hydro, options));
  const idealPerChain: Array<number | undefined> = [];
  for (let n = 1; n <= MAX_SLOTS; n++) idealPerChain.push(positive(data[slotKey('chain_rateideal', n)]));

  return {
    versionInfo,
    hashrateThs: rateToThs(num(data['GHS 5s']), unit),
    hashrateAvgThs: rateToThs(num(data['GHS av']), unit),
    nominalThs: rateToThs(firstDefined(positive(data.total_rateideal), sum(idealPerChain)), unit),
    uptimeS: num(data.Elapsed),
    hwErrors: sum(boards.map((b) => b.hwErrors)),
    powerW: sum(boards.map((b) => b.powerW)),
    sleeping,
    boards,
    fans: readFans(data, hydro),
  };
}

/**
 * Model from a messy Type string (QUIRKS §5): "Antminer S9\nV1.3.58" → "Antminer S9",
 * "Antminer S9 Pro (v5.1) " → "Antminer S9 Pro (v5.1)", "Antminer S9 (vnish 3.8.6)" → "Antminer S9",
 * "Antminer S19JPRO Hiveon" → "Antminer S19JPRO", "braiins-am1-s9" → "Antminer S9".
 */
export function cleanModel(raw: string | undefined): string | undefined {
  const type = modelSource(raw);
  if (type === undefined) return undefined;
  const braiins = /^braiins-am\d+-(s\d+\w*)$/i.exec(type.trim());
  if (braiins?.[1]) return `Antminer ${braiins[1].toUpperCase()}`;
  const firstLine = type.split(/\r?\n/)[0] ?? '';
  const cleaned = firstLine
    .replace(/\s*\(vnish[^)]*\)/i, '')
    .replace(/\s+hiveon\b/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned === '' ? undefined : cleaned;
}

/** VERSION[0] of a `version` reply, if any. */
export function versionEntry(replies: Replies): JsonObject | undefined {
  return firstOf(replies.version, 'VERSION');
}

export interface AntminerFamilySpec extends AntminerStatsOptions {
  family: FirmwareFamily;
  /** Firmware version text from VERSION[0] (may be undefined) and STATS[0]. */
  firmwareVersion(version: JsonObject | undefined, statsVersion: JsonObject | undefined, stats: JsonObject): string | undefined;
}

/** Full parse for Bitmain-style firmware: version + stats (+ summary, pools). */
export function parseAntminerReplies(replies: Replies, spec: AntminerFamilySpec): ParsedMiner {
  const stats = requireReply(replies, 'stats');
  const reading = readAntminerStats(stats, spec);
  const version = versionEntry(replies);
  const summary = firstOf(replies.summary, 'SUMMARY');

  const hashrateThs = firstDefined(ghsToThs(num(summary?.['GHS 5s'])), reading.hashrateThs);
  const hashrateAvgThs = firstDefined(ghsToThs(num(summary?.['GHS av'])), reading.hashrateAvgThs);
  const mode: MinerMode = reading.sleeping ? 'sleeping' : modeFromHashrate(hashrateThs);
  // Sleeping S17+/T17+ report every chain empty: no board data rather than three "missing" boards (QUIRKS §8).
  const boards = mode === 'sleeping' ? reading.boards.filter((b) => b.present) : reading.boards;

  return compact({
    vendor: 'antminer',
    firmware: spec.family,
    firmwareVersion: spec.firmwareVersion(version, reading.versionInfo, stats),
    model: cleanModel(firstDefined(text(version?.Type), text(reading.versionInfo?.Type))),
    mode,
    hashrateThs,
    hashrateAvgThs,
    nominalThs: reading.nominalThs,
    boards,
    fans: reading.fans,
    pools: parsePools(replies.pools),
    powerW: reading.powerW,
    efficiencyJth: mode === 'hashing' ? deriveEfficiency(reading.powerW, hashrateAvgThs ?? hashrateThs) : undefined,
    uptimeS: firstDefined(num(summary?.Elapsed), reading.uptimeS),
    hwErrors: firstDefined(num(summary?.['Hardware Errors']), reading.hwErrors),
  });
}

/** "BMMiner 2.0.0 / 16.8.1.3": the miner program and Bitmain's Miner build, as stock firmware reports them. */
export function bitmainVersionText(version: JsonObject | undefined, statsVersion: JsonObject | undefined): string | undefined {
  const source = version ?? statsVersion;
  if (!source) return undefined;
  const program = ['BMMiner', 'CGMiner', 'Cgminer'].find((key) => text(source[key]) !== undefined);
  const parts: string[] = [];
  if (program) parts.push(`${program} ${text(source[program])}`);
  const miner = text(source.Miner) ?? text(statsVersion?.Miner);
  if (miner) parts.push(miner);
  return parts.length > 0 ? parts.join(' / ') : undefined;
}

/** Firmware program key of a version object: which of BMMiner/CGMiner/Cgminer it carries. */
export function hasBitmainProgramKey(entry: JsonObject | undefined): boolean {
  return entry !== undefined && (entry.BMMiner !== undefined || entry.CGMiner !== undefined || entry.Cgminer !== undefined);
}

/** Bitmain-style firmware families told apart by their version objects (QUIRKS §5). */
export type BitmainFirmware = 'antminer-stock' | 'hiveon' | 'vnish' | 'luxos' | 'braiins-bmminer';

/**
 * Which Bitmain-style firmware produced these replies, or undefined when they don't say (e.g. Vnish S17+
 * `version` has neither Type nor Miner: the `stats` reply is needed).
 */
export function classifyBitmainFirmware(probe: Replies): BitmainFirmware | undefined {
  const statsEntries = sectionOf(probe.stats, 'STATS');
  const statsVersion = statsEntries.find((e) => e.Type !== undefined || e.Miner !== undefined);
  const statsData = statsEntries.find((e) => e.Elapsed !== undefined);
  const identities = [versionEntry(probe), statsVersion].filter((e): e is JsonObject => e !== undefined);
  const descriptions = Object.values(probe).map(statusDescription);

  if (identities.some((e) => e.LUXminer !== undefined) || descriptions.some((d) => d.startsWith('LUXminer'))) return 'luxos';
  const types = identities.map((e) => text(e.Type) ?? '');
  const programs = identities.map((e) => text(e.BMMiner) ?? '');
  if (types.some((t) => /vnish/i.test(t)) || identities.some((e) => e.Cgminer !== undefined) || statsData?.build_version !== undefined) {
    return 'vnish';
  }
  if (types.some((t) => /hiveon/i.test(t)) || programs.some((p) => /rwglr/i.test(p))) return 'hiveon';
  if (types.some((t) => /^braiins-am/i.test(t)) || programs.some((p) => /^bOS_/.test(p))) return 'braiins-bmminer';
  if (identities.some((e) => hasBitmainProgramKey(e) && /^antminer/i.test(text(e.Type) ?? ''))) return 'antminer-stock';
  return undefined;
}

/** Commands of every Bitmain-style dialect: `stats` carries boards, chips, temperatures and fans. */
const BITMAIN_COMMANDS = ['version', 'stats', 'summary', 'pools'] as const;

/** A dialect for firmware that keeps Bitmain's `stats` layout; `classifiedAs` is its classifyBitmainFirmware answer. */
export function bitmainStyleDialect(classifiedAs: BitmainFirmware, spec: AntminerFamilySpec & { vendor?: Vendor }): Dialect {
  const vendor = spec.vendor ?? 'antminer';
  return {
    family: spec.family,
    vendor,
    commands: BITMAIN_COMMANDS,
    requiredCommands: ['stats'],
    matches: (probe) => classifyBitmainFirmware(probe) === classifiedAs,
    parse: (replies) => ({ ...parseAntminerReplies(replies, spec), vendor }),
  };
}
