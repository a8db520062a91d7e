/**
 * Simulated security sensors of each container (issue 15), one payload family each, on their real topics:
 *   door    Tasmota reed contact as Switch1 (SwitchMode 15): tele/<C>-door/SENSOR {"Switch1":"ON"} = open, every
 *           change and every TelePeriod; tele/<C>-door/STATE; its own connection with the will tele/<C>-door/LWT
 *           Offline (Online retained on connect)
 *   motion  Zigbee2MQTT PIR: zigbee2mqtt/<C>-motion {"occupancy":…}
 *   tamper  Zigbee2MQTT vibration sensor: zigbee2mqtt/<C>-vibration {"vibration":…}
 *   leak    Zigbee2MQTT water-leak sensor: zigbee2mqtt/<C>-leak {"water_leak":…}
 *           (availability retained on zigbee2mqtt/<fn>/availability {"state":"online"}, as the bridge does)
 *   smoke   Shelly Gen1 smoke detector: shellies/shellysmoke-<C>/sensor/smoke true|false, its own connection with
 *           the will shellies/shellysmoke-<C>/online false
 * `sensorOffline` cuts the door contact's connection without a goodbye, so the broker itself publishes its will.
 */
import mqtt, { type MqttClient } from 'mqtt';

export type SecurityRole = 'door' | 'motion' | 'tamper' | 'leak' | 'smoke';

/** What the sensors of one container report; SensorFaults holds it per container. */
export interface SecurityConditions {
  doorOpen: boolean;
  motion: boolean;
  tamper: boolean;
  smoke: boolean;
  waterLeak: boolean;
  /** The door contact's cable is cut: its connection is gone and its will published. */
  sensorOffline: boolean;
}

export const NO_CONDITIONS: Readonly<SecurityConditions> = { doorOpen: false, motion: false, tamper: false, smoke: false, waterLeak: false, sensorOffline: false };

const Z2M = 'zigbee2mqtt';

/** The inventory entries (climate exporter settings) of a container's simulated security sensors. */
export function securitySensorEntries(container: string): Array<Record<string, unknown>> {
  return [
    { id: `${container}-door`, position: 'door', protocol: 'mqtt', format: 'tasmota', device: `${container}-door`, offlineAfterS: 900 },
    { id: `${container}-motion`, position: 'motion', protocol: 'mqtt', format: 'zigbee2mqtt', friendlyName: `${container}-motion` },
    { id: `${container}-tamper`, position: 'tamper', protocol: 'mqtt', format: 'zigbee2mqtt', friendlyName: `${container}-vibration` },
    { id: `${container}-leak`, position: 'leak', protocol: 'mqtt', format: 'zigbee2mqtt', friendlyName: `${container}-leak` },
    { id: `${container}-smoke`, position: 'smoke', protocol: 'mqtt', format: 'shelly-gen1', device: `shellysmoke-${container}` },
  ];
}

interface ContainerDevices {
  door?: MqttClient;
  smoke?: MqttClient;
  /** What was last published, so a change is sent at once and only once. */
  sent?: SecurityConditions;
}

export interface SecurityPublisherOptions {
  url: string;
  containers: readonly string[];
  conditions: (container: string) => SecurityConditions;
}

/** The containers' security sensors on MQTT: state changes at once (publish()), everything on every tick(). */
export class SecurityPublisher {
  private bridge: MqttClient | undefined;
  private readonly devices = new Map<string, ContainerDevices>();
  private readonly run = `${process.pid}-${Date.now().toString(36)}`;

  constructor(private readonly options: SecurityPublisherOptions) {}

  private connect(clientId: string, will: { topic: string; payload: string }): Promise<MqttClient> {
    // reconnectPeriod 0: a cut cable stays cut until the control API clears it.
    return mqtt.connectAsync(this.options.url, { clientId: `${clientId}-${this.run}`, reconnectPeriod: 0, connectTimeout: 5000, will: { ...will, payload: Buffer.from(will.payload), qos: 1, retain: true } });
  }

  private async connectDoor(container: string): Promise<MqttClient> {
    const door = await this.connect(`sim-tasmota-${container}-door`, { topic: `tele/${container}-door/LWT`, payload: 'Offline' });
    await door.publishAsync(`tele/${container}-door/LWT`, 'Online', { qos: 1, retain: true });
    return door;
  }

  async start(): Promise<void> {
    this.bridge = await this.connect(`sim-zigbee2mqtt`, { topic: `${Z2M}/bridge/state`, payload: '{"state":"offline"}' });
    await this.bridge.publishAsync(`${Z2M}/bridge/state`, '{"state":"online"}', { qos: 1, retain: true });
    for (const c of this.options.containers) {
      const smoke = await this.connect(`sim-shellysmoke-${c}`, { topic: `shellies/shellysmoke-${c}/online`, payload: 'false' });
      await smoke.publishAsync(`shellies/shellysmoke-${c}/online`, 'true', { qos: 1, retain: true });
      const door = this.options.conditions(c).sensorOffline ? undefined : await this.connectDoor(c);
      this.devices.set(c, { door, smoke });
      for (const fn of ['motion', 'vibration', 'leak']) await this.bridge.publishAsync(`${Z2M}/${c}-${fn}/availability`, '{"state":"online"}', { qos: 1, retain: true });
    }
    await this.tick();
  }

  /** Publishes what changed in a container since last time (the door cable cut or mended included). */
  async publish(container: string, all = false): Promise<void> {
    const d = this.devices.get(container);
    if (!d || !this.bridge) return;
    const now = this.options.conditions(container);
    const was = all ? undefined : d.sent;
    d.sent = { ...now };
    if (now.sensorOffline && d.door) {
      d.door.stream.destroy(); // no DISCONNECT: the broker publishes the will
      d.door = undefined;
    } else if (!now.sensorOffline && !d.door) {
      d.door = await this.connectDoor(container);
    }
    const sends: Array<Promise<unknown>> = [];
    const time = new Date().toISOString().slice(0, 19);
    if (d.door && (was?.doorOpen !== now.doorOpen || was?.sensorOffline !== now.sensorOffline)) {
      sends.push(d.door.publishAsync(`tele/${container}-door/SENSOR`, JSON.stringify({ Time: time, Switch1: now.doorOpen ? 'ON' : 'OFF' }), { qos: 1 }));
    }
    if (all && d.door) sends.push(d.door.publishAsync(`tele/${container}-door/STATE`, JSON.stringify({ Time: time, Uptime: '0T00:10:00', Wifi: { RSSI: 80 } }), { qos: 0 }));
    const z2m = (fn: string, body: Record<string, unknown>): void => void sends.push(this.bridge!.publishAsync(`${Z2M}/${container}-${fn}`, JSON.stringify({ ...body, battery: 100, linkquality: 90 }), { qos: 1 }));
    if (was?.motion !== now.motion) z2m('motion', { occupancy: now.motion });
    if (was?.tamper !== now.tamper) z2m('vibration', { vibration: now.tamper });
    if (was?.waterLeak !== now.waterLeak) z2m('leak', { water_leak: now.waterLeak });
    if (d.smoke && was?.smoke !== now.smoke) sends.push(d.smoke.publishAsync(`shellies/shellysmoke-${container}/sensor/smoke`, String(now.smoke), { qos: 1 }));
    await Promise.all(sends);
  }

  /** The periodic reports (TelePeriod, battery devices' wake-ups): every sensor's state, so silence means trouble. */
  async tick(): Promise<void> {
    for (const c of this.options.containers) await this.publish(c, true);
  }

  async stop(): Promise<void> {
    const clients = [this.bridge, ...[...this.devices.values()].flatMap((d) => [d.door, d.smoke])].filter((c): c is MqttClient => c !== undefined);
    this.bridge = undefined;
    this.devices.clear();
    // A clean goodbye (DISCONNECT): the simulator stopping is not a cut cable.
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  }
}
