/** /metrics (Prometheus text) and /healthz (JSON) of an exporter. Read-only; nothing here takes input. */
import express from 'express';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthReport {
  /** False until the first sweep/evaluation finished: /healthz answers 503 "starting". */
  started: boolean;
  influxReachable: boolean;
  /** Why the component works but not fully (broker gone, edge clock off): non-empty means "degraded". */
  problems: string[];
  /** Component-specific figures shown beside the status. */
  details: Record<string, unknown>;
}

/**
 * The /metrics + /healthz server every exporter runs. Healthy = working; InfluxDB down (or any listed problem) is
 * "degraded", not unhealthy: the spool keeps the data, and restarting the exporter would not bring a broker back.
 */
export function serveMetricsAndHealth(registry: Registry, health: () => HealthReport, host: string, port: number): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  app.get('/healthz', (_req, res) => {
    const report = health();
    const problems = report.influxReachable || report.problems.length > 0 ? report.problems : ['InfluxDB unreachable: samples go to the spool'];
    const status = !report.started ? 'starting' : problems.length === 0 ? 'ok' : 'degraded';
    res.status(status === 'starting' ? 503 : 200).json({ status, problems, ...report.details, influxReachable: report.influxReachable });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found: try /metrics or /healthz' });
  });
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}
