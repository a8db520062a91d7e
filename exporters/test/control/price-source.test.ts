/**
 * The power price source against real files and a local HTTP server of the test's own: good answers, and every way a
 * source outside the farm can misbehave (slow, huge, endless, wrong, redirecting, from the future) as a named
 * failure within its bounds, never a throw, with the last good price kept.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from '../../../shared/test/influx/helpers';
import { createPriceSource, PRICE_MAX_BYTES } from '../../src/control/price-source';

const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-price-'));
const NOW = Date.parse('2026-01-15T17:05:00Z');

function answer(price: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ price, currency: 'USD', unit: 'MWh', time: '2026-01-15T17:00:00Z', ...extra });
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe('price source: files', () => {
  it('reads a price per MWh, converts a price per kWh, and takes file: URLs', async () => {
    const file = path.join(dir, 'price.json');
    writeFileSync(file, answer(142.5));
    const snap = await createPriceSource(file, { pollEveryMs: 60_000, now: () => NOW }).refresh();
    expect(snap).toEqual({ price: { perMwh: 142.5, currency: 'USD', timeMs: Date.parse('2026-01-15T17:00:00Z'), fetchedMs: NOW } });
    writeFileSync(file, answer(0.0931, { unit: 'kWh', currency: 'EUR' }));
    const kwh = await createPriceSource(pathToFileURL(file).href, { pollEveryMs: 60_000, now: () => NOW }).refresh();
    expect(kwh.price?.perMwh).toBeCloseTo(93.1, 6);
    expect(kwh.price?.currency).toBe('EUR');
  });

  it('names what is wrong: missing, a directory, a FIFO, too large, not JSON, a wrong field, a time in the future', async () => {
    const read = async (name: string, content?: string) => {
      const file = path.join(dir, name);
      if (content !== undefined) writeFileSync(file, content);
      return (await createPriceSource(file, { pollEveryMs: 60_000, now: () => NOW }).refresh()).failure;
    };
    expect(await read('absent.json')).toMatchObject({ kind: 'unreachable', message: `price file ${path.join(dir, 'absent.json')}: cannot read (ENOENT)` });
    expect(await read('.')).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/: not a regular file$/) });
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    // A FIFO nobody writes would block a reader forever: refused before it is opened.
    expect(await read('fifo')).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/fifo: not a regular file$/) });
    expect(await read('huge.json', ' '.repeat(PRICE_MAX_BYTES + 1))).toMatchObject({ kind: 'too-large', message: expect.stringContaining(`${PRICE_MAX_BYTES + 1} bytes (at most ${PRICE_MAX_BYTES})`) });
    expect(await read('text.json', 'price: 12')).toMatchObject({ kind: 'not-json' });
    expect(await read('string.json', answer(0).replace('0', '"12"'))).toMatchObject({ kind: 'invalid', message: expect.stringContaining('price: Invalid input: expected number, received string') });
    expect(await read('unit.json', answer(12, { unit: 'GWh' }))).toMatchObject({ kind: 'invalid', message: expect.stringContaining('unit: ') });
    expect(await read('extra.json', answer(12, { strike: 1 }))).toMatchObject({ kind: 'invalid', message: expect.stringContaining('strike') });
    expect(await read('future.json', answer(12, { time: '2026-01-15T18:00:00Z' }))).toMatchObject({ kind: 'future', message: expect.stringContaining("ahead of this edge's clock") });
  });
});

describe('price source: HTTP', () => {
  let server: http.Server;
  let base: string;
  let handler: Handler = (_req, res) => res.end(answer(100));
  const requests: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const fetchWith = async (h: Handler, timeoutMs = 800) => {
    handler = h;
    const t0 = Date.now();
    const snap = await createPriceSource(`${base}/price`, { pollEveryMs: 60_000, timeoutMs, now: () => NOW }).refresh();
    return { snap, ms: Date.now() - t0 };
  };

  it('reads a good answer', async () => {
    const { snap } = await fetchWith((_req, res) => res.end(answer(87.25)));
    expect(snap.price?.perMwh).toBe(87.25);
    expect(snap.failure).toBeUndefined();
  });

  it('a server that never answers, or drips its body, is cut off at the deadline', async () => {
    const silent = await fetchWith(() => undefined);
    expect(silent.snap.failure).toMatchObject({ kind: 'timeout', message: `price source ${base}/price: no complete answer within 800 ms` });
    expect(silent.ms).toBeLessThan(2000);
    const drip = await fetchWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
    });
    expect(drip.snap.failure?.kind).toBe('timeout');
    expect(drip.ms).toBeLessThan(2000);
  });

  it('a huge answer is refused by its declared length, and an endless one once it passes the bound', async () => {
    const declared = await fetchWith((_req, res) => {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write('{');
    });
    expect(declared.snap.failure).toMatchObject({ kind: 'too-large', message: expect.stringContaining(`answer of ${50 * 1024 * 1024} bytes (at most ${PRICE_MAX_BYTES})`) });
    let sent = 0;
    const endless = await fetchWith((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    }, 5000);
    expect(endless.snap.failure).toMatchObject({ kind: 'too-large', message: expect.stringContaining(`answer over ${PRICE_MAX_BYTES} bytes`) });
    expect(endless.ms).toBeLessThan(3000);
    expect(sent).toBeLessThan(50 * 1024 * 1024);
  });

  it('an error status, a redirect, not JSON and a refused connection are named', async () => {
    expect((await fetchWith((_req, res) => res.writeHead(503).end('busy'))).snap.failure).toMatchObject({ kind: 'http-status', message: `price source ${base}/price: HTTP 503` });
    expect((await fetchWith((_req, res) => res.writeHead(302, { location: 'http://198.51.100.7/price' }).end())).snap.failure).toMatchObject({ kind: 'http-status', message: expect.stringContaining('HTTP 302 (redirects are not followed)') });
    expect((await fetchWith((_req, res) => res.end('<html>maintenance</html>'))).snap.failure?.kind).toBe('not-json');
    const refused = await createPriceSource('http://127.0.0.1:9/price', { pollEveryMs: 1000, now: () => NOW }).refresh();
    expect(refused.failure).toMatchObject({ kind: 'unreachable', message: 'price source http://127.0.0.1:9/price: ECONNREFUSED' });
  });

  it('keeps the last good price through a failure, and a key in the URL stays out of messages', async () => {
    handler = (_req, res) => res.end(answer(120));
    const source = createPriceSource(`${base.replace('http://', 'http://user:pw@')}/price?key=s3cret`, { pollEveryMs: 60_000, timeoutMs: 800, now: () => NOW });
    expect((await source.refresh()).price?.perMwh).toBe(120);
    handler = (_req, res) => res.writeHead(500).end();
    const failed = await source.refresh();
    expect(failed.price?.perMwh).toBe(120);
    expect(failed.failure?.message).toBe(`price source ${base}/price: HTTP 500`);
    expect(source.description).not.toMatch(/s3cret|pw/);
  });

  it('poll reads at most once per pollEvery, one read at a time', async () => {
    let release: () => void = () => undefined;
    handler = (_req, res) => {
      release = () => res.end(answer(99));
    };
    requests.length = 0;
    const source = createPriceSource(`${base}/poll`, { pollEveryMs: 60_000, timeoutMs: 5000, now: () => NOW });
    source.poll(NOW);
    source.poll(NOW + 120_000); // due, but the first read is still in flight
    await waitFor('the first read', () => requests.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(requests).toEqual(['/poll']);
    release();
    await waitFor('the price of the first read', () => source.snapshot().price?.perMwh === 99);
    source.poll(NOW + 30_000); // not due: 30 s after the last read started
    await new Promise((r) => setTimeout(r, 200));
    expect(requests).toHaveLength(1);
    source.poll(NOW + 61_000);
    await waitFor('the second read', () => requests.length === 2);
    release();
  });
});
