/**
 * Miner exporter process: `npm run exporter -- --inventory farm.yaml [--containers C01]`, which runs
 * `node --max-old-space-size=256 -r tsx/cjs exporters/src/main.ts`. The heap ceiling matters: without it V8 lets a
 * long-running scraper's heap grow to several times its ~100 MB live set before collecting.
 * Settings come from flags, then FLYMINING_* environment variables, then defaults; all are validated here,
 * at the edge, with messages that name the flag or variable.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { InventoryHolder, createLogger, parseDuration, runService } from '@flymining/shared';
import { openUplinkStore } from './common/edge/uplink-store';
import { startRemoteControl } from './control/remote';
import { addEdgeOptions, edgeSettingsInput, edgeSettingsSchema, settingsError } from './common/edge/settings';
import { startHttp } from './miner/http';
import { MinerExporter } from './miner/exporter';

const settingsSchema = edgeSettingsSchema.extend({
  inventory: z.string().min(1, 'is required (--inventory or FLYMINING_INVENTORY)'),
  intervalS: z.number().min(1).max(3600),
  jitterS: z.number().min(0).max(3600),
  concurrency: z.number().int().min(1).max(10_000),
  timeoutMs: z.number().int().min(100).max(300_000),
  listen: z.string().regex(/^[^:]+:\d{1,5}$/, 'use HOST:PORT, e.g. 127.0.0.1:9410'),
  /** 0: scheduled discovery off. At least a minute: a subnet scan is not a scrape. */
  discoverEveryMs: z.number().refine((ms) => ms === 0 || (ms >= 60_000 && ms <= 7 * 86_400_000), 'is 0 (off) or between 1m and 7d'),
  discoverRatePerS: z.number().min(0.1).max(1000),
});

export type ExporterSettings = z.infer<typeof settingsSchema>;

export function readSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ExporterSettings {
  const program = addEdgeOptions(new Command('miner-exporter'), env)
    .option('--inventory <file>', 'farm inventory YAML', env.FLYMINING_INVENTORY)
    .option('--interval <s>', 'seconds between sweeps', env.FLYMINING_SCRAPE_INTERVAL ?? '30')
    .option('--jitter <s>', 'spread miners start times over this many seconds', env.FLYMINING_SCRAPE_JITTER)
    .option('--concurrency <n>', 'miners scraped at once', env.FLYMINING_SCRAPE_CONCURRENCY ?? '256')
    .option('--timeout <ms>', 'read timeout per API command', env.FLYMINING_SCRAPE_TIMEOUT_MS ?? '10000')
    .option('--listen <host:port>', '/metrics and /healthz address', env.FLYMINING_EXPORTER_LISTEN ?? '127.0.0.1:9410')
    .option('--discover-every <duration>', "scan each container's inventory subnet this often for unlisted miners (e.g. 1h; 0 = off)", env.FLYMINING_DISCOVER_EVERY ?? '0')
    .option('--discover-rate <n>', 'probes per second of a scheduled scan', env.FLYMINING_DISCOVER_RATE ?? '20')
    .exitOverride()
    .parse(argv);
  const o = program.opts<Record<string, string | undefined>>();
  const interval = Number(o.interval);
  let discoverEveryMs = Number.NaN;
  try {
    discoverEveryMs = parseDuration(o.discoverEvery ?? '0');
  } catch {
    // NaN fails the schema below, which names the flag.
  }
  const result = settingsSchema.safeParse({
    ...edgeSettingsInput(o),
    inventory: o.inventory ?? '',
    intervalS: interval,
    jitterS: o.jitter === undefined ? Math.min(interval / 3, 10) : Number(o.jitter),
    concurrency: Number(o.concurrency),
    timeoutMs: Number(o.timeout),
    listen: o.listen,
    discoverEveryMs,
    discoverRatePerS: Number(o.discoverRate),
  });
  if (!result.success) throw settingsError('exporter', result.error);
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
  const store = await openUplinkStore(log, 'samples');
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
      stateDir: settings.stateDir,
      clockToleranceMs: settings.clockToleranceS * 1000,
      ...(settings.discoverEveryMs > 0 ? { discoverEveryMs: settings.discoverEveryMs } : {}),
      discoverRatePerS: settings.discoverRatePerS,
    },
    log,
  );
  const [host, port] = settings.listen.split(':') as [string, string];
  const http = await startHttp(exporter, { influxReachable: () => store.stats().reachable !== false }, host, Number(port));
  exporter.start();
  // Miner actions staff ask for at the center, fetched over the uplink (FLYMINING_CONTROL_TOKEN_FILE; docs/control.md).
  const remote = startRemoteControl({ inventory: () => inventory.current, containers: settings.containers, stateDir: settings.stateDir, store, log });
  log.info(
    { miners: exporter.miners().length, interval: settings.intervalS },
    `miner exporter of edge ${settings.name} scraping (state in ${settings.stateDir}); metrics on http://${settings.listen}/metrics`,
  );
  return async () => {
    await remote?.stop();
    await exporter.stop();
    http.close();
    inventory.close();
    await store.close();
  };
}

if (require.main === module) runService('miner exporter', () => runExporter(process.argv));
