/** Prometheus metrics of the alerting service (its own registry, so tests can run several services in one process). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    alerts: new Gauge({ name: 'flymining_alerting_alerts', help: 'Alerts by state (muted: silenced or inhibited)', labelNames: ['state'], registers: [registry] }),
    notifications: new Counter({
      name: 'flymining_alerting_notifications_total',
      help: 'Notices by receiver, integration and outcome (sent, failed)',
      labelNames: ['receiver', 'integration', 'outcome'],
      registers: [registry],
    }),
    retriesPending: new Gauge({ name: 'flymining_alerting_notifications_awaiting_retry', help: 'Notices that failed and wait for their retry', registers: [registry] }),
    cycleSeconds: new Histogram({
      name: 'flymining_alerting_cycle_seconds',
      help: 'Duration of one evaluate → notify cycle',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    leader: new Gauge({ name: 'flymining_alerting_leader', help: '1 while this instance holds the lease and sends notices', registers: [registry] }),
    queryErrors: new Counter({ name: 'flymining_alerting_query_errors_total', help: 'Query rules that failed (their alerts keep their state)', labelNames: ['rule'], registers: [registry] }),
  };
}

export type AlertingMetrics = ReturnType<typeof createMetrics>;
