/**
 * The store's one write path against a busy InfluxDB: a proxy in front of the jest InfluxDB answers chosen /write
 * requests 503 (as a gateway or an overloaded 2.x does) and passes the rest through; what InfluxDB stored is read
 * back with InfluxQL.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatLine, InfluxStore, Spool } from '../../src/influx';
import { countPoints, openTestStore, tempDir, testInfluxUrl, waitFor } from './helpers';

interface SeenWrite {
  answered: number;
  encoding: string | undefined;
}

/** Answers the next `busy` writes 503 (with Retry-After when `retryAfterS` is set), forwards everything else. */
class BusyProxy {
  busy = 0;
  retryAfterS: number | undefined;
  readonly writes: SeenWrite[] = [];
  private readonly server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const encoding = req.headers['content-encoding'];
    if (req.url?.startsWith('/write') && this.busy > 0) {
      this.busy--;
      this.writes.push({ answered: 503, encoding });
      res.writeHead(503, this.retryAfterS !== undefined ? { 'Retry-After': String(this.retryAfterS) } : {});
      res.end('{"error":"busy"}');
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'content-encoding', 'authorization']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const answer = await fetch(testInfluxUrl() + (req.url ?? '/'), { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
    if (req.url?.startsWith('/write')) this.writes.push({ answered: answer.status, encoding });
    res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function points(measurement: string, count: number, baseMs: number): string[] {
  return Array.from({ length: count }, (_, i) => formatLine(measurement, { miner: `m${i}` }, { v: i }, baseMs + i) as string);
}

describe('write path: batches, in-memory retries of a busy InfluxDB, gzip', () => {
  let admin: InfluxStore;
  let proxy: BusyProxy;
  let proxyUrl: string;
  beforeAll(async () => {
    admin = await openTestStore('writepath', {}, { spool: false });
    proxy = new BusyProxy();
    proxyUrl = await proxy.start();
  });
  beforeEach(() => {
    proxy.writes.length = 0;
    proxy.busy = 0;
    proxy.retryAfterS = undefined;
  });
  afterAll(async () => {
    await admin.close();
    await proxy.close();
  });

  function storeVia(overrides: Record<string, unknown>, spoolDir = tempDir('writepath')): InfluxStore {
    return new InfluxStore({ url: proxyUrl, database: admin.config.database, flushIntervalMs: 20, spool: { dir: spoolDir }, ...overrides });
  }

  test('503 twice: the batch is retried in memory and written once, nothing spooled, the uplink stays ok', async () => {
    proxy.busy = 2;
    const store = storeVia({ maxRetries: 3, minRetryDelayMs: 20, maxRetryDelayMs: 40 });
    store.write(points('busy_twice', 120, Date.now() - 60_000));
    await store.flush();
    await waitFor('the third attempt', () => store.stats().written > 0);
    expect(proxy.writes.map((w) => w.answered)).toEqual([503, 503, 204]);
    expect(store.stats()).toMatchObject({ written: 120, batches: 1, spooled: 0, dropped: 0, uplink: 'ok', reachable: true });
    expect(store.stats().lastError?.message).toContain('HTTP 503');
    await store.close();
    expect(await countPoints(admin, 'busy_twice')).toBe(120);
  });

  test('Retry-After is honoured before the next attempt', async () => {
    proxy.busy = 1;
    proxy.retryAfterS = 1;
    const store = storeVia({ maxRetries: 3, minRetryDelayMs: 10, maxRetryDelayMs: 20 });
    store.write(points('retry_after', 10, Date.now() - 60_000));
    await store.flush();
    await new Promise((r) => setTimeout(r, 300));
    // A 10 ms back-off would have retried by now; Retry-After: 1 holds the batch for a second.
    expect(proxy.writes.map((w) => w.answered)).toEqual([503]);
    await waitFor('the retry after a second', () => store.stats().written > 0);
    expect(proxy.writes.map((w) => w.answered)).toEqual([503, 204]);
    await store.close();
    expect(await countPoints(admin, 'retry_after')).toBe(10);
  });

  test('still busy after maxRetries: the batch goes to the spool and the uplink is unreachable', async () => {
    proxy.busy = 1_000;
    const spoolDir = tempDir('writepath-busy');
    const store = storeVia({ maxRetries: 1, minRetryDelayMs: 10, maxRetryDelayMs: 20, spool: { dir: spoolDir, replayIntervalMs: 60_000, maxReplayIntervalMs: 60_000 } }, spoolDir);
    store.write(points('busy_always', 50, Date.now() - 60_000));
    await store.flush();
    await waitFor('the batch in the spool', () => store.stats().spooled > 0);
    await store.flush();
    expect(proxy.writes.map((w) => w.answered)).toEqual([503, 503]);
    expect(store.stats()).toMatchObject({ written: 0, spooled: 50, spoolLines: 50, uplink: 'unreachable', reachable: false });
    expect(store.stats().uplinkError).toContain('HTTP 503');
    await store.close();
  });

  test('retries held beyond maxBufferLines: the oldest batch is spooled at once, the rest at close', async () => {
    proxy.busy = 1_000;
    const spoolDir = tempDir('writepath-bound');
    const store = storeVia(
      { batchSize: 100, maxBufferLines: 150, maxRetries: 5, minRetryDelayMs: 60_000, maxRetryDelayMs: 60_000, spool: { dir: spoolDir, replayIntervalMs: 60_000, maxReplayIntervalMs: 60_000 } },
      spoolDir,
    );
    const base = Date.now() - 60_000;
    store.write(points('bounded', 100, base));
    await store.flush();
    store.write(points('bounded', 100, base + 1000));
    await store.flush();
    expect(store.stats()).toMatchObject({ spooled: 100, written: 0, dropped: 0, uplink: 'starting' });
    await store.close();
    expect(store.stats()).toMatchObject({ spooled: 200, dropped: 0 });
    const spool = Spool.open({ dir: spoolDir, maxBytes: 1024 ** 3 });
    expect(spool.stats().lines).toBe(200);
    // The first batch was the one pushed out: the spool starts with it.
    expect(spool.oldestTimeMs()).toBe(base);
    await spool.close();
    proxy.busy = 0;
  });

  test('bodies above gzipThresholdBytes are sent gzipped and stored as sent', async () => {
    const store = storeVia({ gzipThresholdBytes: 1000 });
    store.write(points('gzipped', 200, Date.now() - 60_000));
    await store.flush();
    store.write(points('plain', 2, Date.now() - 60_000));
    await store.flush();
    expect(proxy.writes).toEqual([
      { answered: 204, encoding: 'gzip' },
      { answered: 204, encoding: undefined },
    ]);
    await store.close();
    expect(await countPoints(admin, 'gzipped')).toBe(200);
    expect(await countPoints(admin, 'plain')).toBe(2);
  });
});
