/**
 * ePIC PowerPlay / umcOS writes (HTTP on TCP 4028; miner-api-next/epic PROTOCOLS §1, §3): POSTs whose JSON body
 * carries the miner password, `{"param": …, "password": …}`, answered `{"result": bool, "error": …}`. No session.
 * `/reboot` (delay 0), `/miner` Stop / Autostart (idle and back), `/perpetualtune` on + `/perpetualtune/algo`
 * PowerTune with a target in watts, `/coin` (the pool list), `/identify` (the locate LED).
 */
import type { JsonObject, JsonValue, MinerSample } from '@flymining/shared';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction, type PoolSetting } from '../../control/types';
import { MinerConnectionError } from '../../transports/cgminer-tcp';
import { CGMINER_POOL_SLOTS, asControlFailure } from '../common/cgminer-control';
import { powerTargetRange } from '../common/nameplate';

const REBOOT_SETTLE_MS = 90_000;
const WAKE_SETTLE_MS = 30_000;

async function epicPost(link: ControlLink, path: string, param: JsonValue): Promise<ActionReply> {
  const password = link.credentials?.password;
  if (!password) throw new ControlError('refused', `${link.endpoint}: ePIC writes need the miner password (configure credentials for this miner)`, false);
  let reply: JsonObject;
  try {
    reply = await link.http('POST', path, { param, password });
  } catch (err) {
    if (err instanceof MinerConnectionError && (err.kind === 'auth' || /HTTP 401|HTTP 403/.test(err.message))) {
      throw new ControlError('refused', `${link.endpoint} POST ${path}: the miner refused the password`, false);
    }
    const reason = err instanceof MinerConnectionError && err.kind === 'protocol' ? reasonOf(err.replyText) : undefined;
    // An HTTP answer refusing the write (`{"result":false,"error":"…"}` with a 4xx): the firmware's own reason.
    if (reason) throw new ControlError('refused', `${link.endpoint} POST ${path}: ${reason}`, false);
    throw err;
  }
  if (reply.result === true) return { reply: `POST ${path}: result true` };
  if (reply.result === false) throw new ControlError('refused', `${link.endpoint} POST ${path}: ${typeof reply.error === 'string' ? reply.error.slice(0, 160) : 'result false'}`, false);
  throw new ControlError('failed', `${link.endpoint} POST ${path}: the reply has no result`);
}

function reasonOf(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && 'error' in parsed && typeof parsed.error === 'string') return parsed.error.slice(0, 160);
  } catch {
    /* not JSON: the status code says it */
  }
  return undefined;
}

function stratumConfigs(pools: readonly PoolSetting[]): JsonValue {
  return pools.map((p) => ({ pool: p.url, login: p.user, password: p.password }));
}

export const epicControl: ControlBackend = {
  backends: ['epic/v1'],
  capabilities(sample: MinerSample): ControlCapabilities {
    const range = powerTargetRange(sample.model);
    const notes = ['writes carry the miner password in the request body', 'sleep is the firmware idle (/miner Stop)', 'pools are replaced as a list; the active pool cannot be switched on its own'];
    notes.push(range ? 'a power target runs the PowerTune algorithm (perpetual tune)' : `no power target: the nameplate power of ${sample.model ?? 'this model'} is not known to the write path`);
    return {
      reboot: true,
      sleep: true,
      ...(range ? { power: { kind: 'watts' as const, ...range } } : {}),
      pools: { maxSlots: CGMINER_POOL_SLOTS, canSwitch: false },
      blink: true,
      needsCredentials: true,
      notes,
    };
  },
  execute(action: MinerAction, link: ControlLink): Promise<ActionReply> {
    return asControlFailure(link, async () => {
      switch (action.kind) {
        case 'reboot':
          return { ...(await epicPost(link, '/reboot', '0')), settleMs: REBOOT_SETTLE_MS };
        case 'sleep':
          return epicPost(link, '/miner', 'Stop');
        case 'wake':
          return { ...(await epicPost(link, '/miner', 'Autostart')), settleMs: WAKE_SETTLE_MS };
        case 'power': {
          if (!('watts' in action.target)) throw new ControlError('unsupported', 'ePIC takes a power target in watts (PowerTune), not a work mode', false);
          await epicPost(link, '/perpetualtune', true);
          return epicPost(link, '/perpetualtune/algo', { algo: 'PowerTune', target: Math.round(action.target.watts) });
        }
        case 'pools':
          return epicPost(link, '/coin', { coin: 'Btc', stratum_configs: stratumConfigs(action.pools), unique_id: false });
        case 'blink':
          return epicPost(link, '/identify', action.on);
        case 'switch-pool':
          throw new ControlError('unsupported', 'ePIC has no command to switch the active pool; send a new pool list instead', false);
      }
    });
  },
};
