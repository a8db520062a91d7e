/** Pieces every dialect's replies share: the STATUS envelope, error replies and value formatting helpers. */
import type { SimProfile } from '../catalog';
import { fixed, writeJson, type Fixed, type WireObject, type WireValue, type WriteOptions } from '../json';
import type { MinerReading, SimMiner } from '../miner';

export interface ReplyContext {
  miner: SimMiner;
  profile: SimProfile;
  reading: MinerReading;
  /** The STATUS `When` value (unix seconds, or seconds since boot on Avalon). */
  when: number;
  /** The request's other members (stock S19-era firmware reads a top-level `"new_api": true`). */
  request?: Readonly<Record<string, unknown>>;
}

/** What a command produces: the reply bytes before the NUL, and whether the miner sends a NUL after them. */
export interface ReplyText {
  text: string;
  nul: boolean;
}

/** One firmware family's reply writer. */
export interface DialectWriter {
  /** STATUS `Description`. */
  description(profile: SimProfile): string;
  /** Key order of serde-based firmware is alphabetical. */
  writeOptions: WriteOptions;
  /** STATUS `When` for a reading (defaults to the unix time). */
  when?(reading: MinerReading): number;
  /** Report commands; a builder returns the full reply JSON. */
  commands: Readonly<Record<string, (ctx: ReplyContext) => string>>;
  /** A reply that replaces a command's normal answer (e.g. btminer's text while the miner process is off). */
  override?(ctx: ReplyContext, command: string): ReplyText | undefined;
  /**
   * Requests beyond the report commands that this firmware answers itself: its write commands (when its API grants
   * them), sessions, encrypted frames. Called before the envelope checks with the request's members; undefined =
   * not one of them (privileged commands then get cgminer's refusal, 45).
   */
  control?(ctx: ReplyContext, command: string | undefined, request: Readonly<Record<string, unknown>>): ReplyText | undefined;
}

export function statusObject(
  letter: 'S' | 'I' | 'W' | 'E' | 'F',
  when: number,
  code: number,
  msg: string,
  description: string,
): WireObject {
  return { STATUS: letter, When: when, Code: code, Msg: msg, Description: description };
}

/** `{"STATUS":[{...}],"<SECTION>":[...],"id":1}`, the normal cgminer reply. */
export function sectionReply(
  ctx: ReplyContext,
  writer: DialectWriter,
  code: number,
  msg: string,
  section: string,
  items: WireObject[],
): string {
  const status = statusObject('S', ctx.when, code, msg, writer.description(ctx.profile));
  return writeJson({ STATUS: [status], [section]: items, id: 1 }, writer.writeOptions);
}

export function errorReply(when: number, code: number, msg: string, description: string): string {
  return writeJson({ STATUS: [statusObject('E', when, code, msg, description)], id: 1 });
}

/** cgminer prints most doubles with 2 decimals. */
export const f2 = (v: number): Fixed => fixed(v, 2);
/** ... percentages and MH totals with 4 ... */
export const f4 = (v: number): Fixed => fixed(v, 4);
/** ... and difficulties with 8. */
export const f8 = (v: number): Fixed => fixed(v, 8);
/** `"Wait":0.000000`-style doubles. */
export const f6 = (v: number): Fixed => fixed(v, 6);
/** serde (bosminer) prints whole floats as `53.0`, others at full precision. */
export const serdeFloat = (v: number): number | Fixed => (Number.isInteger(v) ? fixed(v, 1) : v);

/** Share difficulty the way cgminer abbreviates it ("524K", "65.5K"). */
export function shortDifficulty(d: number): string {
  if (d <= 0) return '';
  if (d >= 1000) {
    const k = d / 1000;
    return `${k >= 100 ? Math.round(k) : Number(k.toFixed(1))}K`;
  }
  return String(d);
}

/** Seconds as cgminer's "H:MM:SS" pool `Last Share Time`; "0" when there was no share. */
export function clockTime(seconds: number | null): string {
  if (seconds === null) return '0';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/**
 * chain_acsN: one character per found chip, 'o' healthy, 'x' bad, grouped with a leading space
 * (" ooo ooo ..."). Bad chips are spread over the chain, as failures rarely sit side by side.
 */
export function chipStatusString(found: number, bad: number, group: number, allBad: boolean): string {
  if (found <= 0) return '';
  const chars = new Array<string>(found).fill(allBad ? 'x' : 'o');
  if (!allBad) {
    for (let k = 0; k < bad; k++) chars[Math.min(found - 1, Math.floor(((k + 0.5) * found) / bad))] = 'x';
  }
  let out = '';
  for (let i = 0; i < found; i += group) out += ' ' + chars.slice(i, i + group).join('');
  return out;
}

/** A short stable hex id derived from the miner id (miner_id, DNA, MAC ...). */
export function stableHex(label: string, length: number): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  let out = '';
  while (out.length < length) {
    for (let i = 0; i < label.length; i++) {
      h1 = Math.imul(h1 ^ label.charCodeAt(i), 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ (h1 >>> 7), 0x85ebca6b) >>> 0;
    }
    out += h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
    h1 ^= h2;
  }
  return out.slice(0, length);
}

export function macFromId(label: string): string {
  return (stableHex(label, 12).match(/../g) ?? []).join(':').toUpperCase();
}

/** Unix seconds of the reading. */
export function unixSeconds(reading: MinerReading): number {
  return Math.floor(reading.nowMs / 1000);
}

export const round2 = (v: number): number => Math.round(v * 100) / 100;

/** How one firmware line writes the cgminer POOLS entries. */
export interface PoolFormat {
  /** POOL numbering starts at 1 on btminer (QUIRKS §8). */
  firstIndex: number;
  /** Doubles: printf'd with 8 decimals on cgminer 4.x, full precision on S19 bmminer. */
  diff(v: number): WireValue;
  pct(v: number): WireValue;
  bestShare(v: number): WireValue;
  /** "0:00:03" on bmminer, a unix time on btminer, seconds since boot on Avalon. */
  lastShareTime(agoS: number | null, r: MinerReading): WireValue;
  /** Stock S19 spells it "Pool Stale%%" (QUIRKS §6). */
  staleKey: 'Pool Stale%' | 'Pool Stale%%';
  /** cgminer 4.10+ adds Works, Work/Stratum Difficulty, Bad Work and the block fields, and drops Diff. */
  extended: boolean;
  /** Firmware-specific keys appended to every entry (Vnish "Boost"). */
  extraFields?: WireObject;
}

export function poolEntries(r: MinerReading, format: PoolFormat): WireObject[] {
  return r.pools.map((pool, i) => {
    const item: WireObject = {
      POOL: i + format.firstIndex,
      URL: pool.url,
      Status: pool.alive ? 'Alive' : 'Dead',
      Priority: i,
      Quota: 1,
      'Long Poll': 'N',
      Getworks: pool.getworks,
      Accepted: pool.accepted,
      Rejected: pool.rejected,
    };
    if (format.extended) item.Works = pool.getworks * 4096;
    Object.assign(item, {
      Discarded: pool.active ? pool.getworks * 1140 : 0,
      Stale: pool.stale,
      'Get Failures': pool.alive ? 0 : 3,
      'Remote Failures': 0,
      User: pool.user,
      'Last Share Time': format.lastShareTime(pool.lastShareAgoS, r),
    });
    if (!format.extended) item.Diff = shortDifficulty(pool.difficulty);
    Object.assign(item, {
      'Diff1 Shares': 0,
      'Proxy Type': '',
      Proxy: '',
      'Difficulty Accepted': format.diff(pool.accepted * pool.difficulty),
      'Difficulty Rejected': format.diff(pool.rejected * pool.difficulty),
      'Difficulty Stale': format.diff(0),
      'Last Share Difficulty': format.diff(pool.difficulty),
    });
    if (format.extended) item['Work Difficulty'] = format.diff(pool.difficulty);
    Object.assign(item, {
      'Has Stratum': true,
      'Stratum Active': pool.active,
      'Stratum URL': pool.active ? pool.url.replace(/^stratum\+tcp:\/\//, '').replace(/:\d+$/, '') : '',
    });
    if (format.extended) item['Stratum Difficulty'] = format.diff(pool.difficulty);
    Object.assign(item, {
      'Has GBT': false,
      'Best Share': format.bestShare(pool.active ? r.bestShare : 0),
      'Pool Rejected%': format.pct(pool.accepted + pool.rejected > 0 ? (pool.rejected / (pool.accepted + pool.rejected)) * 100 : 0),
      [format.staleKey]: format.pct(0),
    });
    if (format.extended) {
      Object.assign(item, { 'Bad Work': 0, 'Current Block Height': pool.active ? 668600 : 0, 'Current Block Version': 536870912 });
    }
    if (format.extraFields) Object.assign(item, format.extraFields);
    return item;
  });
}

/** The cgminer 4.x defaults (printf'd doubles); dialects override what differs. */
export const CGMINER4_POOLS: PoolFormat = {
  firstIndex: 0,
  diff: f8,
  pct: f4,
  bestShare: (v) => v,
  lastShareTime: (ago) => clockTime(ago),
  staleKey: 'Pool Stale%',
  extended: false,
};

export function poolsReply(ctx: ReplyContext, writer: DialectWriter, format: PoolFormat): string {
  const items = poolEntries(ctx.reading, format);
  return sectionReply(ctx, writer, 7, `${items.length} Pool(s)`, 'POOLS', items);
}
