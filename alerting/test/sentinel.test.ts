/**
 * Alerting on a Redis Sentinel deployment (a master, its replica and a sentinel, all real redis-server processes):
 * the service takes the sentinels' address, pages a fault, keeps paging after the master's host dies (the sentinel
 * promotes the replica; the service follows it without a restart), and what it had told stays told.
 */
import { REDIS_KEYS, createLogger, openRedis } from '@flymining/shared';
import type Redis from 'ioredis';
import { startSentinelRedis, type SentinelRedis } from '../../shared/test/redis-sentinel';
import { AlertingService } from '../src/service';
import { config, fault, raise, startMailbox, waitFor, type Mailbox } from './helpers';

jest.setTimeout(120_000);

describe('alerting on Redis Sentinel', () => {
  let deployment: SentinelRedis;
  let mailbox: Mailbox;
  let service: AlertingService;
  let redis: Redis;

  beforeAll(async () => {
    deployment = await startSentinelRedis();
    mailbox = await startMailbox();
    redis = openRedis(deployment.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    service = new AlertingService(
      config(`
redis: ${deployment.url}
evaluation_interval: 300ms
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [container], group_wait: 0s, group_interval: 1s, repeat_interval: 1h }
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: '${mailbox.url}' } }]
`),
      createLogger('alerting-sentinel-test', 'silent'),
    );
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    redis?.disconnect();
    await mailbox?.close();
    await deployment?.stop();
  });

  const mailsAbout = (container: string): number => mailbox.mails.filter((m) => (m.subject ?? '').includes(`container ${container}`)).length;

  it('pages through the master, then through the promoted replica after the master dies', async () => {
    await raise(redis, [fault('C1-1', 'FAN_STOPPED', 'C1')]);
    await waitFor(() => mailsAbout('C1') === 1, 15_000, 'the C1 page');
    // What the service stored and told is on the replica before its master goes: replication is asynchronous, and
    // WAIT after a write of ours made later than the service's covers every write before it.
    await waitFor(async () => (await redis.hlen('flymining:alerting:nflog')) === 1, 10_000, 'the notification log');
    expect(await redis.hlen('flymining:alerting:alerts')).toBe(1);
    await redis.set('test:replicated', '1');
    expect(await redis.wait(1, 5000)).toBe(1);

    deployment.killMaster();
    expect(await deployment.failedOver()).toBe(deployment.replicaPort);
    // A new fault once the replica is master: the service, never restarted, reads and pages it.
    await waitFor(
      async () =>
        raise(redis, [fault('C2-1', 'FAN_STOPPED', 'C2')]).then(
          () => true,
          () => false,
        ),
      30_000,
      'a fault written to the new master',
    );
    await waitFor(() => mailsAbout('C2') === 1, 30_000, 'the C2 page after the failover');
    const stored = await service.snapshot();
    expect(stored.alerts.map((a) => `${a.labels.container} ${a.state}`).sort()).toEqual(['C1 firing', 'C2 firing']);
    // C1 was told before the failover and its notification log came across: it is not paged again.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(mailsAbout('C1')).toBe(1);
    expect(await redis.hlen(REDIS_KEYS.activeFaults)).toBe(2);
  });
});
