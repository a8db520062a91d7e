/**
 * Publishes fault transitions to Redis for alerting: the hash `flymining:faults:active` holds every active
 * fault (so an alerting instance that starts late catches up), the channel `flymining:faults` carries each
 * transition. The hash is also what makes a restarted exporter quiet: a fault it raises again that is
 * already in the hash is not announced twice, and its original `since` is kept.
 */
import { REDIS_KEYS, faultKey, type Fault, type FaultEvent } from '@flymining/shared';
import type { Redis } from 'ioredis';

export class RedisFaultPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly source: string,
  ) {}

  /** Applies transitions; returns the events that were new to the farm (and so were published). */
  async publish(events: FaultEvent[]): Promise<FaultEvent[]> {
    if (events.length === 0) return [];
    const write = this.redis.multi();
    for (const e of events) {
      const key = faultKey(e.fault);
      if (e.type === 'raised') write.hsetnx(REDIS_KEYS.activeFaults, key, JSON.stringify({ ...e.fault, source: this.source }));
      else write.hdel(REDIS_KEYS.activeFaults, key);
    }
    const results = (await write.exec()) ?? [];
    const published: FaultEvent[] = [];
    const announce = this.redis.pipeline();
    events.forEach((e, i) => {
      const [err, changed] = results[i] ?? [null, 0];
      if (err || changed !== 1) return; // already active (raised) or already cleared: nothing new to tell
      published.push(e);
      announce.publish(REDIS_KEYS.faultChannel, JSON.stringify({ ...e, source: this.source }));
    });
    if (published.length > 0) await announce.exec();
    return published;
  }

  /** Faults recorded as active for these miners, e.g. to restore `since` after a restart. */
  async activeFor(minerIds: ReadonlySet<string>): Promise<Fault[]> {
    const all = await this.redis.hgetall(REDIS_KEYS.activeFaults);
    const faults: Fault[] = [];
    for (const value of Object.values(all)) {
      try {
        const f = JSON.parse(value) as Fault;
        if (minerIds.has(f.minerId)) faults.push(f);
      } catch {
        /* a foreign or corrupt entry: not ours to judge */
      }
    }
    return faults;
  }

  /** After the first sweep: clear faults recorded for our miners that are no longer active. */
  async reconcile(minerIds: ReadonlySet<string>, activeKeys: ReadonlySet<string>, at: number): Promise<FaultEvent[]> {
    const stale = (await this.activeFor(minerIds)).filter((f) => !activeKeys.has(faultKey(f)));
    return this.publish(stale.map((fault) => ({ type: 'cleared', fault, at, source: this.source })));
  }
}
