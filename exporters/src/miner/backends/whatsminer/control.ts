/**
 * Whatsminer writes, both generations.
 *
 * API v3 (TCP 4433, `whatsminer/v3`; miner-api-next/whatsminer-v3 PROTOCOLS §4): `set.*` commands carrying `ts`,
 * `account` and a token made from the admin password and the device salt (get.device.info); `set.miner.pools`
 * parameters AES-encrypted. Writes are off until the owner switches the write API on in WhatsMinerTool and changes
 * the factory password: until then, and for a wrong password, every write answers code -4.
 *
 * API v2 (btminer on TCP 4028, `whatsminer`; miner-api QUIRKS §11): `get_token`, then the command AES-encrypted in
 * `{"enc":1,"data":…}` and answered encrypted; refused with "can't access write cmd" while the write API is locked.
 *
 * Neither generation can switch the active pool without a new list, and the power target offered is the work mode
 * (low/normal/high): a limit in watts exists (set.miner.power_limit, adjust_power_limit) but its ceiling, the unit's
 * standard power, differs per hash-rate bin and is not in what we read.
 */
import { aesEcbDecrypt, aesEcbEncrypt, btminerToken, v3Digest, v3TokenOf, type JsonObject, type JsonValue, type MinerSample } from '@flymining/shared';
import { ControlError, type ActionReply, type ControlBackend, type ControlCapabilities, type ControlLink, type MinerAction, type PoolSetting, type WorkMode } from '../../control/types';
import { CGMINER_POOL_SLOTS, asControlFailure, cgminerStatus, describeStatus } from '../common/cgminer-control';
import { num, objectOf, text } from '../common/values';

const WORK_MODES: readonly WorkMode[] = ['low', 'normal', 'high'];
/** Accounts of API v3; "admin" is deprecated there (PROTOCOLS §4). */
const V3_ACCOUNTS = new Set(['super', 'user1', 'user2', 'user3']);
/** The locate pattern pyasic and asic-rs send: red, 200 ms period, 100 ms on. */
const LOCATE_LED = { color: 'red', period: 200, duration: 100, start: 0 } as const;
/** A reboot takes the API away; the confirmation reads again after this. */
const REBOOT_SETTLE_MS = 60_000;
/** Waking re-initializes the boards. */
const WAKE_SETTLE_MS = 30_000;

const NOTES = [
  'writes need the write API switched on in WhatsMinerTool and the admin password changed from the factory one',
  'the power target is the work mode (low/normal/high); a limit in watts needs the unit\'s standard power, which is not read',
  'pools are replaced as a list (up to 3); the active pool cannot be switched on its own',
] as const;

function capabilities(sample: MinerSample): ControlCapabilities {
  return {
    reboot: true,
    sleep: true,
    power: { kind: 'modes', modes: WORK_MODES },
    pools: { maxSlots: CGMINER_POOL_SLOTS, canSwitch: false },
    blink: true,
    needsCredentials: true,
    notes: sample.protocol === 'whatsminer-v3' ? NOTES : [...NOTES, 'API v2 (port 4028): firmware from 2024-11 on answers writes on API v3 only'],
  };
}

function requirePassword(link: ControlLink): { user: string; password: string } {
  const c = link.credentials;
  if (!c?.password) throw new ControlError('refused', `${link.endpoint}: Whatsminer writes need the admin password (configure credentials for this miner)`, false);
  return c;
}

function modeOf(action: Extract<MinerAction, { kind: 'power' }>): WorkMode {
  if (!('mode' in action.target)) throw new ControlError('unsupported', 'Whatsminer: the power target is a work mode (low/normal/high), not watts', false);
  return action.target.mode;
}

// ---------------------------------------------------------------------------------------------------------------
// API v3

const V3_OK = 0;
const V3_INVALID_COMMAND = -2;
const V3_NO_PERMISSION = -4;

/** The v3 reply envelope: `code` is required; anything else is a failed write. */
function v3Code(reply: JsonObject, link: ControlLink, cmd: string): { code: number; msg: string } {
  const code = num(reply.code);
  if (code === undefined || !Number.isInteger(code)) throw new ControlError('failed', `${link.endpoint} ${cmd}: the reply has no code`);
  const msg = typeof reply.msg === 'string' ? reply.msg : JSON.stringify(reply.msg ?? '').slice(0, 120);
  return { code, msg };
}

/** The salt and the miner's own clock (a token's ts is checked against it, so a miner with a wrong clock still works). */
async function v3Salt(link: ControlLink): Promise<{ salt: string; ts: number }> {
  const reply = await link.command({ cmd: 'get.device.info', param: 'salt' });
  const { code, msg } = v3Code(reply, link, 'get.device.info');
  if (code !== V3_OK) throw new ControlError('failed', `${link.endpoint} get.device.info: code ${code} (${msg})`);
  const salt = text(objectOf(reply.msg)?.salt);
  if (!salt) throw new ControlError('failed', `${link.endpoint} get.device.info: no salt in the reply`);
  const when = num(reply.when);
  return { salt, ts: when !== undefined && Number.isInteger(when) && when > 0 ? when : Math.floor(Date.now() / 1000) };
}

async function v3Write(link: ControlLink, cmd: string, param: JsonValue | undefined, encrypt = false): Promise<ActionReply> {
  const { user, password } = requirePassword(link);
  const { salt, ts } = await v3Salt(link);
  const digest = v3Digest(cmd, password, salt, ts);
  const account = V3_ACCOUNTS.has(user) ? user : 'super';
  const request: JsonObject = { cmd, ts, account, token: v3TokenOf(digest) };
  if (param !== undefined) request.param = encrypt ? aesEcbEncrypt(digest, JSON.stringify(param)) : param;
  const reply = await link.command(request);
  const { code, msg } = v3Code(reply, link, cmd);
  if (code === V3_OK) return { reply: `${cmd}: code 0 ${msg}`.slice(0, 200) };
  if (code === V3_NO_PERMISSION) {
    throw new ControlError(
      'refused',
      `${link.endpoint} ${cmd}: no permission (code -4): the write API is off in WhatsMinerTool, the admin password is still the factory one, or the configured password is wrong`,
      false,
    );
  }
  if (code === V3_INVALID_COMMAND) throw new ControlError('unsupported', `${link.endpoint} ${cmd}: this firmware does not know the command (code -2)`, false);
  throw new ControlError('refused', `${link.endpoint} ${cmd}: code ${code} (${msg.slice(0, 120)})`, false);
}

function v3Pools(pools: readonly PoolSetting[]): JsonValue {
  return pools.map((p) => ({ pool: p.url, worker: p.user, passwd: p.password }));
}

export const whatsminerV3Control: ControlBackend = {
  backends: ['whatsminer/v3'],
  capabilities,
  execute(action, link) {
    return asControlFailure(link, async () => {
      switch (action.kind) {
        case 'reboot':
          return { ...(await v3Write(link, 'set.system.reboot', undefined)), settleMs: REBOOT_SETTLE_MS };
        case 'sleep':
          return v3Write(link, 'set.miner.service', 'stop');
        case 'wake':
          return { ...(await v3Write(link, 'set.miner.service', 'start')), settleMs: WAKE_SETTLE_MS };
        case 'power':
          return v3Write(link, 'set.miner.power_mode', modeOf(action));
        case 'pools':
          return v3Write(link, 'set.miner.pools', v3Pools(action.pools), true);
        case 'blink':
          return v3Write(link, 'set.system.led', action.on ? [{ ...LOCATE_LED }] : 'auto');
        case 'switch-pool':
          throw new ControlError('unsupported', 'Whatsminer API v3 has no command to switch the active pool; send a new pool list instead', false);
      }
    });
  },
};

// ---------------------------------------------------------------------------------------------------------------
// API v2 (btminer, TCP 4028)

/** pyasic's and the firmware's text while the write API is locked (QUIRKS §4.3). */
const LOCKED_TEXT = /can't access write cmd/i;

async function fetchBtminerToken(link: ControlLink, password: string): Promise<{ key: Buffer; sign: string }> {
  const reply = await link.command({ cmd: 'get_token' });
  const status = cgminerStatus(reply);
  const msg = objectOf(reply.Msg);
  const salt = text(msg?.salt);
  const newsalt = text(msg?.newsalt);
  const time = text(msg?.time) ?? (num(msg?.time) !== undefined ? String(num(msg?.time)) : undefined);
  if (status && status.letter !== 'S' && status.letter !== 'I') throw btminerRefusal(link, 'get_token', describeStatus(status));
  if (!salt || !newsalt || !time) throw new ControlError('failed', `${link.endpoint} get_token: the reply has no salt/newsalt/time`);
  return btminerToken(password, { salt, newsalt, time });
}

function btminerRefusal(link: ControlLink, cmd: string, detail: string): ControlError {
  if (LOCKED_TEXT.test(detail)) {
    return new ControlError('refused', `${link.endpoint} ${cmd}: the write API is locked (${detail}); unlock it in WhatsMinerTool and change the admin password`, false);
  }
  return new ControlError('refused', `${link.endpoint} ${cmd}: ${detail} (write API locked, or the admin password is wrong)`, false);
}

async function btminerWrite(link: ControlLink, cmd: string, params: JsonObject = {}): Promise<ActionReply> {
  const { password } = requirePassword(link);
  const { key, sign } = await fetchBtminerToken(link, password);
  const data = aesEcbEncrypt(key, JSON.stringify({ cmd, ...params, token: sign }));
  const reply = await link.command({ enc: 1, data });
  let plain: JsonObject = reply;
  if (typeof reply.enc === 'string') {
    let decoded: unknown;
    try {
      decoded = JSON.parse(aesEcbDecrypt(key, reply.enc));
    } catch {
      throw new ControlError('failed', `${link.endpoint} ${cmd}: the encrypted reply does not decrypt to JSON`);
    }
    if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) throw new ControlError('failed', `${link.endpoint} ${cmd}: the decrypted reply is not an object`);
    plain = decoded as JsonObject;
  }
  const status = cgminerStatus(plain);
  if (!status) throw new ControlError('failed', `${link.endpoint} ${cmd}: the reply has no STATUS`);
  if (status.letter === 'S' || status.letter === 'I') return { reply: `${cmd}: ${describeStatus(status)}` };
  if (status.code === 14) throw new ControlError('unsupported', `${link.endpoint} ${cmd}: this firmware does not know the command`, false);
  throw btminerRefusal(link, cmd, describeStatus(status));
}

const BTMINER_POWER: Record<WorkMode, string> = { low: 'set_low_power', normal: 'set_normal_power', high: 'set_high_power' };

function btminerPools(pools: readonly PoolSetting[]): JsonObject {
  const out: JsonObject = {};
  pools.forEach((p, i) => {
    out[`pool${i + 1}`] = p.url;
    out[`worker${i + 1}`] = p.user;
    out[`passwd${i + 1}`] = p.password;
  });
  return out;
}

export const whatsminerV2Control: ControlBackend = {
  backends: ['whatsminer'],
  capabilities,
  execute(action, link) {
    return asControlFailure(link, async () => {
      switch (action.kind) {
        case 'reboot':
          return { ...(await btminerWrite(link, 'reboot')), settleMs: REBOOT_SETTLE_MS };
        case 'sleep':
          // respbefore: answer before the boards power down (pyasic's default), so the reply is not lost.
          return btminerWrite(link, 'power_off', { respbefore: 'true' });
        case 'wake':
          return { ...(await btminerWrite(link, 'power_on')), settleMs: WAKE_SETTLE_MS };
        case 'power':
          return btminerWrite(link, BTMINER_POWER[modeOf(action)]);
        case 'pools':
          return btminerWrite(link, 'update_pools', btminerPools(action.pools));
        case 'blink':
          return btminerWrite(link, 'set_led', action.on ? { ...LOCATE_LED } : { param: 'auto' });
        case 'switch-pool':
          throw new ControlError('unsupported', 'Whatsminer API v2 has no command to switch the active pool; send a new pool list instead', false);
      }
    });
  },
};
