import { isObject, type JsonObject, type JsonValue, type MinerMode, type PoolSample, type PoolStatus } from '@flymining/shared';
import { MINER_LIMITS, TEXT_LIMITS } from '../../limits';
import { DialectError, type Replies } from '../types';

/** Shared readers for the cgminer-style replies every dialect gets. */

/** Decimal number text; each part can match in one way only, so a long non-number fails in linear time. */
const NUMBER_TEXT = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * A number, or a numeric string (QUIRKS §6: `"GHS 5s":"14046.04"`, `"Voltage":"9.90"`). `""`, `"-"`, nan/inf,
 * null and anything else non-numeric are missing, never 0; so is text longer than any number (hostile replies).
 */
export function num(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed.length > TEXT_LIMITS.number || !NUMBER_TEXT.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Like num, but a reading of 0 means "not reported" (padded slots, unmeasured sensors). */
export function positive(value: JsonValue | undefined): number | undefined {
  const n = num(value);
  return n !== undefined && n > 0 ? n : undefined;
}

export function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The data section of a reply, e.g. `STATS`, `POOLS`: always an array of objects (non-objects are skipped), at most
 * MINER_LIMITS.sectionEntries of them, so no reply can make a dialect loop over more.
 */
export function sectionOf(reply: JsonObject | undefined, name: string): JsonObject[] {
  const section = reply?.[name];
  if (Array.isArray(section)) {
    const entries: JsonObject[] = [];
    for (const entry of section) {
      if (entries.length >= MINER_LIMITS.sectionEntries) break;
      if (isObject(entry)) entries.push(entry);
    }
    return entries;
  }
  if (isObject(section)) return [section];
  return [];
}

/** First entry of a section, e.g. `SUMMARY[0]`. */
export function firstOf(reply: JsonObject | undefined, name: string): JsonObject | undefined {
  return sectionOf(reply, name)[0];
}

/** A required command's reply, or a DialectError naming the command. */
export function requireReply(replies: Replies, command: string): JsonObject {
  const reply = replies[command];
  if (!reply) throw new DialectError(command, 'no reply to a required command');
  return reply;
}

/** A required section, or a DialectError naming the command and the section. */
export function requireSection(replies: Replies, command: string, name: string): JsonObject {
  const entry = firstOf(requireReply(replies, command), name);
  if (!entry) throw new DialectError(command, `reply has no ${name} section`);
  return entry;
}

export const ghsToThs = (ghs: number | undefined): number | undefined => (ghs === undefined ? undefined : ghs / 1000);
export const mhsToThs = (mhs: number | undefined): number | undefined => (mhs === undefined ? undefined : mhs / 1e6);

export function sum(values: ReadonlyArray<number | undefined>): number | undefined {
  let total: number | undefined;
  for (const v of values) if (v !== undefined) total = (total ?? 0) + v;
  return total;
}

/** A loop, not Math.max(...values): spreading a long list throws RangeError. */
export function max(values: ReadonlyArray<number | undefined>): number | undefined {
  let found: number | undefined;
  for (const v of values) if (v !== undefined && (found === undefined || v > found)) found = v;
  return found;
}

/** First value that is defined. */
export function firstDefined<T>(...values: Array<T | undefined>): T | undefined {
  return values.find((v) => v !== undefined);
}

/** J/TH from power and hashrate; undefined unless both are known and the miner hashes. */
export function deriveEfficiency(powerW: number | undefined, hashrateThs: number | undefined): number | undefined {
  if (powerW === undefined || hashrateThs === undefined || powerW <= 0 || hashrateThs <= 0) return undefined;
  return powerW / hashrateThs;
}

/** "Is it hashing" from the short-window hashrate (averages lag, QUIRKS §10). */
export function modeFromHashrate(shortWindowThs: number | undefined): MinerMode {
  return shortWindowThs !== undefined && shortWindowThs > 0 ? 'hashing' : 'idle';
}

function poolStatus(value: JsonValue | undefined): PoolStatus {
  switch (typeof value === 'string' ? value.toLowerCase() : '') {
    case 'alive':
      return 'alive';
    case 'dead':
      return 'dead';
    case 'disabled':
      return 'disabled';
    default:
      return 'unknown';
  }
}

/** Unix seconds only: H:MM:SS strings are ages, and Avalon Q gives seconds since boot. */
function lastShareTimeMs(value: JsonValue | undefined): number | undefined {
  const seconds = typeof value === 'number' ? value : undefined;
  return seconds !== undefined && seconds > 1e9 ? seconds * 1000 : undefined;
}

/**
 * The cgminer POOLS section, common to all firmware. Unconfigured slots (empty URL) are skipped. The active pool
 * is the alive pool with the lowest Priority among those with Stratum Active (several pools can claim Stratum
 * Active at once: S17 Pro, Vnish dev-fee pools).
 */
export function parsePools(reply: JsonObject | undefined): PoolSample[] {
  const pools: PoolSample[] = [];
  let activePriority = Infinity;
  let activeIndex = -1;
  for (const entry of sectionOf(reply, 'POOLS')) {
    const url = text(entry.URL) ?? '';
    if (url === '') continue;
    const pool: PoolSample = {
      index: num(entry.POOL) ?? pools.length,
      url,
      user: text(entry.User) ?? '',
      status: poolStatus(entry.Status),
      active: false,
    };
    const accepted = num(entry.Accepted);
    const rejected = num(entry.Rejected);
    const stale = num(entry.Stale);
    const lastShare = lastShareTimeMs(entry['Last Share Time']);
    if (accepted !== undefined) pool.accepted = accepted;
    if (rejected !== undefined) pool.rejected = rejected;
    if (stale !== undefined) pool.stale = stale;
    if (lastShare !== undefined) pool.lastShareTime = lastShare;
    const priority = num(entry.Priority) ?? pool.index;
    const stratumActive = entry['Stratum Active'];
    if (pool.status === 'alive' && stratumActive !== false && priority < activePriority) {
      activePriority = priority;
      activeIndex = pools.length;
    }
    pools.push(pool);
  }
  const active = pools[activeIndex];
  if (active) active.active = true;
  return pools;
}

/** Drops undefined properties so samples compare and serialise cleanly. */
export function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

/** An object member, or undefined: the JSON APIs nest (`miner_stats.real_hashrate.last_5s`), any level may be missing. */
export function objectOf(value: JsonValue | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** Follows a path of keys through nested objects. */
export function pathOf(value: JsonValue | undefined, ...keys: string[]): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const key of keys) {
    const o = objectOf(current);
    if (!o) return undefined;
    current = o[key];
  }
  return current;
}

/** The objects of a list member, at most `limit` (MINER_LIMITS.sectionEntries by default); anything else is []. */
export function objectsOf(value: JsonValue | undefined, limit: number = MINER_LIMITS.sectionEntries): JsonObject[] {
  if (!Array.isArray(value)) return [];
  const out: JsonObject[] = [];
  for (const entry of value) {
    if (out.length >= limit) break;
    if (isObject(entry)) out.push(entry);
  }
  return out;
}

/** Numbers of a list member, at most `limit`; non-numbers are skipped. */
export function numbersOf(value: JsonValue | undefined, limit: number = MINER_LIMITS.chipsPerBoard): number[] {
  if (!Array.isArray(value)) return [];
  const out: number[] = [];
  for (const entry of value.slice(0, limit)) {
    const n = num(entry);
    if (n !== undefined) out.push(n);
  }
  return out;
}

/** A text member cut to `limit` characters ('' and non-text are undefined): serials, MACs, names. */
export function shortText(value: JsonValue | undefined, limit: number = TEXT_LIMITS.model): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, limit);
}

/** Longest identifier text passed on to boundSample, which drops (and counts) any over TEXT_LIMITS.identifier. */
const IDENTIFIER_CEILING = 65_536;

/**
 * A serial number, MAC or part name as given: never cut (a cut serial is another machine's), left for boundSample to
 * drop and count when over-long; '' and non-text are undefined.
 */
export function identifier(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' || trimmed.length > IDENTIFIER_CEILING ? undefined : trimmed;
}
