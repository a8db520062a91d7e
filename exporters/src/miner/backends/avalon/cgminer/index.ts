import type { BoardSample, FanSample, JsonObject, MinerMode } from '@flymining/shared';
import type { Dialect, ParsedMiner, Replies } from '../../types';
import { DialectError } from '../../types';
import {
  compact,
  deriveEfficiency,
  firstDefined,
  firstOf,
  ghsToThs,
  mhsToThs,
  num,
  parsePools,
  positive,
  requireReply,
  sectionOf,
  sum,
  text,
} from '../../common/values';
import { MINER_LIMITS } from '../../../limits';

/**
 * Canaan Avalon (QUIRKS §8-§10): all telemetry sits in `"MM IDn"` strings of `Key[value]` pairs. Older
 * controllers (741/8xx) list one module per MM ID (one board each); 10xx/12xx units have one MM ID with
 * per-board lists (`MGHS[a b]`, `MTmax[a b]`); Avalon Q uses `"MM ID0:Summary"` with a `'STATS':{…}` wrapper
 * and a separate `"HBinfo"` (`'HB0':{…}`).
 */

/** Fields of one MM ID string, e.g. { Ver: '1047-…', MGHS: '18727.58 18507.76' }. */
export type ModuleFields = Record<string, string>;

/**
 * Parses `Key[value] Key2[value]` text. Handles glued pairs (`Elapsed[103840]BOOTBY[1]`), keys with spaces
 * (`Nonce Mask[25]`) and the Avalon Q wrappers (`'STATS':{`, `'HB0':{`, closing `}`). One pass over the text (a
 * lazy-key regex was quadratic on text without brackets), at most MINER_LIMITS.moduleFields fields, and no key can
 * reach a prototype (the result has none).
 */
export function parseModuleFields(value: string): ModuleFields {
  const fields = Object.create(null) as ModuleFields;
  let count = 0;
  let pos = 0;
  while (pos < value.length && count < MINER_LIMITS.moduleFields) {
    // A key is the text up to the next bracket; it must be non-empty and end at '['.
    let open = pos;
    while (open < value.length && value[open] !== '[' && value[open] !== ']') open++;
    if (open >= value.length) break;
    if (value[open] === ']' || open === pos) {
      pos = open + 1;
      continue;
    }
    const close = value.indexOf(']', open + 1);
    if (close < 0) break;
    const key = moduleKey(value.slice(pos, open));
    if (key !== '') {
      fields[key] = value.slice(open + 1, close);
      count++;
    }
    pos = close + 1;
  }
  return fields;
}

/** The key before `[`, without an Avalon Q wrapper in front of it (`'STATS':{Ver` is `Ver`). */
function moduleKey(raw: string): string {
  const brace = raw.lastIndexOf('{');
  return (brace >= 0 && !/[\r\n\u2028\u2029]/.test(raw.slice(0, brace)) ? raw.slice(brace + 1) : raw).trim();
}

/** Space-separated numbers inside a field: `MGHS[18727.58 18507.76]`, `PVT_T0[ 70  69 …]`; one per chip at most. */
function numbers(field: string | undefined): number[] {
  if (field === undefined) return [];
  const found: number[] = [];
  for (const match of field.matchAll(/\S+/g)) {
    if (found.length >= MINER_LIMITS.chipsPerBoard) break;
    const n = num(match[0]);
    if (n !== undefined) found.push(n);
  }
  return found;
}

const fieldNumber = (field: string | undefined): number | undefined => num(field?.replace(/%$/, '').trim());

/** Every MM ID module in a `stats` reply, with the HBinfo of its STATS entry merged in (Avalon Q). */
export function readModules(stats: JsonObject | undefined): ModuleFields[] {
  const modules: ModuleFields[] = [];
  for (const entry of sectionOf(stats, 'STATS')) {
    const start = modules.length;
    for (const [key, value] of Object.entries(entry)) {
      // Every module carries at least one board: more modules than boards is no real controller.
      if (modules.length >= MINER_LIMITS.boards) break;
      if (/^MM ID\d+/.test(key) && typeof value === 'string') modules.push(parseModuleFields(value));
    }
    const boardInfo = text(entry.HBinfo);
    const last = modules[modules.length - 1];
    if (boardInfo !== undefined && last !== undefined && modules.length > start) Object.assign(last, parseModuleFields(boardInfo));
  }
  return modules;
}

/** "AvalonMiner 1047" from Ver[1047-…], "AvalonMiner 741" from Ver[7411706-…], "Avalon Q" from Ver[Q-…]. */
function modelFromVer(ver: string | undefined): string | undefined {
  if (ver === undefined) return undefined;
  const modern = /^(\d{4})-/.exec(ver);
  if (modern?.[1]) return `AvalonMiner ${modern[1]}`;
  const legacy = /^(\d{3})\d{4}-/.exec(ver);
  if (legacy?.[1]) return `AvalonMiner ${legacy[1]}`;
  const letter = /^([A-Z])-/.exec(ver);
  return letter?.[1] ? `Avalon ${letter[1]}` : undefined;
}

/** Modules of 10xx and later describe several boards; 741/8xx modules are one board each. */
function isMultiBoard(module: ModuleFields): boolean {
  return module.MGHS !== undefined || module.SYSTEMSTATU !== undefined;
}

/** Boards of a multi-board module: declared or listed, never more than a miner can hold (a reply said 99999999). */
function boardCount(module: ModuleFields): number {
  const declared = /Hash Board:\s*(\d+)/.exec(module.SYSTEMSTATU ?? '');
  return Math.min(Math.max(declared?.[1] ? Number(declared[1]) : 0, numbers(module.MGHS).length), MINER_LIMITS.boards);
}

function readBoards(modules: ModuleFields[], hashing: boolean): BoardSample[] {
  const boards: BoardSample[] = [];
  for (const module of modules) {
    if (boards.length >= MINER_LIMITS.boards) break;
    if (!isMultiBoard(module)) {
      // One module, one board: GHSmm is the module's own rate report on this generation.
      boards.push(
        compact({
          index: boards.length,
          present: true,
          hashrateThs: ghsToThs(fieldNumber(module.GHSmm)),
          chipTempC: positive(fieldNumber(module.TMax)),
          hwErrors: fieldNumber(module.HW),
          frequencyMhz: positive(fieldNumber(module.Freq)),
        }),
      );
      continue;
    }
    const rates = numbers(module.MGHS);
    const chipMax = numbers(module.MTmax);
    const count = Math.min(boardCount(module), MINER_LIMITS.boards - boards.length);
    for (let i = 0; i < count; i++) {
      const chipTemps = numbers(module[`PVT_T${i}`]);
      boards.push(
        compact({
          index: boards.length,
          present: true,
          // MGHS is an average since start: stale once the unit stops, so only reported while it hashes.
          hashrateThs: hashing ? ghsToThs(rates[i]) : undefined,
          chipsFound: chipTemps.length > 0 ? chipTemps.length : undefined,
          chipTempC: positive(chipMax[i]),
        }),
      );
    }
  }
  return boards;
}

function readFans(modules: ModuleFields[]): FanSample[] {
  const fans: FanSample[] = [];
  modules.forEach((module, moduleIndex) => {
    const percent = fieldNumber(module.FanR);
    const add = (index: number, rpm: number | undefined): void => {
      // Unused or stopped-while-idle slots read 0 (Avalon Q idle): only spinning fans are reported.
      if (rpm !== undefined && rpm > 0) fans.push(compact({ index, rpm, percent }));
    };
    if (module.Fan !== undefined) add(moduleIndex, fieldNumber(module.Fan));
    for (let n = 1; n <= 8; n++) add(n, fieldNumber(module[`Fan${n}`]));
  });
  return fans;
}

function readMode(modules: ModuleFields[], hashrateThs: number | undefined): MinerMode {
  const status = modules.map((m) => m.SYSTEMSTATU ?? '').find((s) => s !== '') ?? '';
  if (/In Idle/i.test(status)) {
    // Soft-off (`ascset|0,softoff`) leaves SoftOffTime later than SoftOnTime: a deliberate sleep.
    // SoftOFF[n] with n > 0 is the soft-off state itself (the Avalon Q capture idles with SoftOFF[4]).
    const softOff = modules.some(
      (m) => (fieldNumber(m.SoftOffTime) ?? 0) > (fieldNumber(m.SoftOnTime) ?? 0) || (fieldNumber(m.SoftOFF) ?? 0) > 0,
    );
    return softOff ? 'sleeping' : 'idle';
  }
  if (hashrateThs !== undefined) return hashrateThs > 0 ? 'hashing' : 'idle';
  // 10xx without `summary` gives only averages; the firmware's own work state is the best short-term signal.
  return /In Work/i.test(status) ? 'hashing' : 'idle';
}

/** `WORKLEVEL[n]` as `ascset|0,worklevel,set,n` sets it: 0 low, 1 normal, 2 high. */
function workLevelName(level: number | undefined): string | undefined {
  return level === undefined ? undefined : ['low', 'normal', 'high'][level];
}

function parseAvalon(replies: Replies): ParsedMiner {
  const modules = readModules(requireReply(replies, 'stats'));
  if (modules.length === 0) throw new DialectError('stats', 'no "MM ID" module entries in STATS');
  const summary = firstOf(replies.summary, 'SUMMARY');
  const version = firstOf(replies.version, 'VERSION');
  const multiBoard = modules.some(isMultiBoard);

  const summaryRate = mhsToThs(firstDefined(num(summary?.['MHS 5s']), num(summary?.['MHS 30s']), num(summary?.['MHS 1m'])));
  const moduleRate = (key: string): number | undefined => ghsToThs(sum(modules.map((m) => fieldNumber(m[key]))));
  const hashrateThs = firstDefined(summaryRate, moduleRate('GHSspd'), multiBoard ? undefined : moduleRate('GHSmm'));
  const mode = readMode(modules, hashrateThs);
  const powerW = sum(modules.map((m) => positive(numbers(m.PS)[4])));
  const hashrateAvgThs = firstDefined(mhsToThs(num(summary?.['MHS av'])), moduleRate('GHSavg'));
  const models = [...new Set(modules.map((m) => modelFromVer(m.Ver)).filter((m): m is string => m !== undefined))];
  // Mixed controllers (841 and 821 modules) read "AvalonMiner 841/821".
  const model = models.length === 0 ? undefined : models.map((m, i) => (i === 0 ? m : m.replace(/^AvalonMiner /, ''))).join('/');
  const statsElapsed = sectionOf(replies.stats, 'STATS').map((e) => num(e.Elapsed)).find((e) => e !== undefined);

  return compact({
    vendor: 'avalon',
    firmware: 'avalon',
    firmwareVersion: firstDefined(modules[0]?.Ver, text(version?.CGVERSION)),
    model: firstDefined(text(version?.PROD), model),
    mode,
    hashrateThs,
    hashrateAvgThs,
    // Newer units report the expected rate as GHSmm (pyasic's expected hashrate); on 741/8xx it is the live rate.
    nominalThs: multiBoard ? moduleRate('GHSmm') : undefined,
    boards: readBoards(modules, mode === 'hashing'),
    fans: readFans(modules),
    pools: parsePools(replies.pools),
    powerW,
    efficiencyJth: mode === 'hashing' ? deriveEfficiency(powerW, hashrateAvgThs ?? hashrateThs) : undefined,
    uptimeS: firstDefined(num(summary?.Elapsed), statsElapsed),
    hwErrors: firstDefined(num(summary?.['Hardware Errors']), sum(modules.map((m) => fieldNumber(m.HW)))),
    ambientTempC: firstDefined(fieldNumber(modules[0]?.ITemp), fieldNumber(modules[0]?.Temp)),
    workMode: workLevelName(fieldNumber(modules[0]?.WORKLEVEL)),
  });
}

function isAvalon(probe: Replies): boolean {
  const version = firstOf(probe.version, 'VERSION');
  if (version && (version.PROD !== undefined || version.HWTYPE !== undefined)) return true;
  return sectionOf(probe.stats, 'STATS').some((entry) => Object.keys(entry).some((key) => /^MM ID\d+/.test(key)));
}

export const avalon: Dialect = {
  family: 'avalon',
  vendor: 'avalon',
  commands: ['version', 'summary', 'stats', 'pools'],
  requiredCommands: ['stats'],
  matches: isAvalon,
  parse: parseAvalon,
};
