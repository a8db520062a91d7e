/**
 * Climate exporter process: `npm run climate -- --inventory farm.yaml [--containers C01]`. Reads every container
 * sensor of the inventory (MQTT, HTTP, Modbus TCP) into InfluxDB, judges each container every interval and
 * publishes climate faults to Redis. Settings: flags, then FLYMINING_* variables, then defaults.
 */
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { Command } from 'commander';
import Redis from 'ioredis';
import { z } from 'zod';
import { InfluxStore, createLogger, ensureDatabase, runService, loadInfluxConfig, loadInventory, schemaRetention } from '@flymining/shared';
import { serveMetricsAndHealth } from '../http';
import { ClimateExporter } from './climate-exporter';
import { configureSensors } from './settings';

const settingsSchema = z.object({
  inventory: z.string().min(1, 'is required (--inventory or FLYMINING_INVENTORY)'),
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'use letters, digits and _ . : -'),
  intervalS: z.number().min(1).max(3600),
  containers: z.array(z.string().min(1)),
  listen: z.string().regex(/^[^:]+:\d{1,5}$/, 'use HOST:PORT, e.g. 127.0.0.1:9420'),
  mqttUrl: z.string().regex(/^mqtts?:\/\/./, 'use mqtt://host:port'),
  redisUrl: z.string().optional(),
});

export type ClimateSettings = z.infer<typeof settingsSchema>;

export function readClimateSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ClimateSettings {
  const o = new Command('climate-exporter')
    .option('--inventory <file>', 'farm inventory YAML', env.FLYMINING_INVENTORY)
    .option('--name <name>', 'this exporter instance', env.FLYMINING_EXPORTER_NAME ?? `climate-${hostname()}`)
    .option('--interval <s>', 'seconds between container evaluations', env.FLYMINING_CLIMATE_INTERVAL ?? '10')
    .option('--containers <list>', 'only these containers (comma separated)', env.FLYMINING_CONTAINERS ?? '')
    .option('--listen <host:port>', '/metrics and /healthz address', env.FLYMINING_CLIMATE_LISTEN ?? '127.0.0.1:9420')
    .option('--mqtt <url>', 'MQTT broker of the sensors', env.FLYMINING_MQTT_URL ?? 'mqtt://127.0.0.1:1883')
    .option('--redis <url>', 'Redis for fault events; "none" to disable', env.FLYMINING_REDIS_URL ?? 'redis://127.0.0.1:6379/0')
    .exitOverride()
    .parse(argv)
    .opts<Record<string, string | undefined>>();
  const result = settingsSchema.safeParse({
    inventory: o.inventory ?? '',
    name: o.name,
    intervalS: Number(o.interval),
    containers: (o.containers ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    listen: o.listen,
    mqttUrl: o.mqtt,
    redisUrl: o.redis === 'none' ? undefined : o.redis,
  });
  if (!result.success) {
    throw new Error(`invalid climate exporter settings:\n  ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return result.data;
}

export function startClimateHttp(exporter: ClimateExporter, influxReachable: () => boolean, host: string, port: number): Promise<Server> {
  return serveMetricsAndHealth(
    exporter.metrics.registry,
    () => ({
      started: exporter.lastEvaluation !== undefined,
      influxReachable: influxReachable(),
      details: {
        sensors: exporter.sensors.length,
        containers: exporter.containers().length,
        lastEvaluation: exporter.lastEvaluation ?? null,
        activeFaults: exporter.faults.all().length,
        readingsAccepted: exporter.readingsAccepted,
      },
    }),
    host,
    port,
  );
}

export async function runClimateExporter(argv: string[]): Promise<() => Promise<void>> {
  const settings = readClimateSettings(argv);
  const log = createLogger('climate-exporter');
  const inventory = loadInventory(settings.inventory);
  const sensors = configureSensors(inventory, settings.containers);
  const store = new InfluxStore(loadInfluxConfig({}), { logger: log });
  await ensureDatabase(store, schemaRetention()).catch((err: Error) =>
    log.warn(`InfluxDB not ready (${err.message}); readings go to the spool until it answers`),
  );
  const redis = settings.redisUrl ? new Redis(settings.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'Redis connection problem'));
  const exporter = new ClimateExporter(sensors, store, { name: settings.name, mqttUrl: settings.mqttUrl, intervalS: settings.intervalS }, log, redis);
  await exporter.start();
  const [host, port] = settings.listen.split(':') as [string, string];
  const http = await startClimateHttp(exporter, () => store.stats().reachable !== false, host, Number(port));
  log.info({ sensors: sensors.length }, `climate exporter ${settings.name} running; metrics on http://${settings.listen}/metrics`);
  return async () => {
    await exporter.stop();
    http.close();
    await store.close();
    redis?.disconnect();
  };
}

if (require.main === module) runService('climate exporter', () => runClimateExporter(process.argv));
