/** The climate exporter's own health on /metrics. One registry per instance. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { registerStoreGauges, type StoreCounters } from '../common/store-metrics';

export class ClimateMetrics {
  readonly registry = new Registry();
  readonly readings = new Counter({
    name: 'flymining_climate_readings_total',
    help: 'Sensor readings accepted and stored, per sensor',
    labelNames: ['sensor'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'flymining_climate_rejected_total',
    help: 'Sensor payloads refused, per sensor and reason (not-json, wrong-type, absurd-value, no-values, flood, too-large, unreachable, too-old, in-future)',
    labelNames: ['sensor', 'reason'] as const,
    registers: [this.registry],
  });
  readonly stale = new Gauge({
    name: 'flymining_climate_sensors_stale',
    help: 'Sensors without a valid reading for longer than their staleAfterS',
    registers: [this.registry],
  });
  readonly activeFaults = new Gauge({
    name: 'flymining_climate_faults_active',
    help: 'Active climate faults by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly faultEvents = new Counter({
    name: 'flymining_climate_fault_events_total',
    help: 'Climate fault transitions (raised, cleared)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly brokerConnected = new Gauge({
    name: 'flymining_climate_mqtt_connected',
    help: '1 while the MQTT broker of the sensors is connected, 0 while it is gone',
    registers: [this.registry],
  });
  readonly brokerDisconnects = new Counter({
    name: 'flymining_climate_mqtt_disconnects_total',
    help: 'Times the MQTT broker connection was lost',
    registers: [this.registry],
  });

  constructor(store: () => StoreCounters) {
    collectDefaultMetrics({ register: this.registry, prefix: 'flymining_climate_exporter_' });
    registerStoreGauges(this.registry, store);
  }

}
