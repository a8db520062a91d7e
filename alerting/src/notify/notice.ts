/** What every notifier says, worded once: title, per-alert lines, acknowledge link. */
import { placeOf } from '../pipeline/evaluate';
import type { Notice } from '../pipeline/dedup';
import type { Alert } from '../types';

export interface Notifier {
  /** Sends one notice; throws on failure (the dispatcher retries with back-off). */
  send(notice: Notice, context: NoticeContext): Promise<void>;
  close?(): void;
}

export interface NoticeContext {
  /** Link that acknowledges this group (stops repeats until its alerts change); absent without external_url. */
  ackUrl?: string;
}

export function severityOfNotice(n: Notice): string {
  const order = ['critical', 'warning', 'info'];
  const present = n.firing.map((a) => a.labels.severity ?? 'warning');
  return order.find((s) => present.includes(s)) ?? 'resolved';
}

function commonValue(alerts: readonly Alert[], label: string): string | undefined {
  const values = new Set(alerts.map((a) => a.labels[label] ?? ''));
  return values.size === 1 ? [...values][0] || undefined : undefined;
}

/** "[FIRING:3] north-1 C03 FAN_STOPPED: R1/S2/4, ..." — site, container and fault first, as staff scan inboxes. */
export function noticeTitle(n: Notice): string {
  const alerts = n.firing.length > 0 ? n.firing : n.resolved;
  const status = n.firing.length > 0 ? `FIRING:${n.firing.length}` : `RESOLVED:${n.resolved.length}`;
  const site = commonValue(alerts, 'site');
  const container = commonValue(alerts, 'container');
  const faults = [...new Set(alerts.map((a) => a.labels.fault ?? a.labels.alertname ?? ''))];
  const fault = faults.length <= 2 ? faults.join(', ') : `${faults.length} kinds of fault`;
  const slots = alerts.length <= 3 ? alerts.map(slotText).filter(Boolean).join(', ') : `${alerts.length} alerts`;
  const resolvedToo = n.firing.length > 0 && n.resolved.length > 0 ? ` (+${n.resolved.length} resolved)` : '';
  return `[${status}] ${[site, container && `container ${container}`, fault].filter(Boolean).join(' ')}${slots ? `: ${slots}` : ''}${resolvedToo}`;
}

/** "rack R1 shelf S2 slot 4 (C01-R1-S2-4)". */
export function slotText(a: Alert): string {
  const l = a.labels;
  if (!l.slot) return l.container && !l.miner ? `container ${l.container}` : '';
  return `rack ${l.rack} shelf ${l.shelf} slot ${l.slot}${l.part ? ` ${l.part}` : ''} (${l.miner})`;
}

export function alertLine(a: Alert, now: number): string {
  const since = a.firedAt ?? a.activeAt;
  const minutes = Math.max(0, Math.round(((a.resolvedAt ?? now) - since) / 60_000));
  const flaps = a.flaps > 0 ? `, flapped ${a.flaps}×` : '';
  return `${a.labels.severity?.toUpperCase() ?? ''} ${a.labels.fault ?? a.labels.alertname}: ${a.annotations.message ?? a.annotations.summary ?? placeOf(a.labels)} (${a.state === 'resolved' ? `resolved after ${minutes} min` : `for ${minutes} min`}${flaps})`;
}

/** "Acknowledged by oncall@farm.example at 2026-…Z, before this change": who took the group on last time. */
export function acknowledgementLine(n: Notice): string | undefined {
  const ack = n.acknowledgement;
  if (!ack) return undefined;
  const when = ack.at > 0 ? ` at ${new Date(ack.at).toISOString()}` : '';
  return `Acknowledged by ${ack.by}${when}${ack.firingHash === n.firingHash ? '' : ', before this change'}.`;
}
