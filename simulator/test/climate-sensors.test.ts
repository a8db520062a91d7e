/** Simulated container sensors: the Modbus damper/power meter on the wire, and sensor faults through the control API. */
import { Socket } from 'node:net';
import { client as modbusClients } from 'jsmodbus';
import mqtt from 'mqtt';
import { startControlServer } from '../src/control';
import { SimulatedFarm, generateFarmSpecs } from '../src/farm';
import { MODBUS_REGISTERS } from '../src/climate-sensors';

const MQTT_URL = process.env.FLYMINING_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const MODBUS_PORT = 16020 + (process.pid % 300);

async function readRegisters(port: number): Promise<number[]> {
  const socket = new Socket();
  const client = new modbusClients.TCP(socket, 1, 2000);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
    socket.connect({ host: '127.0.0.1', port });
  });
  try {
    const { response } = await client.readHoldingRegisters(0, 6);
    return Array.from(response.body.valuesAsArray as ArrayLike<number>);
  } finally {
    socket.destroy();
  }
}

describe('simulated climate sensors', () => {
  const specs = generateFarmSpecs({ miners: 10, containers: 1, racksPerContainer: 1, baseAddress: '127.8.7.1', seed: 3 });
  let farm: SimulatedFarm;
  let control: { url: string; close(): Promise<void> };
  const container = specs[0]!.position.container;
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${control.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    farm = new SimulatedFarm({ specs, seed: 3, mqttUrl: MQTT_URL, mqttIntervalMs: 60_000, modbusBasePort: MODBUS_PORT, climate: { meanOutsideC: -5, dailySwingC: 0 } });
    await farm.start();
    control = await startControlServer(farm, 0);
  });
  afterAll(async () => {
    await control?.close();
    await farm?.stop();
  });

  it('serves intake, damper (measured = commanded) and power over Modbus TCP', async () => {
    const regs = await readRegisters(MODBUS_PORT);
    const reading = farm.climateReadings()[0]!;
    expect(regs[MODBUS_REGISTERS.intakeTemperature]! / 10).toBeCloseTo(reading.intake.temperatureC, 1);
    expect(regs[MODBUS_REGISTERS.damperCommand]).toBe(Math.round(reading.damperPercent * 10));
    expect(regs[MODBUS_REGISTERS.damperMeasured]).toBe(regs[MODBUS_REGISTERS.damperCommand]);
    expect(reading.damperPercent).toBeGreaterThan(10); // frost: the controller recirculates
    const powerW = regs[4]! * 0x10000 + regs[5]!;
    expect(powerW).toBeGreaterThan(10 * 1000); // ten hashing miners
  });

  it('a stuck damper freezes the measured position while the command moves on', async () => {
    const res = await post(`/containers/${container}/sensor-faults`, { fault: 'stuckDamper', positionPct: 2.5 });
    expect(res.status).toBe(200);
    const regs = await readRegisters(MODBUS_PORT);
    expect(regs[MODBUS_REGISTERS.damperMeasured]).toBe(25);
    expect(regs[MODBUS_REGISTERS.damperCommand]).toBeGreaterThan(100);
  });

  it('stale and absurd sensors on MQTT and Modbus, undone by clear', async () => {
    expect((await post(`/containers/${container}/sensor-faults`, { fault: 'stale', sensor: 'exhaust' })).status).toBe(200);
    expect((await post(`/containers/${container}/sensor-faults`, { fault: 'absurd', sensor: 'intake' })).status).toBe(200);
    const sub = await mqtt.connectAsync(MQTT_URL);
    const seen = new Map<string, string>();
    sub.on('message', (topic, payload) => seen.set(topic, payload.toString()));
    await sub.subscribeAsync(['intake', 'exhaust', 'outside'].map((p) => `tele/${container}-${p}/SENSOR`));
    await farm.publishClimate();
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.has(`tele/${container}-exhaust/SENSOR`)).toBe(false);
    expect(JSON.parse(seen.get(`tele/${container}-intake/SENSOR`) ?? '{}').SHT3X.Temperature).toBe(-273);
    expect(seen.has(`tele/${container}-outside/SENSOR`)).toBe(true);

    await post(`/containers/${container}/sensor-faults`, { fault: 'stale', sensor: 'power' });
    await expect(readRegisters(MODBUS_PORT)).rejects.toBeTruthy();

    await post(`/containers/${container}/sensor-faults`, { fault: 'clear' });
    seen.clear();
    await farm.publishClimate();
    await new Promise((r) => setTimeout(r, 300));
    await sub.endAsync();
    expect(seen.has(`tele/${container}-exhaust/SENSOR`)).toBe(true);
    expect(JSON.parse(seen.get(`tele/${container}-intake/SENSOR`) ?? '{}').SHT3X.Temperature).toBeGreaterThan(-60);
    expect((await readRegisters(MODBUS_PORT)).length).toBe(6);
  });

  it('refuses bad fault requests naming the container and field, 404 for unknown containers', async () => {
    const bad = await post(`/containers/${container}/sensor-faults`, { fault: 'absurd', sensor: 'damper' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(new RegExp(`container ${container}: sensor`));
    expect((await post('/containers/NOPE/sensor-faults', { fault: 'clear' })).status).toBe(404);
  });
});
