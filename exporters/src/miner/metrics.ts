/** The exporter's own health, for Prometheus (or anyone) on /metrics. One registry per exporter instance. */
import { counter, exporterHealthClass, gauge, histogram } from '../common/metric-table';

const exporterMetrics = {
  scrapeDuration: histogram('flymining_scrape_duration_seconds', 'Time to scrape one miner (all its commands)', ['result'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  scrapeErrors: counter('flymining_scrape_errors_total', 'Failed scrapes by kind (refused, timeout, reset, too-large, malformed, unknown-firmware, ...)', ['kind']),
  badReplies: counter('flymining_bad_replies_total', 'Miner replies that were malformed, truncated, oversized or needed repair'),
  valuesDropped: counter(
    'flymining_miner_values_dropped_total',
    'Values in miner replies outside physical ranges (negative counters, non-finite, beyond int64, over-long text), dropped before storing',
  ),
  sweepDuration: gauge('flymining_sweep_duration_seconds', 'Wall time of the last complete sweep over all miners'),
  sweepOverruns: counter('flymining_sweep_overruns_total', 'Miner turns skipped because the previous scrape of that miner was still running'),
  minersUp: gauge('flymining_miners_reachable', 'Miners that answered in the last sweep'),
  activeFaults: gauge('flymining_faults_active', 'Active faults by severity', ['severity']),
  faultEvents: counter('flymining_fault_events_total', 'Fault transitions (raised, cleared)', ['type']),
};

export class ExporterMetrics extends exporterHealthClass(exporterMetrics, 'flymining_exporter_') {}
