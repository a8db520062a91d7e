/** The climate exporter's own health on /metrics. One registry per instance. */
import { counter, exporterHealthClass, gauge } from '../common/metric-table';

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

export class ClimateMetrics extends exporterHealthClass(climateMetrics, 'flymining_climate_exporter_') {}
