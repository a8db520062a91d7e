/**
 * Antminer stock firmware over TCP 4028 with `"new_api":true` as a TOP-LEVEL member (nested under `parameter` the
 * firmware silently answers the legacy shape; antminer-new-api/PROTOCOLS.md §1). Per-chain data and hydro water
 * temperatures come only in this shape. Pools are the classic cgminer `pools`.
 */
import type { JsonObject } from '@flymining/shared';
import { num, parsePools, requireReply, sectionOf } from '../../common/values';
import { SLEEP_MODE } from '../common';
import type { Dialect, ParsedMiner, Replies } from '../../types';
import { parseAntminerNewApi } from '../web';

/**
 * The legacy `stats` as well: it alone carries the sleep mode (`Mode` 254), which the new_api shape does not; without
 * it a sleeping unit would read as "not hashing" and page.
 */
const LEGACY_STATS = 'stats (legacy)';

/** Whether the legacy stats say the unit sleeps. */
function legacySleeping(stats: JsonObject | undefined): boolean {
  return stats !== undefined && sectionOf(stats, 'STATS').some((e) => num(e.Mode) === SLEEP_MODE);
}

export const antminerNewApi: Dialect = {
  family: 'antminer-stock',
  vendor: 'antminer',
  id: 'antminer/new-api',
  protocol: 'cgminer',
  commands: ['summary', 'stats', 'pools', LEGACY_STATS],
  requiredCommands: ['summary'],
  requestFor(command: string): JsonObject {
    if (command === LEGACY_STATS) return { command: 'stats' };
    return command === 'pools' ? { command } : { command, new_api: true };
  },
  // Chosen by detection after the classic probes named stock firmware and a new_api `stats` came back in shape.
  matches: () => false,
  parse(replies: Replies): ParsedMiner {
    // The web API's work mode "sleep" stands for what the legacy stats say here.
    const conf = legacySleeping(replies[LEGACY_STATS]) ? { 'bitmain-work-mode': '1' } : undefined;
    const parsed = parseAntminerNewApi(replies.stats, requireReply(replies, 'summary'), undefined, conf);
    const { unreported: _notHere, ...rest } = parsed;
    return { ...rest, protocol: 'cgminer', pools: parsePools(replies.pools) };
  },
};
