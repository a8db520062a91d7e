/**
 * `tsx grafana-plugin/tvwall/main.ts [--port 4200] [--site north-1] [--grafana-url https://grafana.farm.example/] [--pg-url postgres://...]`:
 * the TV-wall server on its own. Authentication settings from the environment (shared/src/auth/README.md).
 * --pg-url (else FLYMINING_PG_URL) is the maintenance database the band's tickets, MTTR and on-call come from;
 * without either the band says "tickets: not configured". A URL with a password belongs in the environment: a
 * command line is visible to every user of the machine.
 */
import { Pool } from 'pg';
import { createLogger, InfluxStore, loadInfluxConfig, openAuthenticator, readAuthSettings, runService } from '@flymining/shared';
import { createTvWallApp, listen, TVWALL_TOKEN_COOKIE } from './server';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<() => Promise<void>> {
  const port = Number(flag('port') ?? process.env.FLYMINING_TVWALL_PORT ?? 4200);
  const host = flag('host') ?? process.env.FLYMINING_TVWALL_HOST ?? '127.0.0.1';
  const store = new InfluxStore(loadInfluxConfig({}, process.env, 'FLYMINING_INFLUX_*'));
  // Comma-separated base URLs of the farm's Grafana that `?link=` may open (besides this server's own pages).
  const grafanaUrls = (flag('grafana-url') ?? process.env.FLYMINING_TVWALL_GRAFANA_URL ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  // Staff sessions of the portal (FLYMINING_PORTAL_SESSION_SECRET[_FILE], FLYMINING_PG_URL) and tokens (FLYMINING_REDIS_URL).
  const auth = openAuthenticator(readAuthSettings(process.env), createLogger('tvwall'), { tokenCookie: TVWALL_TOKEN_COOKIE });
  const pgUrl = flag('pg-url') ?? process.env.FLYMINING_PG_URL;
  const maintenancePool = pgUrl ? new Pool({ connectionString: pgUrl, max: 2 }) : undefined;
  // A database restart must not end the wall: the band shows the error until the pool reconnects.
  maintenancePool?.on('error', (err) => console.error(`TV wall: maintenance database: ${err.message}`));
  const app = createTvWallApp({
    authenticator: auth.authenticator,
    store,
    site: flag('site') ?? process.env.FLYMINING_SITE,
    refreshSeconds: Number(flag('refresh') ?? 15),
    grafanaUrls,
    maintenancePool,
  });
  const server = await listen(app, port, host);
  console.log(`TV wall on http://${host}:${port}/`);
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    await maintenancePool?.end();
    await auth.close();
  };
}

runService('TV wall', main);
