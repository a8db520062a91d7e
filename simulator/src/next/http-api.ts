/**
 * The HTTP side of a simulated unit: Antminer web CGI behind digest auth, Braiins OS REST behind a login token,
 * VNish behind an unlock token or API key, ePIC's unauthenticated reads on port 4028. Shared here: the transport
 * faults (hang, slow, garbage) and the hostile modes (endless body, slow headers, digest challenge loop). Writes
 * (issue 14) go through the same auth as the firmware asks for them: digest on the CGI (POST set_miner_conf, reboot,
 * blink), the token on Braiins PUTs and VNish POSTs; request bodies are capped at 16 KB (413 beyond).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { HttpApi } from '../catalog';
import type { SimMiner } from '../miner';
import { Prng, deriveSeed } from '../prng';
import { blinkCgi, blinkStatusCgi, minerConfCgi, networkInfoCgi, newApiStats, newApiSummary, rebootCgi, setMinerConfCgi, systemInfoCgi } from './antminer-web';
import { bosCooling, bosDetails, bosErrors, bosHashboards, bosLocate, bosMinerStatus, bosNetwork, bosPools, bosStats, bosTunerState, bosVersion, bosWrite } from './braiins-rest';
import { epicCapabilities, epicChipTemps, epicClocks, epicHashrate, epicNetwork, epicSummary, epicTemps, epicWrite } from './epic';
import { vnishRoutes } from './vnish';

export type HttpFlavour = HttpApi | 'epic';

const MAX_BODY_BYTES = 16 * 1024;
const HANG_MS = 10 * 60_000;
/** Digest nonces a unit remembers; older ones are answered with stale=true. */
const MAX_NONCES = 256;
const NONCE_LIFETIME_MS = 10 * 60_000;
/** Braiins OS tokens expire after an hour without requests (BOS-API README). */
const BOS_TOKEN_IDLE_MS = 3600_000;
const MAX_TOKENS = 64;
export const ANTMINER_REALM = 'antMiner Configuration';

export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** What the unit does once the answer is out (a reboot takes the API down only after it answered). */
  after?: () => void;
}

/** CGI paths that change state and take a JSON body: POST only here (the simulated CGI answers other methods 405). */
const CGI_WRITES = new Set(['/cgi-bin/set_miner_conf.cgi', '/cgi-bin/blink.cgi']);

const json = (body: string, status = 200): HttpReply => ({ status, headers: { 'content-type': 'application/json' }, body });

/** Per-unit auth state: issued digest nonces, session tokens. */
export class HttpAuthState {
  readonly nonces = new Map<string, number>();
  readonly tokens = new Map<string, number>();

  issueNonce(nowMs: number): string {
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, nowMs);
    if (this.nonces.size > MAX_NONCES) this.nonces.delete(this.nonces.keys().next().value as string);
    return nonce;
  }

  issueToken(nowMs: number): string {
    // 16 characters, like the captured BOS tokens.
    const token = randomBytes(12).toString('base64url').slice(0, 16);
    this.tokens.set(token, nowMs);
    if (this.tokens.size > MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value as string);
    return token;
  }

  /** True when the token is known and not idle too long; a use extends it. */
  useToken(token: string | undefined, nowMs: number, idleMs: number): boolean {
    if (!token) return false;
    const last = this.tokens.get(token);
    if (last === undefined || nowMs - last > idleMs) {
      this.tokens.delete(token ?? '');
      return false;
    }
    this.tokens.set(token, nowMs);
    return true;
  }
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Splits `Digest a="b", c=d` into its parameters. */
export function parseDigestHeader(header: string): Record<string, string> | undefined {
  const m = /^Digest\s+(.*)$/is.exec(header.trim());
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let part: RegExpExecArray | null;
  while ((part = re.exec(m[1] ?? '')) !== null) out[(part[1] ?? '').toLowerCase()] = part[2] ?? part[3] ?? '';
  return out;
}

function digestChallenge(auth: HttpAuthState, nowMs: number, stale: boolean): HttpReply {
  const nonce = auth.issueNonce(nowMs);
  return {
    status: 401,
    headers: {
      'www-authenticate': `Digest realm="${ANTMINER_REALM}", charset="UTF-8", algorithm=MD5, nonce="${nonce}", qop="auth"${stale ? ', stale=true' : ''}`,
      'content-type': 'text/html',
    },
    body: '<?xml version="1.0" encoding="iso-8859-1"?>\n<html><head><title>401 Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>\n',
  };
}

/** Checks an Authorization: Digest header against the unit's credential (RFC 2617, MD5, qop=auth or none). */
function digestValid(miner: SimMiner, auth: HttpAuthState, req: http.IncomingMessage, nowMs: number): 'ok' | 'stale' | 'bad' {
  const header = req.headers.authorization;
  const d = header ? parseDigestHeader(header) : undefined;
  if (!d || !d.nonce || !d.response || !d.uri || !d.username) return 'bad';
  const issued = auth.nonces.get(d.nonce);
  if (issued === undefined || nowMs - issued > NONCE_LIFETIME_MS) return 'stale';
  const credential = miner.credential('antminer-web');
  if (d.username !== credential.user || (d.realm ?? '') !== ANTMINER_REALM || d.uri !== req.url) return 'bad';
  const ha1 = md5(`${credential.user}:${ANTMINER_REALM}:${credential.password}`);
  const ha2 = md5(`${req.method ?? 'GET'}:${d.uri}`);
  const expected = d.qop ? md5(`${ha1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${d.qop}:${ha2}`) : md5(`${ha1}:${d.nonce}:${ha2}`);
  return expected === d.response ? 'ok' : 'bad';
}

function antminerCgi(miner: SimMiner, auth: HttpAuthState, req: http.IncomingMessage, path: string, body: string, nowMs: number): HttpReply {
  const base = { server: 'lighttpd/1.4.69' };
  const withServer = (r: HttpReply): HttpReply => ({ ...r, headers: { ...base, ...r.headers } });
  // The digest loop: every answer is a fresh challenge, right credentials or not.
  if (miner.activeFaults().hostile === 'digest-loop') return withServer(digestChallenge(auth, nowMs, false));
  const check = digestValid(miner, auth, req, nowMs);
  if (check !== 'ok') return withServer(digestChallenge(auth, nowMs, check === 'stale'));
  const r = miner.read(nowMs);
  const page = (text: string, type = 'text/html'): HttpReply => withServer({ status: 200, headers: { 'content-type': type }, body: text });
  if (CGI_WRITES.has(path) && req.method !== 'POST') return withServer({ status: 405, headers: { 'content-type': 'text/html' }, body: '<html><body><h1>405 Method Not Allowed</h1></body></html>\n' });
  switch (path) {
    case '/cgi-bin/set_miner_conf.cgi':
      return withServer(setMinerConfCgi(miner, r, body));
    case '/cgi-bin/blink.cgi':
      return withServer(blinkCgi(miner, body));
    case '/cgi-bin/reboot.cgi':
      return withServer(rebootCgi(miner));
    case '/cgi-bin/get_system_info.cgi':
      return page(systemInfoCgi(miner));
    case '/cgi-bin/get_network_info.cgi':
      return page(networkInfoCgi(miner));
    case '/cgi-bin/get_miner_conf.cgi':
      return page(minerConfCgi(miner, r));
    case '/cgi-bin/stats.cgi':
      return page(newApiStats(miner, r), 'application/json');
    case '/cgi-bin/summary.cgi':
      return page(newApiSummary(miner, r), 'application/json');
    case '/cgi-bin/get_blink_status.cgi':
      return page(blinkStatusCgi(miner), 'application/json');
  }
  return withServer({ status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body><h1>404 Not Found</h1></body></html>\n' });
}

function braiinsRest(miner: SimMiner, auth: HttpAuthState, req: http.IncomingMessage, path: string, body: string, nowMs: number): HttpReply {
  const p = path.replace(/\/+$/, '');
  if (p === '/api/v1/auth/login') {
    if (req.method !== 'POST') return json('{"message":"Method Not Allowed"}', 405);
    let login: unknown;
    try {
      login = JSON.parse(body);
    } catch {
      return json('{"message":"invalid JSON body"}', 400);
    }
    const c = miner.credential('braiins-rest');
    const l = (login ?? {}) as Record<string, unknown>;
    if (l.username !== c.user || l.password !== c.password) return json('{"message":"Invalid username or password"}', 401);
    return json(JSON.stringify({ token: auth.issueToken(nowMs), timeout_s: 3600 }));
  }
  // The token is the raw Authorization value, no "Bearer " (ASICRS-BOS).
  const token = req.headers.authorization;
  const looping = miner.activeFaults().hostile === 'digest-loop';
  if (looping || !auth.useToken(token, nowMs, BOS_TOKEN_IDLE_MS)) return json('{"message":"Unauthorized"}', 401);
  const r = miner.read(nowMs);
  if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') {
    const written = req.method === 'PUT' ? bosWrite(miner, r, p, body) : undefined;
    return written ?? json('{"message":"Method Not Allowed"}', 405);
  }
  switch (p) {
    case '/api/v1/miner/details':
      return json(bosDetails(miner, r));
    case '/api/v1/miner/stats':
      return json(bosStats(miner, r));
    case '/api/v1/miner/hw/hashboards':
      return json(bosHashboards(miner, r));
    case '/api/v1/miner/errors':
      return json(bosErrors(miner, r));
    case '/api/v1/miner/status':
      return json(bosMinerStatus(r));
    case '/api/v1/cooling/state':
      return json(bosCooling(r));
    case '/api/v1/pools':
      return json(bosPools(miner, r));
    case '/api/v1/performance/tuner-state':
      return json(bosTunerState(miner, r));
    case '/api/v1/network':
      return json(bosNetwork(miner));
    case '/api/v1/version':
      return json(bosVersion(miner));
    case '/api/v1/actions/locate':
      return json(bosLocate(miner));
  }
  return json('{"message":"Not Found"}', 404);
}

function epicApi(miner: SimMiner, req: http.IncomingMessage, path: string, body: string, nowMs: number): HttpReply {
  const r = miner.read(nowMs);
  if (req.method === 'POST') {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return json('{"result":false,"error":"Invalid JSON"}', 400);
    }
    // Writes carry the miner password in the body; there is no session (EPIC-DASH).
    const written = epicWrite(miner, path, parsed);
    return json(written.body, written.status);
  }
  switch (path) {
    case '/summary':
      return json(epicSummary(miner, r));
    case '/capabilities':
      return json(epicCapabilities(miner));
    case '/network':
      return json(epicNetwork(miner));
    case '/temps':
      return json(epicTemps(r));
    case '/temps/chip':
      return json(epicChipTemps(r));
    case '/hashrate':
      return json(epicHashrate(r));
    case '/clocks':
      return json(epicClocks(r));
  }
  return json('{"result":false,"error":"Not Found"}', 404);
}

/** One request's answer, auth included. */
export function answerHttp(flavour: HttpFlavour, miner: SimMiner, auth: HttpAuthState, req: http.IncomingMessage, body: string, nowMs: number): HttpReply {
  const path = new URL(req.url ?? '/', 'http://miner').pathname;
  switch (flavour) {
    case 'antminer-cgi':
      return antminerCgi(miner, auth, req, path, body, nowMs);
    case 'braiins-rest':
      return braiinsRest(miner, auth, req, path, body, nowMs);
    case 'vnish-rest':
      return vnishRoutes(miner, auth, req, path, body, nowMs);
    case 'epic':
      return epicApi(miner, req, path, body, nowMs);
  }
}

/**
 * A node HTTP server for one unit's API. Faults are read per request: hang (never answer), slow (delay), garbage
 * (random bytes instead of HTTP), and the hostile modes.
 */
export function createMinerHttpServer(flavour: HttpFlavour, miner: SimMiner, clock: () => number): http.Server {
  const auth = new HttpAuthState();
  const rng = new Prng(deriveSeed(0x4877, `${miner.id}/${flavour}`));
  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const socket = req.socket;
    const faults = miner.activeFaults();
    if (faults.hang) {
      socket.setTimeout(HANG_MS, () => socket.destroy());
      req.resume();
      return;
    }
    let body = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES && !tooLarge) {
        tooLarge = true;
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
        res.end('request body too large\n');
        req.destroy();
      }
    });
    req.on('end', () => {
      if (tooLarge) return;
      const send = (): void => {
        if (socket.destroyed) return;
        const f = miner.activeFaults();
        if (f.garbage === 'binary') {
          const bytes = Buffer.alloc(64 + Math.floor(rng.next() * 192));
          for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
          socket.end(bytes);
          return;
        }
        if (f.hostile === 'http-slow-headers') return slowHeaders(socket);
        if (f.hostile === 'http-endless-body') return endlessBody(res);
        const reply = answerHttp(flavour, miner, auth, req, body, clock());
        if (f.garbage === 'truncated') {
          // Announces the whole body, sends 60 % of it, closes.
          const bytes = Buffer.from(reply.body, 'utf8');
          res.writeHead(reply.status, { ...reply.headers, 'content-length': String(bytes.length) });
          res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length * 0.6))));
          socket.destroySoon();
          return;
        }
        res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
        res.end(reply.body);
        const after = reply.after;
        // Once the answer has left (the connection closed), with a short margin so the client has read it.
        if (after) res.once('close', () => setTimeout(after, 20).unref());
      };
      const delay = faults.slowMs;
      if (delay > 0) setTimeout(send, delay);
      else send();
    });
  });
  server.on('clientError', (_err, socket) => {
    // What a web server answers to bytes that are not HTTP (e.g. a CGMiner JSON line sent to ePIC's port 4028).
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

/** A status line, then one header byte a second, never finishing the headers. */
function slowHeaders(socket: import('node:net').Socket): void {
  socket.write('HTTP/1.1 200 OK\r\n');
  const header = 'X-Slow: ' + 'a'.repeat(4096);
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(header[i % header.length] ?? 'a');
    i++;
  }, 1000);
  socket.once('close', () => clearInterval(timer));
}

/** 200 with a chunked JSON body that never ends: `{"data":"aaaa…` for as long as the client reads. */
function endlessBody(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = 'a'.repeat(64 * 1024);
  res.write('{"data":"');
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk)) {
      /* keep writing while the socket takes it */
    }
    if (!res.destroyed) res.once('drain', pump);
  };
  res.socket?.once('close', () => res.destroy());
  pump();
}
