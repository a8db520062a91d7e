/**
 * The generic webhook receiver through the real service, against an HTTP receiver of the test's own that checks
 * the signature the way the alerting doc tells receivers to (HMAC-SHA256 of "<timestamp>.<raw body>", constant-time
 * compare, timestamp at most 5 minutes old) and the bearer token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@flymining/shared';
import Redis from 'ioredis';
import { refusalProblems } from '../../shared/test/problems';
import { ConfigError, parseConfig } from '../src/config';
import type { WebhookPayload } from '../src/notify/webhook';
import { AlertingService } from '../src/service';
import { config, fault, noticeCount, secretFileWith, linkSecretFile, raise, startOwnRedis, waitFor, type OwnRedis } from './helpers';

const HMAC_SECRET = randomBytes(32).toString('hex');
const BEARER = randomBytes(24).toString('base64url');


/** A receiver's check, as documented: refuses a missing, stale or wrong signature. */
function signatureValid(headers: IncomingHttpHeaders, rawBody: string, secret: string, now = Date.now()): boolean {
  const timestamp = headers['x-flymining-timestamp'];
  const signature = headers['x-flymining-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  payload: WebhookPayload;
}

interface WebhookReceiver {
  url: string;
  /** Requests whose signature verified. */
  received: Received[];
  /** All POSTs, verified or not. */
  requests: number;
  /** Statuses to answer in turn before answering 200. */
  failWith: number[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', received: [], requests: 0, failWith: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      receiver.requests += 1;
      if (!signatureValid(req.headers, raw, HMAC_SECRET)) return void res.writeHead(401).end('bad signature');
      const status = receiver.failWith.shift();
      // A redirect points back here: followed, it would be received a second time.
      if (status) return void res.writeHead(status, status < 400 ? { location: receiver.url } : {}).end('unavailable');
      receiver.received.push({ headers: req.headers, raw, payload: JSON.parse(raw) as WebhookPayload });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/flymining`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}

describe('webhook receiver through the service', () => {
  let own: OwnRedis;
  let redis: Redis;
  let receiver: WebhookReceiver;
  let service: AlertingService | undefined;
  const hmacFile = secretFileWith(HMAC_SECRET);
  const bearerFile = secretFileWith(BEARER);
  const linkSecret = linkSecretFile();

  async function startService(maxAlerts = 100): Promise<AlertingService> {
    const started = new AlertingService(
      config(`
redis: ${own.url}
evaluation_interval: 100ms
external_url: https://alerts.farm.example
link_secret_file: ${linkSecret}
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: ops-hook, group_by: [site, container, alertname], group_wait: 200ms, group_interval: 300ms, repeat_interval: 1h }
receivers:
  - name: ops-hook
    webhook: { url: '${receiver.url}', bearer_token_file: ${bearerFile}, hmac_secret_file: ${hmacFile}, max_alerts: ${maxAlerts}, timeout: 5s }
`),
      createLogger('alerting-test', 'silent'),
      { retryBaseMs: 100 },
    );
    await started.start();
    return started;
  }

  const notices = (outcome: 'sent' | 'failed' | 'rejected'): Promise<number> => noticeCount(service!, outcome);

  beforeAll(async () => {
    own = await startOwnRedis();
    redis = new Redis(own.url);
    receiver = await startReceiver();
  });

  beforeEach(async () => {
    await redis.flushdb();
    receiver.received.length = 0;
    receiver.requests = 0;
    receiver.failWith = [];
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  afterAll(async () => {
    redis.disconnect();
    await receiver.close();
    await own.stop();
  });

  test('a raised fault arrives signed, with the bearer token, as an Alertmanager-shaped payload with the ack link', async () => {
    service = await startService();
    await raise(redis, [fault('C03-R1-S1-4', 'FAN_STOPPED', 'C03')]);
    await waitFor(() => receiver.received.length === 1, 5000, 'the webhook');
    const { headers, payload } = receiver.received[0]!;
    expect(headers.authorization).toBe(`Bearer ${BEARER}`);
    expect(payload).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'ops-hook',
      truncatedAlerts: 0,
      commonLabels: { alertname: 'FanFailure', site: 'north-1', container: 'C03' },
      ackUrl: expect.stringMatching(/^https:\/\/alerts\.farm\.example\//),
    });
    expect(payload.groupKey).toContain('C03');
    expect(payload.alerts).toEqual([
      {
        status: 'firing',
        labels: expect.objectContaining({ alertname: 'FanFailure', miner: 'C03-R1-S1-4' }),
        annotations: expect.objectContaining({ message: 'FAN_STOPPED at C03 R1 S1 4' }),
        startsAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: expect.any(String),
      },
    ]);
  });

  test('a tampered body, a replayed old timestamp and a wrong secret do not verify', async () => {
    service = await startService();
    await raise(redis, [fault('C04-R1-S1-1', 'FAN_STOPPED', 'C04')]);
    await waitFor(() => receiver.received.length === 1, 5000, 'the webhook');
    const { headers, raw } = receiver.received[0]!;
    expect(signatureValid(headers, raw, HMAC_SECRET)).toBe(true);
    expect(signatureValid(headers, raw.replace('C04-R1-S1-1', 'C04-R1-S1-2'), HMAC_SECRET)).toBe(false);
    expect(signatureValid(headers, raw, `${HMAC_SECRET}x`)).toBe(false);
    expect(signatureValid(headers, raw, HMAC_SECRET, Date.now() + 10 * 60_000)).toBe(false);
    // The same over the wire: the receiver refuses the tampered copy.
    const tampered = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-flymining-timestamp': String(headers['x-flymining-timestamp']), 'x-flymining-signature': String(headers['x-flymining-signature']) },
      body: raw.replace('"firing"', '"resolved"'),
    });
    expect(tampered.status).toBe(401);
  });

  test('a 503 is retried until delivered; more alerts than max_alerts are counted in truncatedAlerts', async () => {
    receiver.failWith = [503, 503];
    service = await startService(2);
    await raise(redis, [1, 2, 3, 4, 5].map((i) => fault(`C05-R1-S1-${i}`, 'FAN_STOPPED', 'C05')));
    await waitFor(() => receiver.received.length === 1, 10_000, 'delivery after two 503s');
    expect(receiver.requests).toBe(3);
    expect(await notices('failed')).toBe(2);
    const { payload } = receiver.received[0]!;
    expect(payload.alerts).toHaveLength(2);
    expect(payload.truncatedAlerts).toBe(3);
  });

  test.each([410, 302])('a %i is tried once (a redirect is not followed) and recorded as failed', async (status) => {
    receiver.failWith = Array.from({ length: 10 }, () => status);
    service = await startService();
    await raise(redis, [fault('C06-R1-S1-1', 'FAN_STOPPED', 'C06')]);
    await waitFor(async () => (await notices('rejected')) === 1, 5000, 'the rejection');
    await new Promise((r) => setTimeout(r, 1000)); // retries would start after 100 ms and double
    expect(receiver.requests).toBe(1);
    const entries = Object.values(await redis.hgetall('flymining:alerting:nflog')).map((v) => JSON.parse(v) as { failed?: string });
    expect(entries).toEqual([expect.objectContaining({ failed: `Webhook answered ${status}: unavailable` })]);
  });
});

describe('webhook config', () => {
  const yaml = (section: string): string => `route: { receiver: hook }\nreceivers:\n  - name: hook\n    webhook: ${section}\n`;
  const problemsOf = (text: string): string[] => refusalProblems(() => parseConfig(text, 'alerting.yaml'), ConfigError, 'the config');

  test('only http(s) URLs are taken; secret files are checked at load, named by field', () => {
    expect(problemsOf(yaml("{ url: 'file:///etc/passwd' }"))).toEqual([expect.stringMatching(/^alerting\.yaml:4:\d+: receivers\[0\]\.webhook\.url: must be an http\(s\) URL/)]);
    expect(problemsOf(yaml("{ url: 'gopher://hooks.farm.example/x' }"))).toEqual([expect.stringMatching(/webhook\.url: must be an http\(s\) URL/)]);
    expect(problemsOf(yaml("{ url: 'https://ops:pw@hooks.farm.example/x' }"))).toEqual([expect.stringMatching(/webhook\.url: no credentials in the URL: use bearer_token_file/)]);
    expect(problemsOf(yaml("{ url: 'https://hooks.farm.example/x', hmac_secret_file: /nonexistent/hmac }"))).toEqual([
      expect.stringMatching(/webhook\.hmac_secret_file: cannot read \/nonexistent\/hmac \(ENOENT\)/),
    ]);
    expect(problemsOf(yaml("{ url: 'https://hooks.farm.example/x', timeout: soon }"))).toEqual([expect.stringMatching(/webhook\.timeout: /)]);
    const loaded = parseConfig(yaml(`{ url: 'https://hooks.farm.example/x', bearer_token_file: ${secretFileWith('tok-123456')} }`), 'alerting.yaml');
    expect(loaded.receivers[0]!.webhook).toMatchObject({ max_alerts: 100, timeout: 10_000 });
    expect(JSON.stringify(loaded)).not.toContain('tok-123456');
  });
});
