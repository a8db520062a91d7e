/**
 * Writes to VNish through its HTTP API (`/api/v1`, unlock token; vnish/PROTOCOLS.md and the OpenAPI documents of
 * 1.2.6-1.3.4): `POST mining/stop|start` (sleep and wake, as asic-rs sends them), `POST system/reboot` (answers
 * `{"after": seconds}`), `POST mining/switch-pool {"pool_id"}`, `POST settings {"miner":{"pools"|"overclock"}}`,
 * `POST find-miner {"on"}` (whose state `GET status` shows as `find_miner`). Power is set by autotune preset: the
 * presets are named by their watts (`GET autotune/presets`), so a target must be one of them.
 *
 * Acts for the HTTP backend and for the CGMiner-API `vnish` family where the unit has this API: VNish 1.x; the
 * older VNish 2.x/3.x (S9, S17) is built on Bitmain's CGI and has no `/api/v1`, so nothing is offered there.
 * Failed writes come back as 500 with `{"err"}` (ErrDescr), which is the firmware saying no: `refused`.
 */
import type { JsonObject, MinerSample } from '@flymining/shared';
import { z } from 'zod';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction } from '../../control/types';
import { minerName, PLAUSIBLE_POWER_TARGET_W, REBOOT_SETTLE_MS, replyText, requireSupported, sendWrite, type WriteOptions } from '../common/control-http';
import { VNISH_PATHS } from './v1';

export const VNISH_WRITES = {
  stop: '/api/v1/mining/stop',
  start: '/api/v1/mining/start',
  restart: '/api/v1/mining/restart',
  reboot: '/api/v1/system/reboot',
  switchPool: '/api/v1/mining/switch-pool',
  findMiner: '/api/v1/find-miner',
  presets: '/api/v1/autotune/presets',
  status: '/api/v1/status',
} as const;

/** `pools` in settings holds at most three entries (prefixItems, items false). */
const POOL_SLOTS = 3;
const PRESETS_NOTE = "VNish sets power by autotune preset: a target must be one of the unit's presets (named in watts)";
const OLD_VNISH = 'VNish before 1.x (2.x/3.x, built on Bitmain\'s CGI) has no /api/v1; its writes are not implemented';
const NO_VERSION = 'the reads over 4028 did not name the VNish version, so whether it has the /api/v1 write API is not known';

/** 500 `{"err"}` is the documented failure answer of every VNish write. */
const VNISH_REFUSAL: WriteOptions = { refusalAt: (status, reason) => status === 500 && reason !== '' };

/** `vnish 1.2.6` in the CGMiner-API reads' firmware version (from Type "… (vnish 1.2.6)"): its major version. */
function vnishMajor(sample: MinerSample): number | undefined {
  const m = /vnish\s+v?(\d+)\./i.exec(sample.firmwareVersion ?? '');
  return m ? Number(m[1]) : undefined;
}

export const vnishControl: ControlBackend = {
  backends: ['vnish/v1', 'vnish'],
  writeProtocol: 'vnish',

  capabilities(sample: MinerSample): ControlCapabilities {
    const major = sample.protocol === 'vnish' ? 1 : vnishMajor(sample);
    if (major !== 1) {
      return { reboot: false, sleep: false, pools: { maxSlots: 0, canSwitch: false }, blink: false, needsCredentials: true, notes: [major === undefined ? NO_VERSION : OLD_VNISH] };
    }
    return {
      reboot: true,
      sleep: true,
      power: { kind: 'watts', ...PLAUSIBLE_POWER_TARGET_W },
      pools: { maxSlots: POOL_SLOTS, canSwitch: true },
      blink: true,
      needsCredentials: true,
      notes: [PRESETS_NOTE],
    };
  },

  async execute(action: MinerAction, link: ControlLink, sample: MinerSample): Promise<ActionReply> {
    requireSupported(vnishControl, action, link, sample);
    const who = minerName(link, sample);
    const post = (path: string, body?: Parameters<ControlLink['http']>[2]): Promise<JsonObject> => sendWrite(link, sample, 'POST', path, body, VNISH_REFUSAL);
    switch (action.kind) {
      case 'sleep':
        await post(VNISH_WRITES.stop);
        return { reply: 'mining stopped' };
      case 'wake':
        await post(VNISH_WRITES.start);
        return { reply: 'mining started' };
      case 'reboot': {
        const after = rebootReply.safeParse(await post(VNISH_WRITES.reboot));
        const seconds = after.success ? after.data.after : 3;
        return { reply: `reboot in ${seconds} s`, settleMs: seconds * 1000 + REBOOT_SETTLE_MS };
      }
      case 'switch-pool':
        await post(VNISH_WRITES.switchPool, { pool_id: action.index });
        return { reply: `switched to pool ${action.index}` };
      case 'pools': {
        const reply = await post(VNISH_PATHS.settings, { miner: { pools: action.pools.map((p) => ({ url: p.url, user: p.user, pass: p.password })) } });
        return { reply: `pools (${action.pools.length}) saved${await restartIfRequired(reply, post)}` };
      }
      case 'power': {
        if (!('watts' in action.target)) throw new ControlError('unsupported', `${who}: VNish takes a power target in watts (one of its presets)`, false);
        return setPreset(link, sample, Math.round(action.target.watts), post);
      }
      case 'blink':
        return blink(link, sample, action.on, post);
    }
  },
};

const rebootReply = z.object({ after: z.number().int().min(0).max(3600) }).passthrough();
const saveReply = z.object({ restart_required: z.boolean().optional(), reboot_required: z.boolean().optional() }).passthrough();

/** A settings save that says the miner must restart to apply it gets the restart (mining/restart). */
async function restartIfRequired(reply: JsonObject, post: (path: string) => Promise<JsonObject>): Promise<string> {
  const saved = saveReply.safeParse(reply);
  if (!saved.success || saved.data.restart_required !== true) return '';
  await post(VNISH_WRITES.restart);
  return ', mining restarted to apply them';
}

const presetList = z.array(z.object({ name: z.string().max(64) }).passthrough()).max(256);
const settingsRead = z.object({ miner: z.object({ overclock: z.object({}).passthrough().nullish() }).passthrough() }).passthrough();

async function setPreset(link: ControlLink, sample: MinerSample, watts: number, post: (path: string, body?: JsonObject) => Promise<JsonObject>): Promise<ActionReply> {
  const who = minerName(link, sample);
  const listed = presetList.safeParse((await sendWrite(link, sample, 'GET', VNISH_WRITES.presets, undefined, VNISH_REFUSAL)).body);
  if (!listed.success) throw new ControlError('failed', `${who}: autotune/presets gave no preset list`);
  const available = listed.data.map((p) => Number.parseInt(p.name.trim(), 10)).filter((w) => Number.isInteger(w) && w > 0);
  if (!available.includes(watts)) {
    throw new ControlError('refused', `${who}: VNish sets power by autotune preset; ${watts} W is not one of its presets (${available.sort((a, b) => a - b).join(', ') || 'none'} W)`, false);
  }
  // The overclock block is sent back whole with the new preset, as the web page saves it.
  const settings = settingsRead.safeParse(await sendWrite(link, sample, 'GET', VNISH_PATHS.settings, undefined, VNISH_REFUSAL));
  const overclock: JsonObject = { ...(settings.success ? (settings.data.miner.overclock ?? {}) : {}), preset: String(watts) };
  const reply = await post(VNISH_PATHS.settings, { miner: { overclock } });
  return { reply: `preset ${watts} W${await restartIfRequired(reply, post)}` };
}

const statusRead = z.object({ find_miner: z.boolean() }).passthrough();
const findReply = z.object({ on: z.boolean() }).passthrough();

/** find-miner with `{"on"}` (asic-rs); without support for the body it toggles, so the state is read first. */
async function blink(link: ControlLink, sample: MinerSample, on: boolean, post: (path: string, body?: JsonObject) => Promise<JsonObject>): Promise<ActionReply> {
  const who = minerName(link, sample);
  const status = statusRead.safeParse(await sendWrite(link, sample, 'GET', VNISH_WRITES.status, undefined, VNISH_REFUSAL));
  if (status.success && status.data.find_miner === on) return { reply: `locate already ${on ? 'on' : 'off'}` };
  const reply = await post(VNISH_WRITES.findMiner, { on });
  const answered = findReply.safeParse(reply);
  if (answered.success && answered.data.on !== on) throw new ControlError('failed', `${who}: find-miner answered on=${answered.data.on}, not ${on}`);
  // The documents allow a null answer: accepted, the state shows in the next status read.
  if (!answered.success && Object.keys(reply).length > 0 && reply.body !== null) throw new ControlError('failed', `${who}: find-miner gave an answer that is not a locate state: ${replyText(reply)}`);
  return { reply: `locate ${on ? 'on' : 'off'}` };
}
