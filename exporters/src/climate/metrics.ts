/** The climate exporter's own health on /metrics. One registry per instance. */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { counter, declareMetrics, gauge, type DeclaredMetrics } from '../common/metric-table';
import { registerStoreGauges, type StoreCounters } from '../common/store-metrics';

const climateMetrics = {
  readings: counter('flymining_climate_readings_total', 'Sensor readings accepted and stored, per sensor', ['sensor']),
  rejected: counter(
    'flymining_climate_rejected_total',
    'Sensor payloads refused, per sensor and reason (not-json, wrong-type, absurd-value, no-values, flood, too-large, unreachable, too-old, in-future)',
    ['sensor', 'reason'],
  ),
  stale: gauge('flymining_climate_sensors_stale', 'Sensors without a valid reading for longer than their staleAfterS'),
  activeFaults: gauge('flymining_climate_faults_active', 'Active climate faults by code', ['code']),
  faultEvents: counter('flymining_climate_fault_events_total', 'Climate fault transitions (raised, cleared)', ['type']),

  brokerConnected: gauge('flymining_climate_mqtt_connected', '1 while the MQTT broker of the sensors is connected, 0 while it is gone'),
  brokerDisconnects: counter('flymining_climate_mqtt_disconnects_total', 'Times the MQTT broker connection was lost'),
};

// The table's metrics are fields of every instance (declared in the constructor, before the default metrics).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface ClimateMetrics extends DeclaredMetrics<typeof climateMetrics> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class ClimateMetrics {
  readonly registry = new Registry();

  constructor(store: () => StoreCounters) {
    Object.assign(this, declareMetrics(this.registry, climateMetrics));
    collectDefaultMetrics({ register: this.registry, prefix: 'flymining_climate_exporter_' });
    registerStoreGauges(this.registry, store);
  }

}
