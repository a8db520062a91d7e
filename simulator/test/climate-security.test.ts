/**
 * The simulator's container security sensors (issue 15) on the real Mosquitto, driven by the control API exactly as
 * the README's curl does, read by the real climate exporter from the inventory the simulator writes: a door opened
 * → DOOR_OPEN, motion, tamper, smoke, leak → their faults, the door's cable cut → the broker publishes its will →
 * SENSOR_OFFLINE, and `clear` ends them all.
 */
import mqtt from 'mqtt';
import pino from 'pino';
import { parseInventory, type Fault, type InfluxStore } from '@flymining/shared';
import { ClimateExporter } from '../../exporters/src/climate/climate-exporter';
import { configureSensors } from '../../exporters/src/climate/settings';
import { freshStore, waitFor } from '../../exporters/test/e2e/helpers';
import { startControlServer } from '../src/control';
import { SimulatedFarm, generateFarmSpecs } from '../src/farm';
import { inventoryYaml } from '../src/write-inventory';

const MQTT_URL = process.env.FLYMINING_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
// A container name of this run only: other test files simulate C01 on the same broker.
const C = `Z${process.pid.toString(36).toUpperCase()}`;

jest.setTimeout(60_000);

describe('simulated container security sensors', () => {
  const specs = generateFarmSpecs({ miners: 4, containers: 1, racksPerContainer: 1, baseAddress: '127.8.9.1', seed: 5 }).map((s) => ({ ...s, position: { ...s.position, container: C } }));
  let farm: SimulatedFarm;
  let control: { url: string; close(): Promise<void> };
  let store: InfluxStore;
  let exporter: ClimateExporter;
  const post = (body: unknown): Promise<Response> =>
    fetch(`${control.url}/containers/${C}/sensor-faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const faults = (): Fault[] => exporter.faults.all();
  const has = (code: string, sensor: string): boolean => faults().some((f) => f.code === code && f.minerId === sensor);

  beforeAll(async () => {
    farm = new SimulatedFarm({ specs, seed: 5, mqttUrl: MQTT_URL, mqttIntervalMs: 60_000 });
    await farm.start();
    control = await startControlServer(farm, 0);
    store = await freshStore(`sim_security_${process.pid}`);
    const inventory = parseInventory(inventoryYaml(specs, { sensors: true }), 'farm.yaml');
    exporter = new ClimateExporter(configureSensors(inventory), store, { name: `edge-${C}`, mqttUrl: MQTT_URL, intervalS: 3600, firstEvaluationMs: 3_600_000 }, pino({ level: 'silent' }));
    await exporter.start();
  });

  afterAll(async () => {
    await exporter?.stop();
    await control?.close();
    await farm?.stop();
    await store?.close();
  });

  test('the inventory lists a door contact (and PIR, vibration, leak, smoke) per container', () => {
    const inventory = parseInventory(inventoryYaml(specs, { sensors: true }), 'farm.yaml');
    const positions = inventory.containers[0]!.sensors.map((s) => `${s.id}:${s.position}`);
    expect(positions).toEqual(expect.arrayContaining([`${C}-door:door`, `${C}-motion:motion`, `${C}-tamper:tamper`, `${C}-leak:leak`, `${C}-smoke:smoke`]));
  });

  test('doorOpen opens the door on the wire (Tasmota Switch1) and DOOR_OPEN follows; clear closes it', async () => {
    const sub = await mqtt.connectAsync(MQTT_URL);
    const seen: string[] = [];
    sub.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await sub.subscribeAsync(`tele/${C}-door/SENSOR`);
    try {
      expect((await post({ fault: 'doorOpen' })).status).toBe(200);
      await waitFor('Switch1 ON', () => seen.some((m) => m.includes('"Switch1":"ON"')));
      await waitFor('DOOR_OPEN', () => has('DOOR_OPEN', `${C}-door`), 5000, faults);
      expect(faults().find((f) => f.code === 'DOOR_OPEN')?.message).toBe(`container ${C}: door sensor ${C}-door reports the door/window open`);
      expect((await post({ fault: 'clear' })).status).toBe(200);
      await waitFor('DOOR_OPEN cleared', () => !has('DOOR_OPEN', `${C}-door`), 5000, faults);
    } finally {
      await sub.endAsync();
    }
  });

  test.each([
    ['motion', 'MOTION', 'motion'],
    ['tamper', 'TAMPER', 'tamper'],
    ['smoke', 'SMOKE', 'smoke'],
    ['waterLeak', 'WATER_LEAK', 'leak'],
  ])('%s → %s, cleared by clear', async (fault, code, sensor) => {
    expect((await post({ fault })).status).toBe(200);
    await waitFor(code, () => has(code, `${C}-${sensor}`), 5000, faults);
    await post({ fault: 'clear' });
    await waitFor(`${code} cleared`, () => !has(code, `${C}-${sensor}`), 5000, faults);
  });

  test("sensorOffline cuts the door contact: the broker publishes its will and SENSOR_OFFLINE follows; clear mends it", async () => {
    expect((await post({ fault: 'sensorOffline' })).status).toBe(200);
    await waitFor('SENSOR_OFFLINE', () => has('SENSOR_OFFLINE', `${C}-door`), 10_000, faults);
    expect(faults().find((f) => f.code === 'SENSOR_OFFLINE')?.message).toMatch(/said it went offline \(last will/);
    await post({ fault: 'clear' });
    await waitFor('SENSOR_OFFLINE cleared', () => !has('SENSOR_OFFLINE', `${C}-door`), 10_000, faults);
  });

  test('an unknown sensor fault is refused with 400 naming the field', async () => {
    const res = await post({ fault: 'doorAjar' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/fault/);
  });
});
