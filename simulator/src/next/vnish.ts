/**
 * VNish /api/v1 (shared/miner-api-next/vnish/PROTOCOLS.md). No public capture of its replies exists, so only the
 * facts there are faithful: unauthenticated GET /info and /status, /summary readable with or without auth, unlock with
 * {"pw"} → {"token"} (403 wrong password), `Authorization: Bearer <token>` (the bare token accepted too), `x-api-key`,
 * /auth-check 200/401. The field names inside the bodies are assumptions: where pyasic's VNish backend reads a path
 * (`miner.miner_type`, `miner.miner_status.miner_state`, `miner.power_usage`, `miner.chains[].status.{state,description}`,
 * `system.network_status.mac`, settings `miner.overclock.preset`) we serve that path; the rest is ours (README).
 */
import type http from 'node:http';
import { z } from 'zod';
import { writeJson, type WireObject } from '../json';
import type { MinerReading, SimMiner } from '../miner';
import { macFromId, stableHex } from '../replies/common';
import type { HttpAuthState, HttpReply } from './http-api';

const TOKEN_IDLE_MS = 3600_000;
/** After this many wrong unlocks in a row the firmware answers 429. */
const MAX_FAILED_UNLOCKS = 5;
const failedUnlocks = new WeakMap<HttpAuthState, number>();

const json = (body: string, status = 200): HttpReply => ({ status, headers: { 'content-type': 'application/json' }, body });

function authorized(miner: SimMiner, auth: HttpAuthState, req: http.IncomingMessage, nowMs: number): boolean {
  if (miner.activeFaults().hostile === 'digest-loop') return false;
  const key = req.headers['x-api-key'];
  const credential = miner.credential('vnish');
  if (typeof key === 'string' && credential.apiKey !== undefined && key === credential.apiKey) return true;
  const header = req.headers.authorization ?? '';
  const token = header.replace(/^Bearer\s+/i, '');
  return auth.useToken(token, nowMs, TOKEN_IDLE_MS);
}

/** Autotune presets are named by their power in watts (pyasic and asic-rs read the name as the wattage). */
function presetWatts(miner: SimMiner): number[] {
  const w = miner.profile.typicalPowerW;
  return [0.7, 0.85, 1].map((k) => Math.round(w * k));
}

function presets(miner: SimMiner): WireObject[] {
  return presetWatts(miner).map((watts) => ({
    name: `${watts}`,
    pretty: `${watts} watt ~ ${Math.round((miner.profile.nominalThs * watts) / miner.profile.typicalPowerW)} TH`,
    status: 'tuned',
  }));
}

/** The preset the unit runs: the one the write path chose, else the stock one (its typical power). */
function currentPreset(miner: SimMiner): string {
  return String(miner.commandedState().powerTargetW ?? miner.profile.typicalPowerW);
}

/** MinerState (OpenAPI): mining, initializing, starting, auto-tuning, restarting, shutting-down, stopped, failure. */
function minerState(r: MinerReading): string {
  switch (r.mode) {
    case 'hashing':
      return 'mining';
    case 'sleeping':
      return 'stopped';
    case 'booting':
      return 'starting';
    default:
      return 'failure';
  }
}

function summary(miner: SimMiner, nowMs: number): string {
  const r = miner.read(nowMs);
  const p = miner.profile;
  const hydro = p.cooling === 'hydro';
  return writeJson({
    miner: {
      miner_status: { miner_state: minerState(r), miner_state_time: r.uptimeS },
      miner_type: p.model,
      hardware_version: 'BHB42601',
      average_hashrate: Math.round(r.avgGhs / 10) / 100,
      instant_hashrate: Math.round(r.rateGhs / 10) / 100,
      hr_nominal: p.nominalThs,
      hr_realtime: Math.round(r.rateGhs / 10) / 100,
      power_usage: Math.round(r.powerW),
      power_efficiency: r.rateGhs > 0 ? Math.round((r.powerW / (r.rateGhs / 1000)) * 10) / 10 : 0,
      pcb_temp: { min: Math.round(Math.min(...r.boards.map((b) => b.boardTempC))), max: Math.round(Math.max(...r.boards.map((b) => b.boardTempC))) },
      chip_temp: { min: Math.round(Math.min(...r.boards.map((b) => b.chipTempC))), max: Math.round(Math.max(...r.boards.map((b) => b.chipTempC))) },
      ...(hydro ? { water_temp: { inlet: Math.round(r.intakeC * 10) / 10, outlet: Math.round((r.boards[0]?.outletTempC ?? 0) * 10) / 10 } } : {}),
      cooling: { fan_num: r.fansRpm.length, fans: r.fansRpm.map((rpm, id) => ({ id, rpm, status: rpm > 0 ? 'ok' : 'lost' })) },
      pools: r.pools.map((x, id) => ({ id, url: x.url, user: x.user, status: x.active ? 'active' : x.alive ? 'working' : 'offline', accepted: x.accepted, rejected: x.rejected })),
      chains: r.boards.map((b, id) => ({
        id,
        status: b.present ? { state: 'mining', description: '' } : { state: 'failure', description: `chain ${id} not responding` },
        hashrate_rt: Math.round(b.rateGhs),
        hashrate_ideal: Math.round(b.idealGhs),
        frequency: b.frequencyMhz,
        chip_statuses: { red: b.chipsBad, orange: 0, grey: p.chipsPerBoard - b.chipsFound },
        pcb_temp: { min: Math.round(b.boardTempC - 5), max: Math.round(b.boardTempC) },
        chip_temp: { min: Math.round(b.chipTempC - 8), max: Math.round(b.chipTempC) },
      })),
    },
    system: { network_status: { mac: macFromId(miner.identityKey), ip: miner.spec.host, dhcp: true, hostname: 'antminer' } },
  });
}

export function vnishRoutes(miner: SimMiner, auth: HttpAuthState, req: http.IncomingMessage, path: string, body: string, nowMs: number): HttpReply {
  const p = path.replace(/\/+$/, '');
  const credential = miner.credential('vnish');
  if (p === '/api/v1/unlock' && req.method === 'POST') {
    const failures = failedUnlocks.get(auth) ?? 0;
    if (failures >= MAX_FAILED_UNLOCKS) return json('{"err":"too many tries"}', 429);
    let pw: unknown;
    try {
      pw = (JSON.parse(body) as Record<string, unknown>).pw;
    } catch {
      return json('{"err":"invalid JSON"}', 400);
    }
    if (pw !== credential.password) {
      failedUnlocks.set(auth, failures + 1);
      return json('{"err":"wrong password"}', 403);
    }
    failedUnlocks.set(auth, 0);
    return json(writeJson({ token: auth.issueToken(nowMs) }));
  }
  const r = miner.read(nowMs);
  switch (p) {
    case '/api/v1/info':
      return json(
        writeJson({
          miner: miner.profile.model,
          model: miner.profile.model.replace(/ \(vnish.*\)$/, ''),
          fw_name: 'Vnish',
          fw_version: miner.versionOr(miner.profile.api?.firmwareVersion ?? '1.2.6'),
          serial: `JYZZ${stableHex(`${miner.identityKey}/serial`, 12).toUpperCase()}`,
          system: { network_status: { mac: macFromId(miner.identityKey), ip: miner.spec.host, dhcp: true, hostname: 'antminer' }, uptime: String(r.uptimeS) },
        }),
      );
    case '/api/v1/status':
      return json(
        writeJson({
          miner_state: minerState(r),
          miner_state_time: r.uptimeS,
          restart_required: false,
          reboot_required: false,
          unlocked: false,
          find_miner: miner.commandedState().blinking,
        }),
      );
    case '/api/v1/summary':
      // Auth is optional for summary ({} among its security alternatives).
      return json(summary(miner, nowMs));
  }
  if (!authorized(miner, auth, req, nowMs)) return json('{"err":"unauthorized"}', 401);
  if (req.method === 'POST') return vnishWrite(miner, r, p, body) ?? json('{"err":"not found"}', 404);
  switch (p) {
    case '/api/v1/auth-check':
      return json('{}');
    case '/api/v1/autotune/presets':
      return json(writeJson(presets(miner)));
    case '/api/v1/settings':
      return json(
        writeJson({
          miner: {
            overclock: { preset: currentPreset(miner), modded_psu: false },
            cooling: { mode: { name: miner.profile.cooling === 'hydro' ? 'immers' : 'auto' } },
            pools: r.pools.map((x) => ({ url: x.url, user: x.user, pass: 'x' })),
          },
        }),
      );
  }
  return json('{"err":"not found"}', 404);
}

// ---- Writes (issue 14): POST endpoints of the OpenAPI documents 1.2.6-1.3.4 ([VNISH-OAS]); every one needs auth.

const API = 'vnish';
/** 500 with `{"err"}` (ErrDescr) is how the documents say a write failed. */
const writeFailed = (err: string): HttpReply => json(writeJson({ err }), 500);
const done = (): HttpReply => ({ status: 200, body: '' });

const switchPoolBody = z.object({ pool_id: z.number().int().min(0) }).passthrough();
const settingsBody = z
  .object({
    miner: z
      .object({
        pools: z.array(z.object({ url: z.string().max(512), user: z.string().max(256), pass: z.string().max(256) }).passthrough()).max(3).nullish(),
        overclock: z.object({ preset: z.string().max(32).nullish() }).passthrough().nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();
const findMinerBody = z.object({ on: z.boolean() }).passthrough();

function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return null;
  }
}

/** A POST on a write endpoint, or undefined when the path is not one. */
function vnishWrite(miner: SimMiner, r: MinerReading, path: string, body: string): HttpReply | undefined {
  switch (path) {
    case '/api/v1/mining/stop':
    case '/api/v1/mining/pause':
      miner.commandSleep(API);
      return done();
    case '/api/v1/mining/start':
    case '/api/v1/mining/resume':
      miner.commandWake(API);
      return done();
    case '/api/v1/system/reboot':
      // RebootAfter: "Number of seconds after the system will reboot. By default, is 3 seconds".
      return { ...json('{"after":3}'), after: () => miner.commandReboot(API) };
    case '/api/v1/mining/switch-pool': {
      const request = switchPoolBody.safeParse(parseJson(body));
      if (!request.success) return writeFailed('invalid request: pool_id expected');
      const id = request.data.pool_id;
      if (id >= r.pools.length) return writeFailed(`pool ${id} not found`);
      miner.commandSwitchPool(API, id);
      return done();
    }
    case '/api/v1/settings': {
      const request = settingsBody.safeParse(parseJson(body));
      if (!request.success) return writeFailed(`invalid settings: ${request.error.issues[0]?.path.join('.') || 'body'}`);
      const m = request.data.miner;
      const preset = m?.overclock?.preset;
      if (preset !== undefined && preset !== null && !presetWatts(miner).map(String).includes(preset)) return writeFailed(`unknown preset "${preset}"`);
      if (m?.pools !== undefined && m.pools !== null) {
        const pools = m.pools.filter((x) => x.url.trim() !== '').map((x) => ({ url: x.url.trim(), user: x.user }));
        if (pools.length === 0) return writeFailed('at least one pool is required');
        miner.commandPools(API, pools);
      }
      if (preset !== undefined && preset !== null && preset !== currentPreset(miner)) miner.commandPowerTarget(API, Number(preset));
      return json('{"restart_required":false,"reboot_required":false}');
    }
    case '/api/v1/find-miner':
    case '/api/v1/locate-miner': {
      // With `{"on"}` it sets the LED (asic-rs sends it); without a body it toggles.
      const request = findMinerBody.safeParse(parseJson(body));
      const on = request.success ? request.data.on : !miner.commandedState().blinking;
      miner.commandBlink(API, on);
      return json(writeJson({ on }));
    }
  }
  return undefined;
}
