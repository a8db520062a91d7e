/**
 * The TV-wall server: the kiosk page, its browser bundle, and /api/farm (the farm's latest state from InfluxDB).
 * No Grafana needed, so screens on the farm floor keep working when Grafana is down or not installed.
 */
import express from 'express';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { InfluxStore } from '@flymining/shared';
import { readFarm } from './farm-source';

export interface TvWallSettings {
  store: InfluxStore;
  site?: string;
  /** Minutes of data the page considers (a miner silent for longer is not on the wall). */
  windowMinutes?: number;
  /** Seconds between the page's refreshes. */
  refreshSeconds?: number;
  title?: string;
}

const bundleDir = path.join(__dirname, 'dist');

export function createTvWallApp(settings: TvWallSettings): express.Express {
  if (!existsSync(path.join(bundleDir, 'tvwall.js'))) {
    throw new Error(`TV wall: ${bundleDir}/tvwall.js is missing; run npm run build -w grafana-plugin`);
  }
  const app = express();
  const refresh = settings.refreshSeconds ?? 15;
  const title = settings.title ?? `FlyMining ${settings.site ?? 'farm'}`;
  app.get('/api/farm', (_req, res) => {
    readFarm(settings.store, { site: settings.site, windowMinutes: settings.windowMinutes ?? 30 }).then(
      (snapshot) => res.set('cache-control', 'no-store').json(snapshot),
      (err: unknown) => res.status(502).json({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  app.use('/assets', express.static(bundleDir, { maxAge: 0 }));
  app.get('/', (_req, res) => res.type('html').send(page(title, 'tvwall.js', refresh)));
  app.get('/bench', (_req, res) => res.type('html').send(page('rack map benchmark', 'bench.js', 0)));
  return app;
}

function page(title: string, script: string, refreshSeconds: number): string {
  const escaped = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escaped}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html,body{margin:0;height:100%;background:#000;color:#fff;overflow:hidden;font-family:Inter,Arial,sans-serif}</style>
</head><body data-refresh-seconds="${refreshSeconds}"><div id="root"></div><script src="/assets/${script}"></script></body></html>`;
}

export function listen(app: express.Express, port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
