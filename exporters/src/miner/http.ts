/** The miner exporter's /metrics and /healthz: the common server, with the last sweep and the edge status. */
import type { Server } from 'node:http';
import { serveMetricsAndHealth } from '../common/http';
import type { MinerExporter } from './exporter';

export interface HealthzExtra {
  /** Whether InfluxDB answered its last ping. */
  influxReachable: () => boolean;
}

export function startHttp(exporter: MinerExporter, extra: HealthzExtra, host: string, port: number): Promise<Server> {
  return serveMetricsAndHealth(
    exporter.metrics.registry,
    () => {
      const last = exporter.lastSweep;
      return {
        started: last !== undefined,
        influxReachable: extra.influxReachable(),
        problems: exporter.edge.problems(),
        details: {
          edge: exporter.edge.status(),
          miners: exporter.miners().length,
          lastSweep: last ? { ...last, ageMs: Date.now() - (last.startedAt + last.durationMs) } : null,
        },
      };
    },
    host,
    port,
  );
}
