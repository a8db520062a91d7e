/**
 * Avalon (Canaan cgminer 4.11) writes over the CGMiner API: `ascset|0,<option>` for what the controller does itself
 * (options listed by `ascset|0,help`, captured in avalon-q-ascset-help.json), cgminer's own commands for the rest.
 * - sleep / wake: `softoff,1:<unix time>` / `softon,1:<unix time>` (answered `ASC 0 set info: success softoff:<time>`,
 *   avalon-q-ascset-softoff.json), the time a few seconds ahead as pyasic and asic-rs send it;
 * - work level: `worklevel,set,<0|1|2>` (low, normal, high; pyasic's mapping);
 * - locate LED: `led,1-1` on, `led,1-0` off (answered `ASC 0 set OK`);
 * - reboot: cgminer `restart` (answered `{"STATUS":"RESTART"}`), as both public clients do;
 * - pools: cgminer `addpool` / `switchpool` / `removepool`.
 */
import type { MinerSample } from '@flymining/shared';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction, type WorkMode } from '../../control/types';
import { CGMINER_POOL_SLOTS, asControlFailure, CGMINER_RESTART_SETTLE_MS, cgminerAddPool, cgminerParam, cgminerWrite, describeStatus, replaceCgminerPools, switchCgminerPool } from '../common/cgminer-control';

const WORK_LEVEL: Record<WorkMode, string> = { low: '0', normal: '1', high: '2' };
/** softoff/softon take effect at a time; the public clients ask for a few seconds from now. */
const SOFT_SWITCH_DELAY_S = 5;
const WAKE_SETTLE_MS = 60_000;

async function ascset(link: ControlLink, ...option: string[]): Promise<ActionReply> {
  const status = await cgminerWrite(link, 'ascset', cgminerParam('0', ...option));
  // ascset answers errors as STATUS E "ASC 0 set failed: …" (120); success as S 119 or I 118 with the result in Msg.
  if (/fail/i.test(status.msg)) throw new ControlError('refused', `${link.endpoint} ascset ${option[0]}: ${describeStatus(status)}`, false);
  return { reply: `ascset ${option.join(',')}: ${describeStatus(status)}` };
}

const softSwitchTime = (): string => `1:${Math.floor(Date.now() / 1000) + SOFT_SWITCH_DELAY_S}`;

export const avalonControl: ControlBackend = {
  backends: ['avalon'],
  capabilities(_sample: MinerSample): ControlCapabilities {
    return {
      reboot: true,
      sleep: true,
      power: { kind: 'modes', modes: ['low', 'normal', 'high'] },
      pools: { maxSlots: CGMINER_POOL_SLOTS, canSwitch: true },
      blink: true,
      needsCredentials: false,
      notes: ['sleep is the soft-off (ascset softoff); the work level maps low/normal/high to 0/1/2', 'reboot restarts cgminer (restart)'],
    };
  },
  execute(action: MinerAction, link: ControlLink): Promise<ActionReply> {
    return asControlFailure(link, async () => {
      switch (action.kind) {
        case 'reboot':
          return { reply: describeStatus(await cgminerWrite(link, 'restart')), settleMs: CGMINER_RESTART_SETTLE_MS };
        case 'sleep':
          return ascset(link, 'softoff', softSwitchTime());
        case 'wake':
          return { ...(await ascset(link, 'softon', softSwitchTime())), settleMs: WAKE_SETTLE_MS };
        case 'power':
          if (!('mode' in action.target)) throw new ControlError('unsupported', 'Avalon takes a work level (low/normal/high), not watts', false);
          return ascset(link, 'worklevel', 'set', WORK_LEVEL[action.target.mode]);
        case 'pools':
          return replaceCgminerPools(link, action.pools, cgminerAddPool(link));
        case 'switch-pool':
          return switchCgminerPool(link, action.index);
        case 'blink':
          return ascset(link, 'led', action.on ? '1-1' : '1-0');
      }
    });
  },
};
