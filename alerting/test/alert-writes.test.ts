/**
 * How a cycle's alerts reach Redis (AlertState.saveAlerts): one MULTI/EXEC on a connection of the writes' own, or,
 * when every alert is rewritten, a staging hash renamed over the alerts; against a redis-server of the test's own.
 * Readers see the old alerts or the new ones, never a part; a write Redis refuses in part fails as a whole; a lost
 * connection is opened again for the next write, never resumed in the middle of a transaction.
 */
import Redis from 'ioredis';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { AlertState } from '../src/state';
import type { Alert } from '../src/types';
import { startOwnRedis, type OwnRedis } from './helpers';

const PREFIX = 'flymining:alerting';

function alertsOf(count: number, state: Alert['state'] = 'firing', container = 'C01'): Alert[] {
  return Array.from({ length: count }, (_, i) => ({
    fingerprint: `Hardware|${container}-${i}|FAN_STOPPED|part 0`,
    labels: { alertname: 'Hardware', container: 'C01', miner: `C01-${i}` },
    annotations: { summary: 'fan stopped', message: `fan ${i}` },
    state,
    activeAt: 1000 + i,
    flaps: 0,
  }));
}

describe('alert writes', () => {
  let own: OwnRedis;
  let redis: Redis;
  let state: AlertState;

  beforeAll(async () => {
    own = await startOwnRedis();
    redis = new Redis(own.url);
  });

  beforeEach(async () => {
    await redis.flushdb();
    state = new AlertState(redis, PREFIX);
  });

  afterEach(() => state.close());

  afterAll(async () => {
    redis.disconnect();
    await own.stop();
  });

  it('writes every changed alert (in chunks of one transaction) and deletes the gone ones', async () => {
    await state.saveAlerts(alertsOf(2500), []);
    expect(await redis.hlen(state.keys.alerts)).toBe(2500);
    const resolved = alertsOf(1200, 'resolved');
    const gone = alertsOf(2500).slice(1200).map((a) => a.fingerprint);
    await state.saveAlerts(resolved, gone);
    const stored = await state.alerts();
    expect(stored.size).toBe(1200);
    expect([...stored.values()].every((a) => a.state === 'resolved')).toBe(true);
    expect(stored.get(resolved[7]!.fingerprint)).toEqual(resolved[7]);
  });

  it('stores each alert compactly and reads it back whole, and still reads alerts stored by earlier versions', async () => {
    const odd: Alert = {
      fingerprint: 'QueryRule|7f3a',
      labels: { alertname: 'Intake "hot"', container: 'C\u00e9-1', 'custom label': 'a\\b\nc \ud83d\udd25 \ud800' },
      annotations: { summary: 'intake hot', message: 'line 1\nline 2', expected: 'ticket #4 in repair by Ana' },
      state: 'firing',
      activeAt: 1000,
      firedAt: 2000,
      clearedAt: 2500,
      flaps: 3,
      value: 41.5,
    };
    const resolved: Alert = { ...alertsOf(1)[0]!, state: 'resolved', firedAt: 1100, resolvedAt: 1500 };
    await state.saveAlerts([odd, resolved], []);
    // Format 1 (an earlier version's): the alert object as JSON.
    const earlier = { ...alertsOf(2)[1]!, firedAt: 1200 };
    await redis.hset(state.keys.alerts, earlier.fingerprint, JSON.stringify(earlier), 'corrupt', '[2,"firing"');
    const stored = await state.alerts();
    expect(stored.get(odd.fingerprint)).toStrictEqual(odd);
    expect(stored.get(resolved.fingerprint)).toStrictEqual(resolved);
    expect(stored.get(earlier.fingerprint)).toStrictEqual(earlier);
    expect(stored.has('corrupt')).toBe(false);
    // Compact: the fingerprint is the field, label names are short, so the value is far below format 1's size.
    const compact = (await redis.hget(state.keys.alerts, resolved.fingerprint))!;
    expect(compact.startsWith('[2,')).toBe(true);
    expect(compact.length).toBeLessThan(JSON.stringify(resolved).length * 0.6);
  });

  it('fails the whole write when Redis refuses part of it', async () => {
    await redis.set(state.keys.alerts, 'not a hash');
    await expect(state.saveAlerts(alertsOf(10), [])).rejects.toThrow(/WRONGTYPE/);
  });

  it('opens a new connection for the next write after its own is lost', async () => {
    await state.saveAlerts(alertsOf(3), []);
    // Every client but this one: the writes' connection goes; it does not reconnect by itself.
    await redis.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await state.saveAlerts(alertsOf(5), []);
    expect(await redis.hlen(state.keys.alerts)).toBe(5);
  });

  it('replaces the alerts as a whole when every alert is rewritten, leaving no staging hash and no expiry', async () => {
    await state.saveAlerts(alertsOf(3000, 'firing', 'C01'), []);
    const next = alertsOf(2500, 'firing', 'C02');
    await state.saveAlerts(next, alertsOf(3000, 'firing', 'C01').map((a) => a.fingerprint), true);
    const stored = await state.alerts();
    expect(stored.size).toBe(2500);
    expect([...stored.keys()].every((f) => f.includes('|C02-'))).toBe(true);
    expect(stored.get(next[1234]!.fingerprint)).toStrictEqual(next[1234]);
    expect(await redis.exists(state.keys.alertsStaging)).toBe(0);
    expect(await redis.pttl(state.keys.alerts)).toBe(-1);
  });

  it('never lets a reader see part of a whole rewrite', async () => {
    await state.saveAlerts(alertsOf(5000, 'firing', 'C01'), []);
    // A reader in a process of its own, asking for the size over and over while the 60 chunks go in (this
    // process's event loop is busy sending them).
    const readLoop = `const r = new (require('ioredis'))(process.argv[1]); (async () => { for (;;) console.log(await r.hlen(process.argv[2])); })();`;
    const reader = spawn(process.execPath, ['-e', readLoop, own.url, state.keys.alerts], { cwd: __dirname, stdio: ['ignore', 'pipe', 'inherit'] });
    const seen: number[] = [];
    createInterface({ input: reader.stdout! }).on('line', (line) => seen.push(Number(line)));
    const sawBefore = async (n: number) => {
      while (!seen.includes(n)) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    try {
      await sawBefore(5000);
      await state.saveAlerts(alertsOf(60_000, 'firing', 'C02'), alertsOf(5000, 'firing', 'C01').map((a) => a.fingerprint), true);
      await sawBefore(60_000);
    } finally {
      reader.kill();
    }
    expect(seen.filter((n) => n !== 5000 && n !== 60_000)).toEqual([]);
    expect(seen.at(-1)).toBe(60_000);
  });

  it('keeps the old alerts when a whole rewrite is cut off, and its staging hash expires', async () => {
    await state.saveAlerts(alertsOf(4000, 'firing', 'C01'), []);
    // Redis drops the connection at a value over 1 MB: the last chunk of this write breaks it after 4 are stored.
    await redis.config('SET', 'proto-max-bulk-len', '1mb');
    try {
      const next = alertsOf(5000, 'firing', 'C02');
      next[4500]!.annotations.message = 'x'.repeat(1_100_000);
      await expect(state.saveAlerts(next, alertsOf(4000, 'firing', 'C01').map((a) => a.fingerprint), true)).rejects.toThrow();
      expect(await redis.hlen(state.keys.alerts)).toBe(4000);
      expect(await redis.hexists(state.keys.alerts, alertsOf(1, 'firing', 'C01')[0]!.fingerprint)).toBe(1);
      expect(await redis.hlen(state.keys.alertsStaging)).toBe(4000);
      const ttl = await redis.pttl(state.keys.alertsStaging);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10 * 60_000);
      // The next whole rewrite (a new connection) starts its staging hash afresh.
      await state.saveAlerts(alertsOf(1500, 'firing', 'C03'), [], true);
      const stored = await state.alerts();
      expect(stored.size).toBe(1500);
      expect([...stored.keys()].every((f) => f.includes('|C03-'))).toBe(true);
    } finally {
      await redis.config('SET', 'proto-max-bulk-len', '512mb');
    }
  });
});
