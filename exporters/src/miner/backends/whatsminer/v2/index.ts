import { isObject, type BoardSample, type FanSample, type JsonObject, type MinerMode } from '@flymining/shared';
import type { Dialect, ParsedMiner, Replies } from '../../types';
import { statusDescription } from '../../../envelope';
import {
  compact,
  deriveEfficiency,
  firstDefined,
  firstOf,
  ghsToThs,
  mhsToThs,
  modeFromHashrate,
  num,
  parsePools,
  positive,
  requireSection,
  sectionOf,
  text,
} from '../../common/values';

/**
 * MicroBT Whatsminer (btminer, API 1.x/2.x on port 4028). Hashrates in MH/s, `Factory GHS` in GH/s (QUIRKS §6);
 * fans as `Fan Speed In`/`Fan Speed Out` (§7); boards in `devs`/`edevs`, or in `stats` SM entries on 2018-2019
 * firmware; sleep from `status` (`btmineroff`/`mineroff`, §10). `status`/`get_version` use the Msg-object
 * envelope (Code 131, §4.2).
 */

/** `Msg` object of an API 2.x reply (`status`, `get_version`, `get_psu`). */
export function whatsminerMessage(reply: JsonObject | undefined): JsonObject | undefined {
  const message = reply?.Msg;
  return isObject(message) ? message : undefined;
}

/** True when `status` says the mining process is off (`btmineroff` on API 1.3/1.4, `mineroff` later). */
export function whatsminerMiningOff(status: JsonObject | undefined): boolean | undefined {
  const message = whatsminerMessage(status);
  const flag = text(message?.btmineroff) ?? text(message?.mineroff);
  return flag === undefined ? undefined : flag.toLowerCase() === 'true';
}

/** Firmware versions are quoted inside the value: "'20201202.22.REL'". An index scan: `/'+$/` is quadratic on `''''…x`. */
function unquoteVersion(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let start = 0;
  let end = value.length;
  while (start < end && value[start] === "'") start++;
  while (end > start && value[end - 1] === "'") end--;
  const cleaned = value.slice(start, end).trim();
  return cleaned === '' ? undefined : cleaned;
}

function boardsFromDevs(devs: JsonObject[]): BoardSample[] {
  return devs.map((dev, i) => {
    const hashrateThs = mhsToThs(num(dev['MHS 5s']));
    return compact({
      index: num(dev.Slot) ?? num(dev.ID) ?? i,
      present: text(dev.Status) === 'Alive' || (hashrateThs ?? 0) > 0,
      hashrateThs,
      chipsFound: num(dev['Effective Chips']),
      boardTempC: positive(dev.Temperature),
      chipTempC: positive(dev['Chip Temp Max']),
      hwErrors: num(dev['Hardware Errors']),
      frequencyMhz: positive(dev['Chip Frequency']),
    });
  });
}

/** 2018-2019 firmware: one `SMn` entry per board in `stats` (POOLn entries follow). */
function boardsFromStats(stats: JsonObject | undefined): BoardSample[] {
  return sectionOf(stats, 'STATS')
    .filter((entry) => /^SM\d+$/.test(text(entry.ID) ?? ''))
    .map((entry, i) => {
      const chipsFound = num(entry.chip_num);
      return compact({
        index: num(entry.slot) ?? i,
        present: (chipsFound ?? 0) > 0,
        chipsFound,
        chipsOk: num(entry.ok_chips),
        chipsBad: num(entry.err_chips),
        boardTempC: positive(entry.temp_now_max),
        frequencyMhz: positive(entry.freqs_avg),
      });
    });
}

function readFans(summary: JsonObject): FanSample[] {
  if (summary['Liquid Cooling'] === true) return [];
  // Both are physical fans: a 0 here is a stopped or missing fan (M31S "Fan Speed Out":0, QUIRKS §7).
  const fans: FanSample[] = [];
  const inlet = num(summary['Fan Speed In']);
  const outlet = num(summary['Fan Speed Out']);
  if (inlet !== undefined) fans.push({ index: 0, rpm: inlet });
  if (outlet !== undefined) fans.push({ index: 1, rpm: outlet });
  return fans;
}

function parseWhatsminer(replies: Replies): ParsedMiner {
  if (!replies.summary && whatsminerMiningOff(replies.status) === true) {
    // Asleep, btminer's cgminer side is down and answers "Socket connect failed" (QUIRKS §1.7, §10); only the
    // API-2 `status`/`get_version` still answer. That is a sleeping miner, not a broken one.
    return compact({
      vendor: 'whatsminer',
      firmware: 'whatsminer',
      firmwareVersion: unquoteVersion(text(whatsminerMessage(replies.get_version)?.fw_ver)),
      mode: 'sleeping',
      hashrateThs: 0,
      boards: [],
      fans: [],
      pools: [],
    });
  }
  const summary = requireSection(replies, 'summary', 'SUMMARY');
  const devs = sectionOf(replies.devs ?? replies.edevs, 'DEVS');
  const hashrateThs = mhsToThs(firstDefined(num(summary['MHS 5s']), num(summary['MHS 1m'])));
  const hashrateAvgThs = mhsToThs(num(summary['MHS av']));
  // The hashrate decides: fw 20210322 says btmineroff "true" in the same second its summary shows 70 TH/s.
  const miningOff = whatsminerMiningOff(replies.status);
  const mode: MinerMode = (hashrateThs ?? 0) > 0 ? 'hashing' : miningOff === true ? 'sleeping' : modeFromHashrate(hashrateThs);
  const powerW = positive(firstDefined(summary.Power, summary.Power_RT));
  const firmwareVersion = unquoteVersion(
    firstDefined(
      text(summary['Firmware Version']),
      text(whatsminerMessage(replies.get_version)?.fw_ver),
      text(whatsminerMessage(replies.status)?.['Firmware Version']),
    ),
  );

  return compact({
    vendor: 'whatsminer',
    firmware: 'whatsminer',
    firmwareVersion,
    mode,
    hashrateThs,
    hashrateAvgThs,
    nominalThs: firstDefined(ghsToThs(positive(summary['Factory GHS'])), mhsToThs(positive(summary['Target MHS']))),
    boards: devs.length > 0 ? boardsFromDevs(devs) : boardsFromStats(replies.stats),
    fans: readFans(summary),
    pools: parsePools(replies.pools),
    powerW,
    efficiencyJth:
      mode === 'hashing' ? firstDefined(positive(summary['Power Rate']), deriveEfficiency(powerW, hashrateAvgThs ?? hashrateThs)) : undefined,
    uptimeS: num(summary.Elapsed),
    hwErrors: num(summary['Hardware Errors']),
    ambientTempC: num(summary['Env Temp']),
    // "Low" / "Normal" / "High" (set_low_power …) and the power limit the firmware holds to.
    workMode: text(summary['Power Mode'])?.toLowerCase(),
    powerTargetW: positive(summary['Power Limit']),
  });
}

function isWhatsminer(probe: Replies): boolean {
  const summary = firstOf(probe.summary, 'SUMMARY');
  if (summary && (summary['Fan Speed In'] !== undefined || summary['Firmware Version'] !== undefined)) return true;
  const descriptions = Object.values(probe).map(statusDescription);
  return descriptions.some((d) => d === 'btminer' || d.startsWith('whatsminer'));
}

export const whatsminer: Dialect = {
  family: 'whatsminer',
  vendor: 'whatsminer',
  commands: ['summary', 'devs', 'pools', 'status', 'get_version'],
  // summary is required unless status says mining is off (see parseWhatsminer); the scraper fails a scrape
  // in which no command answered at all.
  requiredCommands: [],
  matches: isWhatsminer,
  parse: parseWhatsminer,
};
