/**
 * MQTT telemetry: one broker connection for every MQTT sensor. Tasmota `tele/<topic>/SENSOR`, Shelly Gen2
 * `<prefix>/events/rpc` NotifyStatus, ESPHome `<node>/sensor/<name>/state` (one value per topic) and plain JSON.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { decodeEsphomeState, decodeJsonPaths, decodeShelly, decodeTasmota } from '../payloads';
import type { ConfiguredSensor, MqttSensorSettings } from '../settings';
import { PayloadRejected, type ClimateSource, type Quantity, type SensorRef, type SensorValues, type SourceEvents } from '../types';

const MAX_PAYLOAD_BYTES = 16 * 1024;

type Route = { sensor: SensorRef; decode: (text: string) => SensorValues };
type MqttSensor = SensorRef & { settings: MqttSensorSettings };

function routesOf(sensor: MqttSensor): Array<[string, Route]> {
  const s = sensor.settings;
  switch (s.format) {
    case 'tasmota':
      return [[s.topic, { sensor, decode: (t) => decodeTasmota(t, s.sensorKey) }]];
    case 'shelly':
      return [[s.topic, { sensor, decode: (t) => decodeShelly(t, s.component) }]];
    case 'json':
      return [[s.topic, { sensor, decode: (t) => decodeJsonPaths(t, s.paths, s.unit) }]];
    case 'esphome':
      return (Object.entries(s.topics) as Array<[Quantity, string]>).map(([quantity, topic]) => [
        topic,
        {
          sensor,
          decode: (t) => {
            const v = decodeEsphomeState(t, topic);
            return { [quantity]: quantity === 'temperatureC' && s.unit === 'F' ? ((v - 32) * 5) / 9 : v };
          },
        },
      ]);
  }
}

export class MqttSource implements ClimateSource {
  readonly protocol = 'mqtt' as const;
  private client: MqttClient | undefined;
  private readonly routes = new Map<string, Route[]>();

  constructor(
    private readonly url: string,
    sensors: readonly ConfiguredSensor[],
    private readonly events: SourceEvents,
    private readonly clientId = `flymining-climate-${process.pid}-${Date.now().toString(36)}`,
  ) {
    for (const s of sensors) {
      if (s.protocol !== 'mqtt') continue;
      for (const [topic, route] of routesOf(s)) this.routes.set(topic, [...(this.routes.get(topic) ?? []), route]);
    }
  }

  topics(): string[] {
    return [...this.routes.keys()];
  }

  async start(): Promise<void> {
    if (this.routes.size === 0) return;
    try {
      this.client = await mqtt.connectAsync(this.url, { clientId: this.clientId, reconnectPeriod: 2000, connectTimeout: 5000 });
    } catch (err) {
      throw new Error(`climate exporter: cannot connect to MQTT broker ${this.url}: ${(err as Error).message}`);
    }
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
    // Subscriptions are re-sent by mqtt.js after a reconnect (resubscribe defaults to true).
    await this.client.subscribeAsync(this.topics(), { qos: 0 });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const routes = this.routes.get(topic);
    if (!routes) return;
    const now = Date.now();
    for (const { sensor, decode } of routes) {
      if (payload.length > MAX_PAYLOAD_BYTES) {
        this.events.rejected(sensor, 'too-large', `${payload.length} bytes on ${topic}`);
        continue;
      }
      try {
        this.events.reading(sensor, decode(payload.toString('utf8')), now);
      } catch (err) {
        if (err instanceof PayloadRejected) this.events.rejected(sensor, err.reason, `${err.message} (topic ${topic})`);
        else this.events.rejected(sensor, 'wrong-type', `${(err as Error).message} (topic ${topic})`);
      }
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
  }
}
