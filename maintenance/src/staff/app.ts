/**
 * The maintenance staff server: HTML pages (open tickets, a ticket with its timeline and repair form, a machine's
 * and a part's history, the rota, the figures) and the JSON API under /api they and other tools use.
 *
 * Everything but /healthz and the page script needs shared/src/auth's requireStaff: maintenance:read for GETs,
 * maintenance:write for actions (portal staff sessions hold both; machines use bearer tokens). Actions take JSON
 * only (the guard refuses other content types, so another site's form cannot act with a technician's cookie);
 * the pages' script posts their forms as JSON. Bodies are capped at 16 kB, ids and filters validated with zod.
 */
import path from 'node:path';
import { describePrincipal, formatIssues, principalOf, requireStaff, type Authenticator, type InfluxStore, type Inventory, type Logger } from '@flymining/shared';
import { pageHeaders } from '@flymining/shared/src/http/page-headers';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { controlRouter } from '../control/routes';
import { ControlStore } from '../control/store';
import { TicketError } from '../domain';
import { backlog } from '../figures/report';
import { figures, rotaNow, staffData, summary, type StaffData } from './data';
import { machineChanges } from '../tickets/changes';
import { parseStaffTime } from './format';
import {
  InputError,
  parse,
  actorBodySchema,
  closeBodySchema,
  figuresQuerySchema,
  machineKeySchema,
  membersBodySchema,
  noteBodySchema,
  overrideBodySchema,
  overrideIdSchema,
  serialSchema,
  ticketIdSchema,
  ticketListQuerySchema,
} from './inputs';
import { errorPage, figuresPage, machinePage, partPage, rotaPage, ticketListPage, ticketPage, type PageFrame } from './views';

export const MAX_BODY_BYTES = 16 * 1024;
/** The cookie a workshop screen may keep its token in (Authenticator tokenCookie). */
export const MAINTENANCE_TOKEN_COOKIE = 'flymining.maintenance_token';

export interface StaffAppOptions {
  pool: Pool;
  authenticator: Authenticator;
  log?: Logger;
  /** Used for times until a rota (with its zone) is set up. */
  defaultTimeZone?: string;
  /** Where a machine's recorded changes (miner_change) are read; without it the history page says so. */
  influx?: InfluxStore;
  /** Miner actions (/control, /api/control, the edges' /edge/control/v1): the inventory splits them by container. */
  control?: { inventory: () => Inventory | undefined; ttlMs?: number };
  now?: () => Date;
}

/** Who acts: a staff account by its address; a token by the name it gives (a shared screen), else the token's. */
function actor(res: Response, by: string | undefined): string {
  const principal = principalOf(res)!;
  if (principal.kind === 'staff') return principal.email;
  return by ?? describePrincipal(principal);
}

export function createStaffApp(options: StaffAppOptions): express.Express {
  const data = staffData(options.pool, { now: options.now, defaultTimeZone: options.defaultTimeZone });
  const app = express();
  app.disable('x-powered-by');
  app.use(
    pageHeaders({
      scriptSrc: ["'self'"],
      connectSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      // Served over plain HTTP on the farm network too: HSTS belongs to the TLS proxy in front, if any.
      hsts: false,
    }),
  );
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  // Browsers ask for it on every page: no icon, and no 404 in their console.
  app.get('/favicon.ico', (_req, res) => res.status(204).end());
  app.get('/assets/staff.js', (_req, res) => res.sendFile(path.join(__dirname, 'assets', 'staff.js'), { maxAge: 0 }));
  app.get('/assets/control.js', (_req, res) => res.sendFile(path.join(__dirname, 'assets', 'control.js'), { maxAge: 0 }));
  // Before the maintenance guard: control has its own scopes (control:read/write, control:edge for the edges).
  app.use(
    controlRouter({
      store: new ControlStore(options.pool, { ttlMs: options.control?.ttlMs }),
      authenticator: options.authenticator,
      inventory: options.control?.inventory ?? (() => undefined),
      frame: (res) => frameOf(data, res),
      log: options.log,
    }),
  );

  const read = requireStaff({ scope: 'maintenance:read', authenticator: options.authenticator });
  const write = requireStaff({ scope: 'maintenance:write', authenticator: options.authenticator });
  // The guard before the body: a request without credentials is refused before anything of it is read.
  app.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? read : write)(req, res, next));
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));
  app.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  mountApi(app, data);
  mountPages(app, data, options);

  app.use('/api', (_req, res) => res.status(404).json({ error: 'no such API route' }));
  app.use(async (req: Request, res: Response, _next: NextFunction) => {
    res.status(404).type('html').send(errorPage(await frameOf(data, res), 404, `Nothing at ${req.path}.`));
  });
  app.use(async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, message, problems } = describeError(err);
    if (status >= 500) options.log?.error({ err: err instanceof Error ? err.message : String(err), path: req.path }, 'staff request failed');
    if (req.path.startsWith('/api') || req.method !== 'GET') {
      res.status(status).json({ error: message, ...(problems ? { problems } : {}) });
      return;
    }
    res.status(status).type('html').send(errorPage(await frameOf(data, res).catch(() => fallbackFrame(res)), status, message));
  });
  return app;
}

function describeError(err: unknown): { status: number; message: string; problems?: string[] } {
  if (err instanceof TicketError) return { status: err.status, message: err.message };
  if (err instanceof InputError) return { status: 400, message: err.message, problems: err.problems };
  if (err instanceof z.ZodError) {
    const problems = formatIssues(err, { whole: '(body)', limit: 10 });
    return { status: 400, message: problems.join('; '), problems };
  }
  // body-parser's errors carry their status: 413 too large, 400 malformed JSON, 415 charset.
  const status = (err as { status?: unknown; type?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const type = (err as { type?: unknown }).type;
    const message = type === 'entity.too.large' ? `body larger than ${MAX_BODY_BYTES / 1024} kB` : type === 'entity.parse.failed' ? 'body is not valid JSON' : String((err as Error).message);
    return { status, message };
  }
  return { status: 500, message: 'internal error (see the server log)' };
}

function fallbackFrame(res: Response): PageFrame {
  return { nonce: String(res.locals.cspNonce), who: '', askName: false, timeZone: 'UTC', now: new Date() };
}

async function frameOf(data: StaffData, res: Response): Promise<PageFrame> {
  const principal = principalOf(res);
  return {
    nonce: String(res.locals.cspNonce),
    who: principal ? describePrincipal(principal) : '',
    askName: principal?.kind === 'token',
    timeZone: await data.timeZone(),
    now: data.now(),
  };
}

function mountApi(app: express.Express, data: StaffData): void {
  const { tickets } = data;
  app.get('/api/tickets', async (req, res) => {
    const q = parse(ticketListQuerySchema, req.query, '(query)');
    res.json(await tickets.list(q));
  });
  app.get('/api/tickets/:id', async (req, res) => {
    res.json(await tickets.get(parse(ticketIdSchema, req.params.id, 'ticket id')));
  });
  app.post('/api/tickets/:id/ack', async (req, res) => {
    const id = parse(ticketIdSchema, req.params.id, 'ticket id');
    const b = parse(actorBodySchema, req.body ?? {}, '(body)');
    res.json(await tickets.acknowledge(id, actor(res, b.by)));
  });
  app.post('/api/tickets/:id/take', async (req, res) => {
    const id = parse(ticketIdSchema, req.params.id, 'ticket id');
    const b = parse(actorBodySchema, req.body ?? {}, '(body)');
    res.json(await tickets.take(id, actor(res, b.by)));
  });
  app.post('/api/tickets/:id/note', async (req, res) => {
    const id = parse(ticketIdSchema, req.params.id, 'ticket id');
    const b = parse(noteBodySchema, req.body, '(body)');
    res.json(await tickets.note(id, actor(res, b.by), b.text));
  });
  app.post('/api/tickets/:id/close', async (req, res) => {
    const id = parse(ticketIdSchema, req.params.id, 'ticket id');
    const { by, ...repair } = parse(closeBodySchema, req.body, '(body)');
    res.json(await tickets.close(id, actor(res, by), repair));
  });
  app.get('/api/machines/:key', async (req, res) => {
    res.json(await tickets.machineHistory(parse(machineKeySchema, req.params.key, 'machine')));
  });
  app.get('/api/parts/:serial', async (req, res) => {
    const serial = parse(serialSchema, req.params.serial, 'serial');
    res.json({ serial, repairs: await tickets.partHistory(serial) });
  });
  app.get('/api/rota', async (_req, res) => {
    const r = await rotaNow(data);
    res.json({ rota: r.rota ?? null, onCall: r.onCall ?? null, upcoming: r.upcoming });
  });
  app.post('/api/rota/overrides', async (req, res) => {
    const b = parse(overrideBodySchema, req.body, '(body)');
    const timeZone = await data.timeZone();
    const startsAt = parseStaffTime(b.from, timeZone);
    const endsAt = parseStaffTime(b.to, timeZone);
    if (!startsAt) throw new InputError([`from: "${b.from}" is not a time (2026-12-01T08:00, local to ${timeZone}, or ISO with an offset)`]);
    if (!endsAt) throw new InputError([`to: "${b.to}" is not a time (2026-12-01T08:00, local to ${timeZone}, or ISO with an offset)`]);
    const id = await data.rota.addOverride({ name: b.name, startsAt, endsAt, reason: b.reason }, describePrincipal(principalOf(res)!));
    res.status(201).json({ id, name: b.name, startsAt, endsAt, reason: b.reason });
  });
  app.delete('/api/rota/overrides/:id', async (req, res) => {
    const id = parse(overrideIdSchema, req.params.id, 'override id');
    if (!(await data.rota.removeOverride(id))) throw new TicketError(`no override #${id}`, 404);
    res.json({ removed: id });
  });
  app.put('/api/rota/members', async (req, res) => {
    const b = parse(membersBodySchema, req.body, '(body)');
    await data.rota.setMembers(b.names, describePrincipal(principalOf(res)!));
    res.json({ members: b.names });
  });
  app.get('/api/figures', async (req, res) => {
    res.json(await figures(data, parse(figuresQuerySchema, req.query, '(query)')));
  });
  app.get('/api/summary', async (_req, res) => {
    res.json(await summary(data));
  });
}

function mountPages(app: express.Express, data: StaffData, options: Pick<StaffAppOptions, 'influx' | 'log'>): void {
  const { tickets } = data;
  const html = (res: Response, body: string) => res.type('html').send(body);
  app.get('/', async (req, res) => {
    const q = parse(ticketListQuerySchema, req.query, '(query)');
    const frame = await frameOf(data, res);
    const [list, open] = await Promise.all([tickets.list(q), backlog(data.pool, frame.now)]);
    html(res, ticketListPage(frame, { tickets: list, filter: { state: q.state, container: q.container ?? '', technician: q.technician ?? '' }, backlog: open }));
  });
  app.get('/tickets/:id', async (req, res) => {
    const detail = await tickets.get(parse(ticketIdSchema, req.params.id, 'ticket id'));
    html(res, ticketPage(await frameOf(data, res), detail));
  });
  app.get('/machines/:key', async (req, res) => {
    const history = await tickets.machineHistory(parse(machineKeySchema, req.params.key, 'machine'));
    const changes = options.influx
      ? await machineChanges(options.influx, history).catch((err: unknown) => {
          options.log?.warn({ err: (err as Error).message }, "cannot read a machine's changes from InfluxDB");
          return 'unavailable' as const;
        })
      : undefined;
    html(res, machinePage(await frameOf(data, res), history, changes));
  });
  app.get('/parts/:serial', async (req, res) => {
    const serial = parse(serialSchema, req.params.serial, 'serial');
    html(res, partPage(await frameOf(data, res), serial, await tickets.partHistory(serial)));
  });
  app.get('/rota', async (_req, res) => {
    html(res, rotaPage(await frameOf(data, res), await rotaNow(data)));
  });
  app.get('/figures', async (req, res) => {
    const f = await figures(data, parse(figuresQuerySchema, req.query, '(query)'));
    html(res, figuresPage(await frameOf(data, res), { query: f.range, rows: f.rows, totals: f.totals, backlog: f.backlog, weekOverWeek: f.weekOverWeek, repeatOffenders: f.repeatOffenders }));
  });
}
