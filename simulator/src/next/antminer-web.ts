/**
 * Antminer stock firmware's newer reply layout: `stats`/`summary` with `"new_api": true` on TCP 4028 and the same
 * bodies from /cgi-bin/stats.cgi and summary.cgi (STATUS an object, INFO block, per-chain arrays), plus the CGI pages
 * the firmware prints from templates (get_system_info, get_miner_conf, get_network_info: one key per line, not
 * written by a JSON library). Shapes: shared/miner-api-next/antminer-cgi and antminer-new-api.
 */
import { z } from 'zod';
import { writeJson, type WireObject } from '../json';
import type { BoardReading, MinerReading, SimMiner, SimWorkMode } from '../miner';
import { chipStatusString, macFromId, stableHex } from '../replies/common';
import type { HttpReply } from './http-api';

const COMPILE_TIME = 'Fri Jun 26 09:24:23 CST 2026';
const r2 = (v: number): number => Math.round(v * 100) / 100;

function info(miner: SimMiner, withEnum: boolean): WireObject {
  return {
    CompileTime: COMPILE_TIME,
    ...(withEnum ? { miner_type_enum: 1 } : {}),
    miner_version: miner.versionOr(miner.profile.api?.firmwareVersion ?? 'platform[AML]'),
    type: miner.profile.model,
  };
}

function status(msg: string, r: MinerReading): WireObject {
  return { Msg: msg, STATUS: 'S', api_version: '1.0.0', when: Math.floor(r.nowMs / 1000) };
}

export function boardSerial(miner: SimMiner, index: number): string {
  return `YNAH${stableHex(`${miner.identityKey}/board${index}`, 13).toUpperCase()}`;
}

export function minerSerial(miner: SimMiner): string {
  return `JYZZ${stableHex(`${miner.identityKey}/serial`, 12).toUpperCase()}`;
}

/**
 * Four sensors per board. Hydro: temp_pcb[0..1] water inlet side, [2..3] outlet side (pyasic reads S21+ Hyd. this way);
 * air: [0..1] intake side, [2..3] exhaust side. Zeros mean "no sensor".
 */
function sensors(b: BoardReading, hydro: boolean): { pcb: number[]; chip: number[]; pic: number[] } {
  if (!b.present) return { pcb: [0, 0, 0, 0], chip: [0, 0, 0, 0], pic: [0, 0, 0, 0] };
  const low = Math.round(hydro ? b.inletTempC : b.boardTempC - 8);
  const high = Math.round(hydro ? b.outletTempC : b.boardTempC);
  const chipLow = Math.round(b.chipTempC - 12);
  const chipHigh = Math.round(b.chipTempC);
  return { pcb: [low, low, high, high], chip: [chipLow, chipLow, chipHigh, chipHigh], pic: [low - 10, low - 10, high - 10, high - 10] };
}

/** `{"command":"stats","new_api":true}` on 4028 and GET /cgi-bin/stats.cgi. */
export function newApiStats(miner: SimMiner, r: MinerReading): string {
  const p = miner.profile;
  const hydro = p.cooling === 'hydro';
  const chain: WireObject[] = [];
  r.boards.forEach((b, index) => {
    if (!b.present) return;
    const t = sensors(b, hydro);
    chain.push({
      asic: chipStatusString(b.chipsFound, b.chipsBad, p.chipGroup, r.mode === 'overheated'),
      asic_num: b.chipsFound,
      freq_avg: b.rateGhs > 0 ? b.frequencyMhz : 0,
      index,
      rate_ideal: r2(b.idealGhs),
      rate_real: r2(b.rateGhs),
      sn: boardSerial(miner, index),
      temp_chip: t.chip,
      temp_pcb: t.pcb,
      temp_pic: t.pic,
    });
  });
  const stats: WireObject = {
    chain,
    chain_num: chain.length,
    elapsed: r.uptimeS,
    fan: r.fansRpm,
    fan_num: r.fansRpm.length,
    rate_5s: r2(r.rateGhs),
    rate_avg: r2(r.avgGhs),
    rate_ideal: r2(r.idealGhs),
    rate_unit: 'GH/s',
    watt: Math.round(r.powerW),
  };
  return writeJson({ INFO: info(miner, true), STATS: [stats], STATUS: status('stats', r) });
}

type StatusLetter = 's' | 'e' | 'w' | '';

/** summary.cgi `status[]`: one entry per subsystem; injected firmware codes land on their subsystem (rate by default). */
function subsystems(miner: SimMiner, r: MinerReading): WireObject[] {
  const f = miner.activeFaults();
  const entry = (type: 'rate' | 'network' | 'fans' | 'temp', ok: StatusLetter, fault: { code: number; msg: string } | undefined): WireObject =>
    fault ? { code: fault.code, msg: fault.msg, status: 'e', type } : { code: 0, msg: '', status: ok, type };
  const injected = (type: string): { code: number; msg: string } | undefined => {
    const e = miner.firmwareErrors().find((x) => (x.subsystem ?? 'rate') === type);
    return e ? { code: Number(e.code), msg: e.reason ?? `error ${e.code}` } : undefined;
  };
  const rateFault = injected('rate') ?? (f.psuFault ? { code: 0, msg: 'power supply lost' } : undefined);
  const fanFault = injected('fans') ?? (f.stoppedFans.length > 0 ? { code: 0, msg: 'fan lost' } : undefined);
  const tempFault = injected('temp') ?? (r.mode === 'overheated' ? { code: 0, msg: 'temperature too high' } : undefined);
  const netFault = injected('network') ?? (f.poolsDead ? { code: 0, msg: 'pool connection lost' } : undefined);
  return [
    entry('rate', 's', rateFault),
    entry('network', 's', netFault),
    // A hydro unit has no fans: an empty status, not an error.
    entry('fans', miner.profile.fans === 0 ? '' : 's', fanFault),
    entry('temp', 's', tempFault),
  ];
}

/** `{"command":"summary","new_api":true}` and GET /cgi-bin/summary.cgi. */
export function newApiSummary(miner: SimMiner, r: MinerReading): string {
  const summary: WireObject = {
    bestshare: r.bestShare,
    elapsed: r.uptimeS,
    hw_all: r.hwErrors,
    rate_30m: r2(r.avg30mGhs),
    rate_5s: r2(r.rateGhs),
    rate_avg: r2(r.avgGhs),
    rate_ideal: r2(r.idealGhs),
    rate_unit: 'GH/s',
    safe_mode: false,
    status: subsystems(miner, r),
  };
  return writeJson({ INFO: info(miner, false), STATUS: status('summary', r), SUMMARY: [summary] });
}

/** The firmware's CGI template style: `{`, one `"key":"value"` per line, `}`. */
function lines(pairs: ReadonlyArray<readonly [string, string]>): string {
  return `{\n${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n')}\n}`;
}

export function systemInfoCgi(miner: SimMiner): string {
  return lines([
    ['minertype', miner.profile.model],
    ['nettype', 'DHCP'],
    ['netdevice', 'eth0'],
    ['macaddr', macFromId(miner.identityKey)],
    ['hostname', 'Antminer'],
    ['ipaddress', miner.spec.host],
    ['netmask', '255.0.0.0'],
    ['gateway', ''],
    ['dnsservers', ''],
    ['system_mode', 'GNU/Linux'],
    ['system_kernel_version', 'Linux 4.9.113 #1 SMP PREEMPT Thu Jun 25 18:02:11 CST 2026'],
    ['system_filesystem_version', COMPILE_TIME],
    ['firmware_type', 'Release'],
    ['serinum', minerSerial(miner)],
  ]);
}

export function networkInfoCgi(miner: SimMiner): string {
  return lines([
    ['nettype', 'DHCP'],
    ['netdevice', 'eth0'],
    ['macaddr', macFromId(miner.identityKey)],
    ['ipaddress', miner.spec.host],
    ['netmask', '255.0.0.0'],
    ['conf_nettype', 'DHCP'],
    ['conf_hostname', 'Antminer'],
    ['conf_ipaddress', ''],
    ['conf_netmask', ''],
    ['conf_gateway', ''],
    ['conf_dnsservers', ''],
  ]);
}

/** `bitmain-work-mode` as get_miner_conf prints it: "1" sleep, "3" low power, "0" normal (PROTOCOLS.md §3). */
function workModeText(miner: SimMiner, r: MinerReading): string {
  if (r.mode === 'sleeping') return '1';
  return miner.commandedState().workMode === 'low' ? '3' : '0';
}

/** get_miner_conf.cgi: ` : ` spacing, `]` and `,` on their own lines; work mode "0" normal, "1" sleep, "3" low power. */
export function minerConfCgi(miner: SimMiner, r: MinerReading): string {
  const pools = r.pools
    .map((p) => `{\n"url" : ${JSON.stringify(p.url)},\n"user" : ${JSON.stringify(p.user)},\n"pass" : "x"\n}`)
    .join(',\n');
  const conf: Array<[string, string]> = [
    ['api-listen', 'true'],
    ['api-network', 'true'],
    ['api-groups', '"A:stats:pools:devs:summary:version"'],
    ['api-allow', '"A:0/0,W:*"'],
    ['bitmain-fan-ctrl', 'false'],
    ['bitmain-fan-pwm', '"100"'],
    ['bitmain-use-vil', 'true'],
    ['bitmain-freq', JSON.stringify(String(miner.profile.frequencyMhz))],
    ['bitmain-voltage', '"1280"'],
    ['bitmain-ccdelay', '"1"'],
    ['bitmain-pwth', '"1"'],
    ['bitmain-work-mode', JSON.stringify(workModeText(miner, r))],
    ['bitmain-freq-level', '"100"'],
  ];
  return `{\n"pools" : [\n${pools}\n]\n,\n${conf.map(([k, v]) => `"${k}" : ${v}`).join(',\n')}\n}`;
}

// ---- Writes (issue 14). Modern firmware (S19 generation on) takes a JSON body; the S9-era firmware takes form fields
// (`_ant_pool1url=…`) and has no miner-mode at all (antminer-cgi/PROTOCOLS.md §3).

const API = 'antminer-web';
const cgiJson = (body: string): HttpReply => ({ status: 200, headers: { 'content-type': 'application/json' }, body });
/** The success reply as a Bitmain-derived web stack prints it (ELPHA-SET capture: `{"code":"M000","msg":"OK!","stats":"success"}`). */
const CONF_OK = '{"code":"M000","msg":"OK!","stats":"success"}';
/** No public capture of a refused write exists: the same shape with `stats` "error" and the reason in `msg` (ours). */
const confRefused = (msg: string): HttpReply => cgiJson(writeJson({ code: 'M001', msg, stats: 'error' }));

/** S9-era firmware: set_miner_conf and blink take form fields, there is no miner-mode. */
function isOldFirmware(miner: SimMiner): boolean {
  return miner.profile.dialect === 'bmminer-s9';
}

/** miner-mode values the firmware knows: 0 normal, 1 sleep, 3 low power; sent as a number or, by some tools, a string. */
const minerMode = z.union([z.number().int(), z.string().trim().regex(/^\d{1,3}$/).transform(Number)]);
const MINER_MODES: Readonly<Record<number, SimWorkMode | 'sleep'>> = { 0: 'normal', 1: 'sleep', 3: 'low' };

const setMinerConfBody = z
  .object({
    'miner-mode': minerMode.optional(),
    // asic-rs sends the read-side name too; the firmware takes either.
    'bitmain-work-mode': minerMode.optional(),
    pools: z.array(z.object({ url: z.string().max(512), user: z.string().max(256), pass: z.string().max(256).optional() }).passthrough()).max(3).optional(),
    'bitmain-fan-ctrl': z.union([z.boolean(), z.string().max(8)]).optional(),
    'bitmain-fan-pwm': z.union([z.string().max(8), z.number()]).optional(),
    'freq-level': z.union([z.string().max(8), z.number()]).optional(),
  })
  .passthrough();

function parseJsonBody(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false };
  }
}

/** POST set_miner_conf.cgi: the whole configuration at once (pools, fan, miner-mode); what is absent stays. */
export function setMinerConfCgi(miner: SimMiner, r: MinerReading, body: string): HttpReply {
  const parsed = parseJsonBody(body);
  if (isOldFirmware(miner)) {
    // This firmware reads `_ant_*` form fields; a JSON body (or a miner-mode) means nothing to it.
    return confRefused(`${miner.profile.model}: set_miner_conf takes form fields (_ant_pool1url, ...); this firmware has no miner-mode`);
  }
  if (!parsed.ok) return confRefused('invalid JSON body');
  const conf = setMinerConfBody.safeParse(parsed.value);
  if (!conf.success) return confRefused(`invalid parameter ${conf.error.issues[0]?.path.join('.') || '(body)'}`);
  const c = conf.data;
  const modeValue = c['miner-mode'] ?? c['bitmain-work-mode'];
  const mode = modeValue === undefined ? undefined : MINER_MODES[modeValue];
  if (modeValue !== undefined && mode === undefined) return confRefused(`miner-mode ${modeValue} is not supported on ${miner.profile.model}`);
  if (c.pools !== undefined) {
    const pools = c.pools.filter((p) => p.url.trim() !== '').map((p) => ({ url: p.url.trim(), user: p.user }));
    if (pools.length === 0) return confRefused('at least one pool is needed');
    // The web page sends the pools with every save; only a different list is a pool change.
    const current = r.pools.map((p) => ({ url: p.url, user: p.user }));
    if (JSON.stringify(current) !== JSON.stringify(pools)) miner.commandPools(API, pools);
  }
  if (mode === 'sleep') {
    if (!miner.commandedState().sleeping) miner.commandSleep(API);
  } else if (mode !== undefined) {
    if (miner.commandedState().workMode !== mode) miner.commandWorkMode(API, mode);
    if (miner.commandedState().sleeping) miner.commandWake(API);
  }
  return cgiJson(CONF_OK);
}

const blinkBody = z.object({ blink: z.union([z.boolean(), z.enum(['true', 'false'])]) }).passthrough();

/** POST blink.cgi `{"blink":"true"|"false"}` → `{"code":"B000"}` on, `{"code":"B100"}` off (pyasic reads these codes). */
export function blinkCgi(miner: SimMiner, body: string): HttpReply {
  const parsed = parseJsonBody(body);
  const request = parsed.ok && !isOldFirmware(miner) ? blinkBody.safeParse(parsed.value) : undefined;
  if (!request?.success) return cgiJson('{"code":"B001","msg":"invalid parameter"}');
  const on = request.data.blink === true || request.data.blink === 'true';
  miner.commandBlink(API, on);
  return cgiJson(on ? '{"code":"B000"}' : '{"code":"B100"}');
}

export function blinkStatusCgi(miner: SimMiner): string {
  return writeJson({ blink: miner.commandedState().blinking });
}

/** reboot.cgi (POST per asic-rs, GET per pyasic): answers, then the unit goes down once the answer is out. */
export function rebootCgi(miner: SimMiner): HttpReply {
  return { ...cgiJson('{"stats":"success"}'), after: () => miner.commandReboot(API) };
}
