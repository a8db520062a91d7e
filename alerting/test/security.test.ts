/**
 * Issue #10's alerting findings, each replayed against real Redis and a real SMTP server: a brief silence that
 * re-sent pages, silences that stalled the cycle, forged and cross-site acknowledgements, an API anyone could use.
 */
import { createLogger, type Fault } from '@flymining/shared';
import Redis from 'ioredis';
import { AlertingService } from '../src/service';
import { config, raise, redisUrl, startMailbox, waitFor, type Mailbox } from './helpers';

const REDIS_DB = 7; // this file's own Redis database, flushed before each test

function fanFault(container: string, slot: number): Fault {
  const minerId = `${container}-R1-S1-${slot}`;
  return {
    code: 'FAN_STOPPED',
    severity: 'critical',
    minerId,
    location: { site: 'north-1', container, rack: 'R1', shelf: 'S1', slot: String(slot) },
    part: 'fan 1',
    message: `fan 1 stopped at ${minerId}`,
    since: Date.now(),
  };
}

describe('alerting security (issue #10)', () => {
  let redis: Redis;
  let mailbox: Mailbox;
  let service: AlertingService;

  const yaml = (): string => `
redis: ${redisUrl(REDIS_DB)}
evaluation_interval: 100ms
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [site, container, alertname], group_wait: 200ms, group_interval: 500ms, repeat_interval: 1h }
receivers:
  - name: oncall
    email: { to: [oncall@farm.example], smarthost: ${mailbox.url} }
`;

  beforeAll(async () => {
    redis = new Redis(redisUrl(REDIS_DB));
    mailbox = await startMailbox();
  });

  beforeEach(async () => {
    await redis.flushdb();
    mailbox.mails.length = 0;
    service = new AlertingService(config(yaml()), createLogger('alerting-test', 'silent'));
    await service.start();
  });

  afterEach(async () => {
    await service.stop();
  });

  afterAll(async () => {
    redis.disconnect();
    await mailbox.close();
  });

  /** Resolves once the leader has completed an evaluation that started after `at`. */
  const evaluatedAfter = (at: number, what: string): Promise<void> => waitFor(() => service.lastEvaluationAt > at + 150, 10_000, what);

  test('a one-second silence over three paged groups re-sends nothing when it ends; a group that changed meanwhile is paged', async () => {
    await raise(redis, ['C11', 'C12', 'C13'].map((c) => fanFault(c, 1)));
    await waitFor(() => mailbox.mails.length === 3, 10_000, 'three pages');
    const subjects = mailbox.mails.map((m) => m.subject).sort();
    expect(subjects).toEqual([0, 1, 2].map((i) => expect.stringContaining(`container C1${i + 1} FAN_STOPPED`)));

    // The per-notice send claims expire 2 minutes after a send and would hide a re-send until then: the finding
    // was a silence set later than that. Expire them now instead of waiting.
    await waitFor(async () => (await redis.keys('flymining:alerting:claim:*')).length === 3, 5000, 'three send claims');
    await redis.del(...(await redis.keys('flymining:alerting:claim:*')));
    const startsAt = Date.now();
    const endsAt = startsAt + 1000;
    await service.state.saveSilence({ id: 'brief', matchers: ['container=~"C1[123]"'], comment: 'swap', createdBy: 'test', createdAt: startsAt, startsAt, endsAt });
    service.wake();
    await waitFor(async () => (await service.snapshot()).alerts.every((a) => a.silencedBy === 'brief'), 5000, 'the three alerts silenced');
    // While silenced, C13 gains a second stopped fan: its group changed and is owed a page once the silence ends.
    await raise(redis, [fanFault('C13', 2)]);
    await evaluatedAfter(startsAt, 'a cycle under the silence');

    // Past the end of the silence, and past group_wait and group_interval: a re-send would have happened by now.
    await evaluatedAfter(endsAt + 200 + 500 + 300, 'cycles after the silence ended');
    await waitFor(() => mailbox.mails.length >= 4, 5000, 'the changed group paged');
    await evaluatedAfter(Date.now() + 500, 'more cycles');
    expect(mailbox.mails.slice(3).map((m) => m.subject)).toEqual([expect.stringMatching(/^\[FIRING:2\] north-1 container C13 FAN_STOPPED/)]);
  });
});
