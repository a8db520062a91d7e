/**
 * HTTP transport for the miners' web APIs: the Antminer CGI (digest auth), Braiins OS REST and VNish (token auth),
 * ePIC (no auth on reads). Every request is bounded like the TCP transports (issue 13, "Hostile input"): a deadline
 * for the headers (slow headers), one for the whole body (endless bodies), a size cap checked against
 * Content-Length first and then while streaming (huge bodies), Node's header size limit, and at most one digest
 * challenge answered per request (a server that challenges again is a refusal, not a loop).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { JsonObject, JsonValue } from '@flymining/shared';
import { DEFAULT_TRANSPORT, MinerConnectionError, type TransportOptions } from './cgminer-tcp';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH';

export interface HttpRequest {
  method: HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Deadline for the status line and headers after connecting; a server that trickles them is cut here. */
export const HTTP_HEADER_TIMEOUT_MS = 5000;

/** One HTTP exchange, bounded; resolves with status, headers and body whatever the status. */
export function httpExchange(host: string, port: number, request: HttpRequest, options: TransportOptions = DEFAULT_TRANSPORT): Promise<HttpReply> {
  const endpoint = `${host}:${port}`;
  const command = `${request.method} ${request.path}`;
  return new Promise<HttpReply>((resolve, reject) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const req = http.request({
      host,
      port,
      method: request.method,
      path: request.path,
      agent: false,
      headers: { accept: 'application/json', connection: 'close', ...(request.headers ?? {}) },
      insecureHTTPParser: false,
    });
    const finish = (result: HttpReply | MinerConnectionError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(headerTimer);
      clearTimeout(bodyTimer);
      req.destroy();
      if (result instanceof MinerConnectionError) reject(result);
      else resolve(result);
    };
    const fail = (kind: MinerConnectionError['kind'], detail: string): void => finish(new MinerConnectionError(kind, endpoint, command, detail));
    const connectTimer = setTimeout(() => fail('timeout', `no connection within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
    let headerTimer: NodeJS.Timeout | undefined;
    let bodyTimer: NodeJS.Timeout | undefined;
    const headerTimeoutMs = Math.min(HTTP_HEADER_TIMEOUT_MS, options.readTimeoutMs);

    req.once('socket', (socket) => {
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        headerTimer = setTimeout(() => fail('timeout', `no complete response headers within ${headerTimeoutMs} ms`), headerTimeoutMs);
        bodyTimer = setTimeout(() => fail('timeout', `response not complete within ${options.readTimeoutMs} ms (${size} bytes read)`), options.readTimeoutMs);
      });
    });
    req.once('response', (res) => {
      clearTimeout(headerTimer);
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && length > options.maxBytes) {
        return fail('too-large', `response announces ${length} bytes, more than the ${options.maxBytes} accepted`);
      }
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) return fail('too-large', `response larger than ${options.maxBytes} bytes`);
        chunks.push(chunk);
      });
      res.once('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }));
      res.once('error', (err) => fail('reset', `response broke off: ${err.message}`));
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (code === 'ECONNREFUSED') fail('refused', 'connection refused');
      else if (code === 'ECONNRESET' || code === 'EPIPE') fail('reset', `connection reset (${code})`);
      else if (code === 'ETIMEDOUT') fail('timeout', 'connect timed out');
      else if (code === 'HPE_HEADER_OVERFLOW') fail('too-large', 'response headers larger than the HTTP header limit');
      else if (code.startsWith('HPE_')) fail('protocol', `not an HTTP response (${code})`);
      else fail('unreachable', `${code || 'error'}: ${err.message}`);
    });
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

/** User and password for a miner's web or API login; never logged, never part of an error message. */
export interface MinerCredentials {
  user: string;
  password: string;
}

// ---------------------------------------------------------------------------------------------------------------------
// Digest (RFC 7616 as lighttpd speaks it: MD5, qop=auth)

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm: string;
}

/** The Digest challenge of a WWW-Authenticate header, or undefined when there is none (Basic, garbage). */
export function parseDigestChallenge(header: string | string[] | undefined): DigestChallenge | undefined {
  const value = (Array.isArray(header) ? header.find((h) => /^\s*digest\s/i.test(h)) : header)?.slice(0, 2048);
  if (!value || !/^\s*digest\s/i.test(value)) return undefined;
  const params: Record<string, string> = {};
  for (const m of value.replace(/^\s*digest\s+/i, '').matchAll(/([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) {
    params[(m[1] as string).toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  if (params.realm === undefined || !params.nonce) return undefined;
  return { realm: params.realm, nonce: params.nonce, qop: params.qop, opaque: params.opaque, algorithm: params.algorithm ?? 'MD5' };
}

function hashOf(algorithm: string): (text: string) => string {
  const name = /^sha-256/i.test(algorithm) ? 'sha256' : 'md5';
  return (text) => createHash(name).update(text).digest('hex');
}

/** The Authorization header answering `challenge` for one request. */
export function digestAuthorization(challenge: DigestChallenge, credentials: MinerCredentials, method: string, uri: string, nc = 1): string {
  const h = hashOf(challenge.algorithm);
  const cnonce = randomBytes(8).toString('hex');
  let ha1 = h(`${credentials.user}:${challenge.realm}:${credentials.password}`);
  if (/-sess$/i.test(challenge.algorithm)) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const qop = challenge.qop?.split(',').map((q) => q.trim()).includes('auth') ? 'auth' : undefined;
  const ncText = nc.toString(16).padStart(8, '0');
  const response = qop ? h(`${ha1}:${challenge.nonce}:${ncText}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const quote = (v: string): string => v.replace(/["\\]/g, '');
  const parts = [
    `username="${quote(credentials.user)}"`,
    `realm="${quote(challenge.realm)}"`,
    `nonce="${quote(challenge.nonce)}"`,
    `uri="${quote(uri)}"`,
    `algorithm=${challenge.algorithm}`,
    `response="${response}"`,
  ];
  if (qop) parts.push(`qop=${qop}`, `nc=${ncText}`, `cnonce="${cnonce}"`);
  if (challenge.opaque !== undefined) parts.push(`opaque="${quote(challenge.opaque)}"`);
  return `Digest ${parts.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// The miners' HTTP APIs as transports

export type HttpAuthScheme = 'none' | 'digest' | 'braiins-token' | 'vnish-token';

export interface HttpApiOptions extends TransportOptions {
  auth: HttpAuthScheme;
  credentials?: MinerCredentials;
  /** Session tokens kept between scrapes, by endpoint (Braiins tokens live 3600 s while used). */
  sessions?: Map<string, string>;
}

/**
 * A miner's HTTP API: GET a path, answering the auth the firmware asks for. Throws MinerConnectionError; kind `auth`
 * when credentials are missing or refused (after exactly one attempt with them), `protocol` for other non-2xx answers.
 */
export class HttpMinerApi {
  private readonly endpoint: string;
  private challenge: DigestChallenge | undefined;
  private nc = 0;
  /** This API object's session (one scrape); `options.sessions` carries it across scrapes. */
  private token: string | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly options: HttpApiOptions,
  ) {
    this.endpoint = `${host}:${port}`;
  }

  async get(path: string): Promise<Buffer> {
    return this.request('GET', path);
  }

  /**
   * Any method with an optional JSON body (the write path: set_miner_conf.cgi, Braiins/VNish actions), with the same
   * auth and bounds as a read. A 2xx answer's body is returned; errors name the method and path.
   */
  async request(method: HttpMethod, path: string, body?: JsonValue): Promise<Buffer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    switch (this.options.auth) {
      case 'none':
        return this.accept(method, path, await httpExchange(this.host, this.port, withBody({ method, path }, payload), this.options));
      case 'digest':
        return this.requestDigest(method, path, payload);
      case 'braiins-token':
      case 'vnish-token':
        return this.requestWithToken(method, path, payload);
    }
  }

  private accept(method: HttpMethod, path: string, reply: HttpReply): Buffer {
    if (reply.status >= 200 && reply.status < 300) return reply.body;
    if (reply.status === 401 || reply.status === 403) throw this.authError(path, `HTTP ${reply.status}: credentials refused`, method);
    throw new MinerConnectionError('protocol', this.endpoint, `${method} ${path}`, `HTTP ${reply.status}`, reply.body.subarray(0, 512).toString('utf8'));
  }

  private authError(path: string, detail: string, method: HttpMethod = 'GET'): MinerConnectionError {
    return new MinerConnectionError('auth', this.endpoint, `${method} ${path}`, detail);
  }

  private requireCredentials(path: string): MinerCredentials {
    if (!this.options.credentials) throw this.authError(path, 'the miner asks for a login and no credentials are configured for it');
    return this.options.credentials;
  }

  /** Reuses the last challenge (nonce count up); on 401 answers the new challenge once, never more. */
  private async requestDigest(method: HttpMethod, path: string, payload: string | undefined): Promise<Buffer> {
    const credentials = this.requireCredentials(path);
    const attempt = (challenge: DigestChallenge | undefined): Promise<HttpReply> =>
      httpExchange(
        this.host,
        this.port,
        withBody({ method, path, headers: challenge ? { authorization: digestAuthorization(challenge, credentials, method, path, ++this.nc) } : {} }, payload),
        this.options,
      );
    let reply = await attempt(this.challenge);
    if (reply.status === 401) {
      const challenge = parseDigestChallenge(reply.headers['www-authenticate']);
      if (!challenge) throw this.authError(path, 'HTTP 401 without a Digest challenge', method);
      // A fresh nonce after one we already answered with these credentials means the password is wrong, unless the
      // server marks the old nonce stale; either way we answer once per request.
      this.challenge = challenge;
      this.nc = 0;
      reply = await attempt(challenge);
      if (reply.status === 401) throw this.authError(path, 'HTTP 401: user or password refused', method);
    }
    return this.accept(method, path, reply);
  }

  private async login(path: string): Promise<string> {
    const credentials = this.requireCredentials(path);
    const braiins = this.options.auth === 'braiins-token';
    const loginPath = braiins ? '/api/v1/auth/login' : '/api/v1/unlock';
    const body = JSON.stringify(braiins ? { username: credentials.user, password: credentials.password } : { pw: credentials.password });
    const reply = await httpExchange(
      this.host,
      this.port,
      { method: 'POST', path: loginPath, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body },
      this.options,
    );
    if (reply.status === 401 || reply.status === 403) throw this.authError(loginPath, `HTTP ${reply.status}: user or password refused`);
    if (reply.status === 429) throw this.authError(loginPath, 'HTTP 429: the miner locked logins after too many tries');
    if (reply.status < 200 || reply.status >= 300) throw new MinerConnectionError('protocol', this.endpoint, `POST ${loginPath}`, `HTTP ${reply.status}`);
    let token: unknown;
    try {
      token = (JSON.parse(reply.body.toString('utf8')) as JsonObject).token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token.length === 0 || token.length > 512 || !/^[\x21-\x7e]+$/.test(token)) {
      throw new MinerConnectionError('protocol', this.endpoint, `POST ${loginPath}`, 'login answer carries no usable token');
    }
    this.token = token;
    this.options.sessions?.set(this.endpoint, token);
    return token;
  }

  private tokenHeader(token: string): Record<string, string> {
    // Braiins wants the bare token (no "Bearer "), VNish's OpenAPI document a bearer token.
    return { authorization: this.options.auth === 'braiins-token' ? token : `Bearer ${token}` };
  }

  /** Uses the cached token; on 401/403 logs in again once and retries once. */
  private async requestWithToken(method: HttpMethod, path: string, payload: string | undefined): Promise<Buffer> {
    let token = this.token ?? this.options.sessions?.get(this.endpoint);
    const fresh = token === undefined;
    token ??= await this.login(path);
    let reply = await httpExchange(this.host, this.port, withBody({ method, path, headers: this.tokenHeader(token) }, payload), this.options);
    if ((reply.status === 401 || reply.status === 403) && !fresh) {
      this.token = undefined;
      this.options.sessions?.delete(this.endpoint);
      token = await this.login(path);
      reply = await httpExchange(this.host, this.port, withBody({ method, path, headers: this.tokenHeader(token) }, payload), this.options);
    }
    if (reply.status === 401 || reply.status === 403) {
      this.token = undefined;
      this.options.sessions?.delete(this.endpoint);
    }
    return this.accept(method, path, reply);
  }
}

/** The request with a JSON body and its length, when there is one. */
function withBody(request: HttpRequest, payload: string | undefined): HttpRequest {
  if (payload === undefined) return request;
  return { ...request, headers: { ...(request.headers ?? {}), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }, body: payload };
}
