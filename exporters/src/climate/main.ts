/**
 * Climate exporter process: `npm run climate -- --inventory farm.yaml [--containers C01]`. Reads every container
 * sensor of the inventory (MQTT, HTTP, Modbus TCP) into InfluxDB, judges each container every interval and sends
 * its fault snapshot and heartbeat over the same uplink. Settings: flags, then FLYMINING_* variables, then defaults.
 */
import type { Server } from 'node:http';
import { Command } from 'commander';
import { z } from 'zod';
import { createLogger, runService, loadInventory, readSecretFile } from '@flymining/shared';
import { openUplinkStore } from '../common/edge/uplink-store';
import { addEdgeOptions, edgeSettingsInput, edgeSettingsSchema, settingsError } from '../common/edge/settings';
import { serveMetricsAndHealth } from '../common/http';
import { ClimateExporter } from './climate-exporter';
import { configureSensors } from './settings';

const settingsSchema = edgeSettingsSchema.extend({
  inventory: z.string().min(1, 'is required (--inventory or FLYMINING_INVENTORY)'),
  intervalS: z.number().min(1).max(3600),
  listen: z.string().regex(/^[^:]+:\d{1,5}$/, 'use HOST:PORT, e.g. 127.0.0.1:9420'),
  mqttUrl: z.string().regex(/^mqtts?:\/\/./, 'use mqtt://host:port'),
  mqttUsername: z.string().min(1).optional(),
  mqttPasswordFile: z.string().min(1).optional(),
  mqttCaFile: z.string().min(1).optional(),
});

export type ClimateSettings = z.infer<typeof settingsSchema>;

export function readClimateSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ClimateSettings {
  const o = addEdgeOptions(new Command('climate-exporter'), env)
    .option('--inventory <file>', 'farm inventory YAML', env.FLYMINING_INVENTORY)
    .option('--interval <s>', 'seconds between container evaluations', env.FLYMINING_CLIMATE_INTERVAL ?? '10')
    .option('--listen <host:port>', '/metrics and /healthz address', env.FLYMINING_CLIMATE_LISTEN ?? '127.0.0.1:9420')
    .option('--mqtt <url>', 'MQTT broker of the sensors', env.FLYMINING_MQTT_URL ?? 'mqtt://127.0.0.1:1883')
    .option('--mqtt-username <name>', 'user name at the broker', env.FLYMINING_MQTT_USERNAME)
    .option('--mqtt-password-file <file>', 'file holding the broker password (or FLYMINING_MQTT_PASSWORD_FILE)', env.FLYMINING_MQTT_PASSWORD_FILE)
    .option('--mqtt-ca-file <file>', 'PEM CA of an mqtts:// broker', env.FLYMINING_MQTT_CA_FILE)
    .exitOverride()
    .parse(argv)
    .opts<Record<string, string | undefined>>();
  const result = settingsSchema.safeParse({
    ...edgeSettingsInput(o),
    inventory: o.inventory ?? '',
    intervalS: Number(o.interval),
    listen: o.listen,
    mqttUrl: o.mqtt,
    mqttUsername: o.mqttUsername,
    mqttPasswordFile: o.mqttPasswordFile,
    mqttCaFile: o.mqttCaFile,
  });
  if (!result.success) throw settingsError('climate exporter', result.error);
  return result.data;
}

export function startClimateHttp(exporter: ClimateExporter, influxReachable: () => boolean, host: string, port: number): Promise<Server> {
  return serveMetricsAndHealth(
    exporter.metrics.registry,
    () => ({
      started: exporter.lastEvaluation !== undefined,
      influxReachable: influxReachable(),
      problems: exporter.problems(),
      details: {
        edge: exporter.edge.status(),
        mqtt: exporter.mqtt.topics().length > 0 ? exporter.mqtt.link() : null,
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
  const store = await openUplinkStore(log, 'readings');
  // The chosen containers (even one without sensors, or not yet in the inventory: it still gets heartbeats), else all.
  const names = settings.containers.length > 0 ? settings.containers : inventory.containers.map((c) => c.name);
  const served = names.map((name) => ({ site: inventory.containers.find((c) => c.name === name)?.site ?? inventory.site, container: name }));
  const exporter = new ClimateExporter(
    sensors,
    store,
    {
      name: settings.name,
      mqttUrl: {
        url: settings.mqttUrl,
        username: settings.mqttUsername,
        password: settings.mqttPasswordFile ? readSecretFile(settings.mqttPasswordFile, 'FLYMINING_MQTT_PASSWORD_FILE') : undefined,
        ca: settings.mqttCaFile ? readSecretFile(settings.mqttCaFile, 'FLYMINING_MQTT_CA_FILE') : undefined,
      },
      intervalS: settings.intervalS,
      containers: served,
      stateDir: settings.stateDir,
      clockToleranceMs: settings.clockToleranceS * 1000,
    },
    log,
  );
  await exporter.start();
  const [host, port] = settings.listen.split(':') as [string, string];
  const http = await startClimateHttp(exporter, () => store.stats().reachable !== false, host, Number(port));
  log.info({ sensors: sensors.length }, `climate exporter of edge ${settings.name} running (state in ${settings.stateDir}); metrics on http://${settings.listen}/metrics`);
  return async () => {
    await exporter.stop();
    http.close();
    await store.close();
  };
}

if (require.main === module) runService('climate exporter', () => runClimateExporter(process.argv));
