/**
 * Miner actions from the center (issue 14), mounted on the maintenance staff server before its own guard:
 *
 *   staff (control:read / control:write; portal staff sessions hold both)
 *     GET  /control                          the page: a form and the requests with per-miner outcomes
 *     POST /api/control/requests             {targets, allIn, action, reason, dryRun} → 202 {requests: [{id, container}]}
 *     GET  /api/control/requests[?container&status&limit&before]   newest first, paginated
 *     GET  /api/control/requests/:id         one request, its results per miner and its audit trail
 *     POST /api/control/requests/:id/cancel  while it is queued
 *   an edge (control:edge, a token named edge-<container>: it sees and claims its own container's requests only)
 *     GET  /edge/control/v1/pending[?container=C02]
 *     POST /edge/control/v1/:id/claim        once, under a row lock; 410 when it expired
 *     POST /edge/control/v1/:id/results      {results, done}
 *
 * The center never connects to an edge: the edge polls through the uplink gateway (docker/uplink-gateway.conf).
 */
import { describePrincipal, principalOf, requireStaff, type Authenticator, type Inventory, type Logger } from '@flymining/shared';
import {
  CONTROL_EDGE_PREFIX,
  MAX_REQUEST_TARGETS,
  MAX_RESULTS_BODY_BYTES,
  containerNameSchema,
  containerOfEdgeToken,
  minerActionSchema,
  resultsBodySchema,
  targetWordSchema,
  type RemoteMinerAction,
} from '@flymining/shared/src/control-link';
import { describeAction } from '@flymining/exporters/src/miner/control/types';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { actorSchema } from '../domain';
import { InputError, parse } from '../staff/inputs';
import type { PageFrame } from '../staff/views';
import { errorPage } from '../staff/views';
import { controlPage, controlPageQuerySchema, requestList } from './page';
import { CONTROL_STATUSES, ControlRequestError, ControlStore, forEdge, outcomeCounts, type ControlRequest } from './store';
import { splitByContainer } from './targets';

const STAFF_BODY_BYTES = 16 * 1024;
const PAGE_SIZE = 20;

const requestBodySchema = z
  .strictObject({
    targets: z.array(targetWordSchema).max(MAX_REQUEST_TARGETS, `at most ${MAX_REQUEST_TARGETS} targets`).default([]),
    allIn: z.array(containerNameSchema).max(50).default([]),
    action: minerActionSchema,
    reason: z.string().trim().min(1, 'say why (a ticket number, what you saw)').max(500).regex(/^[^\u0000-\u001f]*$/, 'no control characters'),
    dryRun: z.boolean().default(false),
    /** A shared screen's token names who is at it. */
    by: actorSchema.optional(),
  })
  .refine((b) => b.targets.length + b.allIn.length > 0, { message: 'name at least one miner id or slot path, or a container in allIn', path: ['targets'] });

const idSchema = z.string().regex(/^\d{1,15}$/, 'a request number such as 42').transform(Number);
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
export const listQuerySchema = z.object({
  container: z.preprocess(emptyAsUndefined, containerNameSchema.optional()),
  status: z.preprocess(emptyAsUndefined, z.enum(CONTROL_STATUSES, { error: `one of ${CONTROL_STATUSES.join(', ')}` }).optional()),
  limit: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).default(50)),
  before: z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().optional()),
});
const cancelBodySchema = z.strictObject({ by: actorSchema.optional() });
const claimBodySchema = z.strictObject({});
const pendingQuerySchema = z.strictObject({ container: containerNameSchema.optional() });

export interface ControlRoutesOptions {
  store: ControlStore;
  authenticator: Authenticator;
  /** The center's inventory (FLYMINING_INVENTORY), re-read when the file changes; undefined: none configured. */
  inventory: () => Inventory | undefined;
  /** The staff pages' frame (who, time zone, nonce). */
  frame: (res: Response) => Promise<PageFrame>;
  log?: Logger;
}

/** What staff read of an action: pool passwords left out. */
function staffAction(action: RemoteMinerAction): unknown {
  return action.kind === 'pools' ? { kind: 'pools', pools: action.pools.map((p) => ({ url: p.url, user: p.user })) } : action;
}

export function forStaff(r: ControlRequest): Record<string, unknown> {
  return {
    id: r.id,
    createdAt: r.createdAt,
    requestedBy: r.requestedBy,
    reason: r.reason,
    container: r.container,
    targets: r.targets,
    action: staffAction(r.action),
    description: describeAction(r.action),
    dryRun: r.dryRun,
    status: r.status,
    claimedAt: r.claimedAt,
    claimedBy: r.claimedBy,
    expiresAt: r.expiresAt,
    finishedAt: r.finishedAt,
    summary: r.results ? outcomeCounts(r.results) : null,
    results: r.results ?? [],
  };
}

export function controlRouter(options: ControlRoutesOptions): express.Router {
  const { store, authenticator, log } = options;
  const router = express.Router();
  const read = requireStaff({ scope: 'control:read', authenticator });
  const write = requireStaff({ scope: 'control:write', authenticator });
  const edge = requireStaff({ scope: 'control:edge', authenticator });
  const staffJson = express.json({ limit: STAFF_BODY_BYTES, strict: true });
  const noStore = (_req: Request, res: Response, next: NextFunction) => {
    res.set('cache-control', 'no-store');
    next();
  };

  /** Who acts: a staff account by its address; a token by the name the screen gives, else the token's. */
  const actorOf = (res: Response, by: string | undefined): string => {
    const principal = principalOf(res)!;
    return principal.kind === 'staff' ? principal.email : (by ?? describePrincipal(principal));
  };

  // Staff: the page and the API.
  router.get('/control', read, noStore, async (req, res) => {
    const q = parse(controlPageQuerySchema, req.query, '(query)');
    const list = await store.list({ container: q.container, status: q.status, limit: PAGE_SIZE, before: q.before });
    const inventory = options.inventory();
    const view = { list, query: q, containers: inventory?.containers.map((c) => c.name) ?? null, inventorySource: inventory?.source };
    const frame = await options.frame(res);
    res.type('html').send(q.part === 'requests' ? requestList(frame, view) : controlPage(frame, view));
  });
  router.post('/api/control/requests', write, staffJson, noStore, async (req, res) => {
    const body = parse(requestBodySchema, req.body, '(body)');
    const inventory = options.inventory();
    if (!inventory) throw new ControlRequestError('the maintenance service has no inventory (FLYMINING_INVENTORY): it cannot tell which container a miner is in', 503);
    const split = splitByContainer(inventory, body.targets, body.allIn);
    if ('problems' in split) throw new InputError(split.problems);
    const who = actorOf(res, body.by);
    const what = describeAction(body.action);
    const made = await store.create({
      requestedBy: who,
      reason: body.reason,
      action: body.action,
      dryRun: body.dryRun,
      parts: split.parts,
      describe: (part) => `${body.dryRun ? 'dry run: ' : ''}${what} on ${part.targets.join(' ')} (${split.parts.find((p) => p.container === part.container)?.miners ?? '?'} miners) because: ${body.reason}`,
    });
    log?.info({ by: who, action: what, dryRun: body.dryRun, requests: made.map((r) => ({ id: r.id, container: r.container, targets: r.targets })) }, 'control requests queued for the edges');
    res.status(202).json({ requests: made.map((r) => ({ id: r.id, container: r.container, targets: r.targets, miners: split.parts.find((p) => p.container === r.container)?.miners ?? 0, expiresAt: r.expiresAt })) });
  });
  router.get('/api/control/requests', read, noStore, async (req, res) => {
    const q = parse(listQuerySchema, req.query, '(query)');
    const page = await store.list(q);
    res.json({ requests: page.requests.map(forStaff), next: page.next });
  });
  router.get('/api/control/requests/:id', read, noStore, async (req, res) => {
    const { request, events } = await store.get(parse(idSchema, req.params.id, 'request id'));
    res.json({ ...forStaff(request), events });
  });
  router.post('/api/control/requests/:id/cancel', write, staffJson, noStore, async (req, res) => {
    const id = parse(idSchema, req.params.id, 'request id');
    const who = actorOf(res, parse(cancelBodySchema, req.body ?? {}, '(body)').by);
    const cancelled = await store.cancel(id, who);
    log?.info({ by: who, id }, 'control request cancelled');
    res.json(forStaff(cancelled));
  });

  // Edges: a token named edge-<container> with control:edge, for its own container only.
  const edgeContainer = (res: Response): { edge: string; container: string } => {
    const principal = principalOf(res)!;
    const container = principal.kind === 'token' ? containerOfEdgeToken(principal.name) : undefined;
    if (principal.kind !== 'token' || container === undefined) {
      throw new ControlRequestError(`${describePrincipal(principal)} is not an edge: the edge API takes a token named edge-<container> (flymining tokens add edge-C02 --scope control:edge)`, 403);
    }
    return { edge: principal.name, container };
  };
  router.get(`${CONTROL_EDGE_PREFIX}/pending`, edge, noStore, async (req, res) => {
    const { edge: name, container } = edgeContainer(res);
    const asked = parse(pendingQuerySchema, req.query, '(query)').container ?? container;
    if (asked !== container) throw new ControlRequestError(`token ${name} serves container ${container}, not ${asked}`, 403);
    res.json({ requests: (await store.pending(container)).map(forEdge) });
  });
  router.post(`${CONTROL_EDGE_PREFIX}/:id/claim`, edge, staffJson, noStore, async (req, res) => {
    const { edge: name, container } = edgeContainer(res);
    const id = parse(idSchema, req.params.id, 'request id');
    parse(claimBodySchema, req.body ?? {}, '(body)');
    const claimed = await store.claim(id, container, name);
    log?.info({ edge: name, id, action: describeAction(claimed.action), requestedBy: claimed.requestedBy }, 'control request claimed by its edge');
    res.json({ request: forEdge(claimed), claimedAt: claimed.claimedAt });
  });
  router.post(`${CONTROL_EDGE_PREFIX}/:id/results`, edge, express.json({ limit: MAX_RESULTS_BODY_BYTES, strict: true }), noStore, async (req, res) => {
    const { edge: name, container } = edgeContainer(res);
    const id = parse(idSchema, req.params.id, 'request id');
    const body = parse(resultsBodySchema, req.body, '(body)');
    const updated = await store.report(id, container, name, body);
    if (body.done) log?.info({ edge: name, id, outcomes: outcomeCounts(body.results) }, 'control request done');
    res.json({ id: updated.id, status: updated.status });
  });

  router.use(async (err: unknown, req: Request, res: Response, next: NextFunction) => {
    const { status, message, problems } = describeControlError(err);
    if (status === 403 && req.path.startsWith('/edge/')) log?.warn({ path: req.path, reason: message }, 'edge control request refused');
    if (status >= 500 && status !== 503) log?.error({ err: err instanceof Error ? err.message : String(err), path: req.path }, 'control request failed');
    if (req.method === 'GET' && req.path === '/control') {
      const frame = await options.frame(res).catch(() => undefined);
      if (frame) {
        res.status(status).type('html').send(errorPage(frame, status, message));
        return;
      }
    }
    if (res.headersSent) return next(err);
    res.status(status).json({ error: message, ...(problems ? { problems } : {}) });
  });
  return router;
}

function describeControlError(err: unknown): { status: number; message: string; problems?: string[] } {
  if (err instanceof ControlRequestError) return { status: err.status, message: err.message };
  if (err instanceof InputError) return { status: 400, message: err.message, problems: err.problems };
  // body-parser's errors carry their status: 413 too large, 400 malformed JSON, 415 charset.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const type = (err as { type?: unknown }).type;
    const message = type === 'entity.too.large' ? 'body too large' : type === 'entity.parse.failed' ? 'body is not valid JSON' : String((err as Error).message);
    return { status, message };
  }
  return { status: 500, message: 'internal error (see the server log)' };
}
