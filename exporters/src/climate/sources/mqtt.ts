/**
 * MQTT telemetry: one broker connection for every MQTT sensor. Tasmota `tele/<topic>/SENSOR`, Shelly Gen2
 * `<prefix>/events/rpc` NotifyStatus, ESPHome `<node>/sensor/<name>/state` (one value per topic) and plain JSON.
 * A reading is stored at the time the device stamped it (Tasmota `Time`, Shelly `params.ts`), so readings that a
 * broker outage held back and delivered together keep their own times; ESPHome and plain JSON carry none and are
 * stamped on arrival.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { splitUrlCredentials } from '@flymining/shared';
import { decodeEsphomeState, decodeJsonPaths, decodeShellyDoc, decodeTasmotaDoc, parseJson, shellyTime, tasmotaTime } from '../payloads';
import { securityRoutes, type SecurityRoute, type SecuritySensor } from '../security';
import { isSecuritySensor, type AnySensor, type MqttSensorSettings } from '../settings';
import { PayloadRejected, type ClimateSource, type Quantity, type SensorRef, type SensorValues, type SourceEvents } from '../types';

const MAX_PAYLOAD_BYTES = 16 * 1024;

type Decoded = { values: SensorValues; time?: number };
type Route = { sensor: SensorRef; settings: MqttSensorSettings; decode: (text: string) => Decoded };
type MqttSensor = SensorRef & { settings: MqttSensorSettings };

function routesOf(sensor: MqttSensor): Array<[string, Route]> {
  const s = sensor.settings;
  switch (s.format) {
    case 'tasmota':
      return [[s.topic, { sensor, settings: s, decode: (t) => withTime(parseJson(t), (d) => decodeTasmotaDoc(d, s.sensorKey), (d) => tasmotaTime(d, s)) }]];
    case 'shelly':
      return [[s.topic, { sensor, settings: s, decode: (t) => withTime(parseJson(t), (d) => decodeShellyDoc(d, s.component), shellyTime) }]];
    case 'json':
      return [[s.topic, { sensor, settings: s, decode: (t) => ({ values: decodeJsonPaths(t, s.paths, s.unit) }) }]];
    case 'esphome':
      return (Object.entries(s.topics) as Array<[Quantity, string]>).map(([quantity, topic]) => [
        topic,
        {
          sensor,
          settings: s,
          decode: (t) => {
            const v = decodeEsphomeState(t, topic);
            return { values: { [quantity]: quantity === 'temperatureC' && s.unit === 'F' ? ((v - 32) * 5) / 9 : v } };
          },
        },
      ]);
  }
}

function withTime(doc: unknown, values: (doc: unknown) => SensorValues, time: (doc: unknown) => number | undefined): Decoded {
  const t = time(doc);
  return t === undefined ? { values: values(doc) } : { values: values(doc), time: t };
}

/** The broker connection as /healthz and the log tell it. */
export interface BrokerLink {
  connected: boolean;
  /** Since when connected / disconnected (ms). */
  since: number;
  /** Why it is down: the close or the last connection error. */
  reason?: string;
}

/** How to reach the sensors' broker. Credentials stay out of the URL so that no message can show them. */
export interface BrokerSettings {
  url: string;
  username?: string;
  password?: string;
  /** PEM of the CA that signed an mqtts:// broker's certificate. */
  ca?: string;
}

export interface BrokerLinkEvents {
  lost(url: string, reason: string): void;
  restored(url: string, downMs: number): void;
}

export class MqttSource implements ClimateSource {
  readonly protocol = 'mqtt' as const;
  private client: MqttClient | undefined;
  private readonly routes = new Map<string, Route[]>();
  /** Door, motion, tamper, smoke and leak sensors: their state, will and availability topics (security/). */
  private readonly securityRoutes = new Map<string, Array<{ sensor: SecuritySensor; route: SecurityRoute }>>();
  private state: BrokerLink = { connected: false, since: Date.now(), reason: 'not connected yet' };
  private lastError: string | undefined;
  private stopping = false;

  private readonly url: string;
  private readonly broker: BrokerSettings;

  constructor(
    broker: BrokerSettings | string,
    sensors: readonly AnySensor[],
    private readonly events: SourceEvents,
    private readonly linkEvents?: BrokerLinkEvents,
    private readonly clientId = `flymining-climate-${process.pid}-${Date.now().toString(36)}`,
  ) {
    // A password written into the URL (mqtt://user:pass@host) is moved out of it, as if it had come from a file.
    const given = typeof broker === 'string' ? { url: broker } : broker;
    const inUrl = splitUrlCredentials(given.url);
    this.broker = { ...given, url: inUrl.url, username: given.username ?? inUrl.username, password: given.password ?? inUrl.password };
    // Shown in logs and on /healthz: the account, never its password.
    const shown = new URL(this.broker.url);
    if (this.broker.username) shown.username = encodeURIComponent(this.broker.username);
    this.url = shown.toString().replace(/\/$/, '');
    for (const s of sensors) {
      if (isSecuritySensor(s)) {
        for (const route of securityRoutes(s)) this.securityRoutes.set(route.topic, [...(this.securityRoutes.get(route.topic) ?? []), { sensor: s, route }]);
        continue;
      }
      if (s.protocol !== 'mqtt') continue;
      for (const [topic, route] of routesOf(s)) this.routes.set(topic, [...(this.routes.get(topic) ?? []), route]);
    }
  }

  topics(): string[] {
    return [...new Set([...this.routes.keys(), ...this.securityRoutes.keys()])];
  }

  async start(): Promise<void> {
    if (this.topics().length === 0) return;
    try {
      const { url, username, password, ca } = this.broker;
      this.client = await mqtt.connectAsync(url, { clientId: this.clientId, reconnectPeriod: 2000, connectTimeout: 5000, username, password, ca });
    } catch (err) {
      throw new Error(`climate exporter: cannot connect to MQTT broker ${this.url}: ${(err as Error).message}`);
    }
    this.state = { connected: true, since: Date.now() };
    const client = this.client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => {
      this.lastError = err.message;
      if (!this.state.connected) this.state.reason = err.message;
    });
    client.on('close', () => this.onClose());
    client.on('connect', () => this.onConnect());
    // Subscriptions are re-sent by mqtt.js after a reconnect (resubscribe defaults to true).
    await client.subscribeAsync(this.topics(), { qos: 0 });
  }

  link(): BrokerLink {
    return { ...this.state };
  }

  problem(): string | undefined {
    if (this.topics().length === 0 || this.state.connected || !this.client) return undefined;
    return `MQTT broker ${this.url} unreachable since ${new Date(this.state.since).toISOString()}: ${this.state.reason ?? 'connection closed'}`;
  }

  private onClose(): void {
    if (this.stopping || !this.state.connected) return;
    // Once per outage: mqtt.js retries every reconnectPeriod and closes again after each failed attempt.
    const reason = this.lastError ?? 'the broker closed the connection';
    this.state = { connected: false, since: Date.now(), reason };
    this.linkEvents?.lost(this.url, reason);
  }

  private onConnect(): void {
    if (this.state.connected) return;
    const downMs = Date.now() - this.state.since;
    this.state = { connected: true, since: Date.now() };
    this.lastError = undefined;
    this.linkEvents?.restored(this.url, downMs);
  }

  private onMessage(topic: string, payload: Buffer): void {
    this.onSecurityMessage(topic, payload);
    const routes = this.routes.get(topic);
    if (!routes) return;
    const now = Date.now();
    for (const { sensor, settings, decode } of routes) {
      if (payload.length > MAX_PAYLOAD_BYTES) {
        this.events.rejected(sensor, 'too-large', `${payload.length} bytes on ${topic}`);
        continue;
      }
      try {
        const { values, time = now } = decode(payload.toString('utf8'));
        if (time < now - settings.maxAgeS * 1000) {
          this.events.rejected(sensor, 'too-old', `stamped ${new Date(time).toISOString()}, more than ${settings.maxAgeS} s before it arrived (device clock or time zone wrong?) (topic ${topic})`);
        } else if (time > now + settings.maxAheadS * 1000) {
          this.events.rejected(sensor, 'in-future', `stamped ${new Date(time).toISOString()}, more than ${settings.maxAheadS} s after it arrived (device clock or time zone wrong?) (topic ${topic})`);
        } else {
          this.events.reading(sensor, values, time, now);
        }
      } catch (err) {
        if (err instanceof PayloadRejected) this.events.rejected(sensor, err.reason, `${err.message} (topic ${topic})`);
        else this.events.rejected(sensor, 'wrong-type', `${(err as Error).message} (topic ${topic})`);
      }
    }
  }

  /** Security payloads: the same size limit and rejection counting as climate ones; time = arrival. */
  private onSecurityMessage(topic: string, payload: Buffer): void {
    const routes = this.securityRoutes.get(topic);
    if (!routes) return;
    const now = Date.now();
    for (const { sensor, route } of routes) {
      if (payload.length > MAX_PAYLOAD_BYTES) {
        this.events.rejected(sensor, 'too-large', `${payload.length} bytes on ${topic}`);
        continue;
      }
      let message;
      try {
        message = route.decode(payload.toString('utf8'));
      } catch (err) {
        if (err instanceof PayloadRejected) this.events.rejected(sensor, err.reason, `${err.message} (topic ${topic})`);
        else this.events.rejected(sensor, 'wrong-type', `${(err as Error).message} (topic ${topic})`);
        continue;
      }
      if (message) this.events.security?.(sensor, message, now);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
  }
}
