/**
 * InfluxQL over `POST /query?db=&epoch=ms` and `GET /ping`: the store's read side. Results are plain rows with
 * `time` in ms; InfluxDB's JSON is input from the network, so its shape is checked.
 */
import type { HttpAnswer } from './http';
import { describeRequestError, type UplinkContext } from './uplink';

export interface QuerySeries {
  name: string;
  tags: Record<string, string>;
  /** One object per row: column → value; `time` in ms since the epoch. */
  rows: Array<Record<string, unknown> & { time: number }>;
}

export class InfluxQueryError extends Error {
  constructor(
    message: string,
    readonly query: string,
  ) {
    super(message);
    this.name = 'InfluxQueryError';
  }
}

export interface PingResult {
  ok: boolean;
  version?: string;
  latencyMs: number;
  error?: string;
}

/** How the store sends a request (its HttpEndpoint plus the server-clock estimate). */
export type InfluxRequest = (
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: string,
  headers?: Record<string, string>,
) => Promise<HttpAnswer>;

/** Runs InfluxQL against `database`. Throws InfluxQueryError naming the failing statement. */
export async function runQuery(request: InfluxRequest, database: string, q: string, ctx: UplinkContext): Promise<QuerySeries[]> {
  const params = new URLSearchParams({ db: database, epoch: 'ms' });
  let res: HttpAnswer;
  try {
    res = await request('POST', `/query?${params.toString()}`, new URLSearchParams({ q }).toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
  } catch (err) {
    throw new InfluxQueryError(describeRequestError(err, ctx).message, q);
  }
  const text = res.body;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new InfluxQueryError(`InfluxDB query answered HTTP ${res.status} with non-JSON: ${text.slice(0, 300)}`, q);
  }
  return parseQueryResponse(payload, res.status, q);
}

/** GET /ping: reachable, the server's version, the round trip. Never throws. */
export async function ping(request: InfluxRequest, ctx: UplinkContext): Promise<PingResult> {
  const started = performance.now();
  try {
    const res = await request('GET', '/ping');
    const latencyMs = performance.now() - started;
    const header = res.headers['x-influxdb-version'];
    const version = typeof header === 'string' ? header : undefined;
    if (res.status === 204 || res.status === 200) return { ok: true, version, latencyMs };
    return { ok: false, version, latencyMs, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, latencyMs: performance.now() - started, error: describeRequestError(err, ctx).message };
  }
}

interface RawSeries {
  name?: unknown;
  tags?: unknown;
  columns?: unknown;
  values?: unknown;
}

/** Turns InfluxDB's /query JSON into QuerySeries, checking its shape (it is input from the network). */
export function parseQueryResponse(payload: unknown, status: number, q: string): QuerySeries[] {
  const body = payload as { error?: unknown; results?: unknown };
  if (typeof body !== 'object' || body === null) throw new InfluxQueryError(`InfluxDB query: unexpected answer`, q);
  if (typeof body.error === 'string') throw new InfluxQueryError(`InfluxDB query failed (HTTP ${status}): ${body.error}`, q);
  if (!Array.isArray(body.results)) throw new InfluxQueryError(`InfluxDB query: answer without results (HTTP ${status})`, q);
  const out: QuerySeries[] = [];
  for (const [i, result] of (body.results as Array<{ error?: unknown; series?: unknown }>).entries()) {
    if (typeof result.error === 'string') {
      throw new InfluxQueryError(`InfluxDB query statement ${i + 1} failed: ${result.error}`, q);
    }
    if (!Array.isArray(result.series)) continue;
    for (const s of result.series as RawSeries[]) {
      const columns = Array.isArray(s.columns) ? (s.columns as string[]) : [];
      const values = Array.isArray(s.values) ? (s.values as unknown[][]) : [];
      const rows = values.map((v) => {
        const row: Record<string, unknown> = {};
        for (let c = 0; c < columns.length; c++) row[columns[c] as string] = v[c];
        return row as Record<string, unknown> & { time: number };
      });
      const tags = typeof s.tags === 'object' && s.tags !== null ? (s.tags as Record<string, string>) : {};
      out.push({ name: typeof s.name === 'string' ? s.name : '', tags, rows });
    }
  }
  return out;
}
