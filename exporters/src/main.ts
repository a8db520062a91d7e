/**
 * Miner exporter process: `npm run exporter -- --inventory farm.yaml [--containers C01]`, which runs
 * `node --max-old-space-size=256 -r tsx/cjs exporters/src/main.ts`. The heap ceiling matters: without it V8 lets a
 * long-running scraper's heap grow to several times its ~100 MB live set before collecting.
 * Settings come from flags, then FLYMINING_* environment variables, then defaults; all are validated here,
 * at the edge, with messages that name the flag or variable.
 */
import { hostname } from 'node:os';
import { Command } from 'commander';
import Redis from 'ioredis';
import { z } from 'zod';
import { InfluxStore, InventoryHolder, createLogger, runService, ensureDatabase, loadInfluxConfig, schemaRetention } from '@flymining/shared';
import { startHttp } from './http';
import { MinerExporter } from './miner-exporter';

const settingsSchema = z.object({
  inventory: z.string().min(1, 'is required (--inventory or FLYMINING_INVENTORY)'),
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'use letters, digits and _ . : -'),
  intervalS: z.number().min(1).max(3600),
  jitterS: z.number().min(0).max(3600),
  concurrency: z.number().int().min(1).max(10_000),
  timeoutMs: z.number().int().min(100).max(300_000),
  containers: z.array(z.string().min(1)),
  listen: z.string().regex(/^[^:]+:\d{1,5}$/, 'use HOST:PORT, e.g. 127.0.0.1:9410'),
  redisUrl: z.string().optional(),
});

export type ExporterSettings = z.infer<typeof settingsSchema>;

export function readSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ExporterSettings {
  const program = new Command('miner-exporter')
    .option('--inventory <file>', 'farm inventory YAML', env.FLYMINING_INVENTORY)
    .option('--name <name>', 'this exporter instance (e.g. its container)', env.FLYMINING_EXPORTER_NAME ?? hostname())
    .option('--interval <s>', 'seconds between sweeps', env.FLYMINING_SCRAPE_INTERVAL ?? '30')
    .option('--jitter <s>', 'spread miners start times over this many seconds', env.FLYMINING_SCRAPE_JITTER)
    .option('--concurrency <n>', 'miners scraped at once', env.FLYMINING_SCRAPE_CONCURRENCY ?? '256')
    .option('--timeout <ms>', 'read timeout per API command', env.FLYMINING_SCRAPE_TIMEOUT_MS ?? '10000')
    .option('--containers <list>', 'only these containers (comma separated)', env.FLYMINING_CONTAINERS ?? '')
    .option('--listen <host:port>', '/metrics and /healthz address', env.FLYMINING_EXPORTER_LISTEN ?? '127.0.0.1:9410')
    .option('--redis <url>', 'Redis for fault events; "none" to disable', env.FLYMINING_REDIS_URL ?? 'redis://127.0.0.1:6379/0')
    .exitOverride()
    .parse(argv);
  const o = program.opts<Record<string, string | undefined>>();
  const interval = Number(o.interval);
  const result = settingsSchema.safeParse({
    inventory: o.inventory ?? '',
    name: o.name,
    intervalS: interval,
    jitterS: o.jitter === undefined ? Math.min(interval / 3, 10) : Number(o.jitter),
    concurrency: Number(o.concurrency),
    timeoutMs: Number(o.timeout),
    containers: (o.containers ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    listen: o.listen,
    redisUrl: o.redis === 'none' ? undefined : o.redis,
  });
  if (!result.success) {
    throw new Error(`invalid exporter settings:\n  ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return result.data;
}

export async function runExporter(argv: string[]): Promise<() => Promise<void>> {
  const settings = readSettings(argv);
  const log = createLogger('miner-exporter');
  const inventory = new InventoryHolder(settings.inventory, (r) => {
    if (r.ok) log.info({ miners: r.inventory.miners.size }, `inventory reloaded from ${settings.inventory}`);
    else log.error(`inventory edit refused, still using the last good one: ${r.error.message}`);
  });
  inventory.watch();
  const influx = loadInfluxConfig({});
  const store = new InfluxStore(influx, { logger: log });
  await ensureDatabase(store, schemaRetention()).catch((err: Error) =>
    log.warn(`InfluxDB not ready (${err.message}); samples go to the spool until it answers`),
  );
  const redis = settings.redisUrl ? new Redis(settings.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'Redis connection problem'));
  const exporter = new MinerExporter(
    inventory,
    store,
    {
      name: settings.name,
      intervalMs: settings.intervalS * 1000,
      jitterMs: settings.jitterS * 1000,
      concurrency: settings.concurrency,
      transport: { connectTimeoutMs: Math.min(3000, settings.timeoutMs), readTimeoutMs: settings.timeoutMs, maxBytes: 1024 * 1024 },
      containers: settings.containers,
    },
    log,
    redis,
  );
  const [host, port] = settings.listen.split(':') as [string, string];
  const http = await startHttp(exporter, { influxReachable: () => store.stats().reachable !== false }, host, Number(port));
  exporter.start();
  log.info(
    { miners: exporter.miners().length, interval: settings.intervalS },
    `miner exporter ${settings.name} scraping; metrics on http://${settings.listen}/metrics`,
  );
  return async () => {
    await exporter.stop();
    http.close();
    inventory.close();
    await store.close();
    redis?.disconnect();
  };
}

if (require.main === module) runService('miner exporter', () => runExporter(process.argv));
