/**
 * Antminer stock firmware over TCP 4028 with `"new_api":true` as a TOP-LEVEL member (nested under `parameter` the
 * firmware silently answers the legacy shape; antminer-new-api/PROTOCOLS.md §1). Per-chain data and hydro water
 * temperatures come only in this shape. Pools are the classic cgminer `pools`.
 */
import type { JsonObject } from '@flymining/shared';
import { parsePools, requireReply } from '../../common/values';
import type { Dialect, ParsedMiner, Replies } from '../../types';
import { parseAntminerNewApi } from '../web';

export const antminerNewApi: Dialect = {
  family: 'antminer-stock',
  vendor: 'antminer',
  id: 'antminer/new-api',
  protocol: 'cgminer',
  commands: ['summary', 'stats', 'pools'],
  requiredCommands: ['summary'],
  requestFor(command: string): JsonObject {
    return command === 'pools' ? { command } : { command, new_api: true };
  },
  // Chosen by detection after the classic probes named stock firmware and a new_api `stats` came back in shape.
  matches: () => false,
  parse(replies: Replies): ParsedMiner {
    const parsed = parseAntminerNewApi(replies.stats, requireReply(replies, 'summary'), undefined, undefined);
    const { unreported: _notHere, ...rest } = parsed;
    return { ...rest, protocol: 'cgminer', pools: parsePools(replies.pools) };
  },
};
