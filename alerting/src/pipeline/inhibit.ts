/**
 * Stage 3, inhibit: a firing source alert (e.g. "container C3 unreachable") mutes target alerts (its miners'
 * MINER_UNREACHABLE) that carry the same values of the `equal` labels, so the page names the root cause once.
 */
import type { InhibitRule } from '../config';
import { matchesAll } from '../matchers';
import type { Alert } from '../types';

export function inhibitedFingerprints(alerts: Iterable<Alert>, rules: readonly InhibitRule[]): Set<string> {
  const muted = new Set<string>();
  if (rules.length === 0) return muted;
  const all = [...alerts];
  for (const rule of rules) {
    const sources = new Set<string>();
    const sourceFps = new Set<string>();
    for (const a of all) {
      if (a.state !== 'firing' || !matchesAll(rule.source_matchers, a.labels)) continue;
      sources.add(rule.equal.map((l) => a.labels[l] ?? '').join('\u0000'));
      sourceFps.add(a.fingerprint);
    }
    if (sources.size === 0) continue;
    for (const a of all) {
      if (sourceFps.has(a.fingerprint) || !matchesAll(rule.target_matchers, a.labels)) continue;
      if (sources.has(rule.equal.map((l) => a.labels[l] ?? '').join('\u0000'))) muted.add(a.fingerprint);
    }
  }
  return muted;
}
