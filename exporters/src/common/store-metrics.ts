/** The storage layer's figures on every exporter's /metrics (miner and climate both write through an InfluxStore). */
import type { InfluxStoreStats } from '@flymining/shared';
import { Gauge, type Registry } from 'prom-client';

/** What the exporters read of the storage layer's stats (InfluxStore's, including its uplink state). */
export type StoreCounters = Pick<
  InfluxStoreStats,
  'written' | 'spooled' | 'dropped' | 'replayed' | 'failed' | 'reachable' | 'spoolBytes' | 'spoolLines' | 'spoolOldestMs' | 'uplink' | 'uplinkError' | 'clockOffsetMs'
>;

/** The storage layer's counters on an exporter's /metrics (every exporter writes through an InfluxStore). */
export function registerStoreGauges(registry: Registry, store: () => StoreCounters): void {
  const fromStore = (name: string, help: string, pick: (c: StoreCounters) => number | undefined): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(store()) ?? 0);
      },
    });
  };
  // Monotonic in the store; exposed as gauges because their source of truth is the store's own counters.
  fromStore('flymining_points_written_total', 'Points InfluxDB accepted', (c) => c.written);
  fromStore('flymining_points_spooled_total', 'Points put in the on-disk spool while InfluxDB was unreachable', (c) => c.spooled);
  fromStore('flymining_points_dropped_total', 'Points dropped (spool full: oldest first; or rejected by InfluxDB)', (c) => c.dropped);
  fromStore('flymining_points_replayed_total', 'Spooled points delivered later with their original timestamps', (c) => c.replayed);
  fromStore('flymining_spool_bytes', 'Bytes waiting in the spool', (c) => c.spoolBytes);
}
