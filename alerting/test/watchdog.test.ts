/**
 * Alerting watching itself: the lease holder POSTs the Watchdog heartbeat to a local HTTP server standing in for
 * the outside heartbeat service; the standby does not; when Redis goes away the heartbeats stop (that is what
 * makes the outside service page). /metrics carries the last evaluation time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@flymining/shared';
import { AlertingService } from '../src/service';
import type { WatchdogNotice } from '../src/watchdog';
import { config, sleep, startOwnRedis, waitFor, type OwnRedis } from './helpers';

describe('watchdog', () => {
  let own: OwnRedis;
  let server: http.Server;
  let url = '';
  const beats: Array<{ at: number; body: WatchdogNotice }> = [];
  const services: AlertingService[] = [];

  beforeAll(async () => {
    own = await startOwnRedis();
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        beats.push({ at: Date.now(), body: JSON.parse(body) as WatchdogNotice });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/7f3c`;
  });

  afterAll(async () => {
    for (const s of services) await s.stop();
    await own.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  async function startService(listen: string): Promise<AlertingService> {
    const service = new AlertingService(
      config(`
redis: ${own.url}
listen: ${listen}
evaluation_interval: 200ms
watchdog: { url: '${url}', interval: 300ms, timeout: 2s }
route: { receiver: oncall }
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: 'smtp://127.0.0.1:9' } }]
`),
      createLogger('alerting-test', 'silent'),
    );
    await service.start();
    services.push(service);
    return service;
  }

  test('the lease holder alone posts every interval; the posts stop while Redis is down and resume after', async () => {
    const first = await startService('127.0.0.1:19431');
    await startService('127.0.0.1:19432');
    await waitFor(() => beats.length >= 4, 10_000, 'four heartbeats');
    const leader = services.find((s) => s.isLeader)!;
    expect(leader).toBeDefined();
    const instances = new Set(beats.map((b) => b.body.instance));
    expect(instances).toEqual(new Set([leader === first ? expect.stringMatching(/:127\.0\.0\.1:19431$/) : expect.stringMatching(/:127\.0\.0\.1:19432$/)]));
    const last = beats.at(-1)!;
    expect(last.body).toMatchObject({ alertname: 'Watchdog', status: 'firing' });
    expect(last.at - last.body.lastEvaluationMs).toBeLessThan(3 * 200 + 1000);
    const metrics = await leader.metrics.registry.metrics();
    const gauge = Number(/^flymining_alerting_last_evaluation_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(Math.abs(gauge * 1000 - Date.now())).toBeLessThan(5000);

    // A leader whose evaluations stop is reported by /healthz (seen here 3 intervals and more into the future).
    expect((await leader.health(Date.now() + 3 * 200 + 1000)).reason).toMatch(/^no evaluation cycle completed for \d+ s/);
    expect((await leader.health()).ok).toBe(true);

    await own.stop();
    await sleep(3 * 200 + 500); // the last evaluation ages past three intervals
    const stoppedAt = beats.length;
    await sleep(1500);
    expect(beats.length).toBe(stoppedAt);
    await own.start();
    await waitFor(() => beats.length > stoppedAt, 15_000, 'heartbeats after Redis returned');
  });
});
