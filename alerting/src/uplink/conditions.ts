/**
 * The alerts the relay's edge statuses raise: ContainerSilent (nothing arrives from a container's edge: the uplink,
 * the edge's power or the edge itself) and EdgeClockSkew (its timestamps cannot be trusted). ContainerSilent is
 * distinct from ContainerUnreachable, which needs a live edge reporting its miners unreachable.
 */
import type { EdgeStatus } from '@flymining/shared';
import { CONTAINER_SILENT, EDGE_CLOCK_SKEW, type EdgesConfig } from '../config';
import { formatDuration } from '../duration';
import { fingerprint, type Condition } from '../pipeline/evaluate';
import type { Labels } from '../types';

export function containerSilentLabels(site: string, container: string): Labels {
  return { alertname: CONTAINER_SILENT, site, container, severity: 'critical' };
}

/** "12.3 s", "4 min 5 s", "2 h 10 min": how long a container was dark, as on-call reads it. */
export function spokenDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** One status per container: the miner exporter's when the edge has one, else the climate exporter's. */
function deciding(statuses: readonly EdgeStatus[]): Map<string, EdgeStatus> {
  const out = new Map<string, EdgeStatus>();
  for (const s of statuses) {
    const key = `${s.site}/${s.container}`;
    const held = out.get(key);
    if (!held || (held.source !== 'miner' && s.source === 'miner')) out.set(key, s);
  }
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function edgeConditions(statuses: readonly EdgeStatus[], config: EdgesConfig, into: Map<string, Condition>): Map<string, Condition> {
  for (const s of deciding(statuses).values()) {
    if (s.silentSinceMs === undefined) continue;
    const labels = containerSilentLabels(s.site, s.container);
    const late = config.silent_after_intervals * s.last.intervalMs;
    const uplink = s.last.uplink !== 'ok' ? `; the edge last said its uplink was ${s.last.uplink}${s.last.uplinkError ? ` (${s.last.uplinkError})` : ''}` : '';
    into.set(fingerprint(labels), {
      labels,
      annotations: {
        summary: `container ${s.container} silent: nothing arrives from its edge`,
        message:
          `container ${s.container} (site ${s.site}): no heartbeat from edge ${s.edge} since ${iso(s.receivedAtMs)} (center clock; expected every ${formatDuration(s.last.intervalMs)}, ` +
          `silent after ${formatDuration(late)})${uplink}. Check the container's LTE uplink and the edge's power; its faults are shown as last reported (stale)`,
      },
      since: s.silentSinceMs,
      forMs: 0,
      keepFiringForMs: 0,
    });
  }
  // One clock per edge host: the larger skew of its exporters is reported.
  const skewed = new Map<string, EdgeStatus>();
  for (const s of statuses) {
    if (s.clockSkewMs === undefined || s.silentSinceMs !== undefined) continue;
    const key = `${s.site}/${s.container}`;
    const held = skewed.get(key);
    if (!held || Math.abs(s.clockSkewMs) > Math.abs(held.clockSkewMs ?? 0)) skewed.set(key, s);
  }
  for (const s of skewed.values()) {
    const skew = s.clockSkewMs ?? 0;
    const labels: Labels = { alertname: EDGE_CLOCK_SKEW, site: s.site, container: s.container, edge: s.edge, severity: 'warning' };
    into.set(fingerprint(labels), {
      labels,
      annotations: {
        summary: `edge ${s.edge} clock off by ${spokenDuration(Math.abs(skew))}`,
        message: `edge ${s.edge} (container ${s.container}, site ${s.site}): its clock is ${spokenDuration(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} the center (offset ${Math.round(skew)} ms, tolerance ${formatDuration(config.clock_skew_tolerance)}); its data lands at the wrong times: check NTP on the edge`,
        offset_ms: String(Math.round(skew)),
      },
      since: s.receivedAtMs,
      forMs: 0,
      keepFiringForMs: 0,
      value: skew,
    });
  }
  return into;
}

/** What the RESOLVED ContainerSilent notice says: how long the container was dark and what it had to backfill. */
export function silenceEndNotes(statuses: readonly EdgeStatus[]): Map<string, Record<string, string>> {
  const notes = new Map<string, Record<string, string>>();
  for (const s of deciding(statuses).values()) {
    const outage = s.lastOutage;
    if (s.silentSinceMs !== undefined || !outage) continue;
    notes.set(fingerprint(containerSilentLabels(s.site, s.container)), {
      message:
        `container ${s.container} (site ${s.site}) was dark for ${spokenDuration(outage.toMs - outage.fromMs)} ` +
        `(last heartbeat ${iso(outage.fromMs)}, next ${iso(outage.toMs)}, center clock); edge ${s.edge} had ${outage.backfillPoints} points spooled to backfill`,
      dark_ms: String(outage.toMs - outage.fromMs),
      backfill_points: String(outage.backfillPoints),
    });
  }
  return notes;
}
