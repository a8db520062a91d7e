/**
 * VNish /api/v1 (shared/miner-api-next/vnish/PROTOCOLS.md). No public capture of its replies exists, so only the
 * facts there are faithful: unauthenticated GET /info and /status, /summary readable with or without auth, unlock with
 * {"pw"} → {"token"} (403 wrong password), `Authorization: Bearer <token>` (the bare token accepted too), `x-api-key`,
 * /auth-check 200/401. The field names inside the bodies are assumptions: where pyasic's VNish backend reads a path
 * (`miner.miner_type`, `miner.miner_status.miner_state`, `miner.power_usage`, `miner.chains[].status.{state,description}`,
 * `system.network_status.mac`, settings `miner.overclock.preset`) we serve that path; the rest is ours (README).
 */
import type http from 'node:http';
import { writeJson, type WireObject } from '../json';
import type { SimMiner } from '../miner';
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

function presets(miner: SimMiner): WireObject[] {
  const w = miner.profile.typicalPowerW;
  return [0.7, 0.85, 1].map((k) => ({ name: `${Math.round(w * k)}`, pretty: `${Math.round(w * k)} watt ~ ${Math.round(miner.profile.nominalThs * k)} TH`, status: 'tuned' }));
}

function summary(miner: SimMiner, nowMs: number): string {
  const r = miner.read(nowMs);
  const p = miner.profile;
  const hydro = p.cooling === 'hydro';
  return writeJson({
    miner: {
      miner_status: { miner_state: r.mode === 'hashing' ? 'mining' : r.mode === 'sleeping' ? 'stopped' : 'failure', miner_state_time: r.uptimeS },
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
          miner_state: r.mode === 'hashing' ? 'mining' : r.mode === 'sleeping' ? 'stopped' : 'failure',
          miner_state_time: r.uptimeS,
          restart_required: false,
          reboot_required: false,
          unlocked: false,
          find_miner: false,
        }),
      );
    case '/api/v1/summary':
      // Auth is optional for summary ({} among its security alternatives).
      return json(summary(miner, nowMs));
  }
  if (!authorized(miner, auth, req, nowMs)) return json('{"err":"unauthorized"}', 401);
  switch (p) {
    case '/api/v1/auth-check':
      return json('{}');
    case '/api/v1/autotune/presets':
      return json(writeJson(presets(miner)));
    case '/api/v1/settings':
      return json(writeJson({ miner: { overclock: { preset: String(miner.profile.typicalPowerW), modded_psu: false }, cooling: { mode: { name: miner.profile.cooling === 'hydro' ? 'immers' : 'auto' } } } }));
  }
  return json('{"err":"not found"}', 404);
}
