/**
 * Test clients of our own for the newer miner APIs: a Whatsminer v3 framing client, an HTTP digest client built on
 * node's crypto, and a shape comparison against the captured replies in fixtures/miner-api-next.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { ProfileId } from '../src/catalog';
import { SimMiner, type SimMinerSpec } from '../src/miner';
import { MinerServer } from '../src/server';
import { testClock, type TestClock } from './helpers';

export interface NextUnit {
  miner: SimMiner;
  server: MinerServer;
  clock: TestClock;
  spec: SimMinerSpec;
  stop(): Promise<void>;
}

/** One unit with its main port 4028, web port 80 and v3 port 4433 on its own loopback address. */
export async function startUnit(profile: ProfileId, host: string): Promise<NextUnit> {
  const clock = testClock();
  const spec: SimMinerSpec = {
    id: `test-${profile}`,
    host,
    port: 4028,
    httpPort: 80,
    v3Port: 4433,
    profile,
    position: { site: 'T', container: 'C01', rack: 'R01', shelf: 'S1', slot: '1' },
  };
  const miner = new SimMiner(spec, 42, clock);
  const server = new MinerServer(miner, clock);
  await server.start();
  return { miner, server, clock, spec, stop: () => server.stop() };
}

export function fixture(folder: string, name: string): unknown {
  return JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'miner-api-next', folder, name), 'utf8'));
}

// ---------------------------------------------------------------------------------------------------------------
// Whatsminer API v3: 4-byte little-endian length + JSON, both ways.

export function v3Frame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

/** A connection that sends frames and reads whole reply frames (and whatever follows them). */
export class V3Client {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(host: string, port = 4433): Promise<V3Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new V3Client(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `n` bytes are buffered or the connection closes. */
  async waitFor(n: number, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`v3: ${this.buffer.length} of ${n} bytes after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends one request and returns the decoded reply payload. */
  async request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.socket.write(v3Frame(JSON.stringify(body)));
    return JSON.parse((await this.readFrame()).toString('utf8')) as Record<string, unknown>;
  }

  async readFrame(): Promise<Buffer> {
    await this.waitFor(4);
    if (this.buffer.length < 4) throw new Error('v3: connection closed before a length prefix');
    const length = this.buffer.readUInt32LE(0);
    if (length > 1024 * 1024) throw new Error(`v3: frame announces ${length} bytes`);
    await this.waitFor(4 + length);
    const payload = this.buffer.subarray(4, 4 + length);
    this.buffer = this.buffer.subarray(4 + length);
    return payload;
  }

  /** Bytes received after the frames read so far. */
  rest(): Buffer {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The write token of the v3 API: first 8 characters of base64(SHA-256(cmd + password + salt + ts)). */
export function v3TokenOf(cmd: string, password: string, salt: string, ts: number): string {
  return createHash('sha256').update(cmd + password + salt + String(ts)).digest('base64').slice(0, 8);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP with digest auth (RFC 2617, MD5, qop=auth).

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function httpRequest(
  host: string,
  port: number,
  method: string,
  pathname: string,
  headers: Record<string, string> = {},
  body?: string,
  timeoutMs = 3000,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: pathname, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${host}:${port}${pathname} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export function parseChallenge(header: string | undefined): Record<string, string> {
  if (!header?.startsWith('Digest ')) throw new Error(`not a digest challenge: ${header}`);
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) out[m[1]!] = m[2] ?? m[3] ?? '';
  return out;
}

export function digestAuthorization(challenge: Record<string, string>, user: string, password: string, method: string, uri: string, nc = 1): string {
  const cnonce = randomBytes(8).toString('hex');
  const ncHex = nc.toString(16).padStart(8, '0');
  const ha1 = md5(`${user}:${challenge.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${challenge.nonce}:${ncHex}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${uri}", algorithm=MD5, response="${response}", qop=auth, nc=${ncHex}, cnonce="${cnonce}"`;
}

/** GET with the digest handshake: unauthenticated request, 401 challenge, authenticated retry. */
export async function digestGet(host: string, port: number, uri: string, user: string, password: string): Promise<{ challenge: HttpResult; result: HttpResult }> {
  const challenge = await httpRequest(host, port, 'GET', uri);
  if (challenge.status !== 401) return { challenge, result: challenge };
  const params = parseChallenge(challenge.headers['www-authenticate'] as string | undefined);
  const result = await httpRequest(host, port, 'GET', uri, { authorization: digestAuthorization(params, user, password, 'GET', uri) });
  return { challenge, result };
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes: key names and JSON value types, recursively; arrays by their first element.

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';
const kindOf = (v: unknown): Kind => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as Kind));

/**
 * Differences in key names and value types between a reply and a capture. `loose` lists paths (with `[]` for array
 * elements) where the capture's null stands for a value the simulated unit has, or where types may differ.
 */
export function shapeDifferences(actual: unknown, capture: unknown, loose: readonly string[] = [], at = '$'): string[] {
  if (loose.includes(at)) return [];
  const a = kindOf(actual);
  const c = kindOf(capture);
  if (a !== c) return [`${at}: ${a} where the capture has ${c}`];
  if (a === 'array') {
    const aa = actual as unknown[];
    const cc = capture as unknown[];
    if (aa.length === 0 || cc.length === 0) return [];
    return shapeDifferences(aa[0], cc[0], loose, `${at}[]`);
  }
  if (a !== 'object') return [];
  const ao = actual as Record<string, unknown>;
  const co = capture as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(co)) if (!(k in ao)) out.push(`${at}.${k}: missing`);
  for (const k of Object.keys(ao)) if (!(k in co)) out.push(`${at}.${k}: not in the capture`);
  for (const k of Object.keys(co)) if (k in ao) out.push(...shapeDifferences(ao[k], co[k], loose, `${at}.${k}`));
  return out;
}
