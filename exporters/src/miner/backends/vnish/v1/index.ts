/**
 * VNish HTTP API (`/api/v1`, vnish/PROTOCOLS.md): `/summary` needs no login (auth optional), `/settings` does.
 * NO public capture of these replies exists (PROTOCOLS.md §3); the field paths read here are the ones pyasic's VNish
 * backend reads (`miner.miner_type` "… (Vnish x.y.z)", `miner.miner_status.miner_state`, `miner.power_usage` W,
 * `miner.chains[].status.{state,description}`, `system.network_status.mac`, `miner.overclock.preset` W in settings),
 * and every one is optional. Hash rates, boards and pools stay with the CGMiner-API backend (`vnish`) until a
 * capture shows their keys.
 */
import type { FirmwareErrorSample, MinerMode } from '@flymining/shared';
import { MINER_LIMITS, TEXT_LIMITS } from '../../../limits';
import { compact, num, objectOf, objectsOf, pathOf, positive, requireReply, shortText, identifier } from '../../common/values';
import type { Dialect, ParsedMiner, Replies } from '../../types';

export const VNISH_PATHS = { summary: '/api/v1/summary', info: '/api/v1/info', settings: '/api/v1/settings' } as const;

function modeOf(state: string | undefined): MinerMode {
  switch ((state ?? '').toLowerCase()) {
    case 'mining':
      return 'hashing';
    case 'stopped':
    case 'shutting-down':
      return 'sleeping';
    case 'starting':
    case 'initializing':
    case 'auto-tuning':
      return 'booting';
    default:
      return 'idle';
  }
}

export function parseVnishHttp(replies: Replies): ParsedMiner {
  const summary = requireReply(replies, VNISH_PATHS.summary);
  const miner = objectOf(summary.miner);
  const minerType = shortText(miner?.miner_type, TEXT_LIMITS.modelSource);
  const version = minerType ? /\(vnish\s+([^)]+)\)/i.exec(minerType)?.[1] : undefined;
  const firmwareErrors: FirmwareErrorSample[] = [];
  objectsOf(miner?.chains, MINER_LIMITS.boards).forEach((chain, position) => {
    const status = objectOf(chain.status);
    if (shortText(status?.state) !== 'failure') return;
    firmwareErrors.push({ code: 'chain failure', text: shortText(status?.description, TEXT_LIMITS.statusMessage) ?? '', component: `chain ${num(chain.id) ?? position}` });
  });
  const preset = pathOf(replies[VNISH_PATHS.settings], 'miner', 'overclock', 'preset');
  return compact<ParsedMiner>({
    vendor: 'antminer',
    firmware: 'vnish',
    protocol: 'vnish',
    firmwareVersion: version?.slice(0, TEXT_LIMITS.firmwareVersion),
    model: minerType?.replace(/\s*\(vnish[^)]*\)/i, '').slice(0, TEXT_LIMITS.model) || undefined,
    mode: modeOf(shortText(pathOf(miner, 'miner_status', 'miner_state'))),
    boards: [],
    fans: [],
    pools: [],
    unreported: ['boards', 'fans', 'pools'],
    powerW: positive(miner?.power_usage),
    mac: identifier(pathOf(summary.system, 'network_status', 'mac')) ?? shortText(pathOf(replies[VNISH_PATHS.info]?.system, 'network_status', 'mac')),
    workMode: preset === undefined ? undefined : preset === 'disabled' ? 'disabled' : 'preset',
    powerTargetW: positive(preset),
    firmwareErrors: miner ? firmwareErrors : undefined,
  });
}

export const vnishV1: Dialect = {
  family: 'vnish',
  vendor: 'antminer',
  id: 'vnish/v1',
  protocol: 'vnish',
  commands: [VNISH_PATHS.summary, VNISH_PATHS.info, VNISH_PATHS.settings],
  requiredCommands: [VNISH_PATHS.summary],
  credentialedCommands: [VNISH_PATHS.settings],
  matches: () => false,
  parse: parseVnishHttp,
};
