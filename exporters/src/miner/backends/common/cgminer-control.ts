/**
 * Writes over the CGMiner API (TCP 4028), shared by the families that speak it (LuxOS, Avalon, Hiveon …): the STATUS
 * envelope of a write, cgminer's privileged-command refusal, and the pool commands `addpool` / `switchpool` /
 * `removepool` (cgminer api.c: 55 "Added pool", 27 "Switching to pool", 68 "Removed pool", 45 "Access denied").
 * Plus the generic module for firmware whose only writes are those cgminer commands.
 */
import type { JsonObject, MinerSample } from '@flymining/shared';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction, type PoolSetting } from '../../control/types';
import { num, objectOf, sectionOf, text } from './values';

/** cgminer's `Access denied to '<cmd>' command`: the API is not privileged for this client (api-allow W:). */
export const CGMINER_ACCESS_DENIED = 45;
const CGMINER_INVALID_COMMAND = 14;
/** How many pools the write path configures (every firmware's web page offers three). */
export const CGMINER_POOL_SLOTS = 3;
/** What cgminer says before it restarts (QUIRKS §4.2): `{"STATUS":"RESTART"}`. */
const RESTART_STATUS = 'RESTART';

export interface CgminerStatus {
  /** S, I (success), W, E, F, or RESTART / BYE. */
  letter: string;
  code: number | undefined;
  msg: string;
}

/** The STATUS of a reply: the usual one-element array, or the bare-string form (btminer API-2, restart). */
export function cgminerStatus(reply: JsonObject): CgminerStatus | undefined {
  const status = reply.STATUS;
  if (typeof status === 'string') return { letter: status, code: num(reply.Code), msg: text(reply.Msg) ?? '' };
  const first = Array.isArray(status) ? objectOf(status[0]) : undefined;
  if (!first || typeof first.STATUS !== 'string') return undefined;
  return { letter: first.STATUS, code: num(first.Code), msg: text(first.Msg) ?? '' };
}

/** The firmware's own words for the audit, short. */
export function describeStatus(s: CgminerStatus): string {
  return `STATUS ${s.letter}${s.code === undefined ? '' : ` ${s.code}`}: ${s.msg}`.slice(0, 200).trim();
}

/**
 * Sends one cgminer-API write and checks its STATUS: S and I are success, RESTART too; 45 is a refusal naming what
 * to change on the miner; 14 means the firmware has no such command; other errors are refusals with the firmware's
 * message; a reply without a STATUS is a failed write.
 */
export async function cgminerWrite(link: ControlLink, command: string, parameter?: string): Promise<CgminerStatus> {
  return checkCgminerReply(link, command, await link.command(parameter === undefined ? { command } : { command, parameter }));
}

/** cgminerWrite's verdict on a reply already received. */
export function checkCgminerReply(link: ControlLink, command: string, reply: JsonObject): CgminerStatus {
  const status = cgminerStatus(reply);
  if (!status) throw new ControlError('failed', `${link.endpoint} ${command}: the reply has no STATUS`);
  if (status.letter === 'S' || status.letter === 'I' || status.letter === RESTART_STATUS) return status;
  if (status.code === CGMINER_ACCESS_DENIED) {
    throw new ControlError('refused', `${link.endpoint} ${command}: ${status.msg || 'access denied'} (the miner's API does not allow privileged commands from this host: cgminer api-allow needs W: for it)`, false);
  }
  if (status.code === CGMINER_INVALID_COMMAND) throw new ControlError('unsupported', `${link.endpoint} ${command}: the firmware has no such command (${describeStatus(status)})`, false);
  throw new ControlError('refused', `${link.endpoint} ${command}: ${describeStatus(status)}`, false);
}

/** cgminer splits parameters at commas; a comma or backslash inside a value is escaped with a backslash. */
export function cgminerParam(...values: readonly string[]): string {
  return values.map((v) => v.replace(/[\\,]/g, (c) => `\\${c}`)).join(',');
}

interface CurrentPools {
  count: number;
  active: number | undefined;
}

async function currentPools(link: ControlLink): Promise<CurrentPools> {
  const reply = await link.command({ command: 'pools' });
  const status = cgminerStatus(reply);
  if (!status || (status.letter !== 'S' && status.letter !== 'I')) {
    throw new ControlError('failed', `${link.endpoint} pools: cannot read the current pool list (${status ? describeStatus(status) : 'no STATUS'})`);
  }
  const entries = sectionOf(reply, 'POOLS');
  const activeEntry = entries.findIndex((p) => p['Stratum Active'] === true);
  return { count: entries.length, active: activeEntry >= 0 ? activeEntry : undefined };
}

/**
 * Replaces the pool list with cgminer's own commands, keeping the miner on a pool throughout and never above
 * CGMINER_POOL_SLOTS pools (firmware caps its list): remove the old pools but the active one (highest id first, ids
 * shift down after each removal), add new pools into the free slots, switch to the first new one, remove the old
 * active one (cgminer refuses to remove the active or the last pool), then add the rest.
 */
export async function replaceCgminerPools(link: ControlLink, pools: readonly PoolSetting[], addPool: (pool: PoolSetting) => Promise<unknown>): Promise<ActionReply> {
  const before = await currentPools(link);
  if (before.count === 0) {
    for (const pool of pools) await addPool(pool);
    await cgminerWrite(link, 'switchpool', '0');
    return { reply: `added ${pools.length} pool(s)` };
  }
  const keep = before.active ?? 0;
  for (let id = before.count - 1; id >= 0; id--) if (id !== keep) await cgminerWrite(link, 'removepool', String(id));
  const first = pools.slice(0, CGMINER_POOL_SLOTS - 1);
  for (const pool of first) await addPool(pool);
  await cgminerWrite(link, 'switchpool', '1');
  await cgminerWrite(link, 'removepool', '0');
  for (const pool of pools.slice(first.length)) await addPool(pool);
  return { reply: `replaced ${before.count} pool(s) with ${pools.length}; mining on ${pools[0]?.url ?? ''}` };
}

/** `addpool URL,USER,PASS` as cgminer takes it. */
export function cgminerAddPool(link: ControlLink): (pool: PoolSetting) => Promise<CgminerStatus> {
  return (pool) => cgminerWrite(link, 'addpool', cgminerParam(pool.url, pool.user, pool.password));
}

export async function switchCgminerPool(link: ControlLink, index: number): Promise<ActionReply> {
  return { reply: describeStatus(await cgminerWrite(link, 'switchpool', String(index))) };
}

/**
 * Runs a module's write so that whatever goes wrong below it (a refused connection, a timeout, bytes that are not a
 * reply) leaves it as a ControlError: `failed`, worth retrying, with the transport's reason.
 */
export async function asControlFailure<T>(link: ControlLink, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof ControlError) throw err;
    throw new ControlError('failed', `${link.endpoint}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A reboot restarts the API: the confirmation waits this long before reading again. */
export const CGMINER_RESTART_SETTLE_MS = 30_000;

/**
 * The generic module: firmware whose writes are cgminer's privileged commands only (Hiveon's cgminer on S9):
 * `restart` (the mining process, not the controller), the pool commands; no sleep, power or LED. Whether the API
 * grants privileged access is the miner's configuration (api-allow W:); without it every write is refused (45).
 */
export function cgminerControl(backends: readonly string[], firmwareName: string): ControlBackend {
  return {
    backends,
    capabilities(): ControlCapabilities {
      return {
        reboot: true,
        sleep: false,
        pools: { maxSlots: CGMINER_POOL_SLOTS, canSwitch: true },
        blink: false,
        needsCredentials: false,
        notes: [
          `${firmwareName}: writes are cgminer's privileged API commands; the miner must grant this host privileged access (api-allow W:), else it answers "Access denied" (45)`,
          'reboot restarts the mining process (cgminer restart), not the controller',
          `${firmwareName}'s cgminer API has no sleep, power target or locate LED`,
        ],
      };
    },
    execute(action: MinerAction, link: ControlLink, _sample: MinerSample): Promise<ActionReply> {
    return asControlFailure(link, async () => {
        switch (action.kind) {
          case 'reboot':
            return { reply: describeStatus(await cgminerWrite(link, 'restart')), settleMs: CGMINER_RESTART_SETTLE_MS };
          case 'pools':
            return replaceCgminerPools(link, action.pools, cgminerAddPool(link));
          case 'switch-pool':
            return switchCgminerPool(link, action.index);
          default:
            throw new ControlError('unsupported', `${firmwareName}: ${action.kind} is not possible over its cgminer API`, false);
        }
        });
      },
    };
  }

  /** Hiveon on Antminer (S9-era cgminer). */
  export const hiveonControl = cgminerControl(['hiveon'], 'Hiveon');
