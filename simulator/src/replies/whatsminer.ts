/**
 * btminer (Whatsminer) replies: MH/s, `Fan Speed In` / `Fan Speed Out`, one DEVS entry per board, pools numbered
 * from 1, and the API-2 `status` / `get_version` commands with a bare-string STATUS and an object Msg (QUIRKS §4.2).
 */
import { aesEcbDecrypt, aesEcbEncrypt, btminerToken } from '@flymining/shared';
import { writeJson, type WireObject } from '../json';
import { FaultError } from '../faults';
import type { BoardReading, MinerReading, SimMiner, SimWorkMode } from '../miner';
import { whatsminerWriteApi } from '../next/whatsminer-v3';
import { effectivePowerLimitW } from './cgminer-writes';
import {
  CGMINER4_POOLS,
  f2,
  f4,
  f8,
  macFromId,
  poolsReply,
  sectionReply,
  stableHex,
  unixSeconds,
  type DialectWriter,
  type PoolFormat,
  type ReplyContext,
  type ReplyText,
} from './common';

const FIRMWARE = '20210322.22.REL';
const API_VERSION = 'whatsminer v1.3';
/** pyasic treats exactly this text as "miner process down" (QUIRKS §1.7); btminer sends it while the miner is off. */
export const BTMINER_PROCESS_DOWN = 'Socket connect failed: Connection refused\n';

function fanIn(r: MinerReading): number {
  return r.fansRpm[0] ?? 0;
}
function fanOut(r: MinerReading): number {
  return r.fansRpm[1] ?? 0;
}

function devItem(ctx: ReplyContext, b: BoardReading, i: number): WireObject {
  const r = ctx.reading;
  const mhs = b.rateGhs * 1000;
  const share = r.boards.length > 0 ? 1 / r.boards.length : 0;
  return {
    ASC: i,
    Name: 'SM',
    ID: i,
    Slot: i,
    Enabled: 'Y',
    // cgminer's devs lists a board that stopped answering as Dead; edevs leaves it out (QUIRKS §8).
    Status: b.present ? 'Alive' : 'Dead',
    Temperature: f2(b.present ? Math.round(b.boardTempC * 2) / 2 : 0),
    'Chip Frequency': b.present ? ctx.profile.frequencyMhz : 0,
    'Fan Speed In': fanIn(r),
    'Fan Speed Out': fanOut(r),
    'MHS av': f2(b.present ? r.avgGhs * 1000 * share : 0),
    'MHS 5s': f2(mhs),
    'MHS 1m': f2(mhs),
    'MHS 5m': f2(mhs),
    'MHS 15m': f2(mhs),
    Accepted: b.accepted,
    Rejected: 0,
    'Hardware Errors': b.hwErrors,
    Utility: f2(r.uptimeS > 0 ? (b.accepted * 60) / r.uptimeS : 0),
    'Last Share Pool': 0,
    'Last Share Time': unixSeconds(r),
    'Total MH': fixedMh(r.avgGhs * 1000 * r.uptimeS * share),
    'Diff1 Work': 0,
    'Difficulty Accepted': f8(b.accepted * 262144),
    'Difficulty Rejected': f8(0),
    'Last Share Difficulty': f8(262144),
    'Last Valid Work': unixSeconds(r),
    'Device Hardware%': fixedPct(0),
    'Device Rejected%': fixedPct(0),
    'Device Elapsed': r.uptimeS,
    'Upfreq Complete': 1,
    'Effective Chips': b.present ? b.chipsFound - b.chipsBad : 0,
    'PCB SN': `BJM1FS${stableHex(`${ctx.miner.identityKey}/${i}`, 14).toUpperCase()}`,
    'Chip Data': 'HPJA05-20070601 BINV02-193005F',
    'Chip Temp Min': f2(b.present ? b.chipTempC - 20 : 0),
    'Chip Temp Max': f2(b.present ? b.chipTempC + 4 : 0),
    'Chip Temp Avg': f2(b.present ? b.chipTempC - 6 : 0),
    chip_vol_diff: 12,
  };
}

/** btminer: pools numbered from 1, last share as a unix time, cgminer 4.10 extended fields. */
export const BTMINER_POOLS: PoolFormat = {
  ...CGMINER4_POOLS,
  firstIndex: 1,
  extended: true,
  lastShareTime: (ago, r) => (ago === null ? 0 : unixSeconds(r) - ago),
};

const fixedMh = (v: number) => f4(Math.round(v));
const fixedPct = (v: number) => f4(v);


function summaryItem(ctx: ReplyContext): WireObject {
  const { reading: r, profile: p } = ctx;
  const maxChip = Math.max(0, ...r.boards.filter((b) => b.present).map((b) => b.chipTempC + 4));
  const boardTemp = Math.max(0, ...r.boards.filter((b) => b.present).map((b) => b.boardTempC));
  return {
    Elapsed: r.uptimeS,
    'MHS av': f2(r.avgGhs * 1000),
    'MHS 5s': f2(r.rateGhs * 1000),
    'MHS 1m': f2(r.rateGhs * 1000),
    'MHS 5m': f2(r.avg30mGhs * 1000),
    'MHS 15m': f2(r.avg30mGhs * 1000),
    'HS RT': f2(r.avg30mGhs * 1000),
    'Found Blocks': 0,
    Getworks: Math.floor(r.uptimeS / 24),
    Accepted: r.accepted,
    Rejected: r.rejected,
    'Hardware Errors': r.hwErrors,
    Utility: f2(r.uptimeS > 0 ? (r.accepted * 60) / r.uptimeS : 0),
    Discarded: 0,
    Stale: 0,
    'Get Failures': 0,
    'Local Work': r.uptimeS * 19000,
    'Remote Failures': 0,
    'Network Blocks': Math.floor(r.uptimeS / 600),
    'Total MH': fixedMh(r.avgGhs * 1000 * r.uptimeS),
    'Work Utility': f2(0),
    'Difficulty Accepted': f8(r.difficultyAccepted),
    'Difficulty Rejected': f8(r.difficultyRejected),
    'Difficulty Stale': f8(0),
    'Best Share': r.bestShare,
    Temperature: f2(Math.round(boardTemp * 2) / 2),
    freq_avg: p.frequencyMhz,
    'Fan Speed In': fanIn(r),
    'Fan Speed Out': fanOut(r),
    Voltage: 1206,
    Power: Math.round(r.powerW),
    Power_RT: Math.round(r.powerW),
    'Power Rate': f2(r.rateGhs > 0 ? r.powerW / (r.rateGhs / 1000) : 0),
    'Device Hardware%': fixedPct(0),
    'Device Rejected%': fixedPct(0),
    'Pool Rejected%': fixedPct(0),
    'Pool Stale%': fixedPct(0),
    'Last getwork': 0,
    Uptime: r.uptimeS + 600,
    'Chip Data': 'HPJA05-20070601 BINV02-193005F',
    'Power Current': 276.626346,
    'Power Fanspeed': 7608,
    'Error Code Count': 0,
    'Factory Error Code Count': 0,
    'Security Mode': 0,
    'Liquid Cooling': false,
    'Hash Stable': r.mode === 'hashing' && r.uptimeS > 1800,
    'Hash Stable Cost Seconds': Math.min(r.uptimeS, 1538),
    'Hash Deviation%': fixedPct(0.0086),
    'Target Freq': p.frequencyMhz - 50,
    'Target MHS': Math.round(r.idealGhs * 1000 * 0.95),
    'Env Temp': f2(r.intakeC),
    'Power Mode': POWER_MODE_NAME[ctx.miner.commandedState().workMode],
    // Newer firmware quotes the version with plain single quotes inside the string (QUIRKS §3).
    'Firmware Version': `'${ctx.miner.versionOr(FIRMWARE)}'`,
    'CB Platform': 'ALLWINNER_H6OS',
    'CB Version': 'V10',
    MAC: macFromId(ctx.miner.identityKey),
    'Factory GHS': Math.round(p.nominalThs * 1000),
    'Power Limit': effectivePowerLimitW(ctx.miner),
    'Power Voltage Input': f2(229.5),
    'Power Current Input': f2(r.powerW / 229.5),
    'Chip Temp Min': f2(maxChip > 0 ? maxChip - 40 : 0),
    'Chip Temp Max': f2(maxChip),
    'Chip Temp Avg': f2(maxChip > 0 ? maxChip - 18 : 0),
  };
}

/** API-2 reply form: STATUS is a bare letter, Msg an object, and there is no id (QUIRKS §4.2). */
function api2Reply(ctx: ReplyContext, msg: WireObject): string {
  return writeJson({ STATUS: 'S', When: ctx.when, Code: 131, Msg: msg, Description: API_VERSION });
}

export const btminerWriter: DialectWriter = {
  description: () => 'btminer',
  writeOptions: {},
  control: (ctx, command, request) => btminerControl(ctx, command, request),
  override: (ctx, command) => {
    // With the miner switched off only the API-2 front end answers; cgminer-side commands get a plain text error.
    if (ctx.reading.mode === 'sleeping' && command !== 'status' && command !== 'get_version') {
      return { text: BTMINER_PROCESS_DOWN, nul: false };
    }
    return undefined;
  },
  commands: {
    summary: (ctx) => sectionReply(ctx, btminerWriter, 11, 'Summary', 'SUMMARY', [summaryItem(ctx)]),
    devs: (ctx) => {
      const devs = ctx.reading.boards.map((b, i) => devItem(ctx, b, i));
      return sectionReply(ctx, btminerWriter, 9, `${devs.length} ASC(s)`, 'DEVS', devs);
    },
    edevs: (ctx) => {
      const devs: WireObject[] = [];
      ctx.reading.boards.forEach((b, i) => {
        if (b.present) devs.push(devItem(ctx, b, i));
      });
      return sectionReply(ctx, btminerWriter, 9, `${devs.length} ASC(s)`, 'DEVS', devs);
    },
    pools: (ctx) => poolsReply(ctx, btminerWriter, BTMINER_POOLS),
    status: (ctx) =>
      api2Reply(ctx, { btmineroff: ctx.reading.mode === 'sleeping' ? 'true' : 'false', 'Firmware Version': `'${ctx.miner.versionOr(FIRMWARE)}'` }),
    get_version: (ctx) => api2Reply(ctx, { api_ver: API_VERSION, fw_ver: ctx.miner.versionOr(FIRMWARE) }),
  },
};

/**
 * Port 4028 of a unit on API v3 firmware (2024-11 on): pools and uptime still answer, hashboards and the model are
 * gone (issue 13; PYASIC-363). summary carries only the elapsed time.
 */
export const btminerV3Writer: DialectWriter = {
  description: () => 'btminer',
  writeOptions: {},
  commands: {
    summary: (ctx) => sectionReply(ctx, btminerV3Writer, 11, 'Summary', 'SUMMARY', [{ Elapsed: ctx.reading.uptimeS }]),
    pools: (ctx) => poolsReply(ctx, btminerV3Writer, BTMINER_POOLS),
  },
};

// ---------------------------------------------------------------------------------------------------------------
// API v2 writes (QUIRKS §11): get_token, then AES-256-ECB frames {"enc":1,"data":…} answered {"enc":…}.

const POWER_MODE_NAME: Record<SimWorkMode, string> = { low: 'Low', normal: 'Normal', high: 'High' };
const POWER_COMMANDS: Readonly<Record<string, SimWorkMode>> = { set_low_power: 'low', set_normal_power: 'normal', set_high_power: 'high' };
/** pyasic reuses a token for 30 minutes; the simulated firmware accepts one that long. */
const TOKEN_LIFE_MS = 30 * 60_000;
const MAX_TOKENS = 16;
const API = 'btminer';

interface IssuedToken {
  sign: string;
  issuedMs: number;
}

const issued = new WeakMap<SimMiner, IssuedToken[]>();

/** Eight characters, stable per unit (md5-crypt salts are [./0-9A-Za-z]). */
function btminerSalt(miner: SimMiner): string {
  return stableHex(`${miner.id}/btminer-salt`, 8);
}

function api2(ctx: ReplyContext, letter: 'S' | 'E', code: number, msg: string | WireObject): string {
  return writeJson({ STATUS: letter, When: ctx.when, Code: code, Msg: msg, Description: '' });
}

const plain = (text: string): ReplyText => ({ text, nul: true });

function btminerControl(ctx: ReplyContext, command: string | undefined, request: Readonly<Record<string, unknown>>): ReplyText | undefined {
  const name = command ?? (typeof request.cmd === 'string' ? request.cmd : undefined);
  const encrypted = request.enc !== undefined;
  if (name !== 'get_token' && !encrypted) return undefined;
  const miner = ctx.miner;
  // Locked write API: the firmware's text, which pyasic matches (QUIRKS §4.3).
  if (!whatsminerWriteApi(miner)) return plain(api2(ctx, 'E', 45, "can't access write cmd"));
  const password = miner.credential('whatsminer-v3').password;
  if (!encrypted) {
    const time = String(ctx.when);
    const tokens = (issued.get(miner) ?? []).filter((t) => ctx.reading.nowMs - t.issuedMs < TOKEN_LIFE_MS).slice(-(MAX_TOKENS - 1));
    const newsalt = stableHex(`${miner.identityKey}/newsalt/${ctx.reading.nowMs}/${tokens.length}`, 8);
    tokens.push({ sign: btminerToken(password, { salt: btminerSalt(miner), newsalt, time }).sign, issuedMs: ctx.reading.nowMs });
    issued.set(miner, tokens);
    return plain(api2(ctx, 'S', 134, { time, salt: btminerSalt(miner), newsalt }));
  }
  const { key } = btminerToken(password, { salt: btminerSalt(miner), newsalt: '', time: '' });
  let payload: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(aesEcbDecrypt(key, typeof request.data === 'string' ? request.data : ''));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    payload = parsed as Record<string, unknown>;
  } catch {
    // A wrong password gives a key that turns the frame into noise (the reply text is the simulator's own).
    return plain(api2(ctx, 'E', 23, 'invalid token or command data'));
  }
  const known = (issued.get(miner) ?? []).some((t) => t.sign === payload.token && ctx.reading.nowMs - t.issuedMs < TOKEN_LIFE_MS);
  if (!known) return plain(api2(ctx, 'E', 23, 'invalid token or command data'));
  const reply = (letter: 'S' | 'E', code: number, msg: string): ReplyText => plain(writeJson({ enc: aesEcbEncrypt(key, api2(ctx, letter, code, msg)) }));
  const cmd = typeof payload.cmd === 'string' ? payload.cmd : typeof payload.command === 'string' ? payload.command : '';
  try {
    switch (cmd) {
      case 'reboot':
        miner.commandReboot(API);
        return reply('S', 131, 'reboot');
      case 'power_off':
        miner.commandSleep(API);
        return reply('S', 131, 'power off');
      case 'power_on':
        miner.commandWake(API);
        return reply('S', 131, 'power on');
      case 'adjust_power_limit':
        miner.commandPowerTarget(API, Number(payload.power_limit));
        return reply('S', 131, 'adjust power limit');
      case 'update_pools': {
        const pools: { url: string; user: string }[] = [];
        for (let i = 1; i <= 3; i++) {
          const url = payload[`pool${i}`];
          if (typeof url === 'string' && url !== '') pools.push({ url, user: typeof payload[`worker${i}`] === 'string' ? (payload[`worker${i}`] as string) : '' });
        }
        miner.commandPools(API, pools);
        return reply('S', 131, 'update pools');
      }
      case 'set_led':
        miner.commandBlink(API, payload.param !== 'auto');
        return reply('S', 131, 'set led');
    }
    const mode = POWER_COMMANDS[cmd];
    if (mode) {
      miner.commandWorkMode(API, mode);
      return reply('S', 131, cmd);
    }
  } catch (err) {
    if (err instanceof FaultError) return reply('E', 132, err.message);
    throw err;
  }
  return reply('E', 14, 'invalid cmd');
}
