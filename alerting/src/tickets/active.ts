/**
 * Alerts as the maintenance package's ticket sync takes them (ActiveAlert): every firing alert about a miner or a
 * container, with the machine it is about (serial, MAC or slot from the inventory) and whether it pages now.
 */
import { machineRef, type ActiveAlert } from '@flymining/maintenance';
import type { MinerSpec } from '@flymining/shared';
import type { AlertGroup } from '../pipeline/group';
import { SEVERITIES, type Alert, type AlertSeverity } from '../types';

export interface AlertPlacement {
  /** Groups paged now (not silenced, inhibited or stale). */
  groups: ReadonlyMap<string, AlertGroup>;
  /** Groups held back (silenced or stale): their alerts keep their tickets but open none. */
  held: ReadonlyMap<string, AlertGroup>;
}

function firstGroupKeys(groups: ReadonlyMap<string, AlertGroup>): Map<string, string> {
  const keys = new Map<string, string>();
  for (const g of groups.values()) for (const a of g.alerts) if (!keys.has(a.fingerprint)) keys.set(a.fingerprint, g.key);
  return keys;
}

function severityOf(value: string | undefined): AlertSeverity {
  return (SEVERITIES as readonly string[]).includes(value ?? '') ? (value as AlertSeverity) : 'warning';
}

export function activeAlertsOf(alerts: Iterable<Alert>, placement: AlertPlacement, miners?: ReadonlyMap<string, MinerSpec>): ActiveAlert[] {
  const paged = firstGroupKeys(placement.groups);
  const held = firstGroupKeys(placement.held);
  const out: ActiveAlert[] = [];
  for (const a of alerts) {
    const l = a.labels;
    // A container-level alert (ContainerSilent, a root cause) is about the container: that is its "miner".
    const miner = l.miner ?? l.container;
    if (a.state !== 'firing' || !miner) continue;
    const spec = l.miner ? miners?.get(l.miner) : undefined;
    const groupKey = paged.get(a.fingerprint);
    out.push({
      fingerprint: a.fingerprint,
      fault: l.fault ?? l.alertname ?? 'unknown',
      severity: severityOf(l.severity),
      firedAt: a.firedAt ?? a.activeAt,
      groupKey: groupKey ?? held.get(a.fingerprint) ?? '',
      pages: groupKey !== undefined,
      machine: machineRef(miner, spec),
      ...(spec ? { nominalThs: spec.nominalThs } : {}),
      miner,
      site: l.site ?? '',
      container: l.container ?? '',
      rack: l.rack ?? '',
      shelf: l.shelf ?? '',
      slot: l.slot ?? '',
      part: l.part ?? '',
    });
  }
  return out;
}
