/**
 * The Redis findings replayed against a redis-server of the test's own (stopped and started again), a real
 * InfluxDB carrying the edge's heartbeats and snapshots, and a real SMTP server. Intervals are short (an edge sweep
 * of 1 s, evaluation every 300 ms, outages of a few seconds) so each finding runs in seconds.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { REDIS_KEYS, faultKey, type InfluxStore } from '@flymining/shared';
import pino from 'pino';
import { freshStore } from '../../exporters/test/e2e/helpers';
import { createApi } from '../src/api';
import { AlertingService } from '../src/service';
import { TestEdge, minerFault } from './edge';
import { config, sleep, startMailbox, startOwnRedis, testAuth, waitFor, type Mailbox, type OwnRedis } from './helpers';
import Redis from 'ioredis';

const DB = 'alerting_outage';
const SITE = 'north-1';
const OUTAGE_MS = 3000;

jest.setTimeout(120_000); // each finding waits on conditions with their own deadlines

describe('alerting through Redis outages', () => {
  let store: InfluxStore;
  let mailbox: Mailbox;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    store = await freshStore(DB);
    mailbox = await startMailbox();
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  afterAll(async () => {
    await store.close();
    await mailbox.close();
  });

  const mailsAbout = (container: string): string[] => mailbox.mails.map((m) => m.subject ?? '').filter((s) => s.includes(`container ${container}`));

  /** A service on its own Redis with its API listening, an edge beating every second, and the service's log lines. */
  async function setUp(container: string, persistent: boolean) {
    const own = await startOwnRedis({ persistent });
    cleanups.push(() => own.stop());
    const logs: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const service = new AlertingService(
      config(`
redis: ${own.url}
evaluation_interval: 300ms
influx: { url: '${process.env.FLYMINING_TEST_INFLUX_URL}', database: ${DB} }
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [site, container, alertname], group_wait: 500ms, group_interval: 1s, repeat_interval: 1h }
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: '${mailbox.url}' } }]
`),
      pino({ level: 'info' }, sink),
      { retryBaseMs: 200 },
    );
    await service.start();
    const auth = await testAuth(own.url, ['alerting:read']);
    const api: Server = createApi(service, { authenticator: auth.authenticator }).listen(0, '127.0.0.1');
    await new Promise((r) => api.once('listening', r));
    const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const edge = new TestEdge(store, SITE, container);
    edge.beat();
    const redis = new Redis(own.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    cleanups.push(async () => {
      await edge.stop();
      api.close();
      await service.stop();
      redis.disconnect();
      auth.close();
    });
    // The edge is known to the center before anything happens.
    await waitFor(() => service.lastEvaluationAt > 0, 10_000, 'first evaluation');
    await redis.connect();
    for (const deadline = Date.now() + 10_000; !(await redis.hexists(REDIS_KEYS.edges, `${SITE}/${container}/miner`)); ) {
      if (Date.now() > deadline) throw new Error('edge status never written');
      await sleep(100);
    }
    return { own, service, url, edge, logs, redis, auth };
  }

  test('A fault raised while Redis is down is never paged: now it is paged once, when Redis is back', async () => {
    const { own, edge } = await setUp('C21', false);
    await own.stop();
    const fault = minerFault(SITE, 'C21', 4);
    edge.faults = [fault];
    await sleep(OUTAGE_MS);
    expect(mailsAbout('C21')).toEqual([]);
    await own.start(); // empty: no persistence
    await waitFor(() => mailsAbout('C21').length >= 1, 20_000, 'the fault paged after Redis returned');
    await sleep(2000); // group_interval and more: a second page would have come
    expect(mailsAbout('C21')).toEqual([expect.stringMatching(/^\[FIRING:1\] north-1 container C21 FAN_STOPPED: rack R1 shelf S1 slot 4/)]);
  });

  test('A fault cleared while Redis is down stays firing: now the resolved notice goes out when Redis is back', async () => {
    const { own, edge } = await setUp('C22', true);
    edge.faults = [minerFault(SITE, 'C22', 5)];
    await waitFor(() => mailsAbout('C22').length === 1, 20_000, 'firing notice');
    await own.stop();
    edge.faults = [];
    await sleep(OUTAGE_MS);
    await own.start(); // with its data (AOF): alerts and notification log as before the outage
    await waitFor(() => mailsAbout('C22').length >= 2, 20_000, 'resolved notice after Redis returned');
    await sleep(2000);
    expect(mailsAbout('C22')).toEqual([expect.stringMatching(/^\[FIRING:1\]/), expect.stringMatching(/^\[RESOLVED:1\] north-1 container C22 FAN_STOPPED/)]);
  });

  test('Redis restarted empty while an alert fires: the relay re-asserts the fault, the alert keeps firing, nobody is paged twice', async () => {
    const { own, service, url, edge, redis, logs, auth } = await setUp('C23', false);
    const fault = minerFault(SITE, 'C23', 6);
    edge.faults = [fault];
    await waitFor(() => mailsAbout('C23').length === 1, 20_000, 'firing notice');
    await own.stop();
    await own.start(); // empty
    await auth.reinstate(); // the API's token went with the data
    for (const deadline = Date.now() + 15_000; !(await redis.hexists(REDIS_KEYS.activeFaults, faultKey(fault)).catch(() => 0)); ) {
      if (Date.now() > deadline) throw new Error('fault not re-asserted');
      await sleep(100);
    }
    const alerts = (await (await fetch(`${url}/api/alerts?state=firing`, { headers: auth.headers })).json()) as Array<{ labels: Record<string, string> }>;
    // (Edges of the earlier tests still have heartbeats in this InfluxDB database: only C23's alerts are compared.)
    expect(alerts.filter((a) => a.labels.container === 'C23').map((a) => `${a.labels.alertname} ${a.labels.miner}`)).toEqual([`FanFailure ${fault.minerId}`]);
    await sleep(2500); // past group_wait and group_interval: a re-page would be here
    expect(mailsAbout('C23')).toHaveLength(1);
    expect(logs.filter((l) => String(l.msg).startsWith('Redis lost the alerting state'))).toHaveLength(1);
    expect((await service.metrics.registry.metrics()).match(/^flymining_alerting_state_restored_total (\d+)/m)?.[1]).toBe('1');
  });

  test('/healthz and /api during a Redis outage: 503 with the reason, the outage logged once per connection, recovery logged', async () => {
    const { own, url, logs, auth } = await setUp('C24', false);
    const consoleErrors = jest.spyOn(console, 'error');
    const healthy = await fetch(`${url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(((await healthy.json()) as { lastEvaluationMs: number }).lastEvaluationMs).toBeGreaterThan(Date.now() - 5000);
    await own.stop();
    let health: Response | undefined;
    for (const deadline = Date.now() + 10_000; (health = await fetch(`${url}/healthz`)).status !== 503; ) {
      if (Date.now() > deadline) throw new Error('healthz never reported the outage');
      await sleep(100);
    }
    expect(((await health.json()) as { reason: string }).reason).toMatch(/^Redis unreachable/);
    const api = await fetch(`${url}/api/alerts`, { headers: auth.headers });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: string }).error).toMatch(/Redis unreachable/);
    expect((await fetch(`${url}/api/groups`, { headers: auth.headers })).status).toBe(503);
    await sleep(OUTAGE_MS); // ioredis retries many times meanwhile
    const outageLines = logs.filter((l) => String(l.msg).startsWith('Redis unreachable'));
    expect(outageLines.map((l) => l.redis).sort()).toEqual(['state', 'subscriber']);
    await own.start();
    await auth.reinstate(); // the API's token went with the data
    await waitFor(() => logs.filter((l) => l.msg === 'Redis reachable again').length === 2, 15_000, 'recovery logged for both connections');
    for (const deadline = Date.now() + 10_000; (await fetch(`${url}/healthz`)).status !== 200; ) {
      if (Date.now() > deadline) throw new Error('healthz never recovered');
      await sleep(100);
    }
    expect((await fetch(`${url}/api/alerts`, { headers: auth.headers })).status).toBe(200);
    expect(logs.filter((l) => String(l.msg).startsWith('Redis unreachable'))).toHaveLength(2);
    // ioredis prints this for every failed reconnect of a client without an 'error' listener.
    expect(consoleErrors.mock.calls.filter((c) => String(c[0]).includes('Unhandled error event'))).toEqual([]);
    consoleErrors.mockRestore();
  });
});
