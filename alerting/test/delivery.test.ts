/**
 * Delivery over real Redis, SMTP and HTTP, with faults published the way exporters publish them: a failing Slack
 * does not hold up email and is retried until it answers; a container that goes dark pages once.
 */
import { createLogger } from '@flymining/shared';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { createApi } from '../src/api';
import { AlertingService } from '../src/service';
import { config, fault, linkSecretFile, raise, redisUrl, testAuth, sleep, startMailbox, startSlack, waitFor, type Mailbox, type SlackEndpoint } from './helpers';

const REDIS_DB = 5;

describe('delivery', () => {
  let redis: Redis;
  let mailbox: Mailbox;
  let slack: SlackEndpoint;
  let service: AlertingService;
  const secretFile = linkSecretFile();

  async function startService(repeatInterval: string): Promise<AlertingService> {
    const started = new AlertingService(
      config(`
redis: ${redisUrl(REDIS_DB)}
evaluation_interval: 100ms
external_url: http://alerts.example:9430
link_secret_file: ${secretFile}
rules:
  - { name: FanFailure, faults: [FAN_STOPPED] }
  - { name: MinerDown, faults: [MINER_UNREACHABLE] }
root_causes: [{ name: ContainerUnreachable, fault: MINER_UNREACHABLE, min_miners: 5 }]
inhibit_rules:
  - { source_matchers: ['alertname="ContainerUnreachable"'], target_matchers: ['alertname="MinerDown"'], equal: [site, container] }
route: { receiver: oncall, group_by: [site, container, alertname], group_wait: 300ms, group_interval: 1s, repeat_interval: ${repeatInterval} }
receivers:
  - name: oncall
    email: { to: [oncall@farm.example], smarthost: ${mailbox.url}, digest_over: 5 }
    slack: { webhook_url: ${slack.url} }
`),
      createLogger('alerting-test', 'silent'),
      { retryBaseMs: 200 },
    );
    await started.start();
    return started;
  }

  beforeAll(async () => {
    redis = new Redis(redisUrl(REDIS_DB));
    mailbox = await startMailbox();
    slack = await startSlack();
  });

  beforeEach(async () => {
    await redis.flushdb();
    mailbox.mails.length = 0;
    slack.messages.length = 0;
    service = await startService('1h');
  });

  afterEach(async () => {
    slack.failWith = undefined;
    await service.stop();
  });

  afterAll(async () => {
    redis.disconnect();
    await mailbox.close();
    await slack.close();
  });

  test('Slack answering 500: email still goes out at once, Slack is retried with back-off and gets the notice once it recovers', async () => {
    slack.failWith = 500;
    await raise(redis, [fault('C07-R1-S1-4', 'FAN_STOPPED', 'C07')]);
    await waitFor(() => mailbox.mails.length === 1, 5000, 'email despite Slack failing');
    await sleep(1000);
    const metrics = await service.metrics.registry.getSingleMetricAsString('flymining_alerting_notifications_total');
    const failed = Number(/integration="slack",outcome="failed"} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(failed).toBeGreaterThanOrEqual(2); // retried
    expect(failed).toBeLessThan(10); // with back-off, not every 100 ms cycle
    expect(Object.keys(await redis.hgetall('flymining:alerting:retry'))).toEqual([expect.stringMatching(/^oncall\/slack\|/)]);
    slack.failWith = undefined;
    await waitFor(() => slack.messages.length === 1, 10_000, 'Slack after recovery');
    expect(JSON.stringify(slack.messages[0])).toContain('C07-R1-S1-4');
    await sleep(500);
    expect({ mails: mailbox.mails.length, slack: slack.messages.length }).toEqual({ mails: 1, slack: 1 });
    expect(await redis.hlen('flymining:alerting:retry')).toBe(0);
  });

  test('30 of a container\'s miners unreachable at once: one page naming the container, not 30', async () => {
    const dark = [...Array(30).keys()].map((i) => fault(`C03-R1-S1-${i + 1}`, 'MINER_UNREACHABLE', 'C03', 'timeout'));
    await raise(redis, dark);
    await waitFor(() => mailbox.mails.length >= 1, 5000, 'root-cause page');
    await sleep(1500);
    expect(mailbox.mails.map((m) => m.subject)).toEqual(['[FIRING:1] north-1 container C03 MINER_UNREACHABLE: container C03']);
    expect(mailbox.mails[0]!.text).toContain('30 miners report MINER_UNREACHABLE at once (timeout 30)');
    const { alerts } = await service.snapshot();
    expect(alerts.filter((a) => a.labels.alertname === 'MinerDown' && a.inhibited)).toHaveLength(30);
  });

  test('many alerts in one group: the email is a digest table', async () => {
    await raise(redis, [...Array(12).keys()].map((i) => fault(`C05-R1-S1-${i + 1}`, 'FAN_STOPPED', 'C05')));
    await waitFor(() => mailbox.mails.length >= 1, 5000, 'digest');
    await sleep(500);
    expect(mailbox.mails).toHaveLength(1);
    const [mail] = mailbox.mails;
    expect(mail!.subject).toBe('[FIRING:12] north-1 container C05 FAN_STOPPED: 12 alerts');
    expect(mail!.html).toContain('<table');
    expect((mail!.html as string).match(/<tr>/g)).toHaveLength(13);
  });

  test('acknowledging a group through its signed link stops its reminders until a new alert joins it; the next notice says who acknowledged; bad silences get 400 naming the field', async () => {
    await service.stop();
    service = await startService('1500ms');
    const auth = await testAuth(redisUrl(REDIS_DB));
    const server = createApi(service, { authenticator: auth.authenticator }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const groups = async () => (await (await fetch(`${api}/api/groups`, { headers: auth.headers })).json()) as Array<{ id: string; acknowledged: boolean; acknowledgedBy?: string }>;
    try {
      await raise(redis, [fault('C09-R1-S1-1', 'FAN_STOPPED', 'C09')]);
      await waitFor(() => mailbox.mails.length === 1, 5000, 'first notice');
      await waitFor(() => mailbox.mails.length === 2, 5000, 'a reminder after repeat_interval (1.5 s)');
      expect((await groups())[0]!.acknowledged).toBe(false);
      // The mail's link, opened on this API (external_url names the address staff use).
      const link = new URL(/http:\/\/alerts\.example:9430\/ack\/\S+/.exec(mailbox.mails[1]!.text ?? '')![0]);
      // Opening the link only asks (mail scanners open links too); the button acknowledges.
      const page = await (await fetch(`${api}${link.pathname}${link.search}`)).text();
      expect(page).toContain('<form method="post"');
      expect((await groups())[0]!.acknowledged).toBe(false);
      const form = new URLSearchParams([...page.matchAll(/name="(\w)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&#(\d+);/g, (_x, c: string) => String.fromCharCode(Number(c)))]));
      const posted = await fetch(`${api}${link.pathname}`, { method: 'POST', body: form });
      expect(posted.status).toBe(200);
      expect(await posted.text()).toContain('Acknowledged by oncall@farm.example');
      const count = mailbox.mails.length;
      await sleep(3500);
      expect(mailbox.mails).toHaveLength(count);
      expect((await groups())[0]).toMatchObject({ acknowledged: true, acknowledgedBy: 'oncall@farm.example' });
      // A second fan in the same group changes it: the acknowledgement no longer holds, and the notice names it.
      await raise(redis, [fault('C09-R1-S1-2', 'FAN_STOPPED', 'C09')]);
      await waitFor(() => mailbox.mails.length === count + 1, 5000, 'notice for the changed group');
      expect(mailbox.mails[count]!.subject).toContain('[FIRING:2]');
      expect(mailbox.mails[count]!.text).toMatch(/Acknowledged by oncall@farm\.example at \d{4}-\d\d-\d\dT[\d:.]+Z, before this change\./);

      const bad = await fetch(`${api}/api/silences`, {
        method: 'POST',
        headers: auth.headers,
        body: JSON.stringify({ matchers: ['container C3'], comment: 'x', createdBy: 'y', schedule: { start: '25:00', end: '04:00' } }),
      });
      expect(bad.status).toBe(400);
      const { problems } = (await bad.json()) as { problems: string[] };
      expect(problems).toEqual([expect.stringMatching(/^matchers\.0: "container C3" is not a matcher/), expect.stringMatching(/^schedule\.start: write the time as HH:MM/)]);
    } finally {
      server.close();
      auth.close();
    }
  });
});
