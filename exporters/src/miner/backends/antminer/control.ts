/**
 * Writes to stock Antminer firmware through its web CGI (HTTP digest, antminer-cgi/PROTOCOLS.md §3), whichever API
 * it is read over: `antminer/web`, `antminer/new-api` and the CGMiner-API `antminer-stock` family (a unit read on
 * 4028 is written on port 80).
 *
 * S19-generation firmware takes a JSON `set_miner_conf.cgi` holding the whole configuration at once: pools (three
 * slots), fan settings, `freq-level` and `miner-mode` (0 normal, 1 sleep, 3 low power), so every change reads
 * `get_miner_conf.cgi` first and sends back what it does not change (note the read/write renames
 * `bitmain-work-mode`→`miner-mode`, `bitmain-freq-level`→`freq-level`). `blink.cgi` takes `{"blink":"true"|"false"}`
 * and answers `{"code":"B000"}`/`{"code":"B100"}` (pyasic); `reboot.cgi` is POSTed with an empty object (asic-rs).
 *
 * Firmware before the S19 generation (S9, L3+, S17 era) takes form fields (`_ant_pool1url=…`) in set_miner_conf
 * and blink.cgi, which the control link (JSON bodies) does not send, and the S9/L3+ firmware has no sleep or work
 * modes at all: only its reboot (a GET, as pyasic sends it to that firmware) is offered there.
 */
import type { JsonObject, JsonValue, MinerSample } from '@flymining/shared';
import { z } from 'zod';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction, type PoolSetting, type WorkMode } from '../../control/types';
import { minerName, REBOOT_SETTLE_MS, replyText, requireSupported, sendWrite } from '../common/control-http';
import { ANTMINER_CGI } from './web';

export const ANTMINER_CGI_WRITES = {
  setMinerConf: '/cgi-bin/set_miner_conf.cgi',
  reboot: '/cgi-bin/reboot.cgi',
  blink: '/cgi-bin/blink.cgi',
} as const;

/** `miner-mode` values of the JSON set_miner_conf (PROTOCOLS.md §3; pyasic `as_am_modern`). */
export const MINER_MODE = { normal: 0, sleep: 1, low: 3 } as const;
const MODE_OF_WORK: Readonly<Record<Exclude<WorkMode, 'high'>, number>> = { normal: MINER_MODE.normal, low: MINER_MODE.low };
const POOL_SLOTS = 3;

/** Which set_miner_conf a stock unit's firmware takes, from its model. */
export type AntminerGeneration = 'json' | 'form' | 'unknown';

/**
 * S/T series 19 and later take the JSON body; S/T series below 19 and the L3/Z9/D3/A3-era models the form fields.
 * Other models (L7, K7, KS…) are not named by the sources: unknown, so nothing but a reboot is offered.
 */
export function antminerGeneration(sample: Pick<MinerSample, 'model' | 'protocol'>): AntminerGeneration {
  // The web CGI backend reads the stats.cgi/summary.cgi of the same firmware generation.
  if (sample.protocol === 'antminer-web') return 'json';
  const m = /(?:^|[\s(])([STLZDA])(\d{1,2})(?=[^\d]|$)/i.exec(sample.model ?? '');
  if (!m) return 'unknown';
  const series = (m[1] as string).toUpperCase();
  const n = Number(m[2]);
  if (series === 'S' || series === 'T') return n >= 19 ? 'json' : 'form';
  if ((series === 'L' && n <= 3) || series === 'Z' || (series === 'D' && n <= 7) || (series === 'A' && n <= 3)) return 'form';
  return 'unknown';
}

const NO_SWITCH = 'stock Antminer: the web CGI has no pool switch (and "switchpool" on 4028 is refused with "Access denied"): set a list with the wanted pool first';
const FORM_ONLY =
  'stock Antminer before the S19 generation: set_miner_conf and blink.cgi take form fields (_ant_pool1url...), which this write path does not send; the S9/L3+ firmware has no sleep or work modes at all';
const UNKNOWN_MODEL = 'stock Antminer of a model the sources do not place (JSON or form set_miner_conf): only a reboot is offered';

export const antminerControl: ControlBackend = {
  backends: ['antminer/web', 'antminer/new-api', 'antminer-stock'],
  writeProtocol: 'antminer-web',

  capabilities(sample: MinerSample): ControlCapabilities {
    const generation = antminerGeneration(sample);
    if (generation === 'json') {
      return {
        reboot: true,
        sleep: true,
        power: { kind: 'modes', modes: ['low', 'normal'] },
        pools: { maxSlots: POOL_SLOTS, canSwitch: false },
        blink: true,
        needsCredentials: true,
        notes: [NO_SWITCH],
      };
    }
    return {
      reboot: true,
      sleep: false,
      pools: { maxSlots: 0, canSwitch: false },
      blink: false,
      needsCredentials: true,
      notes: [generation === 'form' ? FORM_ONLY : UNKNOWN_MODEL],
    };
  },

  async execute(action: MinerAction, link: ControlLink, sample: MinerSample): Promise<ActionReply> {
    requireSupported(antminerControl, action, link, sample);
    switch (action.kind) {
      case 'reboot': {
        const json = antminerGeneration(sample) === 'json';
        const reply = json ? await sendWrite(link, sample, 'POST', ANTMINER_CGI_WRITES.reboot, {}) : await sendWrite(link, sample, 'GET', ANTMINER_CGI_WRITES.reboot);
        return { reply: replyText(reply), settleMs: REBOOT_SETTLE_MS };
      }
      case 'blink':
        return blink(link, sample, action.on);
      case 'sleep':
        return writeConf(link, sample, { mode: MINER_MODE.sleep });
      case 'wake':
        return writeConf(link, sample, { mode: MINER_MODE.normal });
      case 'power': {
        const t = action.target;
        if ('watts' in t || t.mode === 'high') throw new ControlError('unsupported', `${minerName(link, sample)}: stock Antminer takes the work modes low and normal only`, false);
        return writeConf(link, sample, { mode: MODE_OF_WORK[t.mode] });
      }
      case 'pools':
        return writeConf(link, sample, { pools: action.pools });
      case 'switch-pool':
        throw new ControlError('unsupported', `${minerName(link, sample)}: ${NO_SWITCH}`, false);
    }
  },
};

const blinkReply = z.object({ code: z.string().max(16).optional(), stats: z.string().max(32).optional(), msg: z.string().max(512).optional() }).passthrough();

async function blink(link: ControlLink, sample: MinerSample, on: boolean): Promise<ActionReply> {
  const reply = await sendWrite(link, sample, 'POST', ANTMINER_CGI_WRITES.blink, { blink: on ? 'true' : 'false' });
  const r = blinkReply.safeParse(reply);
  // B000 = blinking, B100 = stopped (pyasic); a success in the set_miner_conf style is taken too.
  const expected = on ? 'B000' : 'B100';
  if (r.success && (r.data.code === expected || r.data.stats === 'success')) return { reply: replyText(reply) };
  if (r.success && r.data.code !== undefined) throw new ControlError('refused', `${minerName(link, sample)}: blink.cgi answered code ${r.data.code}${r.data.msg ? ` (${r.data.msg})` : ''}`, false);
  throw new ControlError('failed', `${minerName(link, sample)}: blink.cgi gave an answer that is not a blink result: ${replyText(reply)}`);
}

/** What get_miner_conf.cgi must hold for a write that keeps the rest: the pools (three slots) at least. */
const confPool = z.object({ url: z.string().max(512), user: z.string().max(256), pass: z.string().max(256).optional() }).passthrough();
const minerConfRead = z
  .object({
    pools: z.array(confPool).max(POOL_SLOTS),
    'bitmain-fan-ctrl': z.union([z.boolean(), z.string(), z.null()]).optional(),
    'bitmain-fan-pwm': z.union([z.string(), z.number()]).optional(),
    'bitmain-freq-level': z.union([z.string(), z.number()]).optional(),
    'bitmain-work-mode': z.union([z.string(), z.number()]).optional(),
  })
  .passthrough();
export type MinerConfRead = z.infer<typeof minerConfRead>;

export interface ConfChange {
  mode?: number;
  pools?: readonly PoolSetting[];
}

/** `bitmain-work-mode` as a miner-mode number; "" (unset) and anything unreadable count as normal. */
function modeNumber(raw: string | number | undefined): number {
  const n = typeof raw === 'number' ? raw : Number.parseInt(String(raw ?? '').trim(), 10);
  return Number.isInteger(n) && n >= 0 && n < 10 ? n : MINER_MODE.normal;
}

/**
 * The set_miner_conf body for a change, keeping what get_miner_conf says for the rest (the browser's save: fan
 * control and PWM, frequency level, mode, all three pool slots).
 */
export function minerConfBody(current: MinerConfRead, change: ConfChange): JsonObject {
  const fanCtrl = current['bitmain-fan-ctrl'];
  const pools: JsonValue[] = (change.pools ?? current.pools.map((p) => ({ url: p.url, user: p.user, password: p.pass ?? '' }))).map((p) => ({ url: p.url, user: p.user, pass: p.password }));
  while (pools.length < POOL_SLOTS) pools.push({ url: '', user: '', pass: '' });
  const pwm = current['bitmain-fan-pwm'];
  const freq = current['bitmain-freq-level'];
  return {
    'bitmain-fan-ctrl': fanCtrl === true || fanCtrl === 'true',
    'bitmain-fan-pwm': pwm === undefined || pwm === '' ? '100' : String(pwm),
    'miner-mode': change.mode ?? modeNumber(current['bitmain-work-mode']),
    'freq-level': freq === undefined || freq === '' ? '100' : String(freq),
    pools,
  };
}

const confReply = z.object({ stats: z.string().max(32).optional(), code: z.string().max(16).optional(), msg: z.string().max(512).optional() }).passthrough();

async function writeConf(link: ControlLink, sample: MinerSample, change: ConfChange): Promise<ActionReply> {
  const who = minerName(link, sample);
  const read = minerConfRead.safeParse(await sendWrite(link, sample, 'GET', ANTMINER_CGI.minerConf));
  // Never a set_miner_conf without the pools it would otherwise drop.
  if (!read.success) throw new ControlError('failed', `${who}: get_miner_conf.cgi has no pool list to keep (${read.error.issues[0]?.path.join('.') || 'body'}); nothing was written`, false);
  const reply = await sendWrite(link, sample, 'POST', ANTMINER_CGI_WRITES.setMinerConf, minerConfBody(read.data, change));
  const r = confReply.safeParse(reply);
  // `{"stats":"success"}` (asic-rs), `{"code":"M000","msg":"OK!","stats":"success"}` (captured on a Bitmain-derived stack).
  if (r.success && (r.data.stats === 'success' || r.data.code === 'M000')) return { reply: replyText(reply) };
  if (r.success && (r.data.stats !== undefined || r.data.code !== undefined)) {
    throw new ControlError('refused', `${who}: set_miner_conf.cgi refused: ${r.data.msg ?? r.data.code ?? r.data.stats}`, false);
  }
  throw new ControlError('failed', `${who}: set_miner_conf.cgi gave an answer that is not a result: ${replyText(reply)}`);
}
