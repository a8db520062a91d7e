/**
 * The climate exporter end to end against real servers: Mosquitto (Tasmota, Shelly Gen2, ESPHome payloads),
 * an HTTP JSON sensor, the simulator's Modbus TCP damper/power meter and InfluxDB, where the center reads the edge's
 * snapshots (fault_state rows + edge_heartbeat) and the fault history.
 */
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { createLogger, parseInventory, type InfluxStore } from '@flymining/shared';
import { ContainerClimate, ContainerModbusDevice, DEFAULT_CLIMATE, SensorFaults, modbusSensorEntries } from '@flymining/simulator';
import { stringify } from 'yaml';
import { ClimateExporter } from '../../src/climate/climate-exporter';
import { EdgeStateFile, minersPowerPath, minersPowerSchema } from '../../src/common/edge/state-file';
import { configureSensors } from '../../src/climate/settings';
import { describeSnapshots, freshStore, latestSnapshots, tempDir, waitFor } from '../e2e/helpers';

const MQTT_URL = process.env.FLYMINING_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const EDGE = 'climate-test';
const MODBUS_PORT = 15620 + (process.pid % 200);
const run = `t${process.pid.toString(36)}${Date.now().toString(36)}`;
const K = `K${process.pid % 1000}`; // container name, unique per run
const topics = {
  intake: `${run}/tele/intake/SENSOR`,
  exhaust: `${run}/shelly-exhaust/events/rpc`,
  outsideT: `${run}/esp-outside/sensor/temperature/state`,
  outsideRh: `${run}/esp-outside/sensor/humidity/state`,
  never: `${run}/tele/never/SENSOR`,
};

let store: InfluxStore;
let stateDir: string;
let sensors: ReturnType<typeof configureSensors>;
let publisher: MqttClient;
let httpServer: http.Server;
let httpBody = '{"data":{"t":22.5,"rh":41}}';
let device: ContainerModbusDevice;
let deviceFaults: SensorFaults;
let exporter: ClimateExporter;

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await exporter.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

async function publish(topic: string, payload: string): Promise<void> {
  await publisher.publishAsync(topic, payload);
}

/** Tasmota stamps its local time without a zone; these sensors have no zone setting, so it is read as UTC. */
const tasmota = (t: number, rh: number): string =>
  JSON.stringify({ Time: new Date().toISOString().slice(0, 19), SHT3X: { Temperature: t, Humidity: rh }, TempUnit: 'C' });
const shelly = (t: number): string =>
  JSON.stringify({ src: 'shellyplusht-1', method: 'NotifyStatus', params: { ts: Date.now() / 1000, 'temperature:0': { id: 0, tC: t } } });

function exporterOptions(): ConstructorParameters<typeof ClimateExporter>[2] {
  return {
    name: EDGE,
    mqttUrl: MQTT_URL,
    intervalS: 3600,
    firstEvaluationMs: 3_600_000,
    floodBurst: 10,
    floodPerSecond: 1,
    // A second container of this edge without any sensor: it still gets heartbeats.
    containers: [{ site: 'climtest', container: K }, { site: 'climtest', container: `${K}-bare` }],
    stateDir,
  };
}

beforeAll(async () => {
  store = await freshStore(`climate_${process.pid}`);
  stateDir = tempDir('climate-edge');
  httpServer = http.createServer((_req, res) => res.end(httpBody));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const httpPort = (httpServer.address() as AddressInfo).port;

  // A frosty night: the simulated damper controller commands a wide opening.
  const climate = new ContainerClimate(K, 1, { ...DEFAULT_CLIMATE, meanOutsideC: -10, dailySwingC: 0 }, () => ({ airHeatW: 50_000, airflowKgS: 3 }));
  deviceFaults = new SensorFaults();
  device = new ContainerModbusDevice(climate, deviceFaults, () => 7000, Date.now, '127.0.0.1', MODBUS_PORT);
  await device.start();

  const [damper, meter] = modbusSensorEntries(K, MODBUS_PORT).map((s) => ({ ...s, intervalS: 1 }));
  const yaml = stringify({
    site: 'climtest',
    containers: [
      {
        name: K,
        sensors: [
          { id: `${K}-intake`, position: 'intake', protocol: 'mqtt', topic: topics.intake },
          { id: `${K}-exhaust`, position: 'exhaust', protocol: 'mqtt', format: 'shelly', topic: topics.exhaust },
          { id: `${K}-outside`, position: 'outside', protocol: 'mqtt', format: 'esphome', unit: 'F', topics: { temperatureC: topics.outsideT, humidityPct: topics.outsideRh } },
          { id: `${K}-never`, position: 'other', protocol: 'mqtt', topic: topics.never, staleAfterS: 3 },
          { id: `${K}-http`, position: 'other', protocol: 'http', url: `http://127.0.0.1:${httpPort}/status`, paths: { temperatureC: 'data.t', humidityPct: 'data.rh' }, intervalS: 1 },
          { ...damper, stuckAfterS: 1 },
          meter,
        ],
        racks: [],
      },
    ],
  });
  sensors = configureSensors(parseInventory(yaml, 'climtest.yaml'));
  exporter = new ClimateExporter(sensors, store, exporterOptions(), createLogger('climate-test', 'silent'));
  await exporter.start();
  publisher = await mqtt.connectAsync(MQTT_URL);
});

afterAll(async () => {
  await exporter?.stop();
  await publisher?.endAsync();
  await device?.stop();
  httpServer?.close();
  await store?.close();
});

describe('climate exporter against Mosquitto, HTTP, Modbus TCP and InfluxDB', () => {
  it('stores readings from every sensor family in °C, tagged with site/container/position/sensor', async () => {
    await publish(topics.intake, tasmota(12, 60));
    await publish(topics.exhaust, shelly(30));
    await publish(topics.outsideT, '50'); // °F
    await publish(topics.outsideRh, '80');
    await waitFor('one reading of each sensor', async () => {
      for (const s of ['intake', 'exhaust', 'outside', 'http', 'damper', 'power']) {
        if ((await counter('flymining_climate_readings_total', { sensor: `${K}-${s}` })) < 1) return false;
      }
      return (await counter('flymining_climate_readings_total', { sensor: `${K}-outside` })) >= 2;
    });
    await store.flush();
    const rows = await store.query(`SELECT last(*) FROM climate_sensor WHERE container = '${K}' GROUP BY sensor, position, site`);
    const bySensor = Object.fromEntries(rows.map((s) => [s.tags.sensor, { ...s.rows[0], position: s.tags.position, site: s.tags.site }]));
    expect(bySensor[`${K}-intake`]).toMatchObject({ position: 'intake', site: 'climtest', last_temperature_c: 12, last_humidity_pct: 60 });
    expect(bySensor[`${K}-intake`]?.last_dew_point_c).toBeCloseTo(4.47, 1); // 12 °C at 60 % RH
    expect(bySensor[`${K}-exhaust`]).toMatchObject({ position: 'exhaust', last_temperature_c: 30 });
    expect(bySensor[`${K}-outside`]?.last_temperature_c).toBeCloseTo(10, 5); // 50 °F
    expect(bySensor[`${K}-http`]).toMatchObject({ last_temperature_c: 22.5, last_humidity_pct: 41 });
    expect(bySensor[`${K}-power`]).toMatchObject({ position: 'power', last_power_w: 7000 });
    expect(Number(bySensor[`${K}-damper`]?.last_damper_command_pct)).toBeGreaterThan(40);
  });

  it('derives delta-T, dew point, heat share against the miners power and a damper advice that holds the band', async () => {
    const now = Date.now();
    store.write([
      `miner,site=climtest,container=${K},rack=R1,shelf=S1,slot=1,miner=${K}-R1-S1-1 power_w=3000 ${now - 20_000}`,
      `miner,site=climtest,container=${K},rack=R1,shelf=S1,slot=2,miner=${K}-R1-S1-2 power_w=3250 ${now - 10_000}`,
    ]);
    await store.flush();
    const evaluatedAt = Date.now();
    await exporter.evaluate(evaluatedAt);
    await store.flush();
    // Each served container reports at the evaluation's time, the one without sensors too.
    const snapshots = await latestSnapshots(store, EDGE, 'climate', evaluatedAt);
    expect([...snapshots.keys()].sort()).toEqual([K, `${K}-bare`]);
    expect(snapshots.get(K)?.heartbeat).toMatchObject({ source: 'climate', site: 'climtest', edge: EDGE, seq: 1, miners: 7 });
    expect(describeSnapshots(snapshots).complete).toBe(true);
    expect(snapshots.get(`${K}-bare`)?.heartbeat).toMatchObject({ miners: 0, reachable: 0, activeFaults: 0 });
    const [row] = await store.queryRows(`SELECT * FROM climate_container WHERE container = '${K}' ORDER BY time DESC LIMIT 1`);
    expect(row).toMatchObject({ intake_c: 12, exhaust_c: 30, delta_t_c: 18, miners_power_w: 6250, metered_power_w: 7000 });
    expect(Number(row?.heat_share)).toBeCloseTo(6250 / 7000, 3);
    expect(Number(row?.condensation_margin_c)).toBeCloseTo(12 - 4.47, 1);
    // Advice: mixing 10 °C outside air with exhaust 18 °C warmer at that opening gives an intake inside the band,
    // above the outside dew point (6.7 °C at 10 °C/80 %) plus the 3 °C margin.
    const d = Number(row?.damper_advice_pct) / 100;
    expect(d).toBeGreaterThan(0);
    const intake = 10 + (d * 18) / (1 - d);
    expect(intake).toBeGreaterThanOrEqual(6.7 + 3);
    expect(intake).toBeLessThan(38);
  });

  it('at an edge, takes the miners power the miner exporter beside it left in the shared state folder (no read over the uplink)', async () => {
    // What the miner exporter of the same edge writes after its sweep (exporters/src/miner/exporter.ts).
    new EdgeStateFile(minersPowerPath(stateDir), minersPowerSchema, createLogger('test', 'silent')).save({ containers: { [K]: 9100 } });
    try {
      const evaluatedAt = Date.now();
      await exporter.evaluate(evaluatedAt);
      await store.flush();
      const [row] = await store.queryRows(`SELECT miners_power_w, heat_share FROM climate_container WHERE container = '${K}' AND time = ${evaluatedAt}ms`);
      expect(row?.miners_power_w).toBe(9100); // InfluxDB holds 6,250 W for these miners: the local figure won
      expect(Number(row?.heat_share)).toBeCloseTo(9100 / 7000, 3);
    } finally {
      rmSync(minersPowerPath(stateDir), { force: true });
    }
  });

  it('raises and clears a stale sensor with the container-level location, in the snapshot and the history', async () => {
    const staleAt = Date.now() + 5_000;
    const events = await exporter.evaluate(staleAt);
    const stale = events.find((e) => e.fault.code === 'CLIMATE_SENSOR_STALE');
    expect(stale?.type).toBe('raised');
    expect(stale?.fault).toMatchObject({ minerId: `${K}-never`, part: `${K}-never`, location: { site: 'climtest', container: K, rack: '-', shelf: '-', slot: '-' } });
    expect(events.filter((e) => e.fault.code === 'CLIMATE_SENSOR_STALE')).toHaveLength(1); // the others are fresh
    await store.flush();
    const raised = (await latestSnapshots(store, EDGE, 'climate', staleAt)).get(K);
    expect(raised?.faults.map((f) => `${f.code} ${f.minerId} ${f.location.container}`)).toEqual([`CLIMATE_SENSOR_STALE ${K}-never ${K}`]);
    expect(raised?.heartbeat).toMatchObject({ activeFaults: 1, miners: 7, reachable: 6 });

    await publish(topics.never, tasmota(15, 50));
    await waitFor('the silent sensor to speak', async () => (await counter('flymining_climate_readings_total', { sensor: `${K}-never` })) >= 1);
    const clearedAt = Date.now(); // before staleAt: the snapshot is read by its time, not as the newest
    const after = await exporter.evaluate(clearedAt);
    expect(after.find((e) => e.fault.code === 'CLIMATE_SENSOR_STALE')?.type).toBe('cleared');
    await store.flush();
    expect(describeSnapshots(await latestSnapshots(store, EDGE, 'climate', clearedAt))).toEqual({ faults: [], complete: true });
    const faults = await store.queryRows(`SELECT active FROM fault WHERE code = 'CLIMATE_SENSOR_STALE' AND miner = '${K}-never'`);
    // The raise was judged at a clock 5 s ahead, so order by value rather than time.
    expect(faults.map((f) => f.active).sort()).toEqual([0, 1]);
  });

  it('raises INTAKE_TOO_COLD and CONDENSATION_RISK for a cold, wet intake, and EXHAUST_TOO_HOT', async () => {
    await publish(topics.intake, tasmota(3, 95));
    await publish(topics.exhaust, shelly(65));
    await waitFor('the cold intake reading', async () => (await counter('flymining_climate_readings_total', { sensor: `${K}-intake` })) >= 2);
    await waitFor('the hot exhaust reading', async () => (await counter('flymining_climate_readings_total', { sensor: `${K}-exhaust` })) >= 2);
    const events = await exporter.evaluate();
    const raised = events.filter((e) => e.type === 'raised').map((e) => e.fault.code);
    expect(raised).toEqual(expect.arrayContaining(['INTAKE_TOO_COLD', 'CONDENSATION_RISK', 'EXHAUST_TOO_HOT']));
    const cold = events.find((e) => e.fault.code === 'INTAKE_TOO_COLD');
    expect(cold?.fault.message).toMatch(new RegExp(`container ${K}: intake 3.0 °C is below 5 °C; advised damper opening \\d`));
    expect(cold?.fault.minerId).toBe(K);

    await publish(topics.intake, tasmota(18, 40));
    await publish(topics.exhaust, shelly(35));
    await waitFor('the recovered readings', async () => (await counter('flymining_climate_readings_total', { sensor: `${K}-exhaust` })) >= 3);
    await waitFor('the recovered intake', async () => (await counter('flymining_climate_readings_total', { sensor: `${K}-intake` })) >= 3);
    const cleared = (await exporter.evaluate()).filter((e) => e.type === 'cleared').map((e) => e.fault.code);
    expect(cleared).toEqual(expect.arrayContaining(['INTAKE_TOO_COLD', 'CONDENSATION_RISK', 'EXHAUST_TOO_HOT']));
  });

  it('raises DAMPER_STUCK when the measured opening stops following the command over Modbus', async () => {
    deviceFaults.apply({ fault: 'stuckDamper', positionPct: 5 }, 0);
    const before = await counter('flymining_climate_readings_total', { sensor: `${K}-damper` });
    await waitFor('damper readings after the fault', async () => (await counter('flymining_climate_readings_total', { sensor: `${K}-damper` })) > before + 1, 5000);
    expect((await exporter.evaluate()).some((e) => e.fault.code === 'DAMPER_STUCK')).toBe(false); // not yet: stuckAfterS
    const events = await exporter.evaluate(Date.now() + 1500);
    const stuck = events.find((e) => e.fault.code === 'DAMPER_STUCK');
    expect(stuck?.type).toBe('raised');
    expect(stuck?.fault.message).toMatch(/damper .*-damper reads 5 % but was commanded \d+ %/);

    deviceFaults.apply({ fault: 'clear' }, 0);
    const n = await counter('flymining_climate_readings_total', { sensor: `${K}-damper` });
    // Two readings: one may have been in flight (answered stuck) when the fault was cleared.
    await waitFor('damper readings after clearing', async () => (await counter('flymining_climate_readings_total', { sensor: `${K}-damper` })) > n + 1, 5000);
    expect((await exporter.evaluate()).find((e) => e.fault.code === 'DAMPER_STUCK')?.type).toBe('cleared');
  });

  it('counts and rejects bad payloads per sensor and reason, and keeps working', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // let the flood guard refill from the tests above
    await publish(topics.intake, 'Online');
    await publish(topics.intake, '{"SHT3X":{"Temperature":"warm","Humidity":40},"TempUnit":"C"}');
    await publish(topics.intake, tasmota(-273, 40));
    await publish(topics.intake, tasmota(500, 40));
    await publish(topics.outsideT, 'nan');
    httpBody = '<html>502 Bad Gateway</html>';
    const labels = (reason: string, sensor = `${K}-intake`) => ({ sensor, reason });
    await waitFor('the rejections', async () =>
      (await counter('flymining_climate_rejected_total', labels('not-json'))) >= 1 &&
      (await counter('flymining_climate_rejected_total', labels('wrong-type'))) >= 1 &&
      (await counter('flymining_climate_rejected_total', labels('absurd-value'))) >= 2 &&
      (await counter('flymining_climate_rejected_total', labels('absurd-value', `${K}-outside`))) >= 1 &&
      (await counter('flymining_climate_rejected_total', labels('not-json', `${K}-http`))) >= 1,
    );
    // A flood: 40 messages at once on the exhaust topic; the burst (10) passes, the rest are counted as flood.
    await Promise.all(Array.from({ length: 40 }, (_, i) => publish(topics.exhaust, shelly(30 + i / 100))));
    await waitFor('flood rejections', async () => (await counter('flymining_climate_rejected_total', labels('flood', `${K}-exhaust`))) >= 25);
    await store.flush();
    const [absurd] = await store.queryRows(`SELECT count(temperature_c) FROM climate_sensor WHERE sensor = '${K}-intake' AND (temperature_c < -60 OR temperature_c > 100)`);
    expect(absurd).toBeUndefined();
    // Still alive: a good reading after all that is stored.
    httpBody = '{"data":{"t":23.5,"rh":41}}';
    await publish(topics.intake, tasmota(17.5, 45));
    await waitFor('a good reading after the bad ones', async () => {
      await store.flush();
      const rows = await store.queryRows(`SELECT last(temperature_c) FROM climate_sensor WHERE sensor = '${K}-intake'`);
      return rows[0]?.last === 17.5;
    });
  });

  it('a restarted climate edge re-asserts its faults with the same since and the last readings it judged', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // the flood guard refills after the flood above
    await publish(topics.intake, tasmota(3, 95));
    await waitFor('the cold intake reading (the newest stored, after 17.5)', async () => (await lastIntake()) === 3);
    const raised = (await exporter.evaluate()).find((e) => e.fault.code === 'INTAKE_TOO_COLD');
    expect(raised?.type).toBe('raised');

    // A new process on the same state folder: not started, so no reading reaches it before its first evaluation.
    const restarted = new ClimateExporter(sensors, store, exporterOptions(), createLogger('climate-test', 'silent'));
    const at = Date.now() + 1;
    const events = await restarted.evaluate(at);
    expect(events.filter((e) => e.fault.code === 'INTAKE_TOO_COLD')).toEqual([]); // neither cleared nor raised again
    await store.flush();
    const snapshot = (await latestSnapshots(store, EDGE, 'climate', at)).get(K);
    expect(snapshot?.heartbeat.seq).toBe(1);
    expect(snapshot?.faults.find((f) => f.code === 'INTAKE_TOO_COLD')?.since).toBe(raised?.fault.since);
    expect(describeSnapshots(await latestSnapshots(store, EDGE, 'climate', at)).complete).toBe(true);
  });
});

async function lastIntake(): Promise<unknown> {
  await store.flush();
  return (await store.queryRows(`SELECT last(temperature_c) FROM climate_sensor WHERE sensor = '${K}-intake'`))[0]?.last;
}
