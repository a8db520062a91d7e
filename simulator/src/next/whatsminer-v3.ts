/**
 * Whatsminer API v3 replies (shared/miner-api-next/whatsminer-v3): `{"code","desc","msg","when"}` envelopes, almost
 * every `get.device.info` value a string, TH/s floats in `get.miner.status`, and per-command write tokens
 * (SHA-256 of cmd + password + salt + ts, first 8 characters of its base64).
 */
import { aesEcbDecrypt, v3Digest, v3TokenOf } from '@flymining/shared';
import { FaultError } from '../faults';
import { fixed, writeJson, type WireObject, type WireValue } from '../json';
import type { MinerReading, SimMiner, SimWorkMode } from '../miner';
import { effectivePowerLimitW } from '../replies/cgminer-writes';
import { macFromId, stableHex } from '../replies/common';
import { minerDateTime, whatsminerReason } from './firmware-errors';

/** v3 `code` values (WM-DOC Overview). */
export const V3_CODE = { ok: 0, fail: -1, invalidCommand: -2, invalidJson: -3, noPermission: -4 } as const;

/** Accounts the v3 API knows; "admin" is deprecated for it. */
const V3_ACCOUNTS = new Set(['super', 'user1', 'user2', 'user3']);
/** Writes whose ts is further than this from the miner's clock are refused. */
const TOKEN_SKEW_S = 300;
const V3_SECTIONS = ['summary', 'pools', 'edevs'] as const;
const DEVICE_SECTIONS = ['miner', 'system', 'power', 'network', 'salt', 'error-code'] as const;

/** Whole floats print as `82.0`, as the captures show. */
const flt = (v: number): WireValue => (Number.isInteger(v) ? fixed(v, 1) : Math.round(v * 1000) / 1000);
const ths = (ghs: number): WireValue => flt(Math.round(ghs) / 1000);

export function v3Salt(miner: SimMiner): string {
  // Eight letters, stable per miner, like the captured "uhCiDyVj".
  const hex = stableHex(`${miner.id}/salt`, 16);
  let out = '';
  for (let i = 0; i < 8; i++) {
    const n = parseInt(hex.slice(i * 2, i * 2 + 2), 16) % 52;
    out += String.fromCharCode(n < 26 ? 65 + n : 71 + n);
  }
  return out;
}

/** The token a client must send with a write (WM-DOC Token Generation). */
export function v3Token(cmd: string, password: string, salt: string, ts: number): string {
  return v3TokenOf(v3Digest(cmd, password, salt, ts));
}

/**
 * Units whose write API is switched off (WhatsMinerTool's switch; it covers API v2 on port 4028 too). Real units ship
 * with it off; simulated ones start with it on, as a farm that uses the write path has set its units up, and tests
 * switch it off to see the refusal (-4, or "can't access write cmd" on v2).
 */
const writeApiOff = new WeakSet<SimMiner>();

export function setWhatsminerWriteApi(miner: SimMiner, enabled: boolean): void {
  if (enabled) writeApiOff.delete(miner);
  else writeApiOff.add(miner);
}

export function whatsminerWriteApi(miner: SimMiner): boolean {
  return !writeApiOff.has(miner);
}

export function v3Envelope(code: number, cmd: string, msg: WireValue, when: number): string {
  return writeJson({ code, desc: cmd, msg, when });
}

function serial(miner: SimMiner, what: string, prefix: string, length: number): string {
  return prefix + stableHex(`${miner.identityKey}/${what}`, length).toUpperCase();
}

function deviceInfo(miner: SimMiner, r: MinerReading): WireObject {
  const p = miner.profile;
  const boards = r.boards;
  const miner_: WireObject = {
    'board-num': String(boards.filter((b) => b.present).length),
  };
  boards.forEach((b, i) => {
    if (b.present) miner_[`chipdata${i}`] = `K8EC37${i}-2426 BINVE6-197806A`;
  });
  Object.assign(miner_, {
    // Per-board factory hash rates in GH/s; boards differ by about a percent.
    'detect-hash-rate': boards.map((b, idx) => (b.present ? String(Math.round(b.idealGhs * (1 + 0.01 * (idx - 1)))) : '0')).join(':'),
    'fast-boot': 'disable',
    'hash-board': 'K40',
    'hash-percent': '0',
    'miner-sn': serial(miner, 'sn', 'BTM3CS40HD2408', 19),
  });
  boards.forEach((b, idx) => {
    if (b.present) miner_[`pcbsn${idx}`] = serial(miner, `pcb${idx}`, 'BKM3CSE', 13);
  });
  Object.assign(miner_, { 'pool-strategy': 'FAILOVER', type: p.model, working: r.mode === 'sleeping' ? 'false' : 'true' });
  const psu: WireObject = {
    fanspeed: r.powerW > 0 ? 6344 : 0,
    hwversion: 'RT0159',
    model: 'P221B',
    sn: serial(miner, 'psu', '1436B', 10),
    swversion: '230224.220429',
    type: 'P221B',
    vendor: '1',
    // The work mode as asic-rs reads it (/msg/power/mode): "0" low, "1" normal, "2" high.
    mode: String(POWER_MODES.indexOf(miner.commandedState().workMode)),
  };
  const errors = miner.firmwareErrors();
  const info: WireObject = {
    ...(errors.length > 0 ? { 'error-code': errorCodes(miner) } : {}),
    miner: miner_,
    network: { dns: '127.0.0.1', gateway: '127.0.0.1', hostname: 'WhatsMiner', ip: miner.spec.host, mac: macFromId(miner.identityKey), netmask: '255.0.0.0', proto: 'dhcp' },
    power: psu,
    salt: v3Salt(miner),
    system: {
      api: '3.0.2',
      apiswitch: '1',
      'control-board-version': 'CB6V10',
      fwversion: miner.versionOr(p.api?.firmwareVersion ?? '20251209.16.Rel2'),
      ledstatus: miner.commandedState().blinking ? 'manual' : 'auto',
      platform: 'H616',
    },
  };
  return info;
}

function errorCodes(miner: SimMiner): WireValue[] {
  return miner.firmwareErrors().map((e) => ({ [e.code]: minerDateTime(e.sinceMs), reason: whatsminerReason(e) }));
}

function summary(miner: SimMiner, r: MinerReading): WireObject {
  const present = r.boards.filter((b) => b.present);
  const chips = present.map((b) => b.chipTempC);
  const avg = chips.length > 0 ? chips.reduce((a, c) => a + c, 0) / chips.length : 0;
  return {
    Debug: '',
    'board-temperature': present.map((b) => Math.round(b.boardTempC * 10) / 10),
    'bootup-time': r.uptimeS + 40,
    'chip-temp-avg': flt(Math.round(avg * 10) / 10),
    'chip-temp-max': flt(Math.round(Math.max(0, ...chips) + 4)),
    'chip-temp-min': flt(Math.round(chips.length > 0 ? Math.min(...chips) - 6 : 0)),
    elapsed: r.uptimeS,
    'environment-temperature': flt(Math.round(r.intakeC * 10) / 10),
    'factory-hash': ths(miner.profile.nominalThs * 1000),
    'fan-speed-in': r.fansRpm[0] ?? 0,
    'fan-speed-out': r.fansRpm[1] ?? 0,
    'freq-avg': r.rateGhs > 0 ? miner.profile.frequencyMhz : 0,
    'hash-15min': ths(r.avg30mGhs),
    'hash-1min': ths(r.rateGhs),
    'hash-average': ths(r.avgGhs),
    'hash-realtime': ths(r.rateGhs),
    'power-5min': flt(Math.round(r.powerW)),
    'power-limit': effectivePowerLimitW(miner),
    'power-rate': flt(r.rateGhs > 0 ? Math.round((r.powerW / (r.rateGhs / 1000)) * 10) / 10 : 0),
    'power-realtime': flt(Math.round(r.powerW)),
    'up-freq-finish': r.mode === 'hashing' ? 1 : 0,
  };
}

function edevs(r: MinerReading): WireObject[] {
  const out: WireObject[] = [];
  r.boards.forEach((b, id) => {
    if (!b.present) return;
    out.push({
      'chip-temp-avg': flt(Math.round(b.chipTempC)),
      'chip-temp-max': flt(Math.round(b.chipTempC + 5)),
      'chip-temp-min': flt(Math.round(b.chipTempC - 6)),
      'effective-chips': b.chipsFound - b.chipsBad,
      'factory-hash': ths(b.idealGhs),
      freq: flt(b.rateGhs > 0 ? b.frequencyMhz : 0),
      'hash-average': ths(b.rateGhs * 0.998),
      'hash-realtime': ths(b.rateGhs),
      id,
      status: 'alive',
    });
  });
  return out;
}

function pools(r: MinerReading): WireObject[] {
  return r.pools.map((p, priority) => ({
    account: p.user,
    'pool-priority': priority,
    status: p.alive ? 'alive' : 'dead',
    'stratum-active': p.active,
    url: p.url,
  }));
}

const SYSTEM_SETTING: WireObject = {
  'web-pool': 1,
  timezone: 'CST-8',
  zonename: 'Asia/Shanghai',
  hostname: 'WhatsMiner',
  'time-randomized': { start: 0, stop: 0 },
  'ntp-server': ['0.cn.pool.ntp.org', '0.openwrt.pool.ntp.org', '0.asia.pool.ntp.org', '0.pool.ntp.org'],
};

/** Writes the simulator accepts (with a valid token); every other set.* is an invalid command. */
const WRITES = new Set(['set.system.led', 'set.miner.service', 'set.system.reboot', 'set.miner.power_mode', 'set.miner.power_limit', 'set.miner.pools']);
const POWER_MODES: readonly SimWorkMode[] = ['low', 'normal', 'high'];
const API = 'whatsminer-v3';

/** get.miner.setting as the vendor documents it (matroskin docs/api-doc get.miner.setting). */
function minerSetting(miner: SimMiner): WireObject {
  const c = miner.commandedState();
  const limit = effectivePowerLimitW(miner);
  return { 'power-limit': limit, 'upfreq-speed': 0, 'power-mode': c.workMode, 'fast-boot': 'disable', 'target-freq': 0, 'fast-mining': 'disable', power: limit, 'power-percent': 0 };
}

/** Carries out one authenticated write; the reply's code and msg. */
function applyWrite(miner: SimMiner, cmd: string, param: unknown, key: Buffer): { code: number; msg: string } {
  const bad = { code: V3_CODE.invalidJson, msg: 'invalid param' };
  switch (cmd) {
    case 'set.system.reboot':
      miner.commandReboot(API);
      return { code: V3_CODE.ok, msg: 'ok' };
    case 'set.miner.service':
      if (param === 'stop') miner.commandSleep(API);
      else if (param === 'start') miner.commandWake(API);
      else if (param === 'restart') miner.commandReboot(API);
      else return bad;
      return { code: V3_CODE.ok, msg: 'ok' };
    case 'set.miner.power_mode': {
      const mode = POWER_MODES.find((m) => m === param);
      if (!mode) return bad;
      miner.commandWorkMode(API, mode);
      return { code: V3_CODE.ok, msg: 'ok' };
    }
    case 'set.miner.power_limit': {
      const watts = Number(param);
      if (!Number.isFinite(watts)) return bad;
      miner.commandPowerTarget(API, watts);
      return { code: V3_CODE.ok, msg: 'ok' };
    }
    case 'set.miner.pools': {
      // The parameter is AES-256-ECB ciphertext (key: the token's SHA-256) of a JSON list of {pool, worker, passwd}.
      let pools: unknown;
      try {
        pools = JSON.parse(aesEcbDecrypt(key, typeof param === 'string' ? param : ''));
      } catch {
        return bad;
      }
      if (!Array.isArray(pools)) return bad;
      const list = pools.map((p: unknown) => (p && typeof p === 'object' ? (p as Record<string, unknown>) : {}));
      if (list.some((p) => typeof p.pool !== 'string' || typeof p.worker !== 'string')) return bad;
      miner.commandPools(API, list.map((p) => ({ url: String(p.pool), user: String(p.worker) })));
      return { code: V3_CODE.ok, msg: 'ok' };
    }
    case 'set.system.led':
      if (param === 'auto') miner.commandBlink(API, false);
      else if (Array.isArray(param) && param.length > 0) miner.commandBlink(API, true);
      else return bad;
      return { code: V3_CODE.ok, msg: 'ok' };
  }
  return { code: V3_CODE.invalidCommand, msg: 'invalid command' };
}

/** Answers one decoded v3 request (the frame's JSON payload). */
export function answerV3(miner: SimMiner, payload: string, nowMs: number): string {
  const when = Math.floor(nowMs / 1000);
  let request: unknown;
  try {
    request = JSON.parse(payload);
  } catch {
    return v3Envelope(V3_CODE.invalidJson, '', 'invalid json', when);
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return v3Envelope(V3_CODE.invalidJson, '', 'invalid json', when);
  const fields = request as Record<string, unknown>;
  const cmd = fields.cmd;
  if (typeof cmd !== 'string') return v3Envelope(V3_CODE.invalidJson, '', 'missing cmd', when);
  const param = fields.param;
  const r = miner.read(nowMs);
  switch (cmd) {
    case 'get.device.info': {
      const info = deviceInfo(miner, r);
      if (param === undefined || param === null || param === '') return v3Envelope(V3_CODE.ok, cmd, info, when);
      if (typeof param !== 'string' || !(DEVICE_SECTIONS as readonly string[]).includes(param)) {
        return v3Envelope(V3_CODE.invalidJson, cmd, 'invalid param', when);
      }
      if (param === 'error-code') return v3Envelope(V3_CODE.ok, cmd, { 'error-code': errorCodes(miner) }, when);
      return v3Envelope(V3_CODE.ok, cmd, { [param]: info[param] ?? null }, when);
    }
    case 'get.miner.status': {
      if (param === undefined || param === null) return v3Envelope(V3_CODE.ok, cmd, {}, when);
      const sections = typeof param === 'string' ? param.split('+') : [];
      if (sections.length === 0 || sections.some((s) => !(V3_SECTIONS as readonly string[]).includes(s))) {
        return v3Envelope(V3_CODE.invalidJson, cmd, 'invalid param', when);
      }
      const msg: WireObject = {};
      for (const s of sections) {
        if (s === 'summary') msg.summary = summary(miner, r);
        if (s === 'edevs') msg.edevs = edevs(r);
        if (s === 'pools') msg.pools = pools(r);
      }
      return v3Envelope(V3_CODE.ok, cmd, msg, when);
    }
    case 'get.system.setting':
      return v3Envelope(V3_CODE.ok, cmd, SYSTEM_SETTING, when);
    case 'get.miner.setting':
      return v3Envelope(V3_CODE.ok, cmd, minerSetting(miner), when);
  }
  if (cmd.startsWith('set.')) {
    if (!WRITES.has(cmd)) return v3Envelope(V3_CODE.invalidCommand, cmd, 'invalid command', when);
    const { account, token, ts } = fields;
    const credential = miner.credential('whatsminer-v3');
    const valid =
      whatsminerWriteApi(miner) &&
      typeof account === 'string' &&
      V3_ACCOUNTS.has(account) &&
      account === credential.user &&
      typeof ts === 'number' &&
      Number.isInteger(ts) &&
      Math.abs(ts - when) <= TOKEN_SKEW_S &&
      typeof token === 'string' &&
      token === v3Token(cmd, credential.password, v3Salt(miner), ts);
    if (!valid) return v3Envelope(V3_CODE.noPermission, cmd, 'no permission', when);
    try {
      const done = applyWrite(miner, cmd, param, v3Digest(cmd, credential.password, v3Salt(miner), ts as number));
      return v3Envelope(done.code, cmd, done.msg, when);
    } catch (err) {
      if (err instanceof FaultError) return v3Envelope(V3_CODE.fail, cmd, err.message, when);
      throw err;
    }
  }
  return v3Envelope(V3_CODE.invalidCommand, cmd, 'invalid command', when);
}
