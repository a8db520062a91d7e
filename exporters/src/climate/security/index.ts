/** Security sensors' settings (validated per family) and the MQTT topics each one is read on. */
import type { SecurityPosition } from '@flymining/shared';
import { z } from 'zod';
import type { SensorRef } from '../types';
import type { SecurityRoute } from './family';
import { shellyBluRoutes, shellyBluSettings, shellyBthomeRoutes, shellyBthomeSettings, shellyGen1Routes, shellyGen1Settings } from './shelly';
import { tasmotaSwitchRoutes, tasmotaSwitchSettings } from './tasmota';
import { zigbee2mqttRoutes, zigbee2mqttSettings } from './zigbee2mqtt';

export * from './family';

export const securitySettings = z.discriminatedUnion('format', [tasmotaSwitchSettings, shellyGen1Settings, shellyBthomeSettings, shellyBluSettings, zigbee2mqttSettings]);
export type SecuritySettings = z.infer<typeof securitySettings>;
export const SECURITY_FORMATS = ['tasmota', 'shelly-gen1', 'shelly-bthome', 'shelly-blu', 'zigbee2mqtt'] as const;

/** A door, motion, tamper, smoke or leak sensor as the exporter knows it (always MQTT). */
export type SecuritySensor = SensorRef & { position: SecurityPosition; protocol: 'mqtt'; security: true; settings: SecuritySettings };

export function securityRoutes(sensor: SecuritySensor): SecurityRoute[] {
  const s = sensor.settings;
  switch (s.format) {
    case 'tasmota':
      return tasmotaSwitchRoutes(s, sensor.position);
    case 'shelly-gen1':
      return shellyGen1Routes(s);
    case 'shelly-bthome':
      return shellyBthomeRoutes(s, sensor.position);
    case 'shelly-blu':
      return shellyBluRoutes(s, sensor.position);
    case 'zigbee2mqtt':
      return zigbee2mqttRoutes(s);
  }
}
