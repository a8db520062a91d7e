/**
 * LuxOS writes over its CGMiner-style API (TCP 4028; miner-api-next/luxos PROTOCOLS §1, miner-api QUIRKS §12).
 * LuxOS-only writes take a session id as the first parameter: the current one from `session`, else a new one from
 * `logon` (no password; one session at a time, expiring after a minute unused). A write refused for its session is
 * sent once more with a fresh one. The pool commands are cgminer's and take no session, as both public clients send
 * them. Commands: `rebootdevice`, `curtail` sleep/wakeup, `profileset <n>W` (the profile nearest that power; ATM, when
 * on, is capped at that profile with `atmset max_profile`, so it can still step down when hot), `ledset red,blink`.
 */
import type { JsonObject, MinerSample } from '@flymining/shared';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction } from '../../control/types';
import { CGMINER_POOL_SLOTS, asControlFailure, CGMINER_RESTART_SETTLE_MS, cgminerAddPool, cgminerParam, cgminerStatus, checkCgminerReply, describeStatus, replaceCgminerPools, switchCgminerPool } from '../common/cgminer-control';
import { powerTargetRange } from '../common/nameplate';
import { firstOf, text } from '../common/values';

/** Session ids by endpoint, reused while they work (LuxOS keeps one alive for a minute after its last use). */
const sessions = new Map<string, string>();
/** How LuxOS words a write refused for its session id. */
const SESSION_REFUSAL = /session/i;
/** Waking ramps the boards like a boot. */
const WAKE_SETTLE_MS = 30_000;

class SessionRefused extends Error {}

function sessionIdOf(reply: JsonObject): string | undefined {
  return text(firstOf(reply, 'SESSION')?.SessionID);
}

/** The active session, or a new one; a logon refused (another client holds the session) is worth retrying later. */
async function openSession(link: ControlLink): Promise<string> {
  const current = sessionIdOf(await link.command({ command: 'session' }));
  if (current) return current;
  const reply = await link.command({ command: 'logon' });
  const status = cgminerStatus(reply);
  const id = sessionIdOf(reply);
  if (!status || (status.letter !== 'S' && status.letter !== 'I') || !id) {
    throw new ControlError('refused', `${link.endpoint} logon: no session (${status ? describeStatus(status) : 'no STATUS'}); another client may hold it`, true);
  }
  return id;
}

/** Sends a LuxOS write with the session id first; once more with a fresh session if the id was refused. */
async function luxosWrite(link: ControlLink, command: string, ...args: string[]): Promise<JsonObject> {
  const attempt = async (fresh: boolean): Promise<JsonObject> => {
    let id = fresh ? undefined : sessions.get(link.endpoint);
    if (!id) {
      id = await openSession(link);
      sessions.set(link.endpoint, id);
    }
    const reply = await link.command({ command, parameter: [id, cgminerParam(...args)].filter((p) => p !== '').join(',') });
    const status = cgminerStatus(reply);
    if (status && status.letter === 'E' && SESSION_REFUSAL.test(status.msg)) {
      sessions.delete(link.endpoint);
      throw new SessionRefused(describeStatus(status));
    }
    checkCgminerReply(link, command, reply);
    return reply;
  };
  try {
    return await attempt(false);
  } catch (err) {
    if (!(err instanceof SessionRefused)) throw err;
    try {
      return await attempt(true);
    } catch (again) {
      if (again instanceof SessionRefused) throw new ControlError('refused', `${link.endpoint} ${command}: session refused twice (${again.message})`, true);
      throw again;
    }
  }
}

const statusText = (reply: JsonObject, command: string): string => {
  const s = cgminerStatus(reply);
  return s ? `${command}: ${describeStatus(s)}` : command;
};

/** Sets the profile nearest `watts` and caps ATM at it when ATM is on. */
async function setPowerTarget(link: ControlLink, watts: number): Promise<ActionReply> {
  const reply = await luxosWrite(link, 'profileset', `${Math.round(watts)}W`);
  const profile = text(firstOf(reply, 'PROFILE')?.Profile);
  const atm = firstOf(await link.command({ command: 'atm' }), 'ATM');
  if (profile && atm?.Enabled === true) await luxosWrite(link, 'atmset', `max_profile=${profile}`);
  return { reply: `${statusText(reply, 'profileset')}${profile ? ` (profile ${profile}${atm?.Enabled === true ? ', ATM capped at it' : ''})` : ''}` };
}

export const luxosControl: ControlBackend = {
  backends: ['luxos'],
  capabilities(sample: MinerSample): ControlCapabilities {
    const range = powerTargetRange(sample.model);
    const notes = ['writes take a LuxOS session (logon, no password)', 'reboot restarts the controller (rebootdevice)'];
    if (!range) notes.push(`no power target: the nameplate power of ${sample.model ?? 'this model'} is not known to the write path`);
    else notes.push('a power target selects the LuxOS profile nearest it (profileset <n>W)');
    return {
      reboot: true,
      sleep: true,
      ...(range ? { power: { kind: 'watts' as const, ...range } } : {}),
      pools: { maxSlots: CGMINER_POOL_SLOTS, canSwitch: true },
      blink: true,
      needsCredentials: false,
      notes,
    };
  },
  execute(action: MinerAction, link: ControlLink): Promise<ActionReply> {
    return asControlFailure(link, async () => {
      switch (action.kind) {
        case 'reboot':
          return { reply: statusText(await luxosWrite(link, 'rebootdevice'), 'rebootdevice'), settleMs: CGMINER_RESTART_SETTLE_MS };
        case 'sleep':
          return { reply: statusText(await luxosWrite(link, 'curtail', 'sleep'), 'curtail sleep') };
        case 'wake':
          return { reply: statusText(await luxosWrite(link, 'curtail', 'wakeup'), 'curtail wakeup'), settleMs: WAKE_SETTLE_MS };
        case 'power':
          if (!('watts' in action.target)) throw new ControlError('unsupported', 'LuxOS takes a power target in watts (a profile near it), not a work mode', false);
          return setPowerTarget(link, action.target.watts);
        case 'pools':
          return replaceCgminerPools(link, action.pools, cgminerAddPool(link));
        case 'switch-pool':
          return switchCgminerPool(link, action.index);
        case 'blink':
          return { reply: statusText(await luxosWrite(link, 'ledset', 'red', action.on ? 'blink' : 'auto'), 'ledset') };
      }
    });
  },
};

/** Forgets cached session ids (tests; a process that restarts a miner's API). */
export function forgetLuxosSessions(): void {
  sessions.clear();
}
