/**
 * ePIC umcOS / PowerPlay firmware: HTTP (not the cgminer API) on TCP 4028, unauthenticated GETs
 * (epic/PROTOCOLS.md). Hash rates in MH/s; boards counted from `HBStatus` (a detected but disabled board is listed
 * there and missing from `HBs`); `Fans Rpm` has null for absent slots and 0 for a dead fan. Pool passwords in
 * `StratumConfigs` are never read.
 */
import type { BoardSample, FanSample, FirmwareErrorSample, JsonObject, MinerMode, PsuSample } from '@flymining/shared';
import { BODY_KEY } from '../../../envelope';
import { MINER_LIMITS, TEXT_LIMITS } from '../../../limits';
import { compact, deriveEfficiency, identifier, max, num, numbersOf, objectOf, objectsOf, positive, requireReply, shortText, sum } from '../../common/values';
import type { Dialect, ParsedMiner, Replies } from '../../types';

export const EPIC_PATHS = {
  summary: '/summary',
  capabilities: '/capabilities',
  network: '/network',
  temps: '/temps',
  hashrate: '/hashrate',
} as const;

const mhsToThs = (mhs: number | undefined): number | undefined => (mhs === undefined ? undefined : mhs / 1e6);

function modeOf(state: string | undefined, hashrateThs: number | undefined): MinerMode {
  const s = (state ?? '').toLowerCase();
  if (s.includes('idl') || s.includes('sleep') || s.includes('stop')) return 'sleeping';
  if (s.includes('init') || s.includes('start') || s.includes('tun')) return hashrateThs && hashrateThs > 0 ? 'hashing' : 'booting';
  return hashrateThs !== undefined && hashrateThs > 0 ? 'hashing' : 'idle';
}

function boardsOf(summary: JsonObject, temps: JsonObject | undefined, chips: JsonObject | undefined): BoardSample[] {
  const hbs = new Map(objectsOf(summary.HBs, MINER_LIMITS.boards).map((hb) => [num(hb.Index), hb] as const));
  const tempsBy = new Map(objectsOf(temps?.[BODY_KEY], MINER_LIMITS.boards).map((t) => [num(t.Index), numbersOf(t.Data, 64)] as const));
  const chipsBy = new Map(objectsOf(chips?.[BODY_KEY], MINER_LIMITS.boards).map((c) => [num(c.Index), Array.isArray(c.Data) ? c.Data.slice(0, MINER_LIMITS.chipsPerBoard) : []] as const));
  const statuses = objectsOf(summary.HBStatus, MINER_LIMITS.boards);
  const slots = statuses.length > 0 ? statuses : [...hbs.values()].map((hb) => ({ Index: hb.Index ?? 0, Detected: true, Enabled: true }) as JsonObject);
  return slots.map((slot, position) => {
    const index = num(slot.Index) ?? position;
    const hb = hbs.get(index);
    const perChip = chipsBy.get(index);
    const chipRates = perChip?.map((c) => (Array.isArray(c) ? num(c[0]) : undefined));
    const hashrateThs = mhsToThs(num(Array.isArray(hb?.Hashrate) ? hb?.Hashrate[0] : undefined));
    return compact<BoardSample>({
      index,
      present: slot.Detected !== false && (hb !== undefined || slot.Enabled !== false),
      hashrateThs,
      chipsFound: chipRates?.length || undefined,
      chipsOk: hashrateThs && chipRates ? chipRates.filter((r) => r !== undefined && r > 0).length : undefined,
      boardTempC: num(hb?.Temperature) ?? max(tempsBy.get(index) ?? []),
      frequencyMhz: positive(hb?.['Core Clock Avg']),
      voltageV: positive(hb?.['Input Voltage']),
    });
  });
}

function fansOf(summary: JsonObject): FanSample[] {
  const rpms = objectOf(summary['Fans Rpm']);
  if (!rpms) return [];
  const percent = num(objectOf(summary.Fans)?.['Fans Speed']);
  const fans: FanSample[] = [];
  for (const [key, value] of Object.entries(rpms).slice(0, MINER_LIMITS.fans)) {
    const rpm = num(value);
    const n = /(\d+)\s*$/.exec(key)?.[1];
    if (rpm === undefined || n === undefined) continue;
    fans.push(compact<FanSample>({ index: Number(n) - 1, rpm, percent }));
  }
  return fans;
}

function psuOf(stats: JsonObject | undefined): PsuSample | undefined {
  if (!stats) return undefined;
  const psu = compact<PsuSample>({
    inputVoltageV: positive(stats['Input Voltage']),
    outputVoltageV: positive(stats['Output Voltage']),
    inputCurrentA: positive(stats['Input Current']),
    outputCurrentA: positive(stats['Output Current']),
    inputPowerW: positive(stats['Input Power']),
    outputPowerW: positive(stats['Output Power']),
  });
  return Object.keys(psu).length > 0 ? psu : undefined;
}

export function parseEpic(replies: Replies): ParsedMiner {
  const summary = requireReply(replies, EPIC_PATHS.summary);
  const capabilities = replies[EPIC_PATHS.capabilities];
  const network = replies[EPIC_PATHS.network];
  const status = objectOf(summary.Status);
  const session = objectOf(summary.Session);
  const stratum = objectOf(summary.Stratum);
  const boards = boardsOf(summary, replies[EPIC_PATHS.temps], replies[EPIC_PATHS.hashrate]);
  const hashrateThs = sum(boards.map((b) => b.hashrateThs));
  const psu = psuOf(objectOf(summary['Power Supply Stats']));
  const powerW = psu?.inputPowerW;
  const tune = objectOf(objectOf(summary.PerpetualTune)?.Algorithm);
  const lastError = status?.['Last Error'];
  const firmwareErrors: FirmwareErrorSample[] = [];
  if (typeof lastError === 'string' && lastError.trim()) firmwareErrors.push({ code: 'Last Error', text: lastError.slice(0, TEXT_LIMITS.statusMessage) });
  const net = network ? (objectOf(network.dhcp) ?? objectOf(network.static)) : undefined;
  const poolUrl = shortText(stratum?.['Current Pool'], TEXT_LIMITS.poolUrl);
  return compact<ParsedMiner>({
    vendor: 'antminer',
    firmware: 'epic',
    protocol: 'epic',
    firmwareVersion: shortText(summary.Software, TEXT_LIMITS.firmwareVersion),
    model: identifier(capabilities?.Model),
    mode: modeOf(shortText(status?.['Operating State']), hashrateThs),
    hashrateThs,
    hashrateAvgThs: mhsToThs(num(session?.['Average MHs'])),
    nominalThs: positive(capabilities?.['Default Hashrate']),
    boards,
    fans: fansOf(summary),
    pools: poolUrl
      ? [
          {
            index: 0,
            url: poolUrl,
            user: shortText(stratum?.['Current User'], TEXT_LIMITS.poolUser) ?? '',
            status: stratum?.IsPoolConnected === true ? 'alive' : stratum?.IsPoolConnected === false ? 'dead' : 'unknown',
            active: stratum?.IsPoolConnected === true,
            ...(num(session?.Accepted) !== undefined ? { accepted: num(session?.Accepted) } : {}),
            ...(num(session?.Rejected) !== undefined ? { rejected: num(session?.Rejected) } : {}),
          },
        ]
      : [],
    powerW,
    efficiencyJth: deriveEfficiency(powerW, hashrateThs),
    uptimeS: num(session?.Uptime),
    mac: identifier(net?.mac_address),
    workMode: tune ? shortText(Object.keys(tune)[0], 32) : undefined,
    powerTargetW: positive(objectOf(summary.PresetInfo)?.['Target Power']),
    psu,
    firmwareErrors: status ? firmwareErrors : undefined,
  });
}

export const epicV1: Dialect = {
  family: 'epic',
  vendor: 'antminer',
  id: 'epic/v1',
  protocol: 'epic',
  commands: [EPIC_PATHS.summary, EPIC_PATHS.capabilities, EPIC_PATHS.network, EPIC_PATHS.temps, EPIC_PATHS.hashrate],
  requiredCommands: [EPIC_PATHS.summary],
  matches: () => false,
  parse: parseEpic,
};
