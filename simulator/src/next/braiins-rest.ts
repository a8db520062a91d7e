/**
 * Braiins OS+ public REST API (/api/v1) replies in the 25.07 and 26.04 shapes (shared/miner-api-next/braiins-rest):
 * units wrapped in objects, enums as integers, nulls for missing values, serde key order (sorted). 26.04 adds
 * `best_share_str` next to every `best_share`, fills `serial_number` and reports `miner_identity.model` 0 for
 * models newer than the deprecated enum.
 */
import { z } from 'zod';
import { fixed, writeJson, type WireObject, type WireValue } from '../json';
import type { BoardReading, MinerReading, SimMiner } from '../miner';
import { macFromId, stableHex } from '../replies/common';
import { braiinsCode } from './firmware-errors';
import type { HttpReply } from './http-api';

/** serde prints whole floats with `.0`. */
const flt = (v: number): WireValue => (Number.isInteger(v) ? fixed(v, 1) : v);
const gh = (v: number): WireObject => ({ gigahash_per_second: flt(v) });
const sorted = (v: WireValue): string => writeJson(v, { sortKeys: true });

/** miner_identity.model enum values the deprecated field still has (S19 XP 18); newer models report 0. */
const MODEL_ENUM: Readonly<Record<string, number>> = { 'Antminer S19 XP': 18 };

function release(miner: SimMiner): '25.07' | '26.04' {
  return miner.profile.api?.bosRelease ?? '25.07';
}

function withBestShare(miner: SimMiner, value: number): WireObject {
  return release(miner) === '26.04' ? { best_share: value, best_share_str: String(value) } : { best_share: value };
}

/** Real hashrate windows: the simulator's short windows share the current rate, long ones the averages. */
function realHashrate(rateGhs: number, avg30m: number, avg: number): WireObject {
  return {
    last_15m: gh(avg30m),
    last_15s: gh(rateGhs),
    last_1h: gh(avg30m),
    last_1m: gh(rateGhs),
    last_24h: gh(avg),
    last_30m: gh(avg30m),
    last_30s: gh(rateGhs),
    last_5m: gh(rateGhs),
    last_5s: gh(rateGhs),
    since_restart: gh(avg),
  };
}

export function bosDetails(miner: SimMiner, r: MinerReading): string {
  const p = miner.profile;
  const newer = release(miner) === '26.04';
  return sorted({
    bos_mode: 4,
    bos_version: { bos_plus: true, current: miner.versionOr(p.api?.firmwareVersion ?? ''), major: '2022-09-13-0-11012d53-22.08-plus' },
    bosminer_uptime_s: r.uptimeS,
    control_board_soc_family: 3,
    hostname: 'Antminer',
    kernel_version: '4.9.113',
    mac_address: macFromId(miner.identityKey).toLowerCase(),
    miner_identity: { brand: 1, miner_model: p.model, model: MODEL_ENUM[p.model] ?? 0, name: p.model },
    platform: 4,
    psu_info: {
      fw_version: newer ? 6920 : null,
      max_voltage: { volt: flt(15) },
      min_voltage: { volt: flt(12) },
      model_name: newer ? 'APW171215a/c' : 'APW121215d/e',
      serial_number: newer ? `OLTT${stableHex(`${miner.identityKey}/psu`, 13).toUpperCase()}` : null,
      version: newer ? 193 : 117,
    },
    serial_number: newer ? `THQG${stableHex(`${miner.identityKey}/serial`, 13).toUpperCase()}` : null,
    status: minerStatus(r),
    sticker_hashrate: gh(p.nominalThs * 1000),
    system_uptime: r.uptimeS + 40,
    system_uptime_s: r.uptimeS + 40,
    uid: stableHex(`${miner.identityKey}/uid`, 16),
  });
}

function statsBlock(miner: SimMiner, rateGhs: number, avg30m: number, avg: number, nominal: number, best: number): WireObject {
  return {
    ...withBestShare(miner, best),
    error_hashrate: { megahash_per_second: flt(0) },
    found_blocks: 0,
    nominal_hashrate: gh(nominal),
    real_hashrate: realHashrate(rateGhs, avg30m, avg),
  };
}

function poolStats(miner: SimMiner, r: MinerReading, i: number): WireObject {
  const pool = r.pools[i];
  const seconds = Math.floor(r.nowMs / 1000) - (pool?.lastShareAgoS ?? 0);
  return {
    accepted_shares: pool?.accepted ?? 0,
    ...withBestShare(miner, pool?.active ? r.bestShare : 0),
    generated_work: (pool?.accepted ?? 0) * 4096,
    last_difficulty: pool?.difficulty ?? 0,
    last_share_time: pool?.lastShareAgoS === null || pool === undefined ? null : { nanos: 0, seconds },
    rejected_shares: pool?.rejected ?? 0,
    stale_shares: pool?.stale ?? 0,
  };
}

export function bosStats(miner: SimMiner, r: MinerReading): string {
  const ths = r.rateGhs / 1000;
  return sorted({
    miner_stats: statsBlock(miner, r.rateGhs, r.avg30mGhs, r.avgGhs, r.idealGhs, r.bestShare),
    pool_stats: poolStats(miner, r, 0),
    power_stats: {
      approximated_consumption: { watt: Math.round(r.powerW) },
      efficiency: { joule_per_terahash: flt(ths > 0 ? r.powerW / ths : 0) },
    },
  });
}

function hashboard(miner: SimMiner, r: MinerReading, b: BoardReading, index: number): WireObject {
  const p = miner.profile;
  const share = r.rateGhs > 0 ? b.rateGhs / r.rateGhs : 0;
  const boardName = release(miner) === '26.04' ? 'A3HB70601' : 'BHB56801';
  return {
    board_name: boardName,
    board_temp: { degree_c: flt(Math.round(b.boardTempC * 8) / 8) },
    chip_type: release(miner) === '26.04' ? 'BM1370' : 'BM1366',
    chips_count: b.chipsFound,
    current_frequency: { hertz: flt(b.present ? b.frequencyMhz * 1e6 : 0) },
    current_voltage: { volt: flt(b.present ? 13.2 : 0) },
    enabled: b.present,
    highest_chip_temp: { id: index + 1, location: 1, temperature: { degree_c: flt(Math.round(b.chipTempC * 8) / 8) } },
    highest_outlet_temp: { degree_c: flt(Math.round(b.boardTempC * 8) / 8) },
    id: String(index + 1),
    lowest_inlet_temp: { degree_c: flt(Math.round((b.present ? r.intakeC + 10 : 0) * 8) / 8) },
    model: boardName,
    serial_number: `NGSB${stableHex(`${miner.identityKey}/hb${index}`, 13).toUpperCase()}`,
    stats: statsBlock(miner, b.rateGhs, r.avg30mGhs * share, r.avgGhs * share, b.idealGhs || (p.nominalThs * 1000) / p.boards, Math.floor(r.bestShare / (index + 1))),
  };
}

export function bosHashboards(miner: SimMiner, r: MinerReading): string {
  return sorted({ hashboards: r.boards.map((b, i) => hashboard(miner, r, b, i)) });
}

/** /miner/errors: the firmware's log lines; injected codes carry `{ERR:<code>}` in the message, as real ones do. */
export function bosErrors(miner: SimMiner, r: MinerReading): string {
  const f = miner.activeFaults();
  const errors: WireObject[] = [];
  const stamp = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');
  for (const e of miner.firmwareErrors()) {
    const c = braiinsCode(e);
    const message = c.code === 'V2' ? `PSU shut down: {ERR:V2} LOW VOLTAGE - measured voltage 0 V - ${c.reason}` : `{ERR:${c.code}} ${c.reason}`;
    errors.push({ components: [], error_codes: [c], message, timestamp: stamp(e.sinceMs) });
  }
  f.droppedBoards.forEach((board) => {
    errors.push({
      components: [{ index: board + 1, name: 'Hashboard' }],
      error_codes: [],
      message: `Disabled hashboard ${board + 1} {HB:${board + 1}}: Hashchip: number of responses 0 doesn't match chip count ${miner.profile.chipsPerBoard}`,
      timestamp: stamp(r.nowMs),
    });
  });
  if (f.poolsDead) errors.push({ components: [], error_codes: [], message: `Failed to resolve ("btc.pool.example", 3333)`, timestamp: stamp(r.nowMs) });
  return sorted({ errors });
}

export function bosCooling(r: MinerReading): string {
  const hottest = Math.max(0, ...r.boards.map((b) => b.chipTempC));
  return sorted({
    fans: r.fansRpm.map((rpm, position) => ({ position, rpm, target_speed_ratio: flt(Math.round(r.fanPercent) / 100) })),
    highest_temperature: { id: null, location: 1, temperature: { degree_c: flt(Math.round(hottest * 2) / 2) } },
  });
}

export function bosPools(miner: SimMiner, r: MinerReading): string {
  return sorted([
    {
      name: 'Default',
      pools: r.pools.map((p, i) => ({
        active: p.active,
        alive: p.alive,
        enabled: true,
        stats: poolStats(miner, r, i),
        uid: stableHex(`${miner.id}/pool${i}`, 16),
        url: p.url,
        user: p.user,
      })),
      strategy: { quota: { value: 1 } },
    },
  ]);
}

/** The power target the tuner works to: the one the write path set, else the unit's default (97 % of typical). */
function powerTarget(miner: SimMiner): number {
  return miner.commandedState().powerTargetW ?? Math.round(miner.profile.typicalPowerW * 0.97);
}

export function bosTunerState(miner: SimMiner, r: MinerReading): string {
  const target = powerTarget(miner);
  return sorted({
    mode_state: {
      powertargetmodestate: {
        current_target: { watt: target },
        profile: {
          created: { nanos: 0, seconds: Math.floor(r.nowMs / 1000) - r.uptimeS },
          estimated_power_consumption: { watt: miner.profile.typicalPowerW },
          measured_hashrate: gh(miner.profile.nominalThs * 1000),
          target: { watt: target },
        },
      },
    },
    // 2 stable, 4 error.
    overall_tuner_state: miner.activeFaults().psuFault ? 4 : 2,
  });
}

export function bosNetwork(miner: SimMiner): string {
  return sorted({
    default_gateway: '127.0.0.1',
    dns_servers: ['127.0.0.1'],
    hostname: 'Antminer',
    mac_address: macFromId(miner.identityKey).toLowerCase(),
    name: 'eth0',
    networks: [{ address: miner.spec.host, netmask: '255.0.0.0' }],
    protocol: 1,
  });
}

export function bosVersion(miner: SimMiner): string {
  return sorted(release(miner) === '26.04' ? { major: 1, minor: 3, patch: 0 } : { major: 1, minor: 0, patch: 0 });
}

/** MinerStatus (miner.proto): 1 not started (boards initializing after a resume or boot), 2 normal, 3 paused. */
function minerStatus(r: MinerReading): number {
  if (r.mode === 'booting') return 1;
  return r.mode === 'hashing' ? 2 : 3;
}

export function bosMinerStatus(r: MinerReading): string {
  return sorted({ status: minerStatus(r) });
}

export function bosLocate(miner: SimMiner): string {
  return miner.commandedState().blinking ? 'true' : 'false';
}

// ---- Writes (issue 14): the PUT endpoints of the OpenAPI document the unit serves (braiins-rest/PROTOCOLS.md,
// [BOS-OAS] 25.07 and 26.04): actions/pause|resume|reboot|locate, performance/power-target, pools/batch.

const API = 'braiins-rest';
const reply = (body: string, status = 200): HttpReply => ({ status, headers: { 'content-type': 'application/json' }, body });
/**
 * BOS answers a refused write with 400 and its reason as text, e.g. `new power target '500' is out-of-range (min:
 * Some(954), max: Some(6435))` and `group name '' length (0) is out-of-range (min: Some(1), max: None)` (asic-rs
 * pull requests #334 and #331, an S19 XP on 26.07).
 */
const badRequest = (text: string): HttpReply => ({ status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text });
/** The OpenAPI document's words for a body that does not match the schema. */
const INVALID_PAYLOAD = 'Invalid request payload.';
/** The simulated unit keeps one list of up to 3 pools (commandPools); more is refused in the firmware's words. */
const MAX_SIM_POOLS = 3;

const powerBody = z.object({ watt: z.number().int().min(0) }).strict();
const poolBody = z
  .object({
    url: z.string().max(512),
    user: z.string().max(256),
    password: z.string().max(256).nullish(),
    enabled: z.boolean().nullish(),
    uid: z.string().max(64).nullish(),
  })
  .passthrough();
const groupBody = z
  .object({ name: z.string().max(256), pools: z.array(poolBody).max(64), uid: z.string().max(64).nullish() })
  .passthrough();
const batchBody = z.array(groupBody).max(16);

function parseBody<T>(schema: z.ZodType<T>, body: string): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The answer to a PUT on a write endpoint, or undefined when the path is not one. */
export function bosWrite(miner: SimMiner, r: MinerReading, path: string, body: string): HttpReply | undefined {
  switch (path) {
    case '/api/v1/actions/pause': {
      // "bool if was already paused"
      const already = r.mode === 'sleeping';
      miner.commandSleep(API);
      return reply(already ? 'true' : 'false');
    }
    case '/api/v1/actions/resume': {
      // "bool if was already mining"
      const already = r.mode !== 'sleeping';
      miner.commandWake(API);
      return reply(already ? 'true' : 'false');
    }
    case '/api/v1/actions/reboot':
      return { status: 204, body: '', after: () => miner.commandReboot(API) };
    case '/api/v1/actions/locate': {
      const on = parseBody(z.boolean(), body);
      if (on === undefined) return badRequest(INVALID_PAYLOAD);
      miner.commandBlink(API, on);
      return reply(on ? 'true' : 'false');
    }
    case '/api/v1/performance/power-target': {
      const target = parseBody(powerBody, body);
      if (!target) return badRequest(INVALID_PAYLOAD);
      const { minW, maxW } = miner.powerTargetLimits();
      if (target.watt < minW || target.watt > maxW) return badRequest(`new power target '${target.watt}' is out-of-range (min: Some(${minW}), max: Some(${maxW}))`);
      miner.commandPowerTarget(API, target.watt);
      return reply(sorted({ watt: target.watt }));
    }
    case '/api/v1/pools/batch': {
      const groups = parseBody(batchBody, body);
      if (!groups) return badRequest(INVALID_PAYLOAD);
      const unnamed = groups.find((g) => g.name.length === 0);
      if (unnamed) return badRequest(`group name '' length (0) is out-of-range (min: Some(1), max: None)`);
      const pools = groups.flatMap((g) => g.pools.filter((p) => p.enabled !== false && p.url.trim() !== '').map((p) => ({ url: p.url.trim(), user: p.user })));
      if (pools.length < 1 || pools.length > MAX_SIM_POOLS) return badRequest(`pools length (${pools.length}) is out-of-range (min: Some(1), max: Some(${MAX_SIM_POOLS}))`);
      miner.commandPools(API, pools);
      const echoed = groups.map((g, gi) => ({
        // The strategy is not modelled: the unit mines on its list in failover order.
        load_balance_strategy: null,
        name: g.name,
        pools: g.pools.map((p, pi) => ({ enabled: p.enabled ?? true, password: p.password ?? null, uid: stableHex(`${miner.id}/pool${gi}/${pi}/${p.url}`, 8), url: p.url, user: p.user })),
        uid: stableHex(`${miner.id}/group${gi}/${g.name}`, 8),
      }));
      return reply(sorted(echoed));
    }
  }
  return undefined;
}

