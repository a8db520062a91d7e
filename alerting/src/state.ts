/**
 * Everything the alerting service must not forget lives in Redis, so a restart neither loses alerts nor re-sends
 * them, and several instances share one view: alerts, the notification log, silences, acknowledgements, the
 * leader lease and the per-notice send claims.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Alert } from './types';
import { decodeAlert, encodeAlert } from './stored-alert';
import type { Silence } from './pipeline/silence';

/** What was last told to one integration of one receiver about one group. */
export interface NotifyLogEntry {
  firing: string[];
  sentAt: number;
  /** The receiver refused the notice for good (e.g. Slack 404, SMTP 550): why. Not retried until the next notice. */
  failed?: string;
}

/** Who acknowledged a group, when, and which set of firing alerts (it holds until that set changes). */
export interface Acknowledgement {
  firingHash: string;
  /** The receiver address the signed link was sent to, the signed-in staff member, or token:<name>. */
  by: string;
  at: number;
}

/** A receiver integration that failed: when to try again. */
export interface RetryEntry {
  failures: number;
  retryAt: number;
  lastError: string;
}

/** Alerts per HSET of a write. */
const ALERT_CHUNK = 1000;
/** How long a staging hash outlives a whole rewrite that was cut off before its rename. */
const STAGING_TTL_MS = 10 * 60_000;

export class AlertState {
  readonly keys;
  readonly instanceId = randomUUID();
  /** Last known notification log, silences and acks: written back if Redis comes back without its data. */
  private readonly known = { nflog: new Map<string, NotifyLogEntry>(), silences: new Map<string, Silence>(), acks: new Map<string, string>() };
  /** The connection of saveAlerts' transactions (opened on the first write, again after it is lost). */
  private writer: Redis | undefined;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = {
      alerts: `${prefix}:alerts`,
      /** Where a whole rewrite of the alerts is written before it is renamed over them (this instance's own). */
      alertsStaging: `${prefix}:alerts:staging:${this.instanceId}`,
      nflog: `${prefix}:nflog`,
      retry: `${prefix}:retry`,
      silences: `${prefix}:silences`,
      acks: `${prefix}:acks`,
      leader: `${prefix}:leader`,
      claim: (id: string) => `${prefix}:claim:${id}`,
      intact: `${prefix}:intact`,
    };
  }

  async alerts(): Promise<Map<string, Alert>> {
    const raw = await hashPairs(this.redis, this.keys.alerts);
    const out = new Map<string, Alert>();
    for (let i = 0; i < raw.length; i += 2) {
      // A value that does not decode (corrupt) is skipped rather than stopping every alert.
      const alert = decodeAlert(raw[i]!, raw[i + 1]!);
      if (alert) out.set(raw[i]!, alert);
    }
    return out;
  }

  /**
   * Writes a cycle's alerts so other instances and a successor never see half a cycle, on a connection of the
   * writes' own. Everything is sent in one synchronous pass, so it all goes over that connection (or waits
   * together for it to open); it never reconnects, so a write cut off midway fails as a whole instead of its tail
   * being sent again on its own.
   *
   * A change to some alerts is one MULTI/EXEC, each chunk of HSETs sent as it is built (a pipelined MULTI holds
   * every chunk's JSON and then one copy of the whole transaction until EXEC: ≈ 50 MB more at 50,000 alerts).
   * When `whole` (every alert is rewritten, as in a new lease holder's first cycle), the alerts go to a staging hash
   * of this instance's own instead, which Redis stores chunk by chunk while this process encodes the next, and one
   * MULTI renames it over the alerts hash. Readers see the old hash or the new one, as with one MULTI, but Redis no
   * longer holds the whole write queued until EXEC and stores it all after the last chunk (≈ 150 ms of the first
   * cycle at 50,000 alerts). A staging hash left by a write cut off midway expires on its own.
   */
  async saveAlerts(changed: readonly Alert[], deleted: readonly string[], whole = false): Promise<void> {
    if (changed.length === 0 && deleted.length === 0) return;
    const writer = this.alertWriter();
    const replies: Array<Promise<unknown>> = [];
    const staged = whole && changed.length > ALERT_CHUNK;
    const staging = this.keys.alertsStaging;
    if (staged) replies.push(writer.del(staging));
    else replies.push(writer.multi({ pipeline: false }));
    // Chunked so 50,000 changed alerts do not become one giant command.
    for (let i = 0; i < changed.length; i += ALERT_CHUNK) {
      const args: string[] = [];
      for (let j = i; j < Math.min(i + ALERT_CHUNK, changed.length); j++) args.push(changed[j]!.fingerprint, encodeAlert(changed[j]!));
      replies.push(writer.hset(staged ? staging : this.keys.alerts, args));
      if (staged && i === 0) replies.push(writer.pexpire(staging, STAGING_TTL_MS));
    }
    if (staged) {
      replies.push(writer.multi({ pipeline: false }));
      replies.push(writer.rename(staging, this.keys.alerts), writer.persist(this.keys.alerts));
    } else {
      for (let i = 0; i < deleted.length; i += ALERT_CHUNK) replies.push(writer.hdel(this.keys.alerts, ...deleted.slice(i, i + ALERT_CHUNK)));
    }
    const exec = writer.exec();
    replies.push(exec);
    await Promise.all(replies);
    // A command refused while queued makes Redis refuse the EXEC (the promises above reject); one that fails when
    // run (e.g. WRONGTYPE) is an error among EXEC's replies: the cycle fails, as when the write does not arrive.
    const results: unknown = await exec;
    if (!Array.isArray(results)) throw new Error('Redis did not apply the alerts transaction');
    for (const reply of results) {
      // ioredis hands EXEC's replies over as [error, result] pairs.
      const error: unknown = Array.isArray(reply) ? reply[0] : reply;
      if (error instanceof Error) throw error;
    }
  }

  /**
   * Opens the writes' connection now if it is not open, so a lease holder's first write does not wait in ioredis's
   * offline queue (15 MB at 50,000 alerts) for the connection to open, with Redis idle meanwhile.
   */
  openWriter(): void {
    this.alertWriter();
  }

  private alertWriter(): Redis {
    if (!this.writer || this.writer.status === 'end') {
      this.writer = this.redis.duplicate({ retryStrategy: () => null, autoResendUnfulfilledCommands: false });
      // Its failures reach the write's promises (the cycle fails and logs); the next write opens a new connection.
      this.writer.on('error', () => undefined);
    }
    return this.writer;
  }

  /** Closes the connection of the alert writes (the shared one belongs to the caller). */
  close(): void {
    this.writer?.disconnect();
    this.writer = undefined;
  }

  async notifyLog(): Promise<Map<string, NotifyLogEntry>> {
    const log = parseHash<NotifyLogEntry>(await this.redis.hgetall(this.keys.nflog));
    this.known.nflog = new Map(log);
    return log;
  }

  async recordSent(key: string, entry: NotifyLogEntry | undefined): Promise<void> {
    const tx = this.redis.multi();
    if (entry && entry.firing.length > 0) tx.hset(this.keys.nflog, key, JSON.stringify(entry));
    else tx.hdel(this.keys.nflog, key);
    tx.hdel(this.keys.retry, key);
    await tx.exec();
    if (entry && entry.firing.length > 0) this.known.nflog.set(key, entry);
    else this.known.nflog.delete(key);
  }

  async retries(): Promise<Map<string, RetryEntry>> {
    return parseHash<RetryEntry>(await this.redis.hgetall(this.keys.retry));
  }

  async recordFailure(key: string, entry: RetryEntry): Promise<void> {
    await this.redis.hset(this.keys.retry, key, JSON.stringify(entry));
  }

  async silences(): Promise<Silence[]> {
    const silences = parseHash<Silence>(await this.redis.hgetall(this.keys.silences));
    this.known.silences = new Map(silences);
    return [...silences.values()];
  }

  async saveSilence(s: Silence): Promise<void> {
    await this.redis.hset(this.keys.silences, s.id, JSON.stringify(s));
    this.known.silences.set(s.id, s);
  }

  async acks(): Promise<Map<string, Acknowledgement>> {
    const raw = await this.redis.hgetall(this.keys.acks);
    this.known.acks = new Map(Object.entries(raw));
    const acks = new Map<string, Acknowledgement>();
    for (const [groupId, value] of Object.entries(raw)) {
      // Before acknowledgements named who gave them, the value was the firing hash alone.
      if (!value.startsWith('{')) acks.set(groupId, { firingHash: value, by: 'unknown', at: 0 });
      else for (const [id, ack] of parseHash<Acknowledgement>({ [groupId]: value })) acks.set(id, ack);
    }
    return acks;
  }

  async acknowledge(groupId: string, ack: Acknowledgement): Promise<void> {
    const value = JSON.stringify(ack);
    await this.redis.hset(this.keys.acks, groupId, value);
    this.known.acks.set(groupId, value);
  }

  async forgetAcks(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length === 0) return;
    await this.redis.hdel(this.keys.acks, ...groupIds);
    for (const id of groupIds) this.known.acks.delete(id);
  }

  /**
   * True when Redis still holds this service's state; false once after it came back without it (restarted with no
   * persistence), in which case the marker is set again and the caller restores what it knows.
   */
  async intact(): Promise<boolean> {
    return (await this.redis.set(this.keys.intact, this.instanceId, 'NX')) !== 'OK';
  }

  /** Writes back alerts and the last known notification log, silences and acks, so nothing is paged twice. */
  async restore(alerts: ReadonlyMap<string, Alert>): Promise<{ alerts: number; nflog: number }> {
    const tx = this.redis.multi();
    const hash = (key: string, entries: Iterable<[string, unknown]>, encode: (v: unknown) => string = JSON.stringify): void => {
      const args: string[] = [];
      for (const [k, v] of entries) args.push(k, typeof v === 'string' ? v : encode(v));
      for (let i = 0; i < args.length; i += 2000) tx.hset(key, ...args.slice(i, i + 2000));
    };
    hash(this.keys.alerts, alerts, (a) => encodeAlert(a as Alert));
    hash(this.keys.nflog, this.known.nflog);
    hash(this.keys.silences, this.known.silences);
    hash(this.keys.acks, this.known.acks);
    await tx.exec();
    return { alerts: alerts.size, nflog: this.known.nflog.size };
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

  /**
   * Claims one notice before sending it: a lease that changes hands mid-send still cannot send it twice. A claim
   * held by an instance that has lost the lease (it died mid-send, its mail never completed) is taken over by the
   * lease holder, so the notice goes out once the lease has passed rather than when the claim expires.
   */
  async claim(noticeId: string, ttlMs: number): Promise<boolean> {
    const won = await this.redis.eval(
      `local owner = redis.call('get', KEYS[1])
       if owner == false or (owner ~= ARGV[1] and redis.call('get', KEYS[2]) == ARGV[1]) then
         redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
         return 1
       end
       return 0`,
      2,
      this.keys.claim(noticeId),
      this.keys.leader,
      this.instanceId,
      String(ttlMs),
    );
    return won === 1;
  }

  async release(noticeId: string): Promise<void> {
    await this.redis.del(this.keys.claim(noticeId));
  }
}

/**
 * A hash's fields and values as one flat list [field, value, ...]: HGETALL's reply as Redis sends it. ioredis's
 * `hgetall` turns it into an object of 50,000 keys first (a dictionary, slow to build and to walk), so the big
 * hashes are read through `call`, which hands the reply over as it is (an object is still accepted, should a
 * version of ioredis transform it there too).
 */
export async function hashPairs(redis: Redis, key: string): Promise<string[]> {
  const reply: unknown = await redis.call('HGETALL', key);
  if (Array.isArray(reply)) return reply as string[];
  const pairs: string[] = [];
  if (reply !== null && typeof reply === 'object') for (const [k, v] of Object.entries(reply as Record<string, string>)) pairs.push(k, v);
  return pairs;
}

function parseHash<T>(raw: Record<string, string>): Map<string, T> {
  const out = new Map<string, T>();
  for (const k in raw) {
    try {
      out.set(k, JSON.parse(raw[k]!) as T);
    } catch {
      /* a corrupt entry is skipped rather than stopping every alert */
    }
  }
  return out;
}
