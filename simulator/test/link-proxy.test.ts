/** The impaired-link proxy against a real echo server on loopback. */
import net from 'node:net';
import { LinkProxy } from '../src/link-proxy';

let echo: net.Server;
let echoPort = 0;
const proxies: LinkProxy[] = [];
const sockets: net.Socket[] = [];

beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of proxies.splice(0)) await p.close();
});

afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

async function startProxy(extra: Partial<Parameters<typeof LinkProxy.start>[0]> = {}): Promise<LinkProxy> {
  const proxy = await LinkProxy.start({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: echoPort, ...extra });
  proxies.push(proxy);
  return proxy;
}

function connect(proxy: LinkProxy): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxy.address().port, '127.0.0.1');
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with everything received once `bytes` have arrived; rejects after the deadline with what came. */
function receive(s: net.Socket, bytes: number, deadlineMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      s.off('data', onData);
      reject(new Error(`received ${got} of ${bytes} bytes within ${deadlineMs} ms`));
    }, deadlineMs);
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= bytes) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve(Buffer.concat(parts));
      }
    };
    s.on('data', onData);
  });
}

function closed(s: net.Socket, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error(`socket still open after ${deadlineMs} ms`)), deadlineMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test('delays each direction by delay ± jitter and keeps the stream in order', async () => {
  const proxy = await startProxy({ up: { delayMs: 150, jitterMs: 100 }, down: { delayMs: 150, jitterMs: 100 }, seed: 7 });
  const s = await connect(proxy);
  // Many small writes spaced apart, so each is its own chunk with its own random latency: jitter of ±100 ms over
  // 2 ms gaps would reorder them if the proxy did not keep order.
  const chunks: string[] = [];
  for (let i = 0; i < 100; i++) chunks.push(`chunk-${String(i).padStart(3, '0')};`);
  const expected = chunks.join('');
  const started = Date.now();
  const firstByte = new Promise<number>((resolve) => s.once('data', () => resolve(Date.now())));
  const received = receive(s, Buffer.byteLength(expected), 15_000);
  for (const c of chunks) {
    s.write(c);
    await new Promise((r) => setTimeout(r, 2));
  }
  const firstByteAt = await firstByte;
  const text = (await received).toString();
  expect(text).toBe(expected);
  // Round trip ≥ (150 - 100) ms each way.
  expect(firstByteAt - started).toBeGreaterThanOrEqual(100);
  expect(proxy.stats()).toMatchObject({ connections: 1, open: 1, bytesUp: Buffer.byteLength(expected), bytesDown: Buffer.byteLength(expected) });
});

test('round trip of one request follows the configured delay', async () => {
  const proxy = await startProxy({ up: { delayMs: 200 }, down: { delayMs: 100 } });
  const s = await connect(proxy);
  const started = Date.now();
  const reply = receive(s, 4, 5_000);
  s.write('ping');
  expect((await reply).toString()).toBe('ping');
  expect(Date.now() - started).toBeGreaterThanOrEqual(295);
});

test('caps bandwidth per direction', async () => {
  const proxy = await startProxy({ bandwidthBytesPerSec: 100_000 });
  const s = await connect(proxy);
  const payload = Buffer.alloc(150_000, 'x');
  const started = Date.now();
  const reply = receive(s, payload.length, 20_000);
  s.write(payload);
  await reply;
  // 150 kB at 100 kB/s takes ≥ 1.5 s one way (the way back overlaps as chunks stream).
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_450);
});

test("cut('refuse') drops open connections and refuses new ones until restore()", async () => {
  const proxy = await startProxy();
  const before = await connect(proxy);
  before.on('error', () => undefined);
  await proxy.cut('refuse');
  await closed(before, 5_000);
  await expect(connect(proxy)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  expect(proxy.stats().cutConnections).toBe(1);

  await proxy.restore();
  const after = await connect(proxy);
  const reply = receive(after, 5, 5_000);
  after.write('again');
  expect((await reply).toString()).toBe('again');
});

test("cut('blackhole') holds new connections silently and lets them through on restore()", async () => {
  const proxy = await startProxy();
  await proxy.cut('blackhole');
  const s = await connect(proxy);
  s.write('held');
  await expect(receive(s, 4, 500)).rejects.toThrow('received 0 of 4 bytes');
  expect(proxy.stats()).toMatchObject({ held: 1, open: 0, bytesUp: 0 });

  const reply = receive(s, 4, 5_000);
  await proxy.restore();
  expect((await reply).toString()).toBe('held');
  expect(proxy.stats()).toMatchObject({ held: 0, open: 1, bytesUp: 4, bytesDown: 4 });
});

test("cut('blackhole') also drops the connections open at the cut, with what they had in flight", async () => {
  const proxy = await startProxy({ up: { delayMs: 300 } });
  const s = await connect(proxy);
  s.on('error', () => undefined);
  s.write('in flight');
  await proxy.cut('blackhole');
  await closed(s, 5_000);
  await proxy.restore();
  // Past the 300 ms the chunk would have taken: it was dropped, not delivered late.
  await new Promise((r) => setTimeout(r, 500));
  expect(proxy.stats()).toMatchObject({ cutConnections: 1, bytesUp: 0, bytesDown: 0 });
});

test('forwards a half-close after the data before it', async () => {
  const proxy = await startProxy({ up: { delayMs: 100 } });
  const s = await connect(proxy);
  const text = receive(s, 3, 5_000);
  s.end('bye');
  expect((await text).toString()).toBe('bye');
  await closed(s, 5_000);
});

test('invalid options are refused naming the field', async () => {
  await expect(LinkProxy.start({ targetHost: '127.0.0.1', targetPort: echoPort, up: { delayMs: -5 } })).rejects.toThrow(/link proxy options: up\.delayMs/);
  await expect(LinkProxy.start({ targetHost: '127.0.0.1', targetPort: 0 })).rejects.toThrow(/targetPort/);
});
