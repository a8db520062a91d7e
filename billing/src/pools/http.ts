/**
 * The one HTTP client every pool and network importer uses: a small client-side limiter (minimum gap between
 * requests, the documented or cautious rate), a timeout and a body-size bound per request, Retry-After honoured on
 * 429/503, a refused key (401/403) reported as a PoolAuthError naming the pool and the setting, and every response
 * validated with zod (errors name the field). The key is sent in a header and never appears in messages or in the
 * recorded request description.
 */
import { formatIssues } from '@flymining/shared';
import type { z } from 'zod';

export class PoolAuthError extends Error {
  override name = 'PoolAuthError';
}

export class PoolResponseError extends Error {
  override name = 'PoolResponseError';
}

export interface PoolHttpOptions {
  /** Pool name for messages ("Foundry USA"). */
  pool: string;
  baseUrl: string;
  /** The setting that holds the key, named when the pool refuses it (e.g. FLYMINING_POOL_FOUNDRY_API_KEY_FILE). */
  keySetting?: string;
  /** Headers sent on every request (the auth header). */
  headers?: Record<string, string>;
  /** Minimum milliseconds between two requests (client-side limiter). */
  minIntervalMs: number;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** How often a 429/503 is retried after waiting. */
  maxRetries?: number;
  /** Longest Retry-After honoured; a longer one fails the import (retried on the next tick). */
  maxRetryAfterMs?: number;
}

export interface PoolRequest {
  method?: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

export interface PoolResponse<T> {
  data: T;
  /** "GET https://host/path?query" (or "POST ... {body}"): what is recorded beside each imported figure. */
  request: string;
}

export interface PoolHttpStats {
  requests: number;
  retries: number;
  waitedMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class PoolHttpClient {
  readonly stats: PoolHttpStats = { requests: 0, retries: 0, waitedMs: 0 };
  private nextSlot = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: PoolHttpOptions) {}

  /** Waits for this request's turn: requests leave at least minIntervalMs apart, in call order. */
  private turn(): Promise<void> {
    const mine = this.queue.then(async () => {
      const wait = this.nextSlot - Date.now();
      if (wait > 0) {
        this.stats.waitedMs += wait;
        await sleep(wait);
      }
      this.nextSlot = Date.now() + this.options.minIntervalMs;
    });
    this.queue = mine.catch(() => undefined);
    return mine;
  }

  describe(req: PoolRequest): string {
    return `${req.method ?? 'GET'} ${this.url(req).toString()}${req.body === undefined ? '' : ` ${JSON.stringify(req.body)}`}`;
  }

  private url(req: PoolRequest): URL {
    const url = new URL(req.path.replace(/^\//, ''), this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  async request<S extends z.ZodTypeAny>(req: PoolRequest, schema: S): Promise<PoolResponse<z.output<S>>> {
    const o = this.options;
    const request = this.describe(req);
    const maxRetries = o.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      await this.turn();
      this.stats.requests += 1;
      let res: Response;
      try {
        res = await fetch(this.url(req), {
          method: req.method ?? 'GET',
          headers: { accept: 'application/json', ...(req.body === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers },
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
          redirect: 'error',
        });
      } catch (err) {
        const e = err as Error;
        throw new PoolResponseError(`${o.pool}: ${request} failed: ${e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs ?? 15_000} ms` : e.message}`);
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new PoolAuthError(`${o.pool} refused the API key (HTTP ${res.status}); check ${o.keySetting ?? 'its API key setting'}`);
      }
      if (res.status === 429 || res.status === 503) {
        await res.body?.cancel();
        const wait = retryAfterMs(res.headers.get('retry-after')) ?? 1000 * 2 ** attempt;
        if (attempt >= maxRetries || wait > (o.maxRetryAfterMs ?? 120_000)) {
          throw new PoolResponseError(`${o.pool}: rate limited (HTTP ${res.status}) on ${request}; gave up after ${attempt + 1} attempt(s)`);
        }
        this.stats.retries += 1;
        this.stats.waitedMs += wait;
        // Nothing leaves before the server's time is up, whichever request asks next.
        this.nextSlot = Math.max(this.nextSlot, Date.now() + wait);
        continue;
      }
      const text = await readBounded(res, o.maxBodyBytes ?? 4 * 1024 * 1024, `${o.pool}: ${request}`);
      if (!res.ok) throw new PoolResponseError(`${o.pool}: HTTP ${res.status} on ${request}: ${text.slice(0, 200)}`);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new PoolResponseError(`${o.pool}: ${request} did not answer JSON: ${text.slice(0, 120)}`);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new PoolResponseError(`${o.pool}: unexpected response to ${request}: ${formatIssues(parsed.error, { whole: '(body)', limit: 5 }).join('; ')}`);
      }
      return { data: parsed.data as z.output<S>, request };
    }
  }
}

/** The body as text, refused beyond maxBytes (a misbehaving endpoint must not fill memory). */
async function readBounded(res: Response, maxBytes: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new PoolResponseError(`${what}: body of ${declared} bytes exceeds the ${maxBytes}-byte bound`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PoolResponseError(`${what}: body exceeds the ${maxBytes}-byte bound`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
