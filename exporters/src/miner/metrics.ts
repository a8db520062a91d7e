/** The exporter's own health, for Prometheus (or anyone) on /metrics. One registry per exporter instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerStoreGauges, type StoreCounters } from '../common/store-metrics';

export class ExporterMetrics {
  readonly registry = new Registry();
  readonly scrapeDuration = new Histogram({
    name: 'flymining_scrape_duration_seconds',
    help: 'Time to scrape one miner (all its commands)',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly scrapeErrors = new Counter({
    name: 'flymining_scrape_errors_total',
    help: 'Failed scrapes by kind (refused, timeout, reset, too-large, malformed, unknown-firmware, ...)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly badReplies = new Counter({
    name: 'flymining_bad_replies_total',
    help: 'Miner replies that were malformed, truncated, oversized or needed repair',
    registers: [this.registry],
  });
  readonly valuesDropped = new Counter({
    name: 'flymining_miner_values_dropped_total',
    help: 'Values in miner replies outside physical ranges (negative counters, non-finite, beyond int64, over-long text), dropped before storing',
    registers: [this.registry],
  });
  readonly sweepDuration = new Gauge({
    name: 'flymining_sweep_duration_seconds',
    help: 'Wall time of the last complete sweep over all miners',
    registers: [this.registry],
  });
  readonly sweepOverruns = new Counter({
    name: 'flymining_sweep_overruns_total',
    help: 'Miner turns skipped because the previous scrape of that miner was still running',
    registers: [this.registry],
  });
  readonly minersUp = new Gauge({
    name: 'flymining_miners_reachable',
    help: 'Miners that answered in the last sweep',
    registers: [this.registry],
  });
  readonly activeFaults = new Gauge({
    name: 'flymining_faults_active',
    help: 'Active faults by severity',
    labelNames: ['severity'] as const,
    registers: [this.registry],
  });
  readonly faultEvents = new Counter({
    name: 'flymining_fault_events_total',
    help: 'Fault transitions (raised, cleared)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  constructor(store: () => StoreCounters) {
    collectDefaultMetrics({ register: this.registry, prefix: 'flymining_exporter_' });
    registerStoreGauges(this.registry, store);
  }

}
