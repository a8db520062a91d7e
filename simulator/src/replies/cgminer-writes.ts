/**
 * cgminer's own write commands, for the simulated firmware whose API grants them (LuxOS, Avalon): `addpool`,
 * `removepool`, `switchpool`, `restart`, with cgminer's codes and texts (api.c: 55 "Added pool '%s'", 68 "Removed
 * pool %d:'%s'", 27 "Switching to pool %d:'%s'", 26 invalid id, 66/67 last/active pool, 54 too many, 25/52 missing
 * parameter), and the parameter splitting (commas, backslash escapes). Also what the units report as their power
 * limit under the commanded mode or target.
 */
import { writeJson, type WireObject } from '../json';
import { SIM_POOL_URLS, WORK_MODE_POWER, simWorker, type SimMiner } from '../miner';
import { errorReply, statusObject, type ReplyContext, type ReplyText } from './common';

/** The pools a simulated unit accepts, as the web pages of its firmware do. */
export const SIM_MAX_POOLS = 3;

const reply = (text: string): ReplyText => ({ text, nul: true });

/** cgminer's parameter list: split at unescaped commas, `\x` is x. */
export function splitParameter(parameter: unknown): string[] {
  if (typeof parameter !== 'string' || parameter === '') return [];
  const out: string[] = [''];
  for (let i = 0; i < parameter.length; i++) {
    const c = parameter[i] as string;
    if (c === '\\' && i + 1 < parameter.length) out[out.length - 1] += parameter[++i] as string;
    else if (c === ',') out.push('');
    else out[out.length - 1] += c;
  }
  return out;
}

/** The unit's configured pools (the write path's list, else the farm's defaults). */
export function configuredPools(miner: SimMiner): { url: string; user: string }[] {
  return miner.commandedState().pools ?? SIM_POOL_URLS.map((url) => ({ url, user: simWorker(miner.id) }));
}

/** Power limit the firmware reports: the commanded target, else typical power scaled by the work mode. */
export function effectivePowerLimitW(miner: SimMiner): number {
  const c = miner.commandedState();
  return c.powerTargetW ?? Math.round(miner.profile.typicalPowerW * WORK_MODE_POWER[c.workMode]);
}

export function successReply(ctx: ReplyContext, description: string, letter: 'S' | 'I', code: number, msg: string, sections: WireObject = {}, sortKeys = false): ReplyText {
  return reply(writeJson({ STATUS: [statusObject(letter, ctx.when, code, msg, description)], ...sections, id: 1 }, { sortKeys }));
}

export function failReply(ctx: ReplyContext, description: string, code: number, msg: string): ReplyText {
  return reply(errorReply(ctx.when, code, msg, description));
}

/**
 * cgminer's pool commands and restart on `miner`, as `api` (for the unit's write log); undefined for other commands.
 * removepool keeps the active pool active (cgminer renumbers the pools after it).
 */
export function cgminerWrite(ctx: ReplyContext, description: string, api: string, command: string, parameter: unknown): ReplyText | undefined {
  const miner = ctx.miner;
  const pools = configuredPools(miner);
  const active = Math.min(miner.commandedState().activePool, pools.length - 1);
  const id = (): number | undefined => {
    const n = Number(splitParameter(parameter)[0]);
    return Number.isInteger(n) && n >= 0 && n < pools.length ? n : undefined;
  };
  switch (command) {
    case 'restart':
      miner.commandReboot(api);
      return { text: '{"STATUS":"RESTART","id":1}', nul: true };
    case 'addpool': {
      const [url, user, pass] = splitParameter(parameter);
      if (!url) return failReply(ctx, description, 52, 'Missing addpool details');
      if (user === undefined || pass === undefined) return failReply(ctx, description, 53, `Invalid addpool details '${String(parameter)}'`);
      if (pools.length >= SIM_MAX_POOLS) return failReply(ctx, description, 54, `Reached maximum number of pools (${SIM_MAX_POOLS})`);
      miner.commandPools(api, [...pools, { url, user }]);
      if (active > 0) miner.commandSwitchPool(api, active);
      return successReply(ctx, description, 'S', 55, `Added pool '${url}'`);
    }
    case 'switchpool': {
      if (parameter === undefined || parameter === '') return failReply(ctx, description, 25, 'Missing pool id parameter');
      const n = id();
      if (n === undefined) return failReply(ctx, description, 26, `Invalid pool id ${String(parameter)} - range is 0 - ${pools.length - 1}`);
      miner.commandSwitchPool(api, n);
      return successReply(ctx, description, 'S', 27, `Switching to pool ${n}:'${pools[n]?.url ?? ''}'`);
    }
    case 'removepool': {
      if (parameter === undefined || parameter === '') return failReply(ctx, description, 25, 'Missing pool id parameter');
      const n = id();
      if (n === undefined) return failReply(ctx, description, 26, `Invalid pool id ${String(parameter)} - range is 0 - ${pools.length - 1}`);
      const url = pools[n]?.url ?? '';
      if (pools.length === 1) return failReply(ctx, description, 66, `Cannot remove last pool ${n}:'${url}'`);
      if (n === active) return failReply(ctx, description, 67, `Cannot remove active pool ${n}:'${url}'`);
      miner.commandPools(api, pools.filter((_, i) => i !== n));
      const stillActive = n < active ? active - 1 : active;
      if (stillActive > 0) miner.commandSwitchPool(api, stillActive);
      return successReply(ctx, description, 'S', 68, `Removed pool ${n}:'${url}'`);
    }
  }
  return undefined;
}
