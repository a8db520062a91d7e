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
