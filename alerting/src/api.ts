/**
 * HTTP API: list alerts and groups, create and expire silences and recurring maintenance windows, acknowledge a
 * group; /metrics and /healthz. Every body is validated here, and errors name the field.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { parseDuration } from './duration';
import { parseMatcher } from './matchers';
import { MAX_PATTERN_LENGTH } from './regex';
import { windowSchedule } from './config';
import { firingHashOf } from './pipeline/dedup';
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
    createdBy: z.string().min(1).max(100),
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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function problems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
}

export function createApi(service: AlertingService): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  app.get('/healthz', async (_req, res) => {
    const health = await service.health();
    res.status(health.ok ? 200 : 503).json(health);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(service.metrics.registry.contentType).send(await service.metrics.registry.metrics());
  });

  // Every answer below comes from Redis: while it is down, say so (503) instead of failing with a 500.
  const needsRedis = (_req: Request, res: Response, next: NextFunction): void => {
    if (service.redisReady()) return next();
    res.status(503).json(REDIS_DOWN);
  };
  app.use('/api', needsRedis);
  app.use('/ack', needsRedis);

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
        return { id: g.id, key: g.key, receiver: g.route.receiver, labels: g.groupLabels, alerts: g.alerts.length, acknowledged: acks.get(g.id) === hash };
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
    const silence: Silence = { id: randomUUID(), matchers: b.matchers, comment: b.comment, createdBy: b.createdBy, createdAt: now, startsAt, endsAt, schedule: b.schedule };
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
    const expired = { ...silence, endsAt: Math.min(silence.endsAt, Date.now()) };
    await service.state.saveSilence(expired);
    service.wake();
    res.json(expired);
  });

  const acknowledge = async (id: string, by: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const group = (await service.snapshot()).groups.find((g) => g.id === id);
    if (!group) return { status: 404, body: { error: 'no such group (it may have resolved already)' } };
    const hash = firingHashOf(group.alerts.filter((a) => a.state === 'firing').map((a) => a.fingerprint));
    await service.state.acknowledge(id, hash);
    return { status: 200, body: { acknowledged: group.key, by, alerts: group.alerts.length } };
  };

  app.post('/api/groups/:id/ack', async (req, res) => {
    const by = typeof req.body?.by === 'string' ? req.body.by.slice(0, 100) : 'api';
    const { status, body } = await acknowledge(String(req.params.id), by);
    res.status(status).json(body);
  });

  // The link in each notice opens a page with one button: a GET never acknowledges, because mail scanners and
  // link previews fetch links nobody clicked.
  app.get('/ack/:id', async (req, res) => {
    const id = String(req.params.id);
    const group = (await service.snapshot()).groups.find((g) => g.id === id);
    const text = group ? `Acknowledge ${group.key} (${group.alerts.length} alerts)? Reminders stop until its alerts change.` : 'No such group (it may have resolved already).';
    res
      .status(group ? 200 : 404)
      .type('html')
      .send(
        `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>FlyMining alerting</title><p>${escapeHtml(text)}</p>` +
          (group ? `<form method="post" action="/ack/${encodeURIComponent(id)}"><button type="submit">Acknowledge</button></form>` : ''),
      );
  });

  app.post('/ack/:id', async (req, res) => {
    const { status, body } = await acknowledge(String(req.params.id), 'link');
    const text = status === 200 ? `Acknowledged: no reminders for ${String(body.acknowledged)} until its alerts change.` : String(body.error);
    res.status(status).type('html').send(`<!doctype html><meta charset="utf-8"><title>FlyMining alerting</title><p>${escapeHtml(text)}</p>`);
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
