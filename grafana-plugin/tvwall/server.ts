/**
 * The TV-wall server: the kiosk page, its browser bundle, and /api/farm (the farm's latest state from InfluxDB).
 * No Grafana needed, so screens on the farm floor keep working when Grafana is down or not installed.
 * Every response carries a strict CSP (scripts from this server only, the page's one <style> by nonce), refuses
 * framing and MIME sniffing; slot links are limited to this site and the configured Grafana (src/links.ts).
 * /api/band adds the band's maintenance figures (tickets, MTTR, on call) from PostgreSQL when a pool is given, and
 * answers { configured: false } without one: the wall runs without the maintenance database.
 * The page and the farm's state need scope tvwall:read: staff signed in to the portal, or a screen's token (sent as
 * a bearer header, or opened once as /?token=... which leaves it in an HttpOnly cookie); /healthz and the static
 * bundle (no farm data in it) stay open.
 */
import express, { type Response } from 'express';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { escapeHtml, requireStaff, tokenLinkSignIn, type Authenticator, type InfluxStore } from '@flymining/shared';
import { pageHeaders } from '@flymining/shared/src/http/page-headers';
import type { Pool } from 'pg';
import { z } from 'zod';
import { readMaintenanceBand } from './band-source';
import { readFarm } from './farm-source';

/** The cookie a wall screen keeps its token in after opening /?token=... once. */
export const TVWALL_TOKEN_COOKIE = 'flymining.tvwall_token';

export interface TvWallSettings {
  store: InfluxStore;
  /** Decides who may see the wall; its tokenCookie must be TVWALL_TOKEN_COOKIE for token links to work. */
  authenticator: Authenticator;
  site?: string;
  /** Minutes of data the page considers (a miner silent for longer is not on the wall). */
  windowMinutes?: number;
  /** Seconds between the page's refreshes. */
  refreshSeconds?: number;
  title?: string;
  /**
   * Base URLs of the farm's Grafana (absolute http(s)): `?link=` may open pages under them as well as this
   * server's own. Anything else (javascript:, other sites) is not followed.
   */
  grafanaUrls?: string[];
  /** The maintenance database (tickets, rota) for the band; without it the band says "tickets: not configured". */
  maintenancePool?: Pool;
}

const grafanaUrlsSchema = z.array(
  z
    .string()
    .url('must be an absolute URL, e.g. https://grafana.farm.example/')
    .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
);

/** The settings' Grafana base URLs, validated (an error names the setting and the bad entry). */
export function checkGrafanaUrls(urls: readonly string[]): string[] {
  const result = grafanaUrlsSchema.safeParse(urls);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`TV wall: grafanaUrls (--grafana-url, FLYMINING_TVWALL_GRAFANA_URL) entry "${urls[Number(issue.path[0])]}" ${issue.message}`);
  }
  return result.data;
}

const bundleDir = path.join(__dirname, 'dist');

export function createTvWallApp(settings: TvWallSettings): express.Express {
  if (!existsSync(path.join(bundleDir, 'tvwall.js'))) {
    throw new Error(`TV wall: ${bundleDir}/tvwall.js is missing; run npm run build -w grafana-plugin`);
  }
  const grafanaUrls = checkGrafanaUrls(settings.grafanaUrls ?? []);
  const app = express();
  app.disable('x-powered-by');
  const refresh = settings.refreshSeconds ?? 15;
  const title = settings.title ?? `FlyMining ${settings.site ?? 'farm'}`;
  app.use(
    pageHeaders({
      // Scripts from this server only; the page's own <style> by this response's nonce, React sets element styles
      // through the DOM (allowed).
      scriptSrc: ["'self'"],
      connectSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      formAction: ["'none'"],
      // Served over plain HTTP on the farm network too: HSTS belongs to the TLS proxy in front, if any.
      hsts: false,
    }),
  );
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  app.use('/assets', express.static(bundleDir, { maxAge: 0 }));
  const guard = { scope: 'tvwall:read' as const, authenticator: settings.authenticator };
  app.use(tokenLinkSignIn(guard));
  app.use(requireStaff(guard));
  app.get('/api/farm', (_req, res) => {
    readFarm(settings.store, { site: settings.site, windowMinutes: settings.windowMinutes ?? 30 }).then(
      (snapshot) => res.set('cache-control', 'no-store').json(snapshot),
      (err: unknown) => res.status(502).json({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
  app.get('/api/band', (_req, res) => {
    readMaintenanceBand(settings.maintenancePool).then(
      (band) => res.set('cache-control', 'no-store').json(band),
      (err: unknown) => res.status(502).json({ error: `maintenance database: ${err instanceof Error ? err.message : String(err)}` }),
    );
  });
  const send = (res: Response, pageTitle: string, script: string, refreshSeconds: number) =>
    res.type('html').send(page({ title: pageTitle, script, refreshSeconds, nonce: String(res.locals.cspNonce), grafanaUrls }));
  app.get('/', (_req, res) => send(res, title, 'tvwall.js', refresh));
  app.get('/bench', (_req, res) => send(res, 'rack map benchmark', 'bench.js', 0));
  return app;
}

function page(p: { title: string; script: string; refreshSeconds: number; nonce: string; grafanaUrls: readonly string[] }): string {
  // Space-separated: a valid URL has no unencoded spaces.
  const bases = escapeHtml(p.grafanaUrls.join(' '));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(p.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${p.nonce}">html,body{margin:0;height:100%;background:#000;color:#fff;overflow:hidden;font-family:Inter,Arial,sans-serif}</style>
</head><body data-refresh-seconds="${p.refreshSeconds}" data-link-bases="${bases}"><div id="root"></div><script src="/assets/${p.script}"></script></body></html>`;
}

export function listen(app: express.Express, port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
