/**
 * Writes to Braiins OS+ through its public REST API (`/api/v1`, the token login of the reads; braiins-rest/
 * PROTOCOLS.md and the OpenAPI document the miner serves, 25.07 and 26.04): `PUT actions/pause|resume|reboot`,
 * `PUT actions/locate` with a bare boolean, `PUT performance/power-target {"watt"}`, `PUT pools/batch` with the
 * pool groups. Acts for the REST backend and for the CGMiner-API family (`braiins-os`): a unit read on 4028 is
 * written over REST on port 80 where it has it, i.e. BOS 25.07 or later; Braiins OS on the S9 (am1) has no such
 * API and is offered nothing.
 *
 * The REST API has no pool switch: a group's pools are used in order, so a switch is a new list. A power target
 * outside the unit's tuner envelope is refused by the firmware with HTTP 400 and its limits, which we report.
 */
import type { JsonObject, MinerSample } from '@flymining/shared';
import { z } from 'zod';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction, type PoolSetting } from '../../control/types';
import { minerName, PLAUSIBLE_POWER_TARGET_W, REBOOT_SETTLE_MS, replyText, requireSupported, sendWrite } from '../common/control-http';
import { BRAIINS_REST } from './v25_07';

export const BRAIINS_REST_WRITES = {
  pause: '/api/v1/actions/pause',
  resume: '/api/v1/actions/resume',
  reboot: '/api/v1/actions/reboot',
  locate: '/api/v1/actions/locate',
  powerTarget: '/api/v1/performance/power-target',
  poolsBatch: '/api/v1/pools/batch',
} as const;

/** One group of up to three pools is what we write (and what the simulated units hold). */
const POOL_SLOTS = 3;
const GROUP_NAME = 'Default';

const NO_SWITCH = 'Braiins OS REST has no pool switch (a group\'s pools are used in order): set a list with the wanted pool first';
const ENVELOPE = "the unit's own power-target envelope is narrower; Braiins OS refuses targets outside it and names its limits";
const NO_REST_S9 = 'Braiins OS on the S9 has no REST API (it came with BOS 25.07, not built for the am1 platform); its other write paths are not implemented';
const UNKNOWN_REST = 'read over 4028, which names neither model nor BOS release: written over REST (BOS 25.07 or later); a unit without that API answers 404, reported as refused';

/** S9-family hardware (am1 platform): S9, S9i, S9j, S9k, S9 SE, T9, T9+. */
function isAm1(model: string): boolean {
  return /(?:^|[\s(])[ST]9(?:[ijk+]|\s?SE)?(?=[\s)]|$)/i.test(model);
}

export const braiinsControl: ControlBackend = {
  backends: ['braiins/v25_07', 'braiins-os'],
  writeProtocol: 'braiins-rest',

  capabilities(sample: MinerSample): ControlCapabilities {
    const overRest = sample.protocol === 'braiins-rest';
    if (!overRest && sample.model !== undefined && isAm1(sample.model)) {
      return { reboot: false, sleep: false, pools: { maxSlots: 0, canSwitch: false }, blink: false, needsCredentials: true, notes: [NO_REST_S9] };
    }
    return {
      reboot: true,
      sleep: true,
      power: { kind: 'watts', ...PLAUSIBLE_POWER_TARGET_W },
      pools: { maxSlots: POOL_SLOTS, canSwitch: false },
      blink: true,
      needsCredentials: true,
      notes: overRest || sample.model !== undefined ? [NO_SWITCH, ENVELOPE] : [NO_SWITCH, ENVELOPE, UNKNOWN_REST],
    };
  },

  async execute(action: MinerAction, link: ControlLink, sample: MinerSample): Promise<ActionReply> {
    requireSupported(braiinsControl, action, link, sample);
    const who = minerName(link, sample);
    switch (action.kind) {
      case 'sleep': {
        const reply = await sendWrite(link, sample, 'PUT', BRAIINS_REST_WRITES.pause);
        // "bool if was already paused"
        return { reply: `paused (already paused: ${boolReply(reply, who, 'pause')})` };
      }
      case 'wake': {
        const reply = await sendWrite(link, sample, 'PUT', BRAIINS_REST_WRITES.resume);
        return { reply: `resumed (already mining: ${boolReply(reply, who, 'resume')})` };
      }
      case 'reboot':
        // 204 without a body.
        await sendWrite(link, sample, 'PUT', BRAIINS_REST_WRITES.reboot);
        return { reply: 'reboot accepted', settleMs: REBOOT_SETTLE_MS };
      case 'blink': {
        const reply = await sendWrite(link, sample, 'PUT', BRAIINS_REST_WRITES.locate, action.on);
        const now = boolReply(reply, who, 'locate');
        if (now !== action.on) throw new ControlError('failed', `${who}: locate answered ${now}, not ${action.on}`);
        return { reply: `locate ${now ? 'on' : 'off'}` };
      }
      case 'power': {
        if (!('watts' in action.target)) throw new ControlError('unsupported', `${who}: Braiins OS takes a power target in watts`, false);
        const watt = Math.round(action.target.watts);
        const reply = await sendWrite(link, sample, 'PUT', BRAIINS_REST_WRITES.powerTarget, { watt });
        const set = powerReply.safeParse(reply);
        if (!set.success) throw new ControlError('failed', `${who}: power-target gave an answer that is not a power: ${replyText(reply)}`);
        return { reply: `power target ${set.data.watt} W` };
      }
      case 'pools':
        return setPools(link, sample, action.pools);
      case 'switch-pool':
        throw new ControlError('unsupported', `${who}: ${NO_SWITCH}`, false);
    }
  },
};

const powerReply = z.object({ watt: z.number().int().min(0) }).passthrough();

/** The bare boolean of pause/resume/locate (the link wraps it as `{body}`). */
function boolReply(reply: JsonObject, who: string, what: string): boolean {
  const value = reply.body;
  if (typeof value !== 'boolean') throw new ControlError('failed', `${who}: ${what} gave an answer that is not true/false: ${replyText(reply)}`);
  return value;
}

const groupsRead = z.array(z.object({ name: z.string().max(256) }).passthrough()).max(64);

/**
 * Replaces the pool groups with one group holding the list, named as the first group was (so a user's naming
 * stays). `pools/batch` replaces every group.
 */
async function setPools(link: ControlLink, sample: MinerSample, pools: readonly PoolSetting[]): Promise<ActionReply> {
  const who = minerName(link, sample);
  const current = groupsRead.safeParse((await sendWrite(link, sample, 'GET', BRAIINS_REST.pools)).body);
  const name = current.success && current.data[0]?.name ? current.data[0].name : GROUP_NAME;
  const group = { name, pools: pools.map((p) => ({ url: p.url, user: p.user, password: p.password, enabled: true })) };
  const reply = await sendWrite(link, sample, 'PUT', BRAIINS_REST_WRITES.poolsBatch, [group]);
  const echoed = groupsRead.safeParse(reply.body);
  if (!echoed.success) throw new ControlError('failed', `${who}: pools/batch gave an answer that is not a list of pool groups: ${replyText(reply)}`);
  return { reply: `pool group "${name}" with ${pools.length} pool(s)` };
}
