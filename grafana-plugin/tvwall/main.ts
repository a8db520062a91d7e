/** `tsx grafana-plugin/tvwall/main.ts [--port 4200] [--site north-1]`: the TV-wall server on its own. */
import { InfluxStore, loadInfluxConfig } from '@flymining/shared';
import { createTvWallApp, listen } from './server';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const port = Number(flag('port') ?? process.env.FLYMINING_TVWALL_PORT ?? 4200);
  const host = flag('host') ?? process.env.FLYMINING_TVWALL_HOST ?? '127.0.0.1';
  const store = new InfluxStore(loadInfluxConfig({}, process.env, 'FLYMINING_INFLUX_*'));
  const app = createTvWallApp({ store, site: flag('site') ?? process.env.FLYMINING_SITE, refreshSeconds: Number(flag('refresh') ?? 15) });
  const server = await listen(app, port, host);
  console.log(`TV wall on http://${host}:${port}/`);
  const stop = () => server.close(() => void store.close().then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
