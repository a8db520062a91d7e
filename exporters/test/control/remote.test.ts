/**
 * The edge poller (exporters/src/control/remote.ts) against a center of the test's own over real HTTP(S), for what
 * the real maintenance service never sends: oversized, slow, malformed and half-valid answers, an unreadable claim,
 * an outage (backoff, then recovery), results the center could not take (kept and sent again). The poller never
 * crashes, never acts on what it could not read, and never writes its token to the log. Its settings come from the
 * environment, named in every error. (The path with the real center: maintenance/test/control-remote.test.ts.)
 */
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadInventory, type Inventory } from '@flymining/shared';
import pino from 'pino';
import { makeTestCertificates } from '../../../scripts/jest/influx-server';
import { CenterLink, readRemoteControlSettings, RemoteControl, startRemoteControl } from '../../src/control/remote';
import { ControlExecutor } from '../../src/miner/control/executor';
import { ActionHistory } from '../../src/miner/control/history';

const TOKEN = 'fmt_edge-c01-test-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa';

interface Seen {
  method: string;
  url: string;
  authorization: string;
  body: string;
  at: number;
}

/** A center whose answers the test writes; it records every request. */
class FakeCenter {
  readonly seen: Seen[] = [];
  answer: (req: Seen, res: http.ServerResponse) => void = (_req, res) => res.writeHead(404).end();
  private server!: http.Server;
  url = '';

  async start(tls?: { key: Buffer; cert: Buffer }): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString(), at: Date.now() };
        this.seen.push(seen);
        this.answer(seen, res);
      });
    };
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const json = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

function request(id: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    container: 'C01',
    targets: ['C01-R1-S1-1'],
    action: { kind: 'blink', on: true },
    dryRun: false,
    reason: 'find it',
    requestedBy: 'ops@example.com',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    ...extra,
  };
}

let dir: string;
let inventory: Inventory;
let center: FakeCenter;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-remote-'));
  // One miner on an address where nothing listens: the write path reads it first and reports it unreachable.
  writeFileSync(
    path.join(dir, 'farm.yaml'),
    'site: s\ncontainers:\n  - name: C01\n    racks: [{ name: R1, shelves: [{ name: S1, slots: [{ slot: 1, host: 127.214.62.1, model: Antminer S19 Pro }] }] }]\n',
  );
  inventory = loadInventory(path.join(dir, 'farm.yaml'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  center = new FakeCenter();
  await center.start();
});
afterEach(async () => center.stop());

function poller(options: { link?: CenterLink; intervalMs?: number; maxBackoffMs?: number } = {}) {
  let text = '';
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    }),
  );
  const executor = new ControlExecutor({ history: new ActionHistory(), audit: [], scrape: { transport: { connectTimeoutMs: 500, readTimeoutMs: 1000, maxBytes: 65536 } } });
  const remote = new RemoteControl({
    link: options.link ?? new CenterLink(center.url, TOKEN, { timeoutMs: 1500 }),
    containers: ['C01'],
    inventory: () => inventory,
    executor,
    log,
    intervalMs: options.intervalMs ?? 100,
    maxBackoffMs: options.maxBackoffMs ?? 800,
    progressEveryMs: 100,
  });
  return { remote, log: () => text };
}

const posted = (path: string) => center.seen.filter((s) => s.method === 'POST' && s.url === path);

test('asks for its container with its bearer token, claims a request once, posts each miner’s outcome', async () => {
  let claimed = false;
  center.answer = (req, res) => {
    if (req.url === '/edge/control/v1/pending?container=C01') return json(res, 200, { requests: claimed ? [] : [request(7)] });
    if (req.url === '/edge/control/v1/7/claim') {
      claimed = true;
      return json(res, 200, { request: request(7), claimedAt: new Date().toISOString() });
    }
    if (req.url === '/edge/control/v1/7/results') return json(res, 200, { id: 7, status: 'claimed' });
    json(res, 404, {});
  };
  const { remote, log } = poller();
  expect(await remote.pollOnce()).toBe(true);
  await remote.inFlight();
  expect(await remote.pollOnce()).toBe(true);
  expect(center.seen.every((s) => s.authorization === `Bearer ${TOKEN}`)).toBe(true);
  expect(posted('/edge/control/v1/7/claim').map((s) => s.body)).toEqual(['{}']);
  const final = JSON.parse(posted('/edge/control/v1/7/results').at(-1)!.body) as { results: Array<Record<string, unknown>>; done: boolean };
  expect(final.done).toBe(true);
  expect(final.results).toEqual([expect.objectContaining({ miner: 'C01-R1-S1-1', place: 'C01/R1/S1/1', outcome: 'unreachable', confirmMs: null, mode: null })]);
  expect(log()).not.toContain(TOKEN);
});

test.each([
  ['an answer larger than 1 MB', (res: http.ServerResponse) => json(res, 200, { requests: [], pad: 'x'.repeat(2 * 1024 * 1024) }), /answer larger than 1048576 bytes/],
  ['an answer that is not JSON', (res: http.ServerResponse) => res.writeHead(200).end('<html>captive portal</html>'), /pending answer for C01 is not a list of requests/],
  ['a list of 51 requests', (res: http.ServerResponse) => json(res, 200, { requests: Array.from({ length: 51 }, (_, i) => request(i + 1)) }), /pending answer for C01 is not a list of requests/],
  ['an answer that trickles in past the deadline', (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"requests":[');
    setTimeout(() => res.end(']}'), 3000).unref();
  }, /no complete answer within 1500 ms/],
])('survives %s: nothing claimed, the reason logged once', async (_what, answer, reason) => {
  center.answer = (_req, res) => answer(res);
  const { remote, log } = poller();
  expect(await remote.pollOnce()).toBe(false);
  expect(await remote.pollOnce()).toBe(false);
  expect(log()).toMatch(reason);
  expect(log().match(new RegExp(reason.source, 'g'))).toHaveLength(1);
  expect(center.seen.filter((s) => s.url.includes('/claim'))).toEqual([]);
});

test('a request it cannot read is skipped (said once); the good one beside it is carried out', async () => {
  const bad = [
    request(1, { action: { kind: 'format-disk' } }),
    request(2, { targets: Array.from({ length: 501 }, (_, i) => `m${i}`) }),
    request(3, { container: 'C02' }),
    request(4, { targets: ['C01 R1'] }),
    { id: 5 },
    'not an object',
  ];
  center.answer = (req, res) => {
    if (req.url.startsWith('/edge/control/v1/pending')) return json(res, 200, { requests: [...bad, request(6)] });
    if (req.url === '/edge/control/v1/6/claim') return json(res, 200, { request: request(6), claimedAt: new Date().toISOString() });
    if (req.url.endsWith('/claim')) return json(res, 409, { error: 'already claimed' });
    json(res, 200, { status: 'claimed' });
  };
  const { remote, log } = poller();
  expect(await remote.pollOnce()).toBe(true);
  await remote.inFlight();
  expect(center.seen.filter((s) => s.url.endsWith('/claim')).map((s) => s.url)).toEqual(['/edge/control/v1/6/claim']);
  expect(log().match(/a request this edge cannot read was skipped/g)).toHaveLength(5);
  expect(log()).toMatch(/request #3 is for C02, asked for C01: skipped/);
  // The next poll brings the same bad requests: nothing more is said about them.
  await remote.pollOnce();
  expect(log().match(/cannot read was skipped|is for C02/g)).toHaveLength(6);
});

test('an unreadable claim answer: nothing is done, and the center is told so', async () => {
  center.answer = (req, res) => {
    if (req.url.startsWith('/edge/control/v1/pending')) return json(res, 200, { requests: [request(8, { action: { kind: 'reboot' } })] });
    if (req.url.endsWith('/claim')) return json(res, 200, { request: { ...request(8), action: { kind: 'reboot', delay: 'now' } } });
    json(res, 200, { status: 'done' });
  };
  const { remote, log } = poller();
  expect(await remote.pollOnce()).toBe(true);
  await remote.inFlight();
  const results = posted('/edge/control/v1/8/results').map((s) => JSON.parse(s.body) as { results: Array<{ outcome: string; detail: string }>; done: boolean });
  expect(results).toEqual([{ done: true, results: [expect.objectContaining({ outcome: 'failed', detail: "the edge could not read the center's claim answer: nothing was done" })] }]);
  expect(log()).toMatch(/claim answer for #8 is unreadable; nothing done/);
  expect(log()).not.toMatch(/carrying out center request #8/);
});

test('backs off while the center fails (the wait doubles up to a cap) and polls at its pace again once it answers', async () => {
  let healthy = false;
  center.answer = (req, res) => (healthy ? json(res, 200, { requests: [] }) : json(res, 503, { error: 'maintenance is down' }));
  const { remote, log } = poller({ intervalMs: 100, maxBackoffMs: 800 });
  remote.start();
  await new Promise((resolve) => setTimeout(resolve, 2600));
  const failing = center.seen.map((s) => s.at);
  const gaps = failing.slice(1).map((t, i) => t - failing[i]!);
  // 200, 400, 800, 800 … apart (the first poll goes at once): far fewer than the 26 polls of a steady 100 ms.
  expect(gaps.length).toBeGreaterThanOrEqual(3);
  expect(gaps.length).toBeLessThanOrEqual(6);
  expect(gaps[0]).toBeGreaterThanOrEqual(180);
  expect(gaps[1]!).toBeGreaterThan(gaps[0]! * 1.5);
  expect(Math.max(...gaps)).toBeLessThan(1000);
  expect(log()).toMatch(/HTTP 503: maintenance is down/);
  healthy = true;
  const healedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await remote.stop();
  const after = center.seen.filter((s) => s.at > healedAt + 900);
  expect(after.length).toBeGreaterThanOrEqual(4); // every 100 ms again
  expect(log()).toMatch(/the center answers again/);
});

test('final results the center could not take are kept and sent with the next poll', async () => {
  let resultsTried = 0;
  center.answer = (req, res) => {
    if (req.url.startsWith('/edge/control/v1/pending')) return json(res, 200, { requests: resultsTried === 0 && !center.seen.some((s) => s.url.endsWith('/claim')) ? [request(9)] : [] });
    if (req.url.endsWith('/claim')) return json(res, 200, { request: request(9), claimedAt: new Date().toISOString() });
    if (req.url.endsWith('/results')) {
      resultsTried++;
      return resultsTried === 1 ? json(res, 502, { error: 'bad gateway' }) : json(res, 200, { id: 9, status: 'done' });
    }
    json(res, 404, {});
  };
  const { remote, log } = poller();
  await remote.pollOnce();
  await remote.inFlight();
  expect(log()).toMatch(/results of #9 not delivered \(HTTP 502: bad gateway\); retried with the next poll/);
  await remote.pollOnce();
  const bodies = posted('/edge/control/v1/9/results').map((s) => s.body);
  expect(bodies.length).toBeGreaterThanOrEqual(2);
  expect(bodies.at(-1)).toBe(bodies.at(-2));
  expect(JSON.parse(bodies.at(-1)!)).toMatchObject({ done: true, results: [expect.objectContaining({ outcome: 'unreachable' })] });
  await remote.pollOnce();
  expect(posted('/edge/control/v1/9/results')).toHaveLength(bodies.length); // delivered: not sent again
});

test('over HTTPS it trusts the configured CA only', async () => {
  const certs = makeTestCertificates(path.join(dir, 'tls'));
  const secure = new FakeCenter();
  await secure.start({ key: readFileSync(certs.keyFile), cert: readFileSync(certs.certFile) });
  secure.answer = (_req, res) => json(res, 200, { requests: [] });
  try {
    const trusted = poller({ link: new CenterLink(secure.url, TOKEN, { ca: readFileSync(certs.caFile, 'utf8'), timeoutMs: 1500 }) });
    expect(await trusted.remote.pollOnce()).toBe(true);
    const untrusted = poller({ link: new CenterLink(secure.url, TOKEN, { ca: readFileSync(path.join(dir, 'tls/other-ca.pem'), 'utf8'), timeoutMs: 1500 }) });
    expect(await untrusted.remote.pollOnce()).toBe(false);
    expect(untrusted.log()).toMatch(/cannot reach the center \((self[- ]signed|unable to (verify|get))/i);
    expect(secure.seen).toHaveLength(1); // the untrusted attempt never got a request through
    expect(untrusted.log()).not.toContain(TOKEN);
  } finally {
    await secure.stop();
  }
});

describe('settings from the environment', () => {
  test('off without FLYMINING_CONTROL_TOKEN_FILE; the center is the uplink’s origin with its CA unless said otherwise', () => {
    expect(readRemoteControlSettings({ FLYMINING_INFLUX_URL: 'https://center.example.net:8086' })).toBeUndefined();
    expect(readRemoteControlSettings({ FLYMINING_CONTROL_TOKEN_FILE: '/run/secrets/control_token', FLYMINING_INFLUX_URL: 'https://center.example.net:8086/influx?x=1', FLYMINING_INFLUX_CA_FILE: '/etc/ca.pem' })).toEqual({
      centerUrl: 'https://center.example.net:8086',
      tokenFile: '/run/secrets/control_token',
      caFile: '/etc/ca.pem',
    });
    expect(
      readRemoteControlSettings({ FLYMINING_CONTROL_TOKEN_FILE: '/t', FLYMINING_CONTROL_CENTER_URL: 'https://ops.example.net/flymining/', FLYMINING_INFLUX_URL: 'https://c:8086', FLYMINING_CONTROL_CA_FILE: '/ca2.pem', FLYMINING_INFLUX_CA_FILE: '/ca1.pem' }),
    ).toEqual({ centerUrl: 'https://ops.example.net/flymining', tokenFile: '/t', caFile: '/ca2.pem' });
  });

  test.each([
    [{ FLYMINING_CONTROL_TOKEN_FILE: '/t' }, /FLYMINING_CONTROL_CENTER_URL: not set, and there is no FLYMINING_INFLUX_URL/],
    [{ FLYMINING_CONTROL_TOKEN_FILE: '/t', FLYMINING_CONTROL_CENTER_URL: 'center:8086' }, /FLYMINING_CONTROL_CENTER_URL: use https:\/\//],
    [{ FLYMINING_CONTROL_TOKEN_FILE: '/t', FLYMINING_CONTROL_CENTER_URL: 'https://edge:pw@center' }, /FLYMINING_CONTROL_CENTER_URL: no credentials in the URL/],
    [{ FLYMINING_CONTROL_TOKEN_FILE: '/t', FLYMINING_INFLUX_URL: 'not a url' }, /FLYMINING_INFLUX_URL: not a URL/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => readRemoteControlSettings(env)).toThrow(message);
  });

  test('an empty token file turns it off; an unreadable one stops the start naming the file, never printing a token', () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }));
    const deps = { inventory: () => inventory, containers: ['C01'], stateDir: dir, log };
    writeFileSync(path.join(dir, 'empty-token'), '\n');
    expect(startRemoteControl({ ...deps, env: { FLYMINING_CONTROL_TOKEN_FILE: path.join(dir, 'empty-token'), FLYMINING_INFLUX_URL: center.url } })).toBeUndefined();
    expect(lines.join('')).toContain(`control from the center off: ${path.join(dir, 'empty-token')} is empty`);
    expect(() => startRemoteControl({ ...deps, env: { FLYMINING_CONTROL_TOKEN_FILE: path.join(dir, 'missing'), FLYMINING_INFLUX_URL: center.url } })).toThrow(
      `FLYMINING_CONTROL_TOKEN_FILE: cannot read ${path.join(dir, 'missing')} (ENOENT)`,
    );
    writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
    writeFileSync(path.join(dir, 'not-a-ca.pem'), TOKEN);
    expect(() => startRemoteControl({ ...deps, env: { FLYMINING_CONTROL_TOKEN_FILE: path.join(dir, 'token'), FLYMINING_INFLUX_URL: center.url.replace('http:', 'https:'), FLYMINING_INFLUX_CA_FILE: path.join(dir, 'not-a-ca.pem') } })).toThrow(
      /^FLYMINING_CONTROL_CA_FILE: .*not-a-ca.pem holds no PEM certificate$/,
    );
    const started = startRemoteControl({ ...deps, env: { FLYMINING_CONTROL_TOKEN_FILE: path.join(dir, 'token'), FLYMINING_CONTROL_CENTER_URL: center.url } });
    expect(started).toBeDefined();
    void started?.stop();
    expect(lines.join('')).toMatch(/control from the center on: polling every 10 s/);
    expect(lines.join('')).not.toContain(TOKEN);
  });
});
