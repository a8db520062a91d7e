/**
 * Root causes: when most miners of a container report the same fault at once (typically MINER_UNREACHABLE after
 * a power cut or a dead LTE uplink), that is one problem about the container, not hundreds about miners. This
 * stage adds one condition per such container; an inhibit rule then silences the miners' own alerts.
 */
import type { Fault } from '@flymining/shared';
import type { RootCause } from '../config';
import type { Labels } from '../types';
import { fingerprint, type Condition } from './evaluate';

/** Miners per container (or rack) from the inventory, when one is configured. */
export type PlaceSizes = ReadonlyMap<string, number>;

export function placeKey(site: string, container: string, rack?: string): string {
  return rack === undefined ? `${site}/${container}` : `${site}/${container}/${rack}`;
}

export function rootCauseConditions(faults: readonly Fault[], rules: readonly RootCause[], sizes: PlaceSizes | undefined, into: Map<string, Condition>): Map<string, Condition> {
  for (const rule of rules) {
    const miners = new Map<string, { since: number; minerIds: Set<string>; labels: Labels; reasons: Map<string, number> }>();
    for (const f of faults) {
      if (f.code !== rule.fault) continue;
      const l = f.location;
      const key = rule.by === 'rack' ? placeKey(l.site, l.container, l.rack) : placeKey(l.site, l.container);
      let entry = miners.get(key);
      if (!entry) {
        const labels: Labels = { site: l.site, container: l.container };
        if (rule.by === 'rack') labels.rack = l.rack;
        entry = { since: f.since, minerIds: new Set(), labels, reasons: new Map() };
        miners.set(key, entry);
      }
      entry.minerIds.add(f.minerId);
      entry.since = Math.max(entry.since, f.since); // the place counts as down once enough miners are
      const reason = typeof f.details?.reason === 'string' ? f.details.reason : 'unknown';
      entry.reasons.set(reason, (entry.reasons.get(reason) ?? 0) + 1);
    }
    for (const [key, entry] of miners) {
      const count = entry.minerIds.size;
      const total = sizes?.get(key);
      if (count < rule.min_miners) continue;
      if (total !== undefined && count / total < rule.min_share) continue;
      const labels: Labels = { ...entry.labels, alertname: rule.name, fault: rule.fault, severity: rule.severity };
      const place = rule.by === 'rack' ? `container ${entry.labels.container} rack ${entry.labels.rack}` : `container ${entry.labels.container}`;
      const reasons = [...entry.reasons].map(([r, n]) => `${r} ${n}`).join(', ');
      into.set(fingerprint(labels), {
        labels,
        annotations: {
          summary: rule.summary ?? `${place} unreachable`,
          message: `${place} (site ${entry.labels.site}): ${count}${total ? ` of ${total}` : ''} miners report ${rule.fault} at once (${reasons}); check its power and uplink first`,
        },
        since: entry.since,
        forMs: 0,
        keepFiringForMs: 0,
        value: count,
      });
    }
  }
  return into;
}
