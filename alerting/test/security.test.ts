/**
 * Issue #10's alerting findings, each replayed against real Redis and a real SMTP server: a brief silence that
 * re-sent pages, silences that stalled the cycle, forged and cross-site acknowledgements, an API anyone could use.
 */
import { createLogger, type Fault } from '@flymining/shared';
import Redis from 'ioredis';
import { ConfigError } from '../src/config';
import { AlertingService } from '../src/service';
import { config, linkSecretFile, raise, redisUrl, startApi, startMailbox, testAuth, waitFor, type ApiUnderTest, type Mailbox } from './helpers';

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
  const secretFile = linkSecretFile();
  let redis: Redis;
  let mailbox: Mailbox;
  let service: AlertingService;
  let api: ApiUnderTest;

  const yaml = (): string => `
redis: ${redisUrl(REDIS_DB)}
evaluation_interval: 100ms
external_url: http://alerts.example:9430
link_secret_file: ${secretFile}
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
    api = await startApi(service, redisUrl(REDIS_DB));
  });

  afterEach(async () => {
    api.server.closeAllConnections();
    api.close();
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

  /** The acknowledge link of the newest mail, as a path on this API, and the fields its page puts in the form. */
  async function ackLinkOfLastMail(): Promise<{ path: string; query: URLSearchParams; form: URLSearchParams }> {
    const link = new URL(/http:\/\/alerts\.example:9430\/ack\/\S+/.exec(mailbox.mails.at(-1)!.text ?? '')![0]);
    const page = await (await fetch(`${api.url}${link.pathname}${link.search}`)).text();
    const form = new URLSearchParams([...page.matchAll(/name="(\w)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&#(\d+);/g, (_x, c: string) => String.fromCharCode(Number(c)))]));
    return { path: link.pathname, query: link.searchParams, form };
  }

  const groupsNow = async () => (await (await fetch(`${api.url}/api/groups`, { headers: api.auth.headers })).json()) as Array<{ id: string; acknowledged: boolean; acknowledgedBy?: string }>;

  test('acknowledge links: made by hand, altered, for another receiver, expired or posted cross-site are refused (403); the signed one records the receiver address', async () => {
    await raise(redis, [fanFault('C14', 1)]);
    await waitFor(() => mailbox.mails.length === 1, 10_000, 'the page');
    const { path, query, form } = await ackLinkOfLastMail();
    const [group] = await groupsNow();
    // By hand: the group id is only the group key in base64url.
    expect(path).toBe(`/ack/${Buffer.from(`${service.route.id}:alertname="FanFailure",container="C14",site="north-1"`).toString('base64url')}`);
    const get = (q: string) => fetch(`${api.url}${path}${q}`);
    const post = (body: URLSearchParams, headers: Record<string, string> = {}) => fetch(`${api.url}${path}`, { method: 'POST', body, headers });
    const altered = (key: string, value: string) => new URLSearchParams([...[...form].filter(([k]) => k !== key), [key, value]]);
    const signer = service.config.link_signer!;
    const forOther = new URL(signer.link('http://x', group!.id, 'daytime', 'email', Date.now()));
    const expired = new URL(signer.link('http://x', group!.id, 'oncall', 'email', Date.now() - 24 * 3_600_000 - 1000));

    const refused: Array<[string, Response]> = [
      ['GET made by hand', await get('')],
      ['POST made by hand', await post(new URLSearchParams())],
      ['GET with another expiry', await get(`?${new URLSearchParams([...query].map(([k, v]): [string, string] => [k, k === 'e' ? String(Number(v) + 86_400) : v]))}`)],
      ['POST with another expiry', await post(altered('e', String(Number(form.get('e')) + 86_400)))],
      ['POST naming another integration', await post(altered('i', 'slack'))],
      ['POST with a flipped signature', await post(altered('s', `${form.get('s')!.slice(0, -2)}AA`))],
      ['GET for another receiver', await get(forOther.search)],
      ['POST for another receiver', await post(new URLSearchParams(forOther.search))],
      ['GET expired', await get(expired.search)],
      ['POST cross-site with the right fields', await post(form, { origin: 'https://evil.example' })],
    ];
    for (const [what, response] of refused) {
      expect({ what, status: response.status }).toEqual({ what, status: 403 });
      expect(await response.text()).toMatch(/Refused: /);
      expect(response.headers.get('content-security-policy')).toContain("form-action 'self'");
    }
    expect((await groupsNow())[0]!.acknowledged).toBe(false); // none of them acknowledged

    const ok = await post(form, { origin: api.url });
    expect(ok.status).toBe(200);
    expect((await groupsNow())[0]).toMatchObject({ acknowledged: true, acknowledgedBy: 'oncall@farm.example' });
  });

  test('a service with external_url and no link secret refuses to start, saying what to set', () => {
    const withoutSecret = yaml().replace(/^link_secret_file: .*$/m, '');
    expect(() => new AlertingService(config(withoutSecret), createLogger('alerting-test', 'silent'))).toThrow(ConfigError);
    expect(() => new AlertingService(config(withoutSecret), createLogger('alerting-test', 'silent'))).toThrow(/external_url is set .* set link_secret_file in the config or FLYMINING_ALERTING_LINK_SECRET_FILE/);
  });

  test('the API: nothing without a token, read-only tokens cannot change, state changes need JSON and a matching Origin; /healthz and /metrics open', async () => {
    const reader = await testAuth(redisUrl(REDIS_DB), ['alerting:read'], 'reader');
    try {
      const silence = JSON.stringify({ matchers: ['alertname=~".+"'], duration: '1h', comment: 'mute everything' });
      const json = { 'content-type': 'application/json' };
      const cases: Array<[string, Promise<Response>, number]> = [
        ['GET alerts without a token', fetch(`${api.url}/api/alerts`), 401],
        ['GET groups without a token', fetch(`${api.url}/api/groups`), 401],
        ['GET alerts in capitals without a token', fetch(`${api.url}/API/Alerts`), 401], // routes match case-insensitively
        ['HEAD alerts without a token', fetch(`${api.url}/api/alerts`, { method: 'HEAD' }), 401],
        ['POST silence without a token', fetch(`${api.url}/api/silences`, { method: 'POST', headers: json, body: silence }), 401],
        ['POST silence with a made-up token', fetch(`${api.url}/api/silences`, { method: 'POST', headers: { ...json, authorization: 'Bearer fmt_made-up' }, body: silence }), 401],
        ['POST ack without a token', fetch(`${api.url}/api/groups/x/ack`, { method: 'POST', headers: json, body: '{}' }), 401],
        ['POST silence with a read-only token', fetch(`${api.url}/api/silences`, { method: 'POST', headers: reader.headers, body: silence }), 403],
        ['POST silence as a form', fetch(`${api.url}/api/silences`, { method: 'POST', headers: { authorization: api.auth.headers.authorization! }, body: new URLSearchParams({ matchers: 'alertname=~".+"' }) }), 415],
        ['POST silence from another origin', fetch(`${api.url}/api/silences`, { method: 'POST', headers: { ...api.auth.headers, origin: 'https://evil.example' }, body: silence }), 403],
        ['GET alerts with a read-only token', fetch(`${api.url}/api/alerts`, { headers: reader.headers }), 200],
        ['GET healthz', fetch(`${api.url}/healthz`), 200],
        ['GET metrics', fetch(`${api.url}/metrics`), 200],
      ];
      const statuses = await Promise.all(cases.map(async ([what, response]) => ({ what, status: (await response).status })));
      expect(statuses).toEqual(cases.map(([what, , status]) => ({ what, status })));
      expect(await service.state.silences()).toEqual([]); // nothing got through
      const headers = (await fetch(`${api.url}/api/alerts`)).headers;
      expect({ nosniff: headers.get('x-content-type-options'), frame: headers.get('x-frame-options') }).toEqual({ nosniff: 'nosniff', frame: 'SAMEORIGIN' });
    } finally {
      reader.close();
    }
  });

  test('a silence with a nested quantifier over a long label value: the cycle stays fast; a pattern the engine refuses gets 400 naming the matcher', async () => {
    const refused = await fetch(`${api.url}/api/silences`, { method: 'POST', headers: api.auth.headers, body: JSON.stringify({ matchers: ['miner=~"(a)\\\\1"'], duration: '1h', comment: 'x' }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { problems: string[] }).problems).toEqual([expect.stringMatching(/^matchers\.0: "miner=~"\(a\)\\\\1"": regular expression refused: \\1 is not supported/)]);

    const created = await fetch(`${api.url}/api/silences`, { method: 'POST', headers: api.auth.headers, body: JSON.stringify({ matchers: ['miner=~"(a+)+$"'], duration: '1h', comment: 'the finding' }) });
    expect(created.status).toBe(201);
    // A miner id of 20,000 a's and a b: RegExp would backtrack 2^20,000 times on it, every cycle.
    const hostile = { ...fanFault('C15', 1), minerId: `${'a'.repeat(20_000)}b` };
    const plain = { ...fanFault('C15', 2), minerId: 'a'.repeat(20_000) };
    const raisedAt = Date.now();
    await raise(redis, [hostile, plain]);
    await waitFor(async () => (await service.snapshot()).alerts.length === 2, 10_000, 'both alerts evaluated');
    await waitFor(() => service.lastEvaluationAt > raisedAt + 300, 10_000, 'cycles with the silence');
    expect(service.lastCycleMs).toBeLessThan(2000); // RegExp would not finish at all; ours takes milliseconds
    const { alerts } = await service.snapshot();
    const silencedBy = Object.fromEntries(alerts.map((a) => [a.labels.miner!.at(-1), a.silencedBy !== undefined]));
    expect(silencedBy).toEqual({ a: true, b: false }); // the pattern still means what it says
  });
});
