/**
 * Antminer stock firmware read through its web CGI (HTTP digest on every endpoint, antminer-cgi/PROTOCOLS.md):
 * `summary.cgi` and `stats.cgi` in the new_api layout (per-chain data, hydro water temperatures, status codes),
 * `get_system_info.cgi` (serial `serinum` on newer firmware, MAC), `get_miner_conf.cgi` (work mode). Pools are not
 * read here: no capture of `pools.cgi` exists, and both reference clients read pools over TCP 4028.
 */
import type { JsonObject, MinerMode } from '@flymining/shared';
import { TEXT_LIMITS } from '../../../limits';
import { compact, deriveEfficiency, firstDefined, requireReply, shortText, identifier } from '../../common/values';
import type { Dialect, ParsedMiner, Replies } from '../../types';
import { newApiMode, readNewApiStats, readNewApiSummary } from '../new-api-reader';

export const ANTMINER_CGI = {
  summary: '/cgi-bin/summary.cgi',
  stats: '/cgi-bin/stats.cgi',
  systemInfo: '/cgi-bin/get_system_info.cgi',
  minerConf: '/cgi-bin/get_miner_conf.cgi',
} as const;

/** `bitmain-work-mode` as read back ("" = unset); the write side calls it `miner-mode` (PROTOCOLS.md §3). */
const WORK_MODES: Readonly<Record<string, string>> = { '0': 'normal', '1': 'sleep', '3': 'low' };

export function antminerWorkMode(conf: JsonObject | undefined): string | undefined {
  const raw = conf?.['bitmain-work-mode'];
  const key = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (key === '') return undefined;
  return WORK_MODES[key] ?? `mode ${key.slice(0, 16)}`;
}

/** Reads the new_api stats and summary plus identity and configuration, whichever transport brought them. */
export function parseAntminerNewApi(stats: JsonObject | undefined, summary: JsonObject, systemInfo: JsonObject | undefined, conf: JsonObject | undefined): ParsedMiner {
  const s = readNewApiSummary(summary);
  const st = stats ? readNewApiStats(stats) : undefined;
  const workMode = antminerWorkMode(conf);
  const hashrateThs = firstDefined(st?.hashrateThs, s.hashrateThs);
  const mode: MinerMode = workMode === 'sleep' && !(hashrateThs && hashrateThs > 0) ? 'sleeping' : newApiMode(hashrateThs);
  const powerW = st?.powerW;
  const summaryInfo = summary.INFO && typeof summary.INFO === 'object' && !Array.isArray(summary.INFO) ? (summary.INFO as JsonObject) : undefined;
  return compact<ParsedMiner>({
    vendor: 'antminer',
    firmware: 'antminer-stock',
    firmwareVersion: st?.firmwareVersion ?? shortText(summaryInfo?.CompileTime, TEXT_LIMITS.firmwareVersion),
    model: st?.model ?? shortText(systemInfo?.minertype) ?? shortText(summaryInfo?.type),
    mode,
    hashrateThs,
    hashrateAvgThs: firstDefined(s.hashrateAvgThs, st?.hashrateAvgThs),
    nominalThs: firstDefined(st?.nominalThs, s.nominalThs),
    boards: st?.boards ?? [],
    fans: st?.fans ?? [],
    pools: [],
    // Pools are not read through the CGI (no capture of pools.cgi): not judged, rather than "no pool alive".
    unreported: ['pools'],
    powerW,
    efficiencyJth: deriveEfficiency(powerW, hashrateThs),
    uptimeS: firstDefined(s.uptimeS, st?.uptimeS),
    hwErrors: s.hwErrors,
    serial: identifier(systemInfo?.serinum),
    mac: identifier(systemInfo?.macaddr),
    workMode,
    water: st?.water,
    firmwareErrors: s.firmwareErrors,
  });
}

export const antminerWeb: Dialect = {
  family: 'antminer-stock',
  vendor: 'antminer',
  id: 'antminer/web',
  protocol: 'antminer-web',
  commands: [ANTMINER_CGI.summary, ANTMINER_CGI.stats, ANTMINER_CGI.systemInfo, ANTMINER_CGI.minerConf],
  requiredCommands: [ANTMINER_CGI.summary],
  matches: () => false,
  parse(replies: Replies): ParsedMiner {
    const parsed = parseAntminerNewApi(replies[ANTMINER_CGI.stats], requireReply(replies, ANTMINER_CGI.summary), replies[ANTMINER_CGI.systemInfo], replies[ANTMINER_CGI.minerConf]);
    return { ...parsed, protocol: 'antminer-web' };
  },
};
