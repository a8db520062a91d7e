/**
 * The `new_api` layout of Antminer stock firmware: `stats`/`summary` over TCP 4028 with `"new_api":true`, and the same
 * bodies from the web CGI `stats.cgi`/`summary.cgi` (antminer-new-api/PROTOCOLS.md §2, antminer-cgi/PROTOCOLS.md §4).
 * `STATS[0].chain[]` per board with `temp_*` ARRAYS, `rate_*` in `rate_unit`, `sn`; `SUMMARY[0].status[]` per
 * subsystem with `s`/`w`/`e`/"" (empty = not applicable, e.g. fans on a hydro unit).
 */
import type { BoardSample, FanSample, FirmwareErrorSample, JsonObject, MinerMode, WaterSample } from '@flymining/shared';
import { MINER_LIMITS, TEXT_LIMITS } from '../../limits';
import { compact, firstOf, max, num, numbersOf, objectOf, objectsOf, positive, sectionOf, shortText, text, identifier } from '../common/values';

/** TH/s from a rate in `rate_unit` (GH/s on SHA-256 models, MH/s on scrypt ones). */
export function rateInThs(value: number | undefined, unit: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const u = (unit ?? 'GH/s').toUpperCase();
  if (u.startsWith('MH')) return value / 1e6;
  if (u.startsWith('TH')) return value;
  if (u.startsWith('KH')) return value / 1e9;
  return value / 1000;
}

function countMarks(chips: string | undefined, mark: string): number | undefined {
  if (chips === undefined || chips.trim() === '') return undefined;
  let count = 0;
  for (const ch of chips.slice(0, MINER_LIMITS.chipsPerBoard * 2)) if (ch === mark) count++;
  return count;
}

/** Zeros are "no sensor" (pyasic drops them before averaging). */
const readings = (value: JsonObject[keyof JsonObject] | undefined): number[] => numbersOf(value, 16).filter((t) => t !== 0);

export interface NewApiStatsReading {
  model?: string;
  firmwareVersion?: string;
  boards: BoardSample[];
  fans: FanSample[];
  hashrateThs?: number;
  hashrateAvgThs?: number;
  nominalThs?: number;
  powerW?: number;
  uptimeS?: number;
  water?: WaterSample;
  hydro: boolean;
}

/** True when `stats` came back in the new_api shape: one STATS entry with a `chain` array. */
export function isNewApiStats(reply: JsonObject | undefined): boolean {
  const entries = sectionOf(reply, 'STATS');
  return entries.length === 1 && Array.isArray(entries[0]?.chain);
}

export function readNewApiStats(reply: JsonObject): NewApiStatsReading {
  const info = objectOf(reply.INFO);
  const model = shortText(info?.type, TEXT_LIMITS.modelSource)?.slice(0, TEXT_LIMITS.model);
  const hydro = /\bhyd/i.test(model ?? '');
  const data = firstOf(reply, 'STATS') ?? {};
  const unit = text(data.rate_unit);
  const boards = objectsOf(data.chain, MINER_LIMITS.boards).map((chain, position): BoardSample => {
    const hashrateThs = rateInThs(num(chain.rate_real), unit);
    const chipsFound = num(chain.asic_num);
    const hashing = (hashrateThs ?? 0) > 0;
    const asic = text(chain.asic);
    const pcb = numbersOf(chain.temp_pcb, 16);
    const board: BoardSample = {
      index: num(chain.index) ?? position,
      present: (chipsFound ?? 0) > 0 || hashing,
      hashrateThs,
      chipsFound,
      chipsOk: hashing ? countMarks(asic, 'o') : undefined,
      chipsBad: hashing ? countMarks(asic, 'x') : undefined,
      boardTempC: max(readings(chain.temp_pcb)),
      chipTempC: max(readings(chain.temp_chip)),
      frequencyMhz: positive(chain.freq_avg),
      hwErrors: num(chain.hw),
      serial: identifier(chain.sn),
    };
    if (hydro && pcb.length >= 3) {
      // Hydro: temp_pcb[0] is the water inlet side, temp_pcb[2] the outlet side (pyasic, PROTOCOLS.md §2).
      board.inletTempC = positive(pcb[0]);
      board.outletTempC = positive(pcb[2]);
    }
    return compact(board);
  });
  const fanRpms = numbersOf(data.fan, MINER_LIMITS.fans);
  const inlets = boards.map((b) => b.inletTempC).filter((t): t is number => t !== undefined);
  const outlets = boards.map((b) => b.outletTempC).filter((t): t is number => t !== undefined);
  const water = hydro && (inlets.length > 0 || outlets.length > 0) ? compact<WaterSample>({ inletTempC: inlets.length ? Math.min(...inlets) : undefined, outletTempC: max(outlets) }) : undefined;
  return compact<NewApiStatsReading>({
    model,
    firmwareVersion: shortText(info?.CompileTime, TEXT_LIMITS.firmwareVersion),
    boards,
    // Numbered from 1 as the classic `stats` (fan1..fanN) and the web UI number them: a fan's fault keeps its part.
    fans: hydro ? [] : fanRpms.map((rpm, index) => ({ index: index + 1, rpm })),
    hashrateThs: rateInThs(num(data.rate_5s), unit),
    hashrateAvgThs: rateInThs(num(data.rate_avg), unit),
    nominalThs: rateInThs(positive(data.rate_ideal), unit),
    powerW: positive(data.watt) ?? positive(data.power),
    uptimeS: num(data.elapsed),
    water,
    hydro,
  });
}

export interface NewApiSummaryReading {
  hashrateThs?: number;
  hashrateAvgThs?: number;
  nominalThs?: number;
  uptimeS?: number;
  hwErrors?: number;
  firmwareErrors?: FirmwareErrorSample[];
}

/**
 * `SUMMARY[0]`: rates and the `status` array. Entries `e` and `w` become firmware errors coded `<type>:<code>`
 * (no public table of the numbers exists; error-codes/PROTOCOLS.md §4), with `msg` as given.
 */
export function readNewApiSummary(reply: JsonObject): NewApiSummaryReading {
  const s = firstOf(reply, 'SUMMARY') ?? {};
  const unit = text(s.rate_unit);
  const statusList = s.status;
  let firmwareErrors: FirmwareErrorSample[] | undefined;
  if (Array.isArray(statusList)) {
    firmwareErrors = [];
    for (const entry of objectsOf(statusList, MINER_LIMITS.firmwareErrors)) {
      const state = typeof entry.status === 'string' ? entry.status.toLowerCase() : '';
      if (state !== 'e' && state !== 'w') continue;
      const type = shortText(entry.type, 32) ?? 'unknown';
      const code = num(entry.code);
      firmwareErrors.push({
        code: `${type}:${code ?? ''}`,
        text: typeof entry.msg === 'string' ? entry.msg.slice(0, TEXT_LIMITS.statusMessage) : '',
        component: type,
        level: state === 'w' ? 'warning' : 'error',
      });
    }
  }
  return compact<NewApiSummaryReading>({
    hashrateThs: rateInThs(num(s.rate_5s), unit),
    hashrateAvgThs: rateInThs(num(s.rate_avg), unit),
    nominalThs: rateInThs(positive(s.rate_ideal), unit),
    uptimeS: num(s.elapsed),
    hwErrors: num(s.hw_all),
    firmwareErrors,
  });
}

export function newApiMode(hashrateThs: number | undefined): MinerMode {
  return hashrateThs !== undefined && hashrateThs > 0 ? 'hashing' : 'idle';
}
