/** A farm of thousands of real listeners, the spec generator, the control API and MQTT climate sensors. */
import mqtt from 'mqtt';
import { startControlServer, type ControlServer } from '../src/control';
import { SimulatedFarm, farmPart, generateFarmSpecs } from '../src/farm';
import { SENSOR_PLACEMENTS, sensorTopic } from '../src/climate';
import { first, obj } from './helpers';
import { sendCommand } from '../src/client';

describe('generateFarmSpecs', () => {
  it('lays miners out container by container with unique ids and addresses, repeatably', () => {
    const layout = { miners: 450, racksPerContainer: 5, shelvesPerRack: 4, slotsPerShelf: 10, baseAddress: '127.203.0.250', seed: 7 };
    const specs = generateFarmSpecs(layout);
    expect(specs).toHaveLength(450);
    expect(specs[0]).toMatchObject({ id: 'C01-R01-S1-1', host: '127.203.0.250', port: 4028 });
    expect(specs[200]?.position).toMatchObject({ container: 'C02', rack: 'R01', shelf: 'S1', slot: '1' });
    expect(new Set(specs.map((s) => s.id)).size).toBe(450);
    expect(specs.map((s) => s.host)).not.toContain('127.203.0.255');
    expect(specs.map((s) => s.host)).not.toContain('127.203.1.0');
    expect(generateFarmSpecs(layout)).toEqual(specs);
    expect(generateFarmSpecs({ ...layout, seed: 8 }).map((s) => s.profile)).not.toEqual(specs.map((s) => s.profile));
  });

  it('honours the profile mix and refuses layouts that cannot hold the miners', () => {
    const specs = generateFarmSpecs({ miners: 100, profileMix: { 'avalon-1246': 1 } });
    expect(new Set(specs.map((s) => s.profile))).toEqual(new Set(['avalon-1246']));
    expect(() => generateFarmSpecs({ miners: 100, containers: 1, racksPerContainer: 1, shelvesPerRack: 1, slotsPerShelf: 10 })).toThrow(/do not fit/);
    expect(() => generateFarmSpecs({ miners: 1, profileMix: { nope: 1 } as never })).toThrow(/unknown profile "nope"/);
  });
});

describe('farmPart', () => {
  it('splits a farm into parts of whole containers that together hold every miner once', () => {
    const specs = generateFarmSpecs({ miners: 1050, seed: 5 }); // 6 containers, the last one part-filled
    const parts = [1, 2, 3, 4].map((index) => farmPart(specs, { index, of: 4 }));
    expect(parts.flat().map((s) => s.id)).toEqual(specs.map((s) => s.id));
    const containersOf = (part: typeof specs): string[] => [...new Set(part.map((s) => s.position.container))];
    for (const [i, a] of parts.entries()) {
      expect(a.length).toBeGreaterThan(0);
      for (const b of parts.slice(i + 1)) expect(containersOf(a).filter((c) => containersOf(b).includes(c))).toEqual([]);
    }
    expect(farmPart(specs, { index: 1, of: 1 })).toEqual(specs);
    expect(() => farmPart(specs, { index: 3, of: 2 })).toThrow(/3\/2 is not a part/);
  });
});

describe('a farm of 2,000 miners', () => {
  const specs = generateFarmSpecs({ miners: 2000, baseAddress: '127.204.0.1', seed: 3 });
  const farm = new SimulatedFarm({ specs, seed: 3 });
  let control: ControlServer;

  beforeAll(async () => {
    const started = Date.now();
    await farm.start();
    expect(Date.now() - started).toBeLessThan(10_000);
    control = await startControlServer(farm, 0);
  });
  afterAll(async () => {
    await control.close();
    await farm.stop();
  });

  it('answers on every sampled address', async () => {
    const sample = specs.filter((_, i) => i % 97 === 0);
    const replies = await Promise.all(sample.map((s) => sendCommand(s.host, s.port, 'version')));
    for (const reply of replies) expect(reply.endsWithNul).toBe(true);
  });

  it('control API lists miners and injects faults that show up on the wire', async () => {
    const list = obj(await (await fetch(`${control.url}/miners?container=C02`)).json());
    expect(Array.isArray(list.miners) && list.miners.length).toBe(200);
    const s19 = specs.find((s) => s.profile === 'antminer-s19pro');
    if (!s19) throw new Error('mix produced no S19 Pro');
    const posted = await fetch(`${control.url}/miners/${s19.id}/faults`, { method: 'POST', body: JSON.stringify({ fault: 'stopFan', index: 0 }) });
    expect(posted.status).toBe(200);
    expect(obj(await posted.json()).faults).toMatchObject({ stoppedFans: [0] });
    await new Promise((r) => setTimeout(r, 1100));
    const stats = JSON.parse((await sendCommand(s19.host, s19.port, 'stats')).text) as Record<string, unknown>;
    expect(first(stats, 'STATS', 1).fan1).toBe(0);
    const cleared = await fetch(`${control.url}/miners/${s19.id}/faults`, { method: 'DELETE' });
    expect(obj(await cleared.json()).faults).toMatchObject({ stoppedFans: [] });
  });

  it('control API rejects bad input with 400 and unknown miners with 404', async () => {
    const id = specs[0]?.id ?? '';
    const post = (body: string, minerId = id) => fetch(`${control.url}/miners/${minerId}/faults`, { method: 'POST', body });
    const badJson = await post('{nope');
    expect(badJson.status).toBe(400);
    expect(obj(await badJson.json()).error).toMatch(/not valid JSON/);
    const badFault = await post(JSON.stringify({ fault: 'melt' }));
    expect(badFault.status).toBe(400);
    const badArgs = await post(JSON.stringify({ fault: 'killChips', board: 0, count: -1 }));
    expect(badArgs.status).toBe(400);
    expect(obj(await badArgs.json()).error).toMatch(/count/);
    const badBoard = await post(JSON.stringify({ fault: 'dropBoard', board: 9 }));
    expect(badBoard.status).toBe(400);
    expect(obj(await badBoard.json()).error).toMatch(/no board index 9/);
    const unknown = await post(JSON.stringify({ fault: 'clear' }), 'no-such-miner');
    expect(unknown.status).toBe(404);
  });

  it('stops cleanly: every listener closes', async () => {
    const extra = new SimulatedFarm({ specs: generateFarmSpecs({ miners: 50, baseAddress: '127.205.0.1' }) });
    await extra.start();
    await extra.stop();
    await expect(sendCommand('127.205.0.1', 4028, 'version')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('climate sensors over MQTT', () => {
  it('publishes Tasmota SENSOR messages that a real Mosquitto subscriber receives', async () => {
    const container = `T${process.pid}`;
    const specs = generateFarmSpecs({ miners: 20, baseAddress: '127.206.0.1', profileMix: { 'antminer-s19pro': 1 } }).map((s) => ({
      ...s,
      position: { ...s.position, container },
    }));
    const farm = new SimulatedFarm({ specs, mqttUrl: 'mqtt://127.0.0.1:1883', mqttIntervalMs: 60_000 });
    const subscriber = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    const received = new Map<string, Record<string, unknown>>();
    subscriber.on('message', (topic, payload) => received.set(topic, obj(JSON.parse(payload.toString()))));
    try {
      await subscriber.subscribeAsync(SENSOR_PLACEMENTS.map((p) => sensorTopic(container, p)));
      await farm.start();
      await farm.publishClimate();
      const deadline = Date.now() + 5000;
      while (received.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const intake = received.get(sensorTopic(container, 'intake'));
      const exhaust = received.get(sensorTopic(container, 'exhaust'));
      expect(received.has(sensorTopic(container, 'outside'))).toBe(true);
      expect(intake).toMatchObject({ TempUnit: 'C', SHT3X: { Temperature: expect.any(Number), Humidity: expect.any(Number), DewPoint: expect.any(Number) } });
      expect(String(intake?.Time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      const t = (m: Record<string, unknown> | undefined) => Number(obj(m?.SHT3X).Temperature);
      // 20 S19 Pros heat the exhaust well above the intake.
      expect(t(exhaust)).toBeGreaterThan(t(intake) + 5);
    } finally {
      await subscriber.endAsync();
      await farm.stop();
    }
  });
});
