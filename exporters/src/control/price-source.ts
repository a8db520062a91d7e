/**
 * The power price the curtailment policy compares with its strike price (issue 14): a JSON file or an http(s) URL
 * answering
 *
 *   {"price": 142.5, "currency": "USD", "unit": "MWh", "time": "2026-01-15T17:00:00Z"}
 *
 * (`unit` MWh or kWh, converted to a price per MWh; `time` is when the price applies or was set). The source is
 * outside the farm's control, so every read is bounded: 64 KiB, 5 s for the whole answer, no redirects, regular
 * files only. A bad answer (unreachable, slow, huge, not JSON, a wrong field, a time in the future) never throws: it
 * becomes a named failure beside the last good price, and the policy decides what a missing or stale price means.
 *
 * Policies decide synchronously after each sweep, so a source fetches in the background: `poll(now)` starts a fetch
 * when one is due and none is in flight, `snapshot()` gives what is known now.
 */
import { open, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';

export const PRICE_MAX_BYTES = 64 * 1024;
export const PRICE_TIMEOUT_MS = 5000;
/** A price stamped later than this past the edge's clock is refused (a wrong clock or a wrong field, not a forecast). */
export const PRICE_FUTURE_TOLERANCE_MS = 5 * 60_000;

export const PRICE_FAILURE_KINDS = ['unreachable', 'timeout', 'too-large', 'http-status', 'not-json', 'invalid', 'future'] as const;
export type PriceFailureKind = (typeof PRICE_FAILURE_KINDS)[number];

export interface PowerPrice {
  /** Per MWh, in `currency`. */
  perMwh: number;
  currency: string;
  /** When the price applies (the source's `time`), ms since epoch. */
  timeMs: number;
  /** When we read it. */
  fetchedMs: number;
}

export interface PriceFailure {
  kind: PriceFailureKind;
  /** Names the source and what was wrong (the field, the size, the status). */
  message: string;
  atMs: number;
}

export interface PriceSnapshot {
  /** The newest good price read (kept when later reads fail). */
  price?: PowerPrice;
  /** The latest read's failure; cleared by the next good read. */
  failure?: PriceFailure;
}

export interface PriceSource {
  /** The file or URL, for reasons and logs. */
  readonly description: string;
  /** Starts a read when `pollEveryMs` has passed since the last one and none is in flight. Never throws. */
  poll(now: number): void;
  /** What is known now. */
  snapshot(): PriceSnapshot;
  /** Reads now (waits for a read already in flight instead of starting a second). Never rejects. */
  refresh(): Promise<PriceSnapshot>;
}

const priceSchema = z.strictObject({
  price: z.number().refine(Number.isFinite, 'must be a finite number'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'a three-letter currency code (USD, EUR)'),
  unit: z.enum(['MWh', 'kWh']),
  time: z.iso.datetime({ offset: true }),
});

class PriceError extends Error {
  constructor(
    readonly kind: PriceFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'PriceError';
  }
}

/** Parses a source's answer; throws PriceError naming the source and the field. */
export function parsePrice(text: string, description: string, fetchedMs: number): PowerPrice {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PriceError('not-json', `${description}: not JSON (${(err as Error).message})`);
  }
  const parsed = priceSchema.safeParse(raw);
  if (!parsed.success) throw new PriceError('invalid', `${description}: ${formatIssues(parsed.error, { whole: '(answer)', limit: 3 }).join('; ')}`);
  const p = parsed.data;
  const timeMs = Date.parse(p.time);
  if (timeMs > fetchedMs + PRICE_FUTURE_TOLERANCE_MS) throw new PriceError('future', `${description}: time ${p.time} is ahead of this edge's clock (${new Date(fetchedMs).toISOString()})`);
  return { perMwh: p.unit === 'kWh' ? p.price * 1000 : p.price, currency: p.currency, timeMs, fetchedMs };
}

export interface PriceSourceOptions {
  pollEveryMs: number;
  maxBytes?: number;
  timeoutMs?: number;
  now?: () => number;
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** A URL without its user info and query (which may carry a key), for messages. */
function describeUrl(source: string): string {
  try {
    const u = new URL(source);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return source.slice(0, 200);
  }
}

function readHttp(url: string, description: string, maxBytes: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new PriceError('unreachable', `${description}: not a valid URL`));
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (err: PriceError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    // One deadline for everything (connect, headers, body): a source that drips a byte a second is cut off too.
    const timer = setTimeout(() => fail(new PriceError('timeout', `${description}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const req = client.get(target, { headers: { accept: 'application/json' }, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        fail(new PriceError('http-status', `${description}: HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        fail(new PriceError('too-large', `${description}: answer of ${declared} bytes (at most ${maxBytes})`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail(new PriceError('too-large', `${description}: answer over ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (err) => fail(new PriceError('unreachable', `${description}: ${err.message}`)));
    });
    req.on('error', (err) => fail(new PriceError('unreachable', `${description}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
  });
}

async function readFileBounded(file: string, description: string, maxBytes: number): Promise<string> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    throw new PriceError('unreachable', `${description}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // A FIFO or a device (/dev/zero) would block or never end: only regular files.
  if (!info.isFile()) throw new PriceError('unreachable', `${description}: not a regular file`);
  if (info.size > maxBytes) throw new PriceError('too-large', `${description}: ${info.size} bytes (at most ${maxBytes})`);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes + 1, 0);
    if (bytesRead > maxBytes) throw new PriceError('too-large', `${description}: grew over ${maxBytes} bytes while read`);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

function withDeadline<T>(promise: Promise<T>, timeoutMs: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PriceError('timeout', `${description}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A price source for a file path (`/var/lib/flymining/price.json`, `file:///…`) or an http(s) URL. */
export function createPriceSource(source: string, options: PriceSourceOptions): PriceSource {
  const maxBytes = options.maxBytes ?? PRICE_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? PRICE_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const url = isUrl(source);
  const file = url ? undefined : source.startsWith('file:') ? fileURLToPath(source) : path.resolve(source);
  const description = url ? `price source ${describeUrl(source)}` : `price file ${file}`;
  const state: PriceSnapshot = {};
  let inFlight: Promise<PriceSnapshot> | undefined;
  let lastStartMs = -Infinity;

  const read = async (): Promise<PriceSnapshot> => {
    try {
      const text = url ? await readHttp(source, description, maxBytes, timeoutMs) : await withDeadline(readFileBounded(file as string, description, maxBytes), timeoutMs, description);
      state.price = parsePrice(text, description, now());
      state.failure = undefined;
    } catch (err) {
      const kind = err instanceof PriceError ? err.kind : 'unreachable';
      state.failure = { kind, message: err instanceof PriceError ? err.message : `${description}: ${(err as Error).message}`, atMs: now() };
    }
    return { ...state };
  };

  const refresh = (): Promise<PriceSnapshot> => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  return {
    description,
    poll(at: number): void {
      if (inFlight || at - lastStartMs < options.pollEveryMs) return;
      lastStartMs = at;
      void refresh();
    },
    snapshot: () => ({ ...state }),
    refresh,
  };
}
