/**
 * The notice contract: what the pipeline hands to notifiers (Notice, built by dedup), what a notifier answers, and
 * how every notifier words a notice: title, per-alert lines, acknowledgement. notify/ depends on no pipeline stage.
 */
import { createHash } from 'node:crypto';
import type { Acknowledgement } from '../state';
import { placeOf, type Alert } from '../types';
import type { Integration } from './registry';
import type { NotifyResult } from './retry';

/** The group a notice tells of (the pipeline's AlertGroup has more; notifiers need only these). */
export interface NoticeGroup {
  /** Stable across restarts: the notification log's key. */
  key: string;
  /** URL-safe form of the key, in acknowledge links. */
  id: string;
}

export interface Notice {
  /** Notification-log key: receiver, integration and group. */
  logKey: string;
  receiver: { name: string };
  integration: Integration;
  group: NoticeGroup;
  firing: Alert[];
  /** Alerts of this group told as firing before and resolved since. */
  resolved: Alert[];
  firingHash: string;
  /** Same alerts as last time: a reminder after repeat_interval. */
  repeat: boolean;
  /** When this group was last told (0: never): with the alerts' own times, it makes the send claim unique. */
  lastSentAt: number;
  /** Only the log changes (alerts muted, or resolved with send_resolved off): nothing is sent. */
  quiet: boolean;
  /** Alerts told before and held now (stale: their edge is silent; or silenced): they stay in the log, so they are not re-paged. */
  kept: string[];
  /** The group's last acknowledgement, told in the notice (it was given before this change). */
  acknowledgement?: Acknowledgement;
}

/**
 * The person a page is addressed to when the receiver routes to the on-call rota (receiver `oncall:`): who is on
 * call now (level 0) or the next person an unacknowledged page escalates to (level 1, 2, ...). Each integration
 * addresses its own contact field; an integration whose contact the person lacks uses its configured address.
 */
export interface OnCallContact {
  name: string;
  /** 0: on call now; n: the n-th escalation. */
  level: number;
  email?: string;
  /** Telegram chat id of the person's chat with the bot. */
  telegram?: string;
  /** Slack member id (U…), mentioned in the message. */
  slack?: string;
}

export interface NoticeContext {
  /** Link that acknowledges this group (stops repeats until its alerts change); absent without external_url. */
  ackUrl?: string;
  /** Set when the receiver pages the on-call rota: whom this notice is for. */
  onCall?: OnCallContact;
}

export interface Notifier {
  /**
   * Sends one notice. Answers, never throws: `{ ok: false, retry: true }` keeps the notice owed and retries it with
   * back-off; `retry: false` records it as failed and does not try again (retry.ts decides which is which).
   */
  notify(notice: Notice, context: NoticeContext): Promise<NotifyResult>;
  close?(): void;
}

/** Identity of a set of firing alerts: what the notification log and acknowledgements compare. */
export function firingHashOf(fingerprints: readonly string[]): string {
  return createHash('sha1').update([...fingerprints].sort().join(',')).digest('hex').slice(0, 16);
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
  // Container-level faults (a door, the climate) carry '-' for rack, shelf and slot: there is no slot to name.
  if (l.slot === '-') return l.part ? `${l.part}` : '';
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

/** The line naming whom a page of the on-call rota is for: "On call: Alice", or "Escalated to Bob (level 1)". */
export function onCallLine(onCall: OnCallContact): string {
  return onCall.level > 0 ? `Escalated to ${onCall.name} (level ${onCall.level})` : `On call: ${onCall.name}`;
}
