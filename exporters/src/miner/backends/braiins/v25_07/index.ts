/**
 * Braiins OS+ REST API (`/api/v1`, token in the bare `Authorization` header; braiins-rest/PROTOCOLS.md), BOS 25.07
 * and later. The captures of 25.07, 25.11 and 26.04 differ only in fields this backend does not read (26.04 adds
 * `best_share_str`; `miner_identity.model` is 0 for models newer than the deprecated enum, so the model is always
 * read from `miner_model`/`name`), so one backend serves them all; a version that changes a field read here gets
 * its own folder. Units are wrapper objects (`{"gigahash_per_second": …}`), enums are integers.
 */
import type { BoardSample, FanSample, FirmwareErrorSample, JsonObject, JsonValue, MinerMode, PoolSample, PsuSample } from '@flymining/shared';
import { BODY_KEY } from '../../../envelope';
import { MINER_LIMITS, TEXT_LIMITS } from '../../../limits';
import { compact, firstDefined, num, objectOf, objectsOf, pathOf, positive, requireReply, shortText, identifier } from '../../common/values';
import type { Dialect, ParsedMiner, Replies } from '../../types';

export const BRAIINS_REST = {
  details: '/api/v1/miner/details',
  stats: '/api/v1/miner/stats',
  hashboards: '/api/v1/miner/hw/hashboards',
  errors: '/api/v1/miner/errors',
  cooling: '/api/v1/cooling/state',
  pools: '/api/v1/pools',
  tuner: '/api/v1/performance/tuner-state',
} as const;

const ghs = (value: JsonValue | undefined): number | undefined => {
  const n = num(pathOf(value, 'gigahash_per_second'));
  return n === undefined ? undefined : n / 1000;
};

/** MinerStatus enum (miner.proto): 1 not started, 2 normal, 3 paused, 4 suspended, 5 restricted. */
function modeOf(status: number | undefined, hashrateThs: number | undefined): MinerMode {
  if (status === 1) return 'booting';
  if (status === 3 || status === 4) return 'sleeping';
  return hashrateThs !== undefined && hashrateThs > 0 ? 'hashing' : 'idle';
}

function psuOf(info: JsonObject | undefined): PsuSample | undefined {
  if (!info) return undefined;
  const psu = compact<PsuSample>({
    model: identifier(info.model_name),
    serial: identifier(info.serial_number),
    firmwareVersion: identifier(info.fw_version),
  });
  return Object.keys(psu).length > 0 ? psu : undefined;
}

function boardsOf(reply: JsonObject | undefined): BoardSample[] {
  return objectsOf(reply?.hashboards, MINER_LIMITS.boards).map((b, position) => {
    const hz = num(pathOf(b.current_frequency, 'hertz'));
    return compact<BoardSample>({
      index: num(b.id) ?? position + 1,
      present: b.enabled !== false,
      hashrateThs: ghs(pathOf(b.stats, 'real_hashrate', 'last_5s')),
      chipsFound: num(b.chips_count),
      boardTempC: num(pathOf(b.board_temp, 'degree_c')),
      chipTempC: num(pathOf(b.highest_chip_temp, 'temperature', 'degree_c')),
      frequencyMhz: hz === undefined ? undefined : hz / 1e6,
      voltageV: num(pathOf(b.current_voltage, 'volt')),
      serial: identifier(b.serial_number),
    });
  });
}

function fansOf(reply: JsonObject | undefined): FanSample[] {
  return objectsOf(reply?.fans, MINER_LIMITS.fans).flatMap((f, position) => {
    const rpm = num(f.rpm);
    if (rpm === undefined) return [];
    const ratio = num(f.target_speed_ratio);
    return [compact<FanSample>({ index: num(f.position) ?? position, rpm, percent: ratio === undefined ? undefined : ratio * 100 })];
  });
}

function poolsOf(reply: JsonObject | undefined): PoolSample[] {
  const pools: PoolSample[] = [];
  for (const group of objectsOf(reply?.[BODY_KEY], MINER_LIMITS.pools)) {
    for (const p of objectsOf(group.pools, MINER_LIMITS.pools)) {
      if (pools.length >= MINER_LIMITS.pools) break;
      const seconds = num(pathOf(p.stats, 'last_share_time', 'seconds'));
      pools.push(
        compact<PoolSample>({
          index: pools.length,
          url: typeof p.url === 'string' ? p.url : '',
          user: typeof p.user === 'string' ? p.user : '',
          status: p.enabled === false ? 'disabled' : p.alive === true ? 'alive' : p.alive === false ? 'dead' : 'unknown',
          active: p.active === true,
          accepted: num(pathOf(p.stats, 'accepted_shares')),
          rejected: num(pathOf(p.stats, 'rejected_shares')),
          stale: num(pathOf(p.stats, 'stale_shares')),
          lastShareTime: seconds !== undefined && seconds > 1e9 ? seconds * 1000 : undefined,
        }),
      );
    }
  }
  return pools;
}

/**
 * The coded entries of `/miner/errors` (most entries are log lines with no code: not faults). One per code and
 * component, the newest kept; `reason` as given, the first component as `<name> <index>`.
 */
export function braiinsErrors(reply: JsonObject | undefined): FirmwareErrorSample[] | undefined {
  if (!reply) return undefined;
  const byKey = new Map<string, FirmwareErrorSample>();
  for (const entry of objectsOf(reply.errors, 1024)) {
    const time = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : NaN;
    const component = objectsOf(entry.components, 1)[0];
    const componentName = component ? [shortText(component.name, 32), num(component.index)].filter((v) => v !== undefined).join(' ') : undefined;
    for (const code of objectsOf(entry.error_codes, 8)) {
      const id = shortText(code.code, 32);
      if (!id) continue;
      const error = compact<FirmwareErrorSample>({
        code: id,
        text: (shortText(code.reason, TEXT_LIMITS.statusMessage) ?? shortText(entry.message, TEXT_LIMITS.statusMessage) ?? ''),
        component: componentName || undefined,
        time: Number.isFinite(time) ? time : undefined,
      });
      const key = `${id}|${error.component ?? ''}`;
      const known = byKey.get(key);
      if (!known || (error.time ?? 0) >= (known.time ?? 0)) byKey.set(key, error);
    }
  }
  return [...byKey.values()].slice(0, MINER_LIMITS.firmwareErrors);
}

function workModeOf(reply: JsonObject | undefined): { workMode?: string; powerTargetW?: number } {
  const state = objectOf(reply?.mode_state);
  if (!state) return {};
  const power = objectOf(state.powertargetmodestate);
  if (power) return { workMode: 'power-target', powerTargetW: positive(pathOf(power.current_target, 'watt')) };
  if (objectOf(state.hashratetargetmodestate)) return { workMode: 'hashrate-target' };
  const key = Object.keys(state)[0];
  return key ? { workMode: key.replace(/modestate$/, '').slice(0, 32) } : {};
}

export function parseBraiinsRest(replies: Replies): ParsedMiner {
  const stats = requireReply(replies, BRAIINS_REST.stats);
  const details = replies[BRAIINS_REST.details];
  const minerStats = objectOf(stats.miner_stats);
  const hashrateThs = ghs(pathOf(minerStats, 'real_hashrate', 'last_5s'));
  const powerW = positive(pathOf(stats.power_stats, 'approximated_consumption', 'watt'));
  const identity = objectOf(details?.miner_identity);
  return compact<ParsedMiner>({
    vendor: 'braiins',
    firmware: 'braiins-os',
    protocol: 'braiins-rest',
    firmwareVersion: shortText(pathOf(details?.bos_version, 'current'), TEXT_LIMITS.firmwareVersion),
    model: identifier(identity?.miner_model) ?? shortText(identity?.name),
    mode: modeOf(num(details?.status), hashrateThs),
    hashrateThs,
    hashrateAvgThs: ghs(pathOf(minerStats, 'real_hashrate', 'since_restart')),
    nominalThs: firstDefined(ghs(details?.sticker_hashrate), ghs(pathOf(minerStats, 'nominal_hashrate'))),
    boards: boardsOf(replies[BRAIINS_REST.hashboards]),
    fans: fansOf(replies[BRAIINS_REST.cooling]),
    pools: poolsOf(replies[BRAIINS_REST.pools]),
    powerW,
    efficiencyJth: positive(pathOf(stats.power_stats, 'efficiency', 'joule_per_terahash')),
    uptimeS: num(details?.bosminer_uptime_s),
    serial: identifier(details?.serial_number),
    mac: identifier(details?.mac_address),
    psu: psuOf(objectOf(details?.psu_info)),
    ...workModeOf(replies[BRAIINS_REST.tuner]),
    firmwareErrors: braiinsErrors(replies[BRAIINS_REST.errors]),
  });
}

export const braiinsRest: Dialect = {
  family: 'braiins-os',
  vendor: 'braiins',
  id: 'braiins/v25_07',
  protocol: 'braiins-rest',
  commands: [BRAIINS_REST.stats, BRAIINS_REST.details, BRAIINS_REST.hashboards, BRAIINS_REST.cooling, BRAIINS_REST.pools, BRAIINS_REST.tuner, BRAIINS_REST.errors],
  requiredCommands: [BRAIINS_REST.stats],
  matches: () => false,
  parse: parseBraiinsRest,
};
