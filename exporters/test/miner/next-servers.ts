/**
 * Local servers of the tests' own speaking the newer miner protocols for real: Whatsminer v3 framing on TCP, HTTP
 * with Digest auth (Antminer CGI), the Braiins REST token login, plain HTTP (ePIC). They serve the corpus replies and
 * count what they were asked, so tests can assert what the exporter did on the wire.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

export function frame(payload: Buffer | string): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

export interface V3Request {
  cmd?: string;
  param?: unknown;
}

/**
 * A Whatsminer v3 server: reads one length-prefixed request per connection and writes what `reply` returns: a
 * payload (framed here) or `{ raw }` bytes written as they are (hostile tests), then closes.
 */
export async function startV3Server(reply: (request: V3Request) => Buffer | string | { raw: Buffer; keepOpen?: boolean }): Promise<Listening & { requests: V3Request[] }> {
  const sockets = new Set<net.Socket>();
  const requests: V3Request[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const length = buffered.readUInt32LE(0);
      if (buffered.length < 4 + length) return;
      const request = JSON.parse(buffered.subarray(4, 4 + length).toString('utf8')) as V3Request;
      requests.push(request);
      const answer = reply(request);
      if (typeof answer === 'object' && !Buffer.isBuffer(answer)) {
        socket.write(answer.raw);
        if (!answer.keepOpen) socket.end();
      } else {
        socket.end(frame(answer));
      }
    });
  });
  const port = await listen(server);
  return { port, requests, close: closer(server, sockets) };
}

export interface HttpCounters {
  requests: string[];
  logins: number;
  challenges: number;
}

export type Route = Buffer | string | ((req: http.IncomingMessage, res: http.ServerResponse) => void);

export interface HttpServerOptions {
  routes: Record<string, Route>;
  /** Digest on every route (Antminer CGI): realm and the one valid login. */
  digest?: { realm: string; user: string; password: string; alwaysNewNonce?: boolean };
  /** Braiins REST: POST /api/v1/auth/login, then the bare token in Authorization. */
  braiinsToken?: { user: string; password: string };
}

function digestValid(header: string | undefined, method: string, nonces: Set<string>, login: { realm: string; user: string; password: string }): boolean {
  if (!header?.startsWith('Digest ')) return false;
  const p: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) p[m[1] as string] = m[2] ?? m[3] ?? '';
  if (p.username !== login.user || !p.nonce || !nonces.has(p.nonce) || p.realm !== login.realm) return false;
  const md5 = (t: string): string => createHash('md5').update(t).digest('hex');
  const ha1 = md5(`${login.user}:${login.realm}:${login.password}`);
  const ha2 = md5(`${method}:${p.uri}`);
  const expected = p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
  return expected === p.response;
}

export async function startHttpServer(options: HttpServerOptions): Promise<Listening & { counters: HttpCounters; tokens: Set<string> }> {
  const counters: HttpCounters = { requests: [], logins: 0, challenges: 0 };
  const nonces = new Set<string>();
  const tokens = new Set<string>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    counters.requests.push(`${req.method} ${path}`);
    if (options.digest) {
      const login = options.digest;
      if (options.digest.alwaysNewNonce || !digestValid(req.headers.authorization, req.method ?? 'GET', nonces, login)) {
        const nonce = randomBytes(12).toString('hex');
        nonces.add(nonce);
        counters.challenges++;
        res.writeHead(401, {
          'WWW-Authenticate': `Digest realm="${login.realm}", charset="UTF-8", algorithm=MD5, nonce="${nonce}", qop="auth"`,
          'Content-Type': 'text/html',
          Server: 'lighttpd/1.4.69',
        });
        res.end('<html><body>401 Unauthorized</body></html>');
        return;
      }
    }
    if (options.braiinsToken) {
      if (req.method === 'POST' && path === '/api/v1/auth/login') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          counters.logins++;
          const login = JSON.parse(body) as { username?: string; password?: string };
          if (login.username !== options.braiinsToken?.user || login.password !== options.braiinsToken?.password) {
            res.writeHead(401, { 'Content-Type': 'application/json' });
            res.end('{"code":16,"message":"Invalid credentials"}');
            return;
          }
          const token = randomBytes(8).toString('hex');
          tokens.add(token);
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ token, timeout_s: 3600 }));
        });
        return;
      }
      if (!tokens.has(req.headers.authorization ?? '')) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end('{"code":16,"message":"Unauthenticated"}');
        return;
      }
    }
    const route = options.routes[path];
    if (route === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    if (typeof route === 'function') return route(req, res);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(route);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return { port, counters, tokens, close: closer(server, sockets) };
}

/** A raw TCP server that answers each connection with `onConnection` (slow headers, endless bodies, garbage). */
export async function startRawServer(onConnection: (socket: net.Socket) => void): Promise<Listening & { connections: () => number }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  const port = await listen(server);
  return { port, connections: () => count, close: closer(server, sockets) };
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A CGMiner-API miner of ours: one JSON request per connection, answered with `answer(request)` and a NUL, then closed. */
export async function startCgminerServer(answer: (request: Record<string, unknown>) => Buffer | string): Promise<Listening & { requests: Array<Record<string, unknown>> }> {
  const requests: Array<Record<string, unknown>> = [];
  const server = await startRawServer((socket) => {
    socket.once('data', (d) => {
      const request = JSON.parse(d.toString()) as Record<string, unknown>;
      requests.push(request);
      socket.end(Buffer.concat([Buffer.from(answer(request)), Buffer.from([0])]));
    });
  });
  return { ...server, requests };
}
