/**
 * Whatsminer API v3 (firmware from 2024-11 on, TCP 4433, length-prefixed JSON; whatsminer-v3/PROTOCOLS.md). Reads
 * `get.device.info` (model, serials, MAC, PSU, error codes) and `get.miner.status` with one section per request
 * (`summary`, `edevs`, `pools`), as pyasic and asic-rs do. Almost every value in `get.device.info` is a string.
 */
import type { BoardSample, FanSample, FirmwareErrorSample, JsonObject, JsonValue, PoolSample, PsuSample } from '@flymining/shared';
import { MINER_LIMITS, TEXT_LIMITS } from '../../../limits';
import { compact, deriveEfficiency, modeFromHashrate, num, numbersOf, objectOf, objectsOf, positive, requireReply, shortText, identifier, text } from '../../common/values';
import { DialectError, type Dialect, type ParsedMiner, type Replies } from '../../types';

export const V3_COMMANDS = {
  deviceInfo: 'get.device.info',
  summary: 'get.miner.status summary',
  edevs: 'get.miner.status edevs',
  pools: 'get.miner.status pools',
} as const;

/** "WhatsMiner M60S" from `M60S_VK40`: the catalog names models without the hashboard variant. */
export function whatsminerV3Model(type: string | undefined): string | undefined {
  if (!type) return undefined;
  const base = type.split('_')[0]?.trim();
  return base ? `WhatsMiner ${base}`.slice(0, TEXT_LIMITS.model) : undefined;
}

/** `power.vout` is in 10 mV (the vendor's example 1209 = 12.09 V; PROTOCOLS.md §5); kept only in a 12 V rail's range. */
function psuOf(power: JsonObject | undefined): PsuSample | undefined {
  if (!power) return undefined;
  const vout = num(power.vout);
  const outputVoltageV = vout !== undefined && vout / 100 >= 9 && vout / 100 <= 20 ? vout / 100 : undefined;
  const psu: PsuSample = compact({
    model: identifier(power.model),
    serial: identifier(power.sn),
    firmwareVersion: identifier(power.swversion),
    outputVoltageV,
    inputPowerW: positive(power.pin),
    fanRpm: num(power.fanspeed),
  });
  return Object.keys(psu).length > 0 ? psu : undefined;
}

/**
 * `error-code`: a list of `{"<code>": "<time>", "reason": "<text>"}`, ints or numeric strings; a bare string
 * ("btminer process is down err") is one error kept as given; absent = none reported (PROTOCOLS.md §5).
 */
export function whatsminerV3Errors(value: JsonValue | undefined): FirmwareErrorSample[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.trim() ? [{ code: value.trim().slice(0, 64), text: value.slice(0, TEXT_LIMITS.statusMessage) }] : [];
  if (!Array.isArray(value)) return [];
  const errors: FirmwareErrorSample[] = [];
  for (const entry of value.slice(0, MINER_LIMITS.firmwareErrors)) {
    if (typeof entry === 'number' || typeof entry === 'string') {
      const code = String(entry).trim();
      if (code) errors.push({ code: code.slice(0, 64), text: '' });
      continue;
    }
    const item = objectOf(entry);
    if (!item) continue;
    const codeKey = Object.keys(item).find((k) => /^\d{1,8}$/.test(k));
    if (!codeKey) continue;
    const error: FirmwareErrorSample = { code: codeKey, text: typeof item.reason === 'string' ? item.reason.slice(0, TEXT_LIMITS.statusMessage) : '' };
    const when = item[codeKey];
    // "YYYY-MM-DD HH:MM:SS" in the miner's local time; read as UTC, which is what most farms set.
    const time = typeof when === 'string' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(when) ? Date.parse(`${when.replace(' ', 'T')}Z`) : undefined;
    if (time !== undefined && Number.isFinite(time)) error.time = time;
    errors.push(error);
  }
  return errors;
}

function boardsOf(edevs: JsonObject | undefined, summary: JsonObject | undefined, miner: JsonObject | undefined): BoardSample[] {
  const boardTemps = numbersOf(summary?.['board-temperature'], MINER_LIMITS.boards);
  return objectsOf(edevs?.edevs, MINER_LIMITS.boards).map((d, position) => {
    const index = num(d.id) ?? position;
    const hashrateThs = num(d['hash-realtime']);
    const present = typeof d.status !== 'string' || d.status.toLowerCase() !== 'dead';
    return compact<BoardSample>({
      index,
      present,
      hashrateThs,
      chipsFound: num(d['effective-chips']),
      chipTempC: num(d['chip-temp-max']),
      boardTempC: boardTemps[index],
      frequencyMhz: positive(d.freq),
      serial: identifier(miner?.[`pcbsn${index}`]),
    });
  });
}

function poolsOf(reply: JsonObject | undefined): PoolSample[] {
  return objectsOf(reply?.pools, MINER_LIMITS.pools).map((p, position) => {
    const status = typeof p.status === 'string' ? p.status.toLowerCase() : '';
    return compact<PoolSample>({
      index: num(p['pool-priority']) ?? position,
      url: typeof p.url === 'string' ? p.url : '',
      user: typeof p.account === 'string' ? p.account : '',
      status: status === 'alive' ? 'alive' : status === 'dead' ? 'dead' : status === 'disabled' ? 'disabled' : 'unknown',
      active: p['stratum-active'] === true,
    });
  });
}

function fansOf(summary: JsonObject): FanSample[] {
  const fans: FanSample[] = [];
  const intake = num(summary['fan-speed-in']);
  const exhaust = num(summary['fan-speed-out']);
  if (intake !== undefined) fans.push({ index: 0, rpm: intake });
  if (exhaust !== undefined) fans.push({ index: 1, rpm: exhaust });
  return fans;
}

/** `power.mode` in get.device.info as asic-rs reads it: the work mode set.miner.power_mode sets. */
const V3_POWER_MODES: Readonly<Record<string, string>> = { '0': 'low', '1': 'normal', '2': 'high' };

export function parseWhatsminerV3(replies: Replies): ParsedMiner {
  const summaryReply = requireReply(replies, V3_COMMANDS.summary);
  const summary = objectOf(summaryReply.summary);
  if (!summary) throw new DialectError(V3_COMMANDS.summary, 'reply has no summary object');
  const info = replies[V3_COMMANDS.deviceInfo];
  const miner = objectOf(info?.miner);
  const network = objectOf(info?.network);
  const system = objectOf(info?.system);
  const hashrateThs = num(summary['hash-realtime']);
  const powerW = positive(summary['power-realtime']);
  const notWorking = miner?.working === 'false';
  const sample: ParsedMiner = {
    vendor: 'whatsminer',
    firmware: 'whatsminer',
    protocol: 'whatsminer-v3',
    firmwareVersion: shortText(system?.fwversion, TEXT_LIMITS.firmwareVersion),
    model: whatsminerV3Model(shortText(miner?.type)),
    // `working` false: the btminer service is stopped (set.miner.service stop), the v3 way to sleep a unit.
    mode: notWorking ? 'sleeping' : modeFromHashrate(hashrateThs),
    hashrateThs,
    hashrateAvgThs: num(summary['hash-average']),
    nominalThs: positive(summary['factory-hash']),
    boards: boardsOf(replies[V3_COMMANDS.edevs], summary, miner),
    fans: fansOf(summary),
    pools: poolsOf(replies[V3_COMMANDS.pools]),
    powerW,
    efficiencyJth: positive(summary['power-rate']) ?? deriveEfficiency(powerW, hashrateThs),
    uptimeS: num(summary.elapsed),
    ambientTempC: num(summary['environment-temperature']),
    serial: identifier(miner?.['miner-sn']),
    mac: identifier(network?.mac),
    powerTargetW: positive(summary['power-limit']),
    workMode: V3_POWER_MODES[text(objectOf(info?.power)?.mode) ?? ''],
    psu: psuOf(objectOf(info?.power)),
  };
  // Without get.device.info the errors are unknown, not none.
  if (info) sample.firmwareErrors = whatsminerV3Errors(info['error-code']);
  return compact(sample);
}

export const whatsminerV3: Dialect = {
  family: 'whatsminer',
  vendor: 'whatsminer',
  id: 'whatsminer/v3',
  protocol: 'whatsminer-v3',
  commands: [V3_COMMANDS.summary, V3_COMMANDS.edevs, V3_COMMANDS.pools, V3_COMMANDS.deviceInfo],
  requiredCommands: [V3_COMMANDS.summary],
  requestFor(command: string): JsonObject {
    const [cmd, param] = command.split(' ');
    return param === undefined ? { cmd: cmd ?? command } : { cmd: cmd ?? command, param };
  },
  // Never claimed from CGMiner-API probes: detection picks it when TCP 4433 answers get.device.info.
  matches: () => false,
  parse: parseWhatsminerV3,
};
