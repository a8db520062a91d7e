import type { JsonObject } from '@flymining/shared';
import { bitmainStyleDialect, bitmainVersionText, modelSource } from '../../antminer/common';
import { sectionOf, text } from '../../common/values';

/** "vnish 3.8.6" from Type "Antminer S9 (vnish 3.8.6)", else from stats build_version. */
function vnishVersion(version: JsonObject | undefined, statsVersion: JsonObject | undefined, stats: JsonObject): string | undefined {
  for (const type of [modelSource(text(version?.Type)), modelSource(text(statsVersion?.Type))]) {
    const match = type === undefined ? null : /\((vnish [^)]+)\)/i.exec(type);
    if (match?.[1]) return match[1];
  }
  const build = sectionOf(stats, 'STATS')
    .map((e) => text(e.build_version))
    .find((b) => b !== undefined);
  return build === undefined ? undefined : `vnish ${build}`;
}

/** Vnish firmware on Antminer: Bitmain `stats` layout plus per-chain power (chain_consumptionN, W). */
export const vnish = bitmainStyleDialect('vnish', {
  family: 'vnish',
  trustChipErrors: true,
  firmwareVersion: (version, statsVersion, stats) => {
    const own = vnishVersion(version, statsVersion, stats);
    const program = bitmainVersionText(version, statsVersion);
    if (own === undefined) return program;
    return program === undefined ? own : `${own} (${program})`;
  },
});
