/**
 * How a cycle's alerts reach Redis (AlertState.saveAlerts): one MULTI/EXEC on a connection of the writes' own,
 * against a redis-server of the test's own. A write Redis refuses in part fails as a whole; a lost connection is
 * opened again for the next write, never resumed in the middle of a transaction.
 */
import Redis from 'ioredis';
import { AlertState } from '../src/state';
import type { Alert } from '../src/types';
import { startOwnRedis, type OwnRedis } from './helpers';

const PREFIX = 'flymining:alerting';

function alertsOf(count: number, state: Alert['state'] = 'firing'): Alert[] {
  return Array.from({ length: count }, (_, i) => ({
    fingerprint: `Hardware|C01-${i}|FAN_STOPPED|part 0`,
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
});
