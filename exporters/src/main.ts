/**
 * Miner exporter process: `npm run exporter -- --inventory farm.yaml [--containers C01]`, which runs
 * `node --max-old-space-size=256 -r tsx/cjs exporters/src/main.ts`. The heap ceiling matters: without it V8 lets a
 * long-running scraper's heap grow to several times its ~100 MB live set before collecting.
 * Settings come from flags, then FLYMINING_* environment variables, then defaults; all are validated here,
 * at the edge, with messages that name the flag or variable.
 */
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { InventoryHolder, createLogger, parseDuration, runService, type Logger } from '@flymining/shared';
import { openUplinkStore } from './common/edge/uplink-store';
import { startRemoteControl } from './control/remote';
import { addEdgeOptions, edgeSettingsInput, edgeSettingsSchema, settingsError } from './common/edge/settings';
import { ControlAgent } from './control/agent';
import { ClimateFeed } from './control/climate-feed';
import { loadControlSettings, type ControlSettings } from './control/settings';
import { createCurtailmentPolicy } from './control/curtailment';
import { createRecoveryPolicy } from './control/recovery';
import { createTemperaturePolicy } from './control/temperature';
import type { ControlPolicy } from './control/types';
import { AuditFile, AuditLog, AuditPoints } from './miner/control/audit';
import { ControlExecutor, type ExecutorOptions } from './miner/control/executor';
import { ActionHistory } from './miner/control/history';
import { startHttp } from './miner/http';
import { MinerExporter } from './miner/exporter';
import type { TransportOptions } from './miner/transports/cgminer-tcp';

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
  /** control.yaml; absent: no policy runs (the exporter only reads). */
  control: z.string().min(1, 'names a control.yaml (--control or FLYMINING_CONTROL)').optional(),
  controlAudit: z.string().min(1, 'names a file (--control-audit or FLYMINING_CONTROL_AUDIT_FILE)'),
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
    .option('--control <control.yaml>', 'run the control policies of this file after each sweep (recovery, temperature loop, curtailment; each off unless enabled); without it the exporter only reads', env.FLYMINING_CONTROL || undefined)
    .option('--control-audit <file>', "the policies' action audit, JSON lines (default <state-dir>/control-audit.jsonl; the CLI's FLYMINING_CONTROL_AUDIT_FILE, so their rate limits are one)", env.FLYMINING_CONTROL_AUDIT_FILE)
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
  const edge = edgeSettingsInput(o);
  const result = settingsSchema.safeParse({
    ...edge,
    inventory: o.inventory ?? '',
    intervalS: interval,
    jitterS: o.jitter === undefined ? Math.min(interval / 3, 10) : Number(o.jitter),
    concurrency: Number(o.concurrency),
    timeoutMs: Number(o.timeout),
    listen: o.listen,
    discoverEveryMs,
    discoverRatePerS: Number(o.discoverRate),
    control: o.control,
    controlAudit: o.controlAudit ?? path.join(String(edge.stateDir), 'control-audit.jsonl'),
  });
  if (!result.success) throw settingsError('exporter', result.error);
  return result.data;
}

/**
 * The control agent of --control: one executor (rate limits remembered from the audit file, staggering, audit to the
 * file, InfluxDB and the log) and the policies control.yaml enables per container.
 */
export function buildControlAgent(
  settings: Pick<ExporterSettings, 'name' | 'stateDir' | 'controlAudit'>,
  control: ControlSettings,
  store: { write(lines: string[]): void },
  transport: TransportOptions,
  knownContainers: readonly string[],
  log: Logger,
  /** Tests and the bench run the executor and the agent on a simulated clock. */
  clock?: Pick<ExecutorOptions, 'now' | 'sleep'>,
): ControlAgent {
  for (const name of control.namedContainers) {
    if (!knownContainers.includes(name)) log.warn(`control: ${control.source} names container ${name}, which the inventory does not list; its settings apply to nothing`);
  }
  const history = new ActionHistory(clock?.now);
  const auditFile = new AuditFile(settings.controlAudit, log);
  const { loaded } = auditFile.loadHistory(history, clock?.now?.());
  const executor = new ControlExecutor({ history, audit: [auditFile, new AuditPoints(store), new AuditLog(log)], scrape: { transport }, ...clock });
  const policies: ControlPolicy[] = [
    createTemperaturePolicy((container) => control.forContainer(container).temperature, { stateDir: settings.stateDir, log }),
    createRecoveryPolicy((container) => control.forContainer(container).recovery, history, clock?.now),
    createCurtailmentPolicy((container) => control.forContainer(container).curtailment, { stateDir: settings.stateDir, log, ...(clock?.now ? { now: clock.now } : {}) }),
  ];
  log.info({ policies: policies.map((p) => p.name), actionsRemembered: loaded, audit: settings.controlAudit }, `control: policies of ${control.source} run after each sweep`);
  return new ControlAgent({ name: settings.name, policies, executor, climate: new ClimateFeed(settings.stateDir, log), sink: store, log, stateDir: settings.stateDir, ...(clock?.now ? { now: clock.now } : {}) });
}

export async function runExporter(argv: string[]): Promise<() => Promise<void>> {
  const settings = readSettings(argv);
  // A control.yaml with a mistake stops the start here, naming file, line and field.
  const controlSettings = settings.control ? loadControlSettings(settings.control) : undefined;
  const log = createLogger('miner-exporter');
  const inventory = new InventoryHolder(settings.inventory, (r) => {
    if (r.ok) log.info({ miners: r.inventory.miners.size }, `inventory reloaded from ${settings.inventory}`);
    else log.error(`inventory edit refused, still using the last good one: ${r.error.message}`);
  });
  inventory.watch();
  const store = await openUplinkStore(log, 'samples');
  const transport: TransportOptions = { connectTimeoutMs: Math.min(3000, settings.timeoutMs), readTimeoutMs: settings.timeoutMs, maxBytes: 1024 * 1024 };
  const control = controlSettings && buildControlAgent(settings, controlSettings, store, transport, inventory.current.containers.map((c) => c.name), log);
  const exporter = new MinerExporter(
    inventory,
    store,
    {
      name: settings.name,
      intervalMs: settings.intervalS * 1000,
      jitterMs: settings.jitterS * 1000,
      concurrency: settings.concurrency,
      transport,
      containers: settings.containers,
      stateDir: settings.stateDir,
      clockToleranceMs: settings.clockToleranceS * 1000,
      ...(settings.discoverEveryMs > 0 ? { discoverEveryMs: settings.discoverEveryMs } : {}),
      discoverRatePerS: settings.discoverRatePerS,
      ...(control ? { control } : {}),
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
