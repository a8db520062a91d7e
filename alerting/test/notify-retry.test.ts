/**
 * Which failed deliveries are retried, against a real HTTP endpoint as Slack and a real SMTP server: a refusal that
 * would come back the same (Slack 400/404, SMTP 550) is tried once, recorded as failed and counted; a transient one
 * (Slack 500/429, SMTP 451) is retried with back-off until delivered.
 */
import { createLogger } from '@flymining/shared';
import Redis from 'ioredis';
import { AlertingService } from '../src/service';
import type { NotifyLogEntry } from '../src/state';
import { config, evaluationCycles, fault, noticeCount, raise, startMailbox, startOwnRedis, startSlack, waitFor, type Mailbox, type OwnRedis, type SlackEndpoint } from './helpers';

describe('notifier retry contract', () => {
  let own: OwnRedis;
  let redis: Redis;
  let mailbox: Mailbox;
  let slack: SlackEndpoint;
  let service: AlertingService | undefined;

  /** A service with one receiver using only `integration`; 100 ms cycles, first retry after 100 ms. */
  async function startService(integration: 'email' | 'slack'): Promise<AlertingService> {
    const section = integration === 'slack' ? `slack: { webhook_url: ${slack.url} }` : `email: { to: [oncall@farm.example], smarthost: ${mailbox.url} }`;
    const started = new AlertingService(
      config(`
redis: ${own.url}
evaluation_interval: 100ms
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [site, container, alertname], group_wait: 100ms, group_interval: 300ms, repeat_interval: 1h }
receivers:
  - name: oncall
    ${section}
`),
      createLogger('alerting-test', 'silent'),
      { retryBaseMs: 100 },
    );
    await started.start();
    return started;
  }

  const notices = (outcome: 'sent' | 'failed' | 'rejected'): Promise<number> => noticeCount(service!, outcome);
  const cycles = (n: number): Promise<void> => evaluationCycles(service!, n);

  async function logEntries(): Promise<NotifyLogEntry[]> {
    return Object.values(await redis.hgetall('flymining:alerting:nflog')).map((v) => JSON.parse(v) as NotifyLogEntry);
  }

  beforeAll(async () => {
    own = await startOwnRedis();
    redis = new Redis(own.url);
    mailbox = await startMailbox();
    slack = await startSlack();
  });

  beforeEach(async () => {
    await redis.flushdb();
    mailbox.mails.length = 0;
    mailbox.attempts = 0;
    mailbox.rejectWith = undefined;
    slack.messages.length = 0;
    slack.requests = 0;
    slack.failWith = undefined;
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  afterAll(async () => {
    redis.disconnect();
    await mailbox.close();
    await slack.close();
    await own.stop();
  });

  test.each([404, 400])('Slack answering %i gets exactly one request, the notice is recorded as failed; the group\'s next notice is tried again', async (status) => {
    slack.failWith = status;
    service = await startService('slack');
    await raise(redis, [fault('C02-R1-S1-1', 'FAN_STOPPED', 'C02')]);
    await waitFor(async () => (await notices('rejected')) === 1, 5000, 'the rejection');
    await cycles(15); // retries would start after 100 ms and double: several would fall in 15 cycles of 100 ms
    expect(slack.requests).toBe(1);
    expect({ rejected: await notices('rejected'), failed: await notices('failed'), sent: await notices('sent') }).toEqual({ rejected: 1, failed: 0, sent: 0 });
    expect(await redis.hlen('flymining:alerting:retry')).toBe(0);
    expect(await logEntries()).toEqual([expect.objectContaining({ failed: `Slack webhook answered ${status}: no_service` })]);
    // Fixed webhook, and a second fan in the group: that notice goes out, naming both.
    slack.failWith = undefined;
    await raise(redis, [fault('C02-R1-S1-2', 'FAN_STOPPED', 'C02')]);
    await waitFor(() => slack.messages.length === 1, 5000, 'the next notice of the group');
    expect(slack.requests).toBe(2);
    expect(JSON.stringify(slack.messages[0])).toContain('[FIRING:2]');
    expect(await logEntries()).toEqual([expect.not.objectContaining({ failed: expect.anything() })]);
  });

  test.each([500, 429])('Slack answering %i is retried with back-off and gets the notice once it answers 200', async (status) => {
    slack.failWith = status;
    service = await startService('slack');
    await raise(redis, [fault('C04-R1-S1-1', 'FAN_STOPPED', 'C04')]);
    await waitFor(() => slack.requests >= 3, 10_000, 'retries');
    expect(await notices('rejected')).toBe(0);
    slack.failWith = undefined;
    await waitFor(() => slack.messages.length === 1, 10_000, 'delivery after recovery');
    expect(JSON.stringify(slack.messages[0])).toContain('C04-R1-S1-1');
    await cycles(10);
    expect(slack.messages).toHaveLength(1);
    expect(await notices('sent')).toBe(1);
    expect(await notices('failed')).toBe(slack.requests - 1);
    expect(await redis.hlen('flymining:alerting:retry')).toBe(0);
  });

  test('an SMTP server rejecting the recipient with 550 gets one attempt; the notice is recorded as failed', async () => {
    mailbox.rejectWith = { code: 550, times: Infinity };
    service = await startService('email');
    await raise(redis, [fault('C06-R1-S1-1', 'FAN_STOPPED', 'C06')]);
    await waitFor(async () => (await notices('rejected')) === 1, 5000, 'the rejection');
    await cycles(15);
    expect({ attempts: mailbox.attempts, mails: mailbox.mails.length, failed: await notices('failed') }).toEqual({ attempts: 1, mails: 0, failed: 0 });
    expect(await logEntries()).toEqual([expect.objectContaining({ failed: expect.stringContaining('550') })]);
  });

  test('an SMTP server answering 451 (try later) twice is retried and the mail is delivered', async () => {
    mailbox.rejectWith = { code: 451, times: 2 };
    service = await startService('email');
    await raise(redis, [fault('C08-R1-S1-1', 'FAN_STOPPED', 'C08')]);
    await waitFor(() => mailbox.mails.length === 1, 10_000, 'delivery after two 451s');
    expect(mailbox.mails[0]!.subject).toContain('C08');
    await cycles(10);
    expect({ attempts: mailbox.attempts, mails: mailbox.mails.length, failed: await notices('failed'), rejected: await notices('rejected'), sent: await notices('sent') }).toEqual({
      attempts: 3,
      mails: 1,
      failed: 2,
      rejected: 0,
      sent: 1,
    });
    expect(await redis.hlen('flymining:alerting:retry')).toBe(0);
  });
});
