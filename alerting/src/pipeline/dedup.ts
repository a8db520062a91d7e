/**
 * Stage 5, dedup: decides, per group and receiver integration, whether to send now, using the notification log
 * kept in Redis (what was last sent and when). This is where group_wait, group_interval, repeat_interval,
 * acknowledgements and retry back-off apply, and why a restart sends nothing twice.
 */
import type { ReceiverConfig } from '../config';
import { firingHashOf, type Notice } from '../notify/notice';
import { integrationsOf, notifierKey } from '../notify/registry';
import type { Acknowledgement, NotifyLogEntry, RetryEntry } from '../state';
import type { AlertGroup } from './group';

export interface DedupInput {
  groups: ReadonlyMap<string, AlertGroup>;
  receivers: ReadonlyMap<string, ReceiverConfig>;
  log: ReadonlyMap<string, NotifyLogEntry>;
  retries: ReadonlyMap<string, RetryEntry>;
  acks: ReadonlyMap<string, Acknowledgement>;
  now: number;
  /**
   * Groups of alerts held back while their edge is silent (stale faults) or a silence mutes them: what they were
   * told stays in the log, so when fresh data confirms them or the silence ends nothing is re-paged, and when they
   * clear the resolved notice goes out.
   */
  held?: ReadonlyMap<string, AlertGroup>;
}

export interface DedupResult {
  notices: Notice[];
  /** Log entries to forget without sending: groups that went away while muted, or whose alerts all expired. */
  forget: string[];
}

export function decideNotices(input: DedupInput): DedupResult {
  const { groups, receivers, log, retries, acks, now } = input;
  const held = input.held ?? new Map<string, AlertGroup>();
  const notices: Notice[] = [];
  const live = new Set<string>();
  for (const group of held.values()) {
    const receiver = receivers.get(group.route.receiver);
    if (receiver) for (const integration of integrationsOf(receiver)) live.add(`${notifierKey(receiver.name, integration)}|${group.key}`);
  }
  for (const group of groups.values()) {
    const receiver = receivers.get(group.route.receiver);
    if (!receiver) continue;
    const firing = group.alerts.filter((a) => a.state === 'firing').sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
    const firingFps = firing.map((a) => a.fingerprint);
    const firingHash = firingHashOf(firingFps);
    for (const integration of integrationsOf(receiver)) {
      const logKey = `${notifierKey(receiver.name, integration)}|${group.key}`;
      live.add(logKey);
      const retry = retries.get(logKey);
      if (retry && now < retry.retryAt) continue;
      const last = log.get(logKey);
      const told = new Set(last?.firing ?? []);
      const resolved = group.alerts.filter((a) => a.state === 'resolved' && told.has(a.fingerprint));
      const kept = (held.get(group.key)?.alerts ?? []).filter((a) => a.state === 'firing' && told.has(a.fingerprint)).map((a) => a.fingerprint);
      const acknowledgement = acks.get(group.id);
      const notice = { logKey, receiver, integration, group, firing, resolved, firingHash, repeat: false, quiet: false, lastSentAt: last?.sentAt ?? 0, kept, acknowledgement };
      if (!last) {
        if (firing.length === 0) continue;
        const firstFired = Math.min(...firing.map((a) => a.firedAt ?? a.activeAt));
        if (now >= firstFired + group.route.groupWaitMs) notices.push(notice);
        continue;
      }
      const added = firingFps.some((fp) => !told.has(fp));
      if (resolved.length > 0 && receiver.send_resolved) {
        notices.push(notice); // resolved notices go out at once, not after group_interval
      } else if (added) {
        if (now >= last.sentAt + group.route.groupIntervalMs) notices.push(notice);
      } else if (firing.length + kept.length === 0 || firing.length + kept.length < told.size) {
        // Fewer alerts without a resolved notice to send (muted, or send_resolved off): remember quietly.
        notices.push({ ...notice, resolved: [], quiet: true });
      } else if (acknowledgement?.firingHash !== firingHash && now >= last.sentAt + group.route.repeatIntervalMs) {
        notices.push({ ...notice, repeat: true });
      }
    }
  }
  const forget = [...log.keys()].filter((k) => !live.has(k));
  return { notices, forget };
}
