/**
 * Issue 15, physical: door/window contacts, motion, tamper/vibration, smoke and water-leak sensors of every
 * payload family (Shelly Gen1, Shelly BTHome through a Gen2 gateway, the Shelly BLU script, Zigbee2MQTT, Tasmota)
 * over the real Mosquitto → the right fault naming container and sensor, cleared when the condition ends; each
 * sensor's will / availability going offline (and a real MQTT will of a cut connection) and silence beyond
 * offlineAfterS → SENSOR_OFFLINE; hostile payloads counted and refused without changing anything.
 */
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { parseInventory, type Fault, type InfluxStore } from '@flymining/shared';
import { stringify } from 'yaml';
import { ClimateExporter } from '../../src/climate/climate-exporter';
import { configureSensors, SensorSettingsError } from '../../src/climate/settings';
import { freshStore, waitFor } from '../e2e/helpers';

const MQTT_URL = process.env.FLYMINING_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const R = `sec${process.pid.toString(36)}${Date.now().toString(36)}`;

const sensors = [
  { id: 'gen1-door', position: 'door', protocol: 'mqtt', format: 'shelly-gen1', device: `${R}-shellydw2-a1b2c3` },
  { id: 'gen1-flood', position: 'leak', protocol: 'mqtt', format: 'shelly-gen1', device: `${R}-shellyflood-d4e5f6` },
  { id: 'gen1-smoke', position: 'smoke', protocol: 'mqtt', format: 'shelly-gen1', device: `${R}-shellysmoke-0a0b0c` },
  { id: 'blu-door', position: 'door', protocol: 'mqtt', format: 'shelly-bthome', prefix: `${R}-shellyblugw`, component: 200 },
  { id: 'blu-motion', position: 'motion', protocol: 'mqtt', format: 'shelly-bthome', prefix: `${R}-shellyblugw`, component: 201 },
  { id: 'bluscript-door', position: 'door', protocol: 'mqtt', format: 'shelly-blu', topic: `${R}/blu/38:39:8f:aa:bb:cc` },
  { id: 'z-door', position: 'door', protocol: 'mqtt', format: 'zigbee2mqtt', baseTopic: `${R}/z2m`, friendlyName: 'container/door' },
  { id: 'z-motion', position: 'motion', protocol: 'mqtt', format: 'zigbee2mqtt', baseTopic: `${R}/z2m`, friendlyName: 'pir' },
  { id: 'z-smoke', position: 'smoke', protocol: 'mqtt', format: 'zigbee2mqtt', baseTopic: `${R}/z2m`, friendlyName: 'smoke' },
  { id: 'z-leak', position: 'leak', protocol: 'mqtt', format: 'zigbee2mqtt', baseTopic: `${R}/z2m`, friendlyName: 'leak' },
  { id: 'z-vibration', position: 'tamper', protocol: 'mqtt', format: 'zigbee2mqtt', baseTopic: `${R}/z2m`, friendlyName: 'vibration' },
  { id: 't-door', position: 'door', protocol: 'mqtt', device: `${R}-door` }, // Tasmota is the default format
  { id: 't-pir', position: 'motion', protocol: 'mqtt', format: 'tasmota', device: `${R}-pir`, switchKey: 'Switch2', activeWhen: 'OFF' },
  { id: 't-quiet', position: 'door', protocol: 'mqtt', format: 'tasmota', device: `${R}-quiet`, offlineAfterS: 30 },
];

let store: InfluxStore;
let exporter: ClimateExporter;
let publisher: MqttClient;
const extra: MqttClient[] = [];

const active = (): Fault[] => exporter.faults.all();
const has = (code: string, sensor: string): boolean => active().some((f) => f.code === code && f.minerId === sensor);

async function publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
  await publisher.publishAsync(topic, payload, { qos: 1, retain });
}

async function expectFault(code: string, sensor: string, topic: string, payload: string): Promise<Fault> {
  await publish(topic, payload);
  await waitFor(`${code} of ${sensor} after ${payload} on ${topic}`, () => has(code, sensor), 5000, active);
  return active().find((f) => f.code === code && f.minerId === sensor)!;
}

async function expectCleared(code: string, sensor: string, topic: string, payload: string): Promise<void> {
  await publish(topic, payload);
  await waitFor(`${code} of ${sensor} cleared after ${payload}`, () => !has(code, sensor), 5000, active);
}

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await exporter.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

beforeAll(async () => {
  store = await freshStore(`climate_security_${process.pid}`);
  const inventory = parseInventory(stringify({ site: 'sec', containers: [{ name: 'C01', racks: [], sensors }] }), 'security.yaml');
  exporter = new ClimateExporter(configureSensors(inventory), store, { name: 'edge-C01', mqttUrl: MQTT_URL, intervalS: 3600, firstEvaluationMs: 3_600_000, floodBurst: 10, floodPerSecond: 1 }, pino({ level: 'silent' }));
  await exporter.start();
  publisher = await mqtt.connectAsync(MQTT_URL, { clientId: `${R}-pub` });
});

afterAll(async () => {
  await exporter?.stop();
  for (const c of [publisher, ...extra]) await c?.endAsync(true).catch(() => undefined);
  await store?.close();
});

describe('door contacts of every family: DOOR_OPEN while open, cleared when it closes', () => {
  const cases: Array<[string, string, string, string]> = [
    ['gen1-door', `shellies/${R}-shellydw2-a1b2c3/sensor/state`, 'open', 'close'],
    ['blu-door', `${R}-shellyblugw/status/bthomesensor:200`, '{"id":200,"value":1,"last_updated_ts":1764250000}', '{"id":200,"value":0,"last_updated_ts":1764250060}'],
    ['bluscript-door', `${R}/blu/38:39:8f:aa:bb:cc`, '{"addr":"38:39:8f:aa:bb:cc","rssi":-70,"service_data":{"pid":12,"battery":100,"window":1,"rotation":0}}', '{"addr":"38:39:8f:aa:bb:cc","rssi":-70,"service_data":{"pid":13,"battery":100,"window":0}}'],
    ['z-door', `${R}/z2m/container/door`, '{"contact":false,"linkquality":78,"battery":100,"voltage":3015}', '{"contact":true,"linkquality":78,"battery":100,"voltage":3015}'],
    ['t-door', `tele/${R}-door/SENSOR`, '{"Time":"2026-11-27T14:00:00","Switch1":"ON"}', '{"Time":"2026-11-27T14:00:05","Switch1":"OFF"}'],
  ];
  test.each(cases)('%s', async (sensor, topic, open, close) => {
    const fault = await expectFault('DOOR_OPEN', sensor, topic, open);
    expect(fault.severity).toBe('critical');
    expect(fault.location).toEqual({ site: 'sec', container: 'C01', rack: '-', shelf: '-', slot: '-' });
    expect(fault.message).toContain('container C01');
    expect(fault.message).toContain(sensor);
    await expectCleared('DOOR_OPEN', sensor, topic, close);
  });

  test('Tasmota SetOption114 form {"Switch1":{"Action":"ON"}} opens too', async () => {
    await expectFault('DOOR_OPEN', 't-door', `tele/${R}-door/SENSOR`, '{"Switch1":{"Action":"ON"}}');
    await expectCleared('DOOR_OPEN', 't-door', `tele/${R}-door/SENSOR`, '{"Switch1":{"Action":"OFF"}}');
  });
});

describe('motion, tamper, smoke and leak of every family', () => {
  const cases: Array<[string, string, string, string, string]> = [
    ['MOTION', 'z-motion', `${R}/z2m/pir`, '{"occupancy":true,"battery":90}', '{"occupancy":false,"battery":90}'],
    ['MOTION', 'blu-motion', `${R}-shellyblugw/status/bthomesensor:201`, '{"id":201,"value":true}', '{"id":201,"value":false}'],
    // a PIR wired as Switch2 that pulls the line low on motion (activeWhen OFF)
    ['MOTION', 't-pir', `tele/${R}-pir/SENSOR`, '{"Switch2":"OFF"}', '{"Switch2":"ON"}'],
    ['TAMPER', 'z-vibration', `${R}/z2m/vibration`, '{"vibration":true,"tilt":false}', '{"vibration":false}'],
    ['TAMPER', 'z-door', `${R}/z2m/container/door`, '{"contact":true,"tamper":true}', '{"contact":true,"tamper":false}'],
    ['TAMPER', 'gen1-door', `shellies/${R}-shellydw2-a1b2c3/sensor/vibration`, '1', '0'],
    ['SMOKE', 'z-smoke', `${R}/z2m/smoke`, '{"smoke":true,"battery_low":false}', '{"smoke":false}'],
    ['SMOKE', 'gen1-smoke', `shellies/${R}-shellysmoke-0a0b0c/sensor/smoke`, 'true', 'false'],
    ['WATER_LEAK', 'z-leak', `${R}/z2m/leak`, '{"water_leak":true,"battery":100}', '{"water_leak":false,"battery":100}'],
    ['WATER_LEAK', 'gen1-flood', `shellies/${R}-shellyflood-d4e5f6/sensor/flood`, 'true', 'false'],
  ];
  test.each(cases)('%s from %s', async (code, sensor, topic, on, off) => {
    const fault = await expectFault(code, sensor, topic, on);
    expect(fault.message).toMatch(new RegExp(`container C01: .*${sensor}`));
    expect(fault.severity).toBe(code === 'SMOKE' || code === 'WATER_LEAK' ? 'critical' : 'warning');
    await expectCleared(code, sensor, topic, off);
  });
});

describe('a sensor going offline is SENSOR_OFFLINE', () => {
  const cases: Array<[string, string, string, string]> = [
    ['t-door', `tele/${R}-door/LWT`, 'Offline', 'Online'],
    ['gen1-door', `shellies/${R}-shellydw2-a1b2c3/online`, 'false', 'true'],
    ['blu-door', `${R}-shellyblugw/online`, 'false', 'true'],
    ['z-door', `${R}/z2m/container/door/availability`, '{"state":"offline"}', '{"state":"online"}'],
    ['z-leak', `${R}/z2m/leak/availability`, 'offline', 'online'], // before Zigbee2MQTT 2.0: the plain word
  ];
  test.each(cases)('%s: its will / availability', async (sensor, topic, offline, online) => {
    const fault = await expectFault('SENSOR_OFFLINE', sensor, topic, offline);
    expect(fault.message).toMatch(/container C01: door|leak sensor/);
    expect(fault.message).toContain(sensor);
    await expectCleared('SENSOR_OFFLINE', sensor, topic, online);
  });

  test('the Zigbee2MQTT bridge gone: each of its sensors is offline until the bridge republishes them', async () => {
    const z = ['z-door', 'z-motion', 'z-smoke', 'z-leak', 'z-vibration'];
    await publish(`${R}/z2m/bridge/state`, '{"state":"offline"}');
    await waitFor('every Zigbee2MQTT sensor offline', () => z.every((id) => has('SENSOR_OFFLINE', id)), 5000, active);
    expect(has('SENSOR_OFFLINE', 't-door')).toBe(false);
    await publish(`${R}/z2m/bridge/state`, '{"state":"online"}');
    await new Promise((r) => setTimeout(r, 300));
    expect(z.every((id) => has('SENSOR_OFFLINE', id))).toBe(true); // the bridge alone says nothing of its devices
    for (const id of z) {
      const fn = { 'z-door': 'container/door', 'z-motion': 'pir', 'z-smoke': 'smoke', 'z-leak': 'leak', 'z-vibration': 'vibration' }[id];
      await publish(`${R}/z2m/${fn}/availability`, '{"state":"online"}');
    }
    await waitFor('every Zigbee2MQTT sensor back', () => z.every((id) => !has('SENSOR_OFFLINE', id)), 5000, active);
  });

  test("a cut connection: the broker publishes the Tasmota device's own last will", async () => {
    const device = await mqtt.connectAsync(MQTT_URL, { clientId: `${R}-tasmota-door`, will: { topic: `tele/${R}-door/LWT`, payload: Buffer.from('Offline'), qos: 1, retain: true } });
    extra.push(device);
    await device.publishAsync(`tele/${R}-door/LWT`, 'Online', { qos: 1, retain: true });
    await device.publishAsync(`tele/${R}-door/SENSOR`, '{"Switch1":"OFF"}', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(has('SENSOR_OFFLINE', 't-door')).toBe(false);
    device.stream.destroy(); // the cable is cut: no DISCONNECT, the broker sends the will
    await waitFor('SENSOR_OFFLINE from the will', () => has('SENSOR_OFFLINE', 't-door'), 10_000, active);
    await expectCleared('SENSOR_OFFLINE', 't-door', `tele/${R}-door/LWT`, 'Online');
  });

  test('silent beyond offlineAfterS (a battery gone, a sensor unplugged without a will)', async () => {
    const now = Date.now();
    await publish(`tele/${R}-quiet/STATE`, '{"Time":"2026-11-27T14:00:00","Uptime":"0T01:00:00"}');
    await waitFor('t-quiet heard', async () => (await counter('flymining_climate_readings_total', { sensor: 't-quiet' })) >= 1);
    await exporter.evaluate(now + 20_000);
    expect(has('SENSOR_OFFLINE', 't-quiet')).toBe(false);
    await exporter.evaluate(now + 40_000);
    const f = active().find((x) => x.code === 'SENSOR_OFFLINE' && x.minerId === 't-quiet');
    expect(f?.message).toMatch(/container C01: door sensor t-quiet is offline: it sent nothing for 4\d s \(offlineAfterS 30\)/);
    await exporter.evaluate(Date.now());
  });
});

describe('hostile payloads are counted and refused, changing nothing', () => {
  test('huge, malformed and wrongly typed', async () => {
    const before = (reason: string, sensor: string) => counter('flymining_climate_rejected_total', { sensor, reason });
    const start = { large: await before('too-large', 'z-door'), notJson: await before('not-json', 'z-door'), wrong: await before('wrong-type', 'z-door'), gen1: await before('wrong-type', 'gen1-door'), lwt: await before('wrong-type', 't-door') };
    await publish(`${R}/z2m/container/door`, Buffer.alloc(64 * 1024, '{'));
    await publish(`${R}/z2m/container/door`, '{"contact":fals');
    await publish(`${R}/z2m/container/door`, '{"contact":"open"}');
    await publish(`${R}/z2m/container/door/availability`, '{"state":"maybe"}');
    await publish(`shellies/${R}-shellydw2-a1b2c3/sensor/state`, 'ajar');
    await publish(`tele/${R}-door/LWT`, 'Gone');
    await waitFor('the rejections', async () =>
      (await before('too-large', 'z-door')) === start.large + 1 &&
      (await before('not-json', 'z-door')) === start.notJson + 1 &&
      (await before('wrong-type', 'z-door')) === start.wrong + 2 &&
      (await before('wrong-type', 'gen1-door')) === start.gen1 + 1 &&
      (await before('wrong-type', 't-door')) === start.lwt + 1,
    );
    expect(active().filter((f) => ['z-door', 'gen1-door', 't-door'].includes(f.minerId))).toEqual([]);
  });

  test('a flood: past the burst, messages are refused and counted', async () => {
    const topic = `${R}/z2m/smoke`;
    const before = await counter('flymining_climate_rejected_total', { sensor: 'z-smoke', reason: 'flood' });
    await Promise.all(Array.from({ length: 40 }, () => publisher.publishAsync(topic, '{"smoke":false}', { qos: 0 })));
    await waitFor('flood rejections', async () => (await counter('flymining_climate_rejected_total', { sensor: 'z-smoke', reason: 'flood' })) >= before + 25);
    expect(has('SMOKE', 'z-smoke')).toBe(false);
  });

  test('a flood cannot push a real alarm out: smoke after a burst of "no smoke" still raises SMOKE', async () => {
    const topic = `${R}/z2m/smoke`;
    const before = await counter('flymining_climate_rejected_total', { sensor: 'z-smoke', reason: 'flood' });
    await Promise.all(Array.from({ length: 40 }, () => publisher.publishAsync(topic, '{"smoke":false}', { qos: 0 })));
    await publisher.publishAsync(topic, '{"smoke":true}', { qos: 1 });
    await waitFor('SMOKE despite the flood', () => has('SMOKE', 'z-smoke'), 5000, active);
    expect(await counter('flymining_climate_rejected_total', { sensor: 'z-smoke', reason: 'flood' })).toBeGreaterThan(before + 20);
    await new Promise((r) => setTimeout(r, 2000)); // the bucket refills
    await expectCleared('SMOKE', 'z-smoke', topic, '{"smoke":false}');
  });
});

test('an unknown sensor position is refused by the inventory, naming the field', () => {
  expect(() => parseInventory(stringify({ site: 'sec', containers: [{ name: 'C9', racks: [], sensors: [{ id: 'x', position: 'gate', protocol: 'mqtt' }] }] }), 'bad.yaml')).toThrow(
    /bad\.yaml:\d+:\d+: containers\[0\]\.sensors\[0\]\.position: .*"door"\|"motion"\|"tamper"\|"smoke"\|"leak"/,
  );
});

test('settings errors name the file, container, sensor and field', () => {
  const inv = parseInventory(
    stringify({
      site: 'sec',
      containers: [
        {
          name: 'C9',
          racks: [],
          sensors: [
            { id: 'c9-door', position: 'door', protocol: 'http', url: 'http://10.0.0.1/' },
            { id: 'c9-z', position: 'door', protocol: 'mqtt', format: 'zigbee2mqtt', friendlyName: 'door/+' },
            { id: 'c9-t', position: 'motion', protocol: 'mqtt', device: 'pir', activeWhen: 'HIGH' },
            { id: 'c9-ok', position: 'leak', protocol: 'mqtt', format: 'shelly-gen1', device: 'shellyflood-1' },
          ],
        },
      ],
    }),
    'sec.yaml',
  );
  expect(() => configureSensors(inv)).toThrow(SensorSettingsError);
  expect(() => configureSensors(inv)).toThrow(/sec\.yaml: container C9, sensor c9-door \(http\): protocol: a door sensor is read over mqtt/);
  expect(() => configureSensors(inv)).toThrow(/sensor c9-z \(mqtt\): friendlyName: one exact topic/);
  expect(() => configureSensors(inv)).toThrow(/sensor c9-t \(mqtt\): activeWhen/);
  expect(() => configureSensors(inv)).not.toThrow(/c9-ok/);
});
