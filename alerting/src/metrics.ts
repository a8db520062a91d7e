/** Prometheus metrics of the alerting service (its own registry, so tests can run several services in one process). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    alerts: new Gauge({ name: 'flymining_alerting_alerts', help: 'Alerts by state (muted: silenced or inhibited)', labelNames: ['state'], registers: [registry] }),
    notifications: new Counter({
      name: 'flymining_alerting_notifications_total',
      help: 'Notices by receiver, integration and outcome (sent; failed: transient, retried; rejected: permanent, recorded as failed, not retried)',
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
    lastEvaluation: new Gauge({
      name: 'flymining_alerting_last_evaluation_timestamp_seconds',
      help: 'When this instance last completed an evaluation as lease holder (Unix seconds); 0 before the first',
      registers: [registry],
    }),
    edges: new Gauge({ name: 'flymining_alerting_edges', help: 'Edges (per container and source) by state: reporting, silent', labelNames: ['state'], registers: [registry] }),
    uplinkSnapshots: new Counter({
      name: 'flymining_alerting_uplink_snapshots_total',
      help: 'Edge fault snapshots read by the relay: applied, or incomplete (fewer rows than the heartbeat announced; retried)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    uplinkRowsRejected: new Counter({
      name: 'flymining_alerting_uplink_rows_rejected_total',
      help: 'Rows from the uplink that are not a heartbeat or a known fault (logged with their container and edge)',
      labelNames: ['measurement'],
      registers: [registry],
    }),
    uplinkQueryErrors: new Counter({ name: 'flymining_alerting_uplink_query_errors_total', help: 'Heartbeat queries to InfluxDB that failed', registers: [registry] }),
    uplinkFaultWrites: new Counter({
      name: 'flymining_alerting_uplink_fault_writes_total',
      help: 'Entries of the active-fault hash the relay set or removed to match the edges (after a Redis loss: every one)',
      registers: [registry],
    }),
    redisUp: new Gauge({ name: 'flymining_alerting_redis_up', help: '1 while the Redis connection is ready', registers: [registry] }),
    stateRestored: new Counter({
      name: 'flymining_alerting_state_restored_total',
      help: 'Times the lease holder found Redis without its state (restarted empty) and wrote back what it held in memory',
      registers: [registry],
    }),
    ticketSyncErrors: new Counter({
      name: 'flymining_alerting_ticket_sync_errors_total',
      help: 'PostgreSQL work for repair tickets and the on-call rota that failed, by operation (migrate, sync, acknowledge, escalate, rota); alerting goes on and retries next cycle',
      labelNames: ['operation'],
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'flymining_alerting_escalations_total',
      help: 'Unacknowledged pages sent on to the next person of the on-call rota, by receiver',
      labelNames: ['receiver'],
      registers: [registry],
    }),
    watchdogPosts: new Counter({ name: 'flymining_alerting_watchdog_posts_total', help: 'Watchdog heartbeats POSTed, by outcome (sent, failed)', labelNames: ['outcome'], registers: [registry] }),
  };
}

export type AlertingMetrics = ReturnType<typeof createMetrics>;
