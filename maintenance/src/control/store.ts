/**
 * Control requests at the center (maintenance.control_request): queued by staff, handed to the container's edge when
 * it polls, claimed once under a row lock, filled with per-miner results, and every step recorded with who did it
 * (maintenance.control_event). A queued request past its expires_at is marked expired before anything is handed out,
 * so the edge never sees it.
 */
import type { Pool, PoolClient } from 'pg';
import { CONTROL_REQUEST_TTL_MS, MAX_PENDING_REQUESTS, type MinerResult, type RemoteMinerAction, type RemoteRequest, type ResultsBody } from '@flymining/shared/src/control-link';
import { inTransaction } from '../db';

export const CONTROL_STATUSES = ['queued', 'claimed', 'done', 'expired', 'cancelled'] as const;
export type ControlStatus = (typeof CONTROL_STATUSES)[number];

export interface ControlRequest {
  id: number;
  createdAt: Date;
  requestedBy: string;
  reason: string;
  container: string;
  targets: string[];
  action: RemoteMinerAction;
  dryRun: boolean;
  status: ControlStatus;
  claimedAt: Date | null;
  claimedBy: string | null;
  expiresAt: Date;
  /** Per-miner outcomes so far (the edge posts them while it works), null before the first post. */
  results: MinerResult[] | null;
  finishedAt: Date | null;
}

export interface ControlEvent {
  at: Date;
  actor: string;
  kind: 'created' | 'cancelled' | 'claimed' | 'done' | 'expired';
  detail: string;
}

/** A refusal with its HTTP status: 404 unknown, 409 wrong state, 410 expired, 403 another container's. */
export class ControlRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409 | 410 | 503,
  ) {
    super(message);
    this.name = 'ControlRequestError';
  }
}

interface Row {
  id: string;
  created_at: Date;
  requested_by: string;
  reason: string;
  container: string;
  targets: string[];
  action: RemoteMinerAction;
  dry_run: boolean;
  status: ControlStatus;
  claimed_at: Date | null;
  claimed_by: string | null;
  expires_at: Date;
  results: MinerResult[] | null;
  finished_at: Date | null;
}

const COLUMNS = 'id, created_at, requested_by, reason, container, targets, action, dry_run, status, claimed_at, claimed_by, expires_at, results, finished_at';

function requestOf(r: Row): ControlRequest {
  return {
    id: Number(r.id),
    createdAt: r.created_at,
    requestedBy: r.requested_by,
    reason: r.reason,
    container: r.container,
    targets: r.targets,
    action: r.action,
    dryRun: r.dry_run,
    status: r.status,
    claimedAt: r.claimed_at,
    claimedBy: r.claimed_by,
    expiresAt: r.expires_at,
    results: r.results,
    finishedAt: r.finished_at,
  };
}

/** A request as an edge gets it (the action whole, pool passwords included: the miner needs them). */
export function forEdge(r: ControlRequest): RemoteRequest {
  return {
    id: r.id,
    container: r.container,
    targets: r.targets,
    action: r.action,
    dryRun: r.dryRun,
    reason: r.reason,
    requestedBy: r.requestedBy,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
  };
}

async function addEvent(db: Pool | PoolClient, requestId: number, actor: string, kind: ControlEvent['kind'], detail = ''): Promise<void> {
  await db.query('INSERT INTO maintenance.control_event (request_id, actor, kind, detail) VALUES ($1, $2, $3, $4)', [requestId, actor, kind, detail]);
}

export interface NewRequest {
  requestedBy: string;
  reason: string;
  action: RemoteMinerAction;
  dryRun: boolean;
  /** One request per container. */
  parts: Array<{ container: string; targets: string[] }>;
  /** For the audit: "reboot on 3 miners" etc. */
  describe: (part: { container: string; targets: string[] }) => string;
}

export interface ListFilter {
  container?: string;
  status?: ControlStatus;
  limit: number;
  /** Requests older than this id (the next page). */
  before?: number;
}

export class ControlStore {
  private readonly ttlMs: number;

  constructor(
    private readonly pool: Pool,
    options: { ttlMs?: number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? CONTROL_REQUEST_TTL_MS;
  }

  /** Queues one request per container in one transaction; all or none. */
  async create(input: NewRequest): Promise<ControlRequest[]> {
    return inTransaction(this.pool, async (tx) => {
      const made: ControlRequest[] = [];
      for (const part of input.parts) {
        const { rows } = await tx.query<Row>(
          `INSERT INTO maintenance.control_request (requested_by, reason, container, targets, action, dry_run, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, now() + $7 * interval '1 millisecond') RETURNING ${COLUMNS}`,
          [input.requestedBy, input.reason, part.container, part.targets, JSON.stringify(input.action), input.dryRun, this.ttlMs],
        );
        const request = requestOf(rows[0] as Row);
        await addEvent(tx, request.id, input.requestedBy, 'created', input.describe(part));
        made.push(request);
      }
      return made;
    });
  }

  /** Newest first; `next` is the `before` of the following page, null on the last. */
  async list(filter: ListFilter): Promise<{ requests: ControlRequest[]; next: number | null }> {
    await this.expireOverdue();
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.container) where.push(`container = $${params.push(filter.container)}`);
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.before !== undefined) where.push(`id < $${params.push(filter.before)}`);
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM maintenance.control_request ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.push(filter.limit + 1)}`,
      params,
    );
    const requests = rows.slice(0, filter.limit).map(requestOf);
    return { requests, next: rows.length > filter.limit ? (requests[requests.length - 1]?.id ?? null) : null };
  }

  async get(id: number): Promise<{ request: ControlRequest; events: ControlEvent[] }> {
    await this.expireOverdue();
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM maintenance.control_request WHERE id = $1`, [id]);
    if (!rows[0]) throw new ControlRequestError(`no control request #${id}`, 404);
    const events = await this.pool.query<ControlEvent>('SELECT at, actor, kind, detail FROM maintenance.control_event WHERE request_id = $1 ORDER BY id', [id]);
    return { request: requestOf(rows[0]), events: events.rows };
  }

  /** Only a queued request can be cancelled: once an edge has it, it is running. */
  async cancel(id: number, by: string): Promise<ControlRequest> {
    await this.expireOverdue();
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM maintenance.control_request WHERE id = $1 FOR UPDATE`, [id]);
      const row = rows[0];
      if (!row) throw new ControlRequestError(`no control request #${id}`, 404);
      if (row.status !== 'queued') {
        throw new ControlRequestError(`request #${id} is ${row.status}${row.status === 'claimed' ? ` (edge ${row.claimed_by ?? '?'} is carrying it out)` : ''}: only a queued request can be cancelled`, 409);
      }
      const updated = await tx.query<Row>(`UPDATE maintenance.control_request SET status = 'cancelled', finished_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      await addEvent(tx, id, by, 'cancelled');
      return requestOf(updated.rows[0] as Row);
    });
  }

  /** Marks queued requests past their expiry as expired (all containers, or one); returns how many. */
  async expireOverdue(container?: string): Promise<number> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE maintenance.control_request SET status = 'expired', finished_at = now()
       WHERE status = 'queued' AND expires_at <= now() ${container === undefined ? '' : `AND container = $${params.push(container)}`} RETURNING id`,
      params,
    );
    for (const r of rows) await addEvent(this.pool, Number(r.id), 'center', 'expired', 'not claimed by its edge before it expired');
    return rows.length;
  }

  /** The container's queued, unexpired requests, oldest first. */
  async pending(container: string): Promise<ControlRequest[]> {
    await this.expireOverdue(container);
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM maintenance.control_request WHERE container = $1 AND status = 'queued' AND expires_at > now() ORDER BY id LIMIT $2`,
      [container, MAX_PENDING_REQUESTS],
    );
    return rows.map(requestOf);
  }

  /** Hands a queued request to its container's edge, once. */
  async claim(id: number, container: string, edge: string): Promise<ControlRequest> {
    const outcome = await inTransaction(this.pool, async (tx) => {
      const row = await this.lockedOf(tx, id, container);
      if (row.status === 'queued' && row.expires_at.getTime() <= (await dbNow(tx))) {
        await tx.query("UPDATE maintenance.control_request SET status = 'expired', finished_at = now() WHERE id = $1", [id]);
        await addEvent(tx, id, 'center', 'expired', `claimed by ${edge} after it expired`);
        return { expired: true as const };
      }
      if (row.status !== 'queued') throw new ControlRequestError(`request #${id} is ${row.status}, not queued: it is handed out once`, 409);
      const updated = await tx.query<Row>(`UPDATE maintenance.control_request SET status = 'claimed', claimed_at = now(), claimed_by = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [id, edge]);
      await addEvent(tx, id, edge, 'claimed');
      return { request: requestOf(updated.rows[0] as Row) };
    });
    if ('expired' in outcome) throw new ControlRequestError(`request #${id} expired before it was claimed: it will not be carried out`, 410);
    return outcome.request;
  }

  /** The edge's results so far; `done` closes the request. Only the edge that claimed it may post. */
  async report(id: number, container: string, edge: string, body: ResultsBody): Promise<ControlRequest> {
    return inTransaction(this.pool, async (tx) => {
      const row = await this.lockedOf(tx, id, container);
      if (row.status !== 'claimed') throw new ControlRequestError(`request #${id} is ${row.status}: results are taken while it is claimed`, 409);
      if (row.claimed_by !== edge) throw new ControlRequestError(`request #${id} was claimed by ${row.claimed_by ?? '?'}, not ${edge}`, 403);
      const updated = await tx.query<Row>(
        `UPDATE maintenance.control_request SET results = $2, status = CASE WHEN $3 THEN 'done' ELSE status END,
           finished_at = CASE WHEN $3 THEN now() ELSE finished_at END WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, JSON.stringify(body.results), body.done],
      );
      if (body.done) await addEvent(tx, id, edge, 'done', outcomeCounts(body.results));
      return requestOf(updated.rows[0] as Row);
    });
  }

  /** The row under lock, refused when it is another container's (403) or unknown (404). */
  private async lockedOf(tx: PoolClient, id: number, container: string): Promise<Row> {
    const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM maintenance.control_request WHERE id = $1 FOR UPDATE`, [id]);
    const row = rows[0];
    if (!row) throw new ControlRequestError(`no control request #${id}`, 404);
    if (row.container !== container) throw new ControlRequestError(`request #${id} is for container ${row.container}, not ${container}`, 403);
    return row;
  }
}

async function dbNow(tx: PoolClient): Promise<number> {
  // clock_timestamp(), not now(): now() is the transaction's start, and the row lock may have waited.
  const { rows } = await tx.query<{ t: Date }>('SELECT clock_timestamp() AS t');
  return (rows[0] as { t: Date }).t.getTime();
}

/** "3 confirmed, 1 refused" */
export function outcomeCounts(results: readonly MinerResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return results.length === 0 ? 'no miners' : [...counts].map(([o, n]) => `${n} ${o}`).join(', ');
}
