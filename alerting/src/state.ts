/**
 * Everything the alerting service must not forget lives in Redis, so a restart neither loses alerts nor re-sends
 * them, and several instances share one view: alerts, the notification log, silences, acknowledgements, the
 * leader lease and the per-notice send claims.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Alert } from './types';
import type { Silence } from './pipeline/silence';

/** What was last told to one integration of one receiver about one group. */
export interface NotifyLogEntry {
  firing: string[];
  sentAt: number;
}

/** A receiver integration that failed: when to try again. */
export interface RetryEntry {
  failures: number;
  retryAt: number;
  lastError: string;
}

export class AlertState {
  readonly keys;
  readonly instanceId = randomUUID();

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = {
      alerts: `${prefix}:alerts`,
      nflog: `${prefix}:nflog`,
      retry: `${prefix}:retry`,
      silences: `${prefix}:silences`,
      acks: `${prefix}:acks`,
      leader: `${prefix}:leader`,
      claim: (id: string) => `${prefix}:claim:${id}`,
    };
  }

  async alerts(): Promise<Map<string, Alert>> {
    return parseHash<Alert>(await this.redis.hgetall(this.keys.alerts));
  }

  async saveAlerts(changed: readonly Alert[], deleted: readonly string[]): Promise<void> {
    if (changed.length === 0 && deleted.length === 0) return;
    const tx = this.redis.multi();
    // Chunked so 50,000 changed alerts do not become one giant command.
    for (let i = 0; i < changed.length; i += 1000) {
      const args: string[] = [];
      for (const a of changed.slice(i, i + 1000)) args.push(a.fingerprint, JSON.stringify(a));
      tx.hset(this.keys.alerts, ...args);
    }
    for (let i = 0; i < deleted.length; i += 1000) tx.hdel(this.keys.alerts, ...deleted.slice(i, i + 1000));
    await tx.exec();
  }

  async notifyLog(): Promise<Map<string, NotifyLogEntry>> {
    return parseHash<NotifyLogEntry>(await this.redis.hgetall(this.keys.nflog));
  }

  async recordSent(key: string, entry: NotifyLogEntry | undefined): Promise<void> {
    const tx = this.redis.multi();
    if (entry && entry.firing.length > 0) tx.hset(this.keys.nflog, key, JSON.stringify(entry));
    else tx.hdel(this.keys.nflog, key);
    tx.hdel(this.keys.retry, key);
    await tx.exec();
  }

  async retries(): Promise<Map<string, RetryEntry>> {
    return parseHash<RetryEntry>(await this.redis.hgetall(this.keys.retry));
  }

  async recordFailure(key: string, entry: RetryEntry): Promise<void> {
    await this.redis.hset(this.keys.retry, key, JSON.stringify(entry));
  }

  async silences(): Promise<Silence[]> {
    return [...parseHash<Silence>(await this.redis.hgetall(this.keys.silences)).values()];
  }

  async saveSilence(s: Silence): Promise<void> {
    await this.redis.hset(this.keys.silences, s.id, JSON.stringify(s));
  }

  async acks(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.acks)));
  }

  async acknowledge(groupId: string, firingHash: string): Promise<void> {
    await this.redis.hset(this.keys.acks, groupId, firingHash);
  }

  async forgetAcks(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length > 0) await this.redis.hdel(this.keys.acks, ...groupIds);
  }

  /** Leader lease: only the holder evaluates and notifies; it renews each cycle, a standby takes over when it lapses. */
  async lead(ttlMs: number): Promise<boolean> {
    const won = await this.redis.set(this.keys.leader, this.instanceId, 'PX', ttlMs, 'NX');
    if (won === 'OK') return true;
    // Renew only our own lease (compare and extend in one step).
    const renewed = await this.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
      1,
      this.keys.leader,
      this.instanceId,
      String(ttlMs),
    );
    return renewed === 1;
  }

  async resign(): Promise<void> {
    await this.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, this.keys.leader, this.instanceId);
  }

  /** Claims one notice before sending it: a lease that changes hands mid-send still cannot send it twice. */
  async claim(noticeId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.claim(noticeId), this.instanceId, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async release(noticeId: string): Promise<void> {
    await this.redis.del(this.keys.claim(noticeId));
  }
}

function parseHash<T>(raw: Record<string, string>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of Object.entries(raw)) {
    try {
      out.set(k, JSON.parse(v) as T);
    } catch {
      /* a corrupt entry is skipped rather than stopping every alert */
    }
  }
  return out;
}
