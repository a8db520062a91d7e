/** Real servers for alerting tests: an SMTP server (smtp-server) as the on-call mailbox, an HTTP server as Slack. */
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Authenticator, REDIS_KEYS, TOKENS_KEY, TokenStore, createLogger, hashToken, type AuthScope, type Fault, type FaultEvent, type InfluxStore, type StoredToken } from '@flymining/shared';
import Redis from 'ioredis';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freshStore } from '../../exporters/test/e2e/helpers';
import { createApi } from '../src/api';
import { parseConfig, type AlertingConfig } from '../src/config';
import { AlertingService } from '../src/service';

export interface Mailbox {
  url: string;
  mails: ParsedMail[];
  /** RCPT TO commands received: one per delivery attempt (each notice goes to one address in these tests). */
  attempts: number;
  /** While `times` > 0, RCPT TO is answered with this SMTP reply code (550: no such mailbox, 451: try later). */
  rejectWith: { code: number; times: number } | undefined;
  /** When each DATA phase started, in order. */
  dataStarted: number[];
  close(): Promise<void>;
}

/** With `holdFirstData` the first mail's DATA is read and held without a reply: its sender waits for one that never comes. */
export async function startMailbox(options: { holdFirstData?: boolean } = {}): Promise<Mailbox> {
  const mails: ParsedMail[] = [];
  const mailbox: Mailbox = { url: '', mails, attempts: 0, rejectWith: undefined, dataStarted: [], close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      mailbox.attempts += 1;
      const reject = mailbox.rejectWith;
      if (!reject || reject.times <= 0) return callback();
      reject.times -= 1;
      callback(Object.assign(new Error(reject.code >= 500 ? 'mailbox unavailable' : 'mailbox busy, try again later'), { responseCode: reject.code }));
    },
    onData(stream, _session, callback) {
      mailbox.dataStarted.push(Date.now());
      if (options.holdFirstData && mailbox.dataStarted.length === 1) {
        stream.resume();
        return;
      }
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          callback();
        })
        .catch((e: Error) => callback(e));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  mailbox.url = `smtp://127.0.0.1:${port}`;
  mailbox.close = () => new Promise((resolve) => server.close(() => resolve()));
  return mailbox;
}

export interface SlackEndpoint {
  url: string;
  messages: Array<Record<string, unknown>>;
  /** POSTs received, answered with an error or not. */
  requests: number;
  /** While set, the endpoint answers with this status instead of 200. */
  failWith: number | undefined;
  close(): Promise<void>;
}

export async function startSlack(): Promise<SlackEndpoint> {
  const endpoint: SlackEndpoint = { url: '', messages: [], requests: 0, failWith: undefined, close: async () => undefined };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      endpoint.requests += 1;
      if (endpoint.failWith) {
        res.writeHead(endpoint.failWith).end('no_service');
        return;
      }
      endpoint.messages.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000`;
  endpoint.close = () => new Promise((resolve) => server.close(() => resolve()));
  return endpoint;
}

export function redisUrl(db: number): string {
  return `${process.env.FLYMINING_TEST_REDIS_URL?.replace(/\/\d*$/, '') ?? 'redis://127.0.0.1:6379'}/${db}`;
}

export function config(yaml: string): AlertingConfig {
  return parseConfig(yaml, 'test.yaml');
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A redis-server of the test's own, on a free port, that the test can stop and start again (outages). */
export interface OwnRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SHUTDOWN: with `persistent` the data survives (AOF), else Redis comes back empty. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startOwnRedis(options: { persistent?: boolean } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'alerting-redis-'));
  let child: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', options.persistent ? 'yes' : 'no', '--appendfsync', 'always'];
  const own: OwnRedis = {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async start() {
      child = spawn('redis-server', args, { stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.write('PING\r\n');
          });
          socket.once('data', (d) => {
            socket.destroy();
            resolve(d.toString().startsWith('+PONG'));
          });
          socket.once('error', () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
        await sleep(50);
      }
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM'); // redis-server shuts down cleanly on SIGTERM (AOF flushed)
      await exited;
      child = undefined;
    },
  };
  await own.start();
  return own;
}

/** A fault of miner `minerId` (its last part is the slot) in rack R1 shelf S1 of `container`, site north-1. */
export function fault(minerId: string, code: Fault['code'], container: string, reason?: string): Fault {
  const slot = minerId.split('-').pop()!;
  return {
    code,
    severity: 'critical',
    minerId,
    location: { site: 'north-1', container, rack: 'R1', shelf: 'S1', slot },
    part: code === 'FAN_STOPPED' ? 'fan 1' : '',
    message: `${code} at ${container} R1 S1 ${slot}`,
    since: Date.now(),
    details: reason ? { reason } : undefined,
  };
}

/** Writes faults the way the center's relay (and RedisFaultPublisher) does: the active hash, then the event. */
export async function raise(redis: Redis, faults: Fault[]): Promise<void> {
  const tx = redis.multi();
  for (const f of faults) {
    tx.hset(REDIS_KEYS.activeFaults, `${f.minerId}|${f.code}|${f.part}`, JSON.stringify(f));
    const event: FaultEvent = { type: 'raised', fault: f, at: Date.now(), source: 'test' };
    tx.publish(REDIS_KEYS.faultChannel, JSON.stringify(event));
  }
  await tx.exec();
}

/** A bearer token for the alerting API, in the Redis the test's service uses, and an Authenticator checking it. */
export interface TestAuth {
  authenticator: Authenticator;
  token: string;
  /** Authorization plus the JSON content type state changes need. */
  headers: Record<string, string>;
  /** Writes the token again (after the test restarted its Redis empty). */
  reinstate(): Promise<void>;
  close(): void;
}

export async function testAuth(redisUrlOfService: string, scopes: AuthScope[] = ['alerting:write'], name = 'alerting-test'): Promise<TestAuth> {
  const redis = new Redis(redisUrlOfService, { maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined); // tests stop their Redis on purpose
  const tokens = new TokenStore(redis);
  const { token, stored } = await tokens.add(`${name}-${randomBytes(4).toString('hex')}`, scopes);
  const record: StoredToken = stored;
  return {
    authenticator: new Authenticator({ tokens, log: createLogger('alerting-auth-test', 'silent') }),
    token,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    reinstate: async () => void (await redis.hset(TOKENS_KEY, hashToken(token), JSON.stringify(record))),
    close: () => redis.disconnect(),
  };
}

/** A fresh link secret in a file of its own (mode 600), as a farm would keep it. */
export function linkSecretFile(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'alerting-link-')), 'link.secret');
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return file;
}

/** A secret (bot token, bearer token, HMAC key) in a file of its own (mode 600), as receiver sections read them. */
export function secretFileWith(content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'alerting-secret-')), 'secret');
  writeFileSync(file, `${content}\n`, { mode: 0o600 });
  return file;
}

/** Notices the service counted with this outcome (alerting_notifications_total), all receivers together. */
export async function noticeCount(service: AlertingService, outcome: 'sent' | 'failed' | 'rejected'): Promise<number> {
  const { values } = await service.metrics.notifications.get();
  return values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
}

/** Resolves once the leader has completed `n` more evaluation cycles: time in which a retry storm would show. */
export async function evaluationCycles(service: AlertingService, n: number): Promise<void> {
  const count = async (): Promise<number> => (await service.metrics.cycleSeconds.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const target = (await count()) + n;
  await waitFor(async () => (await count()) >= target, 15_000, `${n} evaluation cycles`);
}

/** What most service tests start with: their own Redis database flushed, a mailbox, a started service. */
export interface ServiceUnderTest {
  redis: Redis;
  mailbox: Mailbox;
  service: AlertingService;
  close(): Promise<void>;
}

/** `yaml` gets the Redis URL and the mailbox's SMTP URL to write into the config. */
export async function startServiceUnderTest(db: number, yaml: (redis: string, smtp: string) => string): Promise<ServiceUnderTest> {
  const redis = new Redis(redisUrl(db));
  await redis.flushdb();
  const mailbox = await startMailbox();
  const service = new AlertingService(config(yaml(redisUrl(db), mailbox.url)), createLogger('alerting-test', 'silent'));
  await service.start();
  return {
    redis,
    mailbox,
    service,
    async close() {
      await service.stop();
      redis.disconnect();
      await mailbox.close();
    },
  };
}

/** What the edge tests start with: a fresh InfluxDB database, a Redis of their own, a mailbox, a service (not started). */
export interface EdgeServiceUnderTest {
  store: InfluxStore;
  own: OwnRedis;
  redis: Redis;
  mailbox: Mailbox;
  service: AlertingService;
  close(): Promise<void>;
}

/** `yaml` gets the own Redis's URL and the mailbox's SMTP URL to write into the config. */
export async function startEdgeService(
  db: string,
  yaml: (redis: string, smtp: string) => string,
  logLevel = 'silent',
): Promise<EdgeServiceUnderTest> {
  const store = await freshStore(db);
  const own = await startOwnRedis();
  const redis = new Redis(own.url);
  const mailbox = await startMailbox();
  const service = new AlertingService(config(yaml(own.url, mailbox.url)), createLogger('alerting-test', logLevel));
  return {
    store,
    own,
    redis,
    mailbox,
    service,
    async close() {
      await service.stop();
      await store.close();
      redis.disconnect();
      await own.stop();
      await mailbox.close();
    },
  };
}

/** The service's HTTP API on a free port, with a bearer token (see testAuth) that opens it. */
export interface ApiUnderTest {
  server: Server;
  url: string;
  auth: TestAuth;
  /** Stops listening and drops the token's Redis connection. */
  close(): void;
}

export async function startApi(service: AlertingService, redisUrlOfService: string, scopes?: AuthScope[]): Promise<ApiUnderTest> {
  const auth = await testAuth(redisUrlOfService, scopes);
  const server = createApi(service, { authenticator: auth.authenticator }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    auth,
    close() {
      server.close();
      auth.close();
    },
  };
}
