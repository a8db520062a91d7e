/**
 * HTTP API: list alerts and groups, create and expire silences and recurring maintenance windows, acknowledge a
 * group; /metrics and /healthz. Every body is validated here, and errors name the field. Everything under /api
 * needs staff authentication (shared/src/auth: the portal's staff session or a bearer token with the scope);
 * /healthz and /metrics stay open; the acknowledge pages (/ack) are authorised by their signed link instead.
 */
import { randomUUID } from 'node:crypto';
import { describePrincipal, escapeHtml, formatIssues, parseDuration, principalOf, requireStaff, type Authenticator } from '@flymining/shared';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import { parseMatcher } from './matchers';
import { MAX_PATTERN_LENGTH } from './regex';
import { windowSchedule } from './config';
import { firingHashOf } from './notify/notice';
import { recipientOf } from './notify/registry';
import type { Silence } from './pipeline/silence';
import type { AlertingService } from './service';

/** Refused with parseMatcher's own reason, which quotes the matcher (bad syntax, or a pattern the engine refuses). */
const matcherText = z
  .string()
  .max(MAX_PATTERN_LENGTH + 100, `a matcher is at most ${MAX_PATTERN_LENGTH + 100} characters`)
  .superRefine((m, ctx) => {
    try {
      parseMatcher(m);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

const time = z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

const silenceBody = z
  .strictObject({
    matchers: z.array(matcherText).min(1).max(50),
    comment: z.string().min(1).max(500),
    /** Ignored when given: the creator recorded is who signed in (older clients still send it). */
    createdBy: z.string().max(100).optional(),
    startsAt: time.optional(),
    endsAt: time.optional(),
    /** Instead of endsAt: "2h", "30m". */
    duration: z.string().optional(),
    /** Makes it a recurring maintenance window: active only during the schedule. */
    schedule: windowSchedule.optional(),
  })
  .superRefine((b, ctx) => {
    if (b.duration !== undefined) {
      try {
        parseDuration(b.duration);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['duration'], message: (e as Error).message });
      }
    }
    if (!b.schedule && b.endsAt === undefined && b.duration === undefined) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a one-off silence needs endsAt or duration' });
  });

const REDIS_DOWN = { error: 'Redis unreachable: alerts, silences and acknowledgements are unavailable until it is back', retry: true };

function problems(error: z.ZodError): string[] {
  return formatIssues(error, { whole: '(body)' });
}

export interface ApiOptions {
  /** Staff sessions and bearer tokens (shared/src/auth): required on every /api route. */
  authenticator: Authenticator;
}

function page(res: Response, status: number, text: string, form = ''): void {
  res
    .status(status)
    .set('cache-control', 'no-store')
    .type('html')
    .send(`<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>FlyMining alerting</title><p>${escapeHtml(text)}</p>${form}</html>`);
}

export function createApi(service: AlertingService, { authenticator }: ApiOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Nothing here is meant to run script, load anything or be framed; the ack pages post only to themselves, and the
  // signed link in their address must not leak through a Referer to another site. (Not no-referrer: browsers then
  // send "Origin: null" with the ack form's POST, which the Origin check below refuses.)
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"] } },
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use(express.json({ limit: '64kb' }));

  app.get('/healthz', async (_req, res) => {
    const health = await service.health();
    res.status(health.ok ? 200 : 503).json(health);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(service.metrics.registry.contentType).send(await service.metrics.registry.metrics());
  });

  const read = requireStaff({ scope: 'alerting:read', authenticator });
  const write = requireStaff({ scope: 'alerting:write', authenticator });
  // Every answer below comes from Redis: while it is down, say so (503) instead of failing with a 500.
  const needsRedis = (_req: Request, res: Response, next: NextFunction): void => {
    if (service.redisReady()) return next();
    res.status(503).json(REDIS_DOWN);
  };
  app.use('/api', needsRedis);
  app.use('/ack', needsRedis);
  app.use('/api', (req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? read : write)(req, res, next));

  app.get('/api/alerts', async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    const { alerts } = await service.snapshot();
    res.json(alerts.filter((a) => !state || a.state === state));
  });

  app.get('/api/groups', async (_req, res) => {
    const { groups, acks } = await service.snapshot();
    res.json(
      groups.map((g) => {
        const hash = firingHashOf(g.alerts.filter((a) => a.state === 'firing').map((a) => a.fingerprint));
        const ack = acks.get(g.id);
        return {
          id: g.id,
          key: g.key,
          receiver: g.route.receiver,
          labels: g.groupLabels,
          alerts: g.alerts.length,
          /** True while the acknowledgement covers the current firing alerts. */
          acknowledged: ack?.firingHash === hash,
          ...(ack ? { acknowledgedBy: ack.by, acknowledgedAt: ack.at > 0 ? new Date(ack.at).toISOString() : null } : {}),
        };
      }),
    );
  });

  app.get('/api/silences', async (_req, res) => {
    res.json(await service.state.silences());
  });

  app.post('/api/silences', async (req, res) => {
    const parsed = silenceBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid silence', problems: problems(parsed.error) });
      return;
    }
    const b = parsed.data;
    const now = Date.now();
    const startsAt = b.startsAt ?? now;
    const endsAt = b.endsAt ?? (b.duration ? startsAt + parseDuration(b.duration) : Number.MAX_SAFE_INTEGER);
    if (endsAt <= startsAt) {
      res.status(400).json({ error: 'invalid silence', problems: ['endsAt: must be after startsAt'] });
      return;
    }
    const createdBy = describePrincipal(principalOf(res)!);
    const silence: Silence = { id: randomUUID(), matchers: b.matchers, comment: b.comment, createdBy, createdAt: now, startsAt, endsAt, schedule: b.schedule };
    await service.state.saveSilence(silence);
    service.wake();
    res.status(201).json(silence);
  });

  app.delete('/api/silences/:id', async (req, res) => {
    const silence = (await service.state.silences()).find((s) => s.id === req.params.id);
    if (!silence) {
      res.status(404).json({ error: `no silence ${req.params.id}` });
      return;
    }
    // Expired, not deleted: the record of who silenced what stays.
    const expired = { ...silence, endsAt: Math.min(silence.endsAt, Date.now()), expiredBy: describePrincipal(principalOf(res)!) };
    await service.state.saveSilence(expired);
    service.wake();
    res.json(expired);
  });

  const acknowledge = async (id: string, by: string, receiver?: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const group = (await service.snapshot()).groups.find((g) => g.id === id);
    if (!group) return { status: 404, body: { error: 'no such group (it may have resolved already)' } };
    if (receiver !== undefined && group.route.receiver !== receiver) return { status: 403, body: { error: `this link was sent to ${receiver}, and this group now goes to another receiver` } };
    const firingHash = firingHashOf(group.alerts.filter((a) => a.state === 'firing').map((a) => a.fingerprint));
    const at = Date.now();
    await service.state.acknowledge(id, { firingHash, by, at });
    // The group's repair tickets too (maintenance section); PostgreSQL failing leaves the Redis acknowledgement.
    const tickets = await service.acknowledgeTickets(group.key, by);
    return { status: 200, body: { acknowledged: group.key, by, at: new Date(at).toISOString(), alerts: group.alerts.length, ...(tickets ? { tickets } : {}) } };
  };

  app.post('/api/groups/:id/ack', async (req, res) => {
    const { status, body } = await acknowledge(String(req.params.id), describePrincipal(principalOf(res)!));
    res.status(status).json(body);
  });

  // The link in each notice opens a page with one button: a GET never acknowledges, because mail scanners and
  // link previews fetch links nobody clicked. The link's signature goes into the form: it is what authorises the
  // POST, so a cross-site form that does not hold the link cannot acknowledge.
  const signer = service.config.link_signer;
  const checkLink = (req: Request, params: Record<string, unknown>): ReturnType<NonNullable<typeof signer>['verify']> =>
    signer ? signer.verify(String(req.params.id), params, Date.now()) : { ok: false, reason: 'acknowledge links are not enabled on this service (no external_url and link secret)' };

  app.get('/ack/:id', async (req, res) => {
    const id = String(req.params.id);
    const link = checkLink(req, req.query);
    if (!link.ok) return page(res, 403, `Refused: ${link.reason}.`);
    const group = (await service.snapshot()).groups.find((g) => g.id === id);
    if (!group) return page(res, 404, 'No such group (it may have resolved already).');
    if (group.route.receiver !== link.claims.receiver) return page(res, 403, `Refused: this link was sent to ${link.claims.receiver}, and this group goes to another receiver.`);
    const fields = typeof req.query.t === 'string' ? (['r', 'i', 'e', 's', 't'] as const) : (['r', 'i', 'e', 's'] as const);
    const hidden = fields.map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(String(req.query[k]))}">`).join('');
    page(
      res,
      200,
      `Acknowledge ${group.key} (${group.alerts.length} alerts)? Reminders stop until its alerts change.`,
      `<form method="post" action="/ack/${encodeURIComponent(id)}">${hidden}<button type="submit">Acknowledge</button></form>`,
    );
  });

  app.post('/ack/:id', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
    // Browsers send Origin with every form POST: one from another site is refused even with a valid signature.
    const origin = req.get('origin');
    const own = [`${req.protocol}://${req.get('host') ?? ''}`, ...(service.config.external_url ? [new URL(service.config.external_url).origin] : []), ...(authenticator.options.allowedOrigins ?? [])];
    if (origin !== undefined && origin !== 'null' && !own.includes(origin)) return page(res, 403, `Refused: a request from ${origin} cannot acknowledge.`);
    if (origin === 'null') return page(res, 403, 'Refused: a request from an opaque origin cannot acknowledge.');
    const link = checkLink(req, (req.body ?? {}) as Record<string, unknown>);
    if (!link.ok) return page(res, 403, `Refused: ${link.reason}.`);
    // A staff member signed in to the portal is named; otherwise the person (on-call page) or address the link was sent to.
    const staff = req.get('cookie') ? await authenticator.decide(req, 'alerting:write') : undefined;
    const by = staff?.ok
      ? describePrincipal(staff.principal)
      : (link.claims.to ?? recipientOf(service.config.receivers.find((r) => r.name === link.claims.receiver), link.claims.receiver, link.claims.integration));
    const { status, body } = await acknowledge(String(req.params.id), by, link.claims.receiver);
    page(res, status, status === 200 ? `Acknowledged by ${by}: no reminders for ${String(body.acknowledged)} until its alerts change.` : `${status === 403 ? 'Refused: ' : ''}${String(body.error)}`);
  });

  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    // Redis lost in the middle of a request (the check above passed a moment earlier).
    if (!service.redisReady()) {
      res.status(503).json(REDIS_DOWN);
      return;
    }
    const status = (err as Error & { status?: number }).status ?? 500;
    res.status(status).json({ error: status === 500 ? 'internal error' : err.message });
  });
  return app;
}
