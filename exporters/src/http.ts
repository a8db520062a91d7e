/** /metrics (Prometheus text) and /healthz (JSON) of one exporter. Read-only; nothing here takes input. */
import express from 'express';
import type { Server } from 'node:http';
import type { MinerExporter } from './miner-exporter';

export interface HealthzExtra {
  /** Whether InfluxDB answered its last ping. */
  influxReachable: () => boolean;
}

export function startHttp(exporter: MinerExporter, extra: HealthzExtra, host: string, port: number): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', exporter.metrics.registry.contentType);
    res.send(await exporter.metrics.registry.metrics());
  });
  app.get('/healthz', (_req, res) => {
    const last = exporter.lastSweep;
    const ageMs = last ? Date.now() - (last.startedAt + last.durationMs) : undefined;
    const influx = extra.influxReachable();
    // Healthy = sweeping; InfluxDB down is "degraded", not unhealthy: the spool keeps the data.
    const sweeping = last !== undefined;
    const status = !sweeping ? 'starting' : influx ? 'ok' : 'degraded';
    res.status(status === 'starting' ? 503 : 200).json({
      status,
      miners: exporter.miners().length,
      lastSweep: last ? { ...last, ageMs } : null,
      influxReachable: influx,
    });
  });
  return listenWithNotFound(app, host, port);
}

/** Answers anything else with a JSON 404 and listens; shared by the exporters' /metrics + /healthz servers. */
export function listenWithNotFound(app: express.Express, host: string, port: number): Promise<Server> {
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found: try /metrics or /healthz' });
  });
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}
