/**
 * Escalation: a page of an `oncall:` receiver whose tickets nobody acknowledged goes to the next person of the rota
 * escalate_after after the group was first told, then to the one after that, until somebody acknowledges or
 * nobody is left. Only the leader runs it; what was escalated is kept in Redis (under the alerting key prefix), so
 * a restart or a new leader does not page the same person again, and each send is claimed like any notice.
 */
import type { Redis } from 'ioredis';
import type { ReceiverConfig } from '../config';
import type { Dispatcher } from '../notify/dispatch';
import { firingHashOf, type Notice } from '../notify/notice';
import { integrationsOf, notifierKey } from '../notify/registry';
import type { AlertGroup } from '../pipeline/group';
import type { Acknowledgement, NotifyLogEntry } from '../state';
import { contactAt } from './rota';
import type { Rota } from '@flymining/maintenance';

/** Where one group stands: first told at `since`, escalated up to `level`; `exhausted` once nobody was left. */
export interface EscalationRecord {
  since: number;
  level: number;
  exhausted?: boolean;
}

export interface EscalationInput {
  groups: ReadonlyMap<string, AlertGroup>;
  held: ReadonlyMap<string, AlertGroup>;
  log: ReadonlyMap<string, NotifyLogEntry>;
  acks: ReadonlyMap<string, Acknowledgement>;
  now: number;
}

/** What escalation needs from the maintenance database (TicketLink supplies it). */
export interface EscalationTickets {
  unacknowledgedGroups(keys: readonly string[]): Promise<Set<string>>;
  rota(now: number): Promise<Rota | undefined>;
  recordEscalation(groupKey: string, to: string, at: Date): Promise<void>;
}

/** An escalation's claim outlives any resend window: the Redis record, not the claim, keeps it from repeating. */
const ESCALATION_CLAIM_MS = 3_600_000;

export class Escalator {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly receivers: ReadonlyMap<string, ReceiverConfig>,
    private readonly dispatcher: Dispatcher,
    private readonly onEscalated: (receiver: string) => void,
  ) {
    this.key = `${keyPrefix}:escalations`;
  }

  get enabled(): boolean {
    return [...this.receivers.values()].some((r) => r.oncall !== undefined);
  }

  /** An acknowledged group starts afresh: a new fault in it pages the person on call first. */
  async forget(groupKeys: readonly string[]): Promise<void> {
    if (groupKeys.length > 0) await this.redis.hdel(this.key, ...groupKeys);
  }

  async records(): Promise<Map<string, EscalationRecord>> {
    const out = new Map<string, EscalationRecord>();
    for (const [k, v] of Object.entries(await this.redis.hgetall(this.key))) {
      try {
        out.set(k, JSON.parse(v) as EscalationRecord);
      } catch {
        /* corrupt: forgotten below as if the group were new */
      }
    }
    return out;
  }

  async run(input: EscalationInput, tickets: EscalationTickets): Promise<void> {
    const { groups, held, now } = input;
    const records = await this.records();
    await this.forget([...records.keys()].filter((k) => !groups.has(k) && !held.has(k)));
    const candidates = [...groups.values()].filter((g) => this.receivers.get(g.route.receiver)?.oncall && g.alerts.some((a) => a.state === 'firing'));
    if (candidates.length === 0) return;
    const unacknowledged = await tickets.unacknowledgedGroups(candidates.map((g) => g.key));
    const settled: string[] = [];
    for (const group of candidates) {
      const receiver = this.receivers.get(group.route.receiver)!;
      const firing = group.alerts.filter((a) => a.state === 'firing');
      const firingHash = firingHashOf(firing.map((a) => a.fingerprint));
      const acknowledgement = input.acks.get(group.id);
      if (!unacknowledged.has(group.key) || acknowledgement?.firingHash === firingHash) {
        if (records.has(group.key)) settled.push(group.key);
        continue;
      }
      const integrations = integrationsOf(receiver);
      const told = integrations.map((i) => input.log.get(`${notifierKey(receiver.name, i)}|${group.key}`)).filter((e): e is NotifyLogEntry => e !== undefined);
      let record = records.get(group.key);
      if (!record) {
        if (told.length === 0) continue; // not paged yet: nothing to escalate
        record = { since: Math.min(...told.map((e) => e.sentAt)), level: 0 };
        await this.save(group.key, record);
      }
      if (record.exhausted) continue;
      const rota = await tickets.rota(now);
      if (!rota) continue;
      const after = receiver.oncall?.escalate_after ?? rota.escalateAfterMs;
      if (now < record.since + (record.level + 1) * after) continue;
      const level = record.level + 1;
      const person = contactAt(rota, level, now);
      if (!person) {
        await this.save(group.key, { ...record, exhausted: true });
        continue;
      }
      const lastSentAt = Math.max(0, ...told.map((e) => e.sentAt));
      const outcomes = await Promise.all(
        integrations.map((integration) => {
          const logKey = `${notifierKey(receiver.name, integration)}|${group.key}`;
          const notice: Notice = { logKey, receiver, integration, group, firing, resolved: [], firingHash, repeat: true, lastSentAt, quiet: false, kept: [], acknowledgement };
          return this.dispatcher.escalate(notice, person, `escalation|${logKey}|${record.since}|${level}`, ESCALATION_CLAIM_MS);
        }),
      );
      if (outcomes.includes('failed')) continue; // the rest are claimed: only the failed one is tried next cycle
      await this.save(group.key, { since: record.since, level });
      if (outcomes.includes('sent')) {
        this.onEscalated(receiver.name);
        await tickets.recordEscalation(group.key, `level ${level}: ${person.name}${person.email ? ` <${person.email}>` : ''}`, new Date(now));
      }
    }
    await this.forget(settled);
  }

  private async save(groupKey: string, record: EscalationRecord): Promise<void> {
    await this.redis.hset(this.key, groupKey, JSON.stringify(record));
  }
}
