/**
 * Hostile input on the new transports (issue 13): each case bounded (time and memory), reported as one clear error,
 * counted as a bad reply where it is one, and the process keeps going. Local servers of the test's own.
 */
import type net from 'node:net';
import { sendV3Request } from '../../src/miner/transports/whatsminer-v3';
import { HttpMinerApi, httpExchange } from '../../src/miner/transports/http-client';
import { MinerConnectionError } from '../../src/miner/transports/cgminer-tcp';
import { scrapeMiner, type BadReplyEvent } from '../../src/miner/scrape';
import { nextRaw, V3 } from './next-fixtures';
import { frame, startHttpServer, startRawServer, startV3Server } from './next-servers';

const LIMITS = { connectTimeoutMs: 1000, readTimeoutMs: 1500, maxBytes: 64 * 1024 };

async function failureOf(promise: Promise<unknown>): Promise<MinerConnectionError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MinerConnectionError) return err;
    throw err;
  }
  throw new Error('expected a MinerConnectionError');
}

describe('Whatsminer v3 framing', () => {
  test('a length prefix announcing 4 GB is refused from the prefix alone, at once, without buffering', async () => {
    const server = await startRawServer((socket) => {
      socket.once('data', () => {
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32LE(0xffffffff, 0);
        socket.write(prefix);
        socket.write(Buffer.alloc(1000, 0x41)); // and then some, never 4 GB
      });
    });
    try {
      const t0 = Date.now();
      const err = await failureOf(sendV3Request('127.0.0.1', server.port, { cmd: 'get.device.info' }, LIMITS));
      expect(err.kind).toBe('too-large');
      expect(err.message).toContain(`announces ${0xffffffff} bytes`);
      expect(Date.now() - t0).toBeLessThan(LIMITS.readTimeoutMs);
    } finally {
      await server.close();
    }
  });

  test('garbage after the frame is ignored and reported; the sample is read from the frame', async () => {
    const summary = nextRaw('whatsminer-v3', V3('get.miner.status-summary'));
    const server = await startV3Server((req) =>
      req.param === 'summary' ? { raw: Buffer.concat([frame(summary), Buffer.from('\u0000garbage{{{ after the frame')]) } : JSON.stringify({ code: -1, when: 0, msg: 'fail' }),
    );
    const bad: BadReplyEvent[] = [];
    try {
      const result = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'whatsminer-v3' }, { transport: LIMITS, onBadReply: (e) => bad.push(e) });
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.sample.hashrateThs).toBe(JSON.parse(summary.toString()).msg.summary['hash-realtime']);
      expect(bad.some((e) => e.command === 'get.miner.status summary' && /byte\(s\) after the reply frame ignored/.test(e.problem))).toBe(true);
    } finally {
      await server.close();
    }
  });

  test('a device info with 5000 error codes and a 10 kB serial keeps 64 codes and drops the serial, counted', async () => {
    const info = JSON.parse(nextRaw('whatsminer-v3', V3('get.device.info')).toString());
    info.msg['error-code'] = Array.from({ length: 5000 }, (_, i) => ({ [String(100000 + i)]: '2026-01-01 00:00:00', reason: 'x'.repeat(2000) }));
    info.msg.miner['miner-sn'] = 'S'.repeat(10_000);
    const summary = nextRaw('whatsminer-v3', V3('get.miner.status-summary'));
    const server = await startV3Server((req) => (req.cmd === 'get.device.info' ? JSON.stringify(info) : req.param === 'summary' ? summary : JSON.stringify({ code: -1, when: 0, msg: 'x' })));
    const dropped: number[] = [];
    try {
      const result = await scrapeMiner(
        { host: '127.0.0.1', port: server.port, protocol: 'whatsminer-v3' },
        { transport: { ...LIMITS, readTimeoutMs: 15_000, maxBytes: 1024 * 1024 * 16 }, onDroppedValues: (e) => dropped.push(e.dropped.count) },
      );
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.sample.firmwareErrors).toHaveLength(64);
      expect(result.sample.firmwareErrors?.every((e) => e.text.length <= 512)).toBe(true);
      expect(result.sample.serial).toBeUndefined();
      expect(dropped).toEqual([1]); // the serial: never cut (a cut serial is another machine's), dropped and counted
    } finally {
      await server.close();
    }
  });

  test('endless heartbeats (zero-length frames) and a frame cut short are protocol errors, not hangs', async () => {
    const heartbeats = await startRawServer((socket) => {
      socket.once('data', () => socket.write(Buffer.alloc(4 * 100)));
    });
    const cut = await startRawServer((socket) => {
      socket.once('data', () => socket.end(Buffer.concat([frame('{"code":0,"msg":{}}').subarray(0, 10)])));
    });
    try {
      expect((await failureOf(sendV3Request('127.0.0.1', heartbeats.port, { cmd: 'x' }, LIMITS))).kind).toBe('protocol');
      const err = await failureOf(sendV3Request('127.0.0.1', cut.port, { cmd: 'x' }, LIMITS));
      expect(err.kind).toBe('protocol');
      expect(err.message).toContain('closed mid-frame');
    } finally {
      await heartbeats.close();
      await cut.close();
    }
  });

  test('a frame that trickles forever is cut at the read deadline', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = await startRawServer((socket: net.Socket) => {
      socket.once('data', () => {
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32LE(1000, 0);
        socket.write(prefix);
        timers.push(setInterval(() => socket.writable && socket.write('{'), 100));
      });
    });
    try {
      const t0 = Date.now();
      const err = await failureOf(sendV3Request('127.0.0.1', server.port, { cmd: 'x' }, LIMITS));
      expect(err.kind).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(LIMITS.readTimeoutMs + 1000);
    } finally {
      for (const t of timers) clearInterval(t);
      await server.close();
    }
  });
});

describe('HTTP APIs', () => {
  test('an endless body is cut at the size limit', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = await startRawServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = 'x'.repeat(16 * 1024);
        timers.push(setInterval(() => socket.writable && socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`), 5));
      });
    });
    try {
      const err = await failureOf(httpExchange('127.0.0.1', server.port, { method: 'GET', path: '/summary' }, LIMITS));
      expect(err.kind).toBe('too-large');
      expect(err.message).toContain(`larger than ${LIMITS.maxBytes} bytes`);
    } finally {
      for (const t of timers) clearInterval(t);
      await server.close();
    }
  });

  test('a Content-Length of 5 GB is refused before reading the body', async () => {
    const server = await startRawServer((socket) => {
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\n{"a":'));
    });
    try {
      const err = await failureOf(httpExchange('127.0.0.1', server.port, { method: 'GET', path: '/' }, LIMITS));
      expect(err.kind).toBe('too-large');
      expect(err.message).toContain('announces 5000000000 bytes');
    } finally {
      await server.close();
    }
  });

  test('headers sent one byte at a time are cut at the header deadline', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = await startRawServer((socket) => {
      socket.once('data', () => {
        const text = 'HTTP/1.1 200 OK\r\nX-Slow: ' + 'a'.repeat(1000);
        let i = 0;
        timers.push(setInterval(() => socket.writable && i < text.length && socket.write(text[i++] as string), 50));
      });
    });
    try {
      const t0 = Date.now();
      const err = await failureOf(httpExchange('127.0.0.1', server.port, { method: 'GET', path: '/' }, LIMITS));
      expect(err.kind).toBe('timeout');
      expect(err.message).toContain('no complete response headers');
      expect(Date.now() - t0).toBeLessThan(LIMITS.readTimeoutMs + 1000);
    } finally {
      for (const t of timers) clearInterval(t);
      await server.close();
    }
  });

  test('headers larger than the HTTP limit are too-large, not memory', async () => {
    const server = await startRawServer((socket) => {
      socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nX-Huge: ${'h'.repeat(64 * 1024)}\r\n\r\n{}`));
    });
    try {
      expect((await failureOf(httpExchange('127.0.0.1', server.port, { method: 'GET', path: '/' }, LIMITS))).kind).toBe('too-large');
    } finally {
      await server.close();
    }
  });

  test('a digest challenge that loops (a fresh nonce for every answer) costs two requests and is one auth error', async () => {
    const server = await startHttpServer({ routes: { '/cgi-bin/summary.cgi': '{}' }, digest: { realm: 'antMiner Configuration', user: 'root', password: 'root', alwaysNewNonce: true } });
    try {
      const api = new HttpMinerApi('127.0.0.1', server.port, { ...LIMITS, auth: 'digest', credentials: { user: 'root', password: 'root' } });
      const err = await failureOf(api.get('/cgi-bin/summary.cgi'));
      expect(err.kind).toBe('auth');
      expect(server.counters.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  test('a 401 without a Digest challenge, HTML instead of JSON, and a non-JSON token are each one clear error', async () => {
    const server = await startHttpServer({
      routes: {
        '/cgi-bin/summary.cgi': (_req, res) => {
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
          res.end();
        },
        '/summary': (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          res.end('<html><body>It works!</body></html>');
        },
        '/api/v1/auth/login': (_req, res) => {
          res.writeHead(200);
          res.end('<token>');
        },
      },
    });
    const bad: BadReplyEvent[] = [];
    try {
      const digest = new HttpMinerApi('127.0.0.1', server.port, { ...LIMITS, auth: 'digest', credentials: { user: 'root', password: 'root' } });
      expect((await failureOf(digest.get('/cgi-bin/summary.cgi'))).message).toContain('without a Digest challenge');
      const result = await scrapeMiner({ host: '127.0.0.1', port: server.port, protocol: 'epic' }, { transport: LIMITS, onBadReply: (e) => bad.push(e) });
      expect(!result.ok && result.failure.kind).toBe('malformed');
      expect(bad.length).toBeGreaterThan(0);
      const bos = new HttpMinerApi('127.0.0.1', server.port, { ...LIMITS, auth: 'braiins-token', credentials: { user: 'root', password: 'root' } });
      expect((await failureOf(bos.get('/api/v1/miner/stats'))).message).toContain('no usable token');
    } finally {
      await server.close();
    }
  });
});
