/**
 * Climate → control: the climate exporter leaves each container's newest readings, with the time each arrived, in
 * container-climate.json of the edge's state folder; the control side reads them back. Readings a sensor stopped
 * sending keep their old time (the loop judges them stale); a broken file gives no readings (the loop freezes).
 */
import { writeFileSync, rmSync } from 'node:fs';
import { createLogger, parseInventory } from '@flymining/shared';
import { stringify } from 'yaml';
import { ClimateExporter } from '../../src/climate/climate-exporter';
import { configureSensors } from '../../src/climate/settings';
import { containerClimatePath } from '../../src/common/edge/state-file';
import { ClimateFeed } from '../../src/control/climate-feed';
import { createTemperaturePolicy } from '../../src/control/temperature';
import { temperatureSchema } from '../../src/control/settings';
import { tempDir } from '../e2e/helpers';

const log = createLogger('climate-feed-test', 'silent');
const store = { write: (): void => undefined, query: async () => [], stats: () => ({ written: 0, spooled: 0, dropped: 0, reachable: true }) };

function exporterFor(stateDir: string): { exporter: ClimateExporter; sensor: (id: string) => ReturnType<typeof configureSensors>[number] } {
  const json = (id: string, position: string, paths: Record<string, string>) => ({ id, position, protocol: 'mqtt', format: 'json', topic: `feed/${id}`, paths });
  const yaml = stringify({
    site: 'F',
    containers: [
      {
        name: 'C01',
        sensors: [
          json('C01-intake', 'intake', { temperatureC: 't', humidityPct: 'rh' }),
          json('C01-exhaust', 'exhaust', { temperatureC: 't' }),
          json('C01-outside', 'outside', { temperatureC: 't' }),
          json('C01-damper', 'damper', { damperPct: 'd' }),
        ],
        racks: [],
      },
      { name: 'C02', sensors: [json('C02-intake', 'intake', { temperatureC: 't' })], racks: [] },
    ],
  });
  const sensors = configureSensors(parseInventory(yaml, 'feed.yaml'));
  const exporter = new ClimateExporter(sensors, store as never, { name: 'edge-feed', mqttUrl: 'mqtt://127.0.0.1:1', intervalS: 3600, stateDir }, log);
  return { exporter, sensor: (id) => sensors.find((s) => s.id === id) as ReturnType<typeof configureSensors>[number] };
}

describe('container-climate.json', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = tempDir('climate-feed');
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  test('holds each container’s newest readings with their arrival times, and the control side reads them back', async () => {
    const { exporter, sensor } = exporterFor(stateDir);
    // Freshness goes by arrival, never earlier than the exporter's start: these arrive within the hour after it.
    const now = Date.now() + 3_600_000;
    exporter.onReading(sensor('C01-intake'), { temperatureC: 18, humidityPct: 60 }, now - 10_000, now - 10_000);
    exporter.onReading(sensor('C01-intake'), { temperatureC: 19.5, humidityPct: 55 }, now - 5000, now - 4000);
    exporter.onReading(sensor('C01-exhaust'), { temperatureC: 41 }, now - 3000, now - 3000);
    exporter.onReading(sensor('C01-outside'), { temperatureC: -2 }, now - 600_000, now - 600_000); // silent for 10 min since
    exporter.onReading(sensor('C01-damper'), { damperPct: 45 }, now - 2000, now - 2000);
    await exporter.evaluate(now);

    const feed = new ClimateFeed(stateDir, log);
    const c01 = feed.read().get('C01');
    expect(c01).toEqual({
      container: 'C01',
      writtenMs: now,
      intakeC: 19.5,
      intakeAtMs: now - 4000,
      exhaustC: 41,
      exhaustAtMs: now - 3000,
      outsideC: -2,
      outsideAtMs: now - 600_000,
      // 19.5 °C at 55 % RH: dew point 10.2 °C
      dewPointMarginC: expect.closeTo(9.3, 1),
      dewPointAtMs: now - 4000,
      damperPercent: 45,
      damperAtMs: now - 2000,
    });
    // A container whose sensor never reported has no readings (the loop freezes on it), not zeros.
    expect(feed.read().get('C02')).toEqual({ container: 'C02', writtenMs: now });

    // The loop on these readings: fresh intake in band → hold; on C02 → frozen.
    const policy = createTemperaturePolicy(() => temperatureSchema.parse({ enabled: true }));
    const decide = (container: string) => policy.evaluate({ now, site: 'F', container, miners: [], climate: feed.read().get(container) });
    expect(decide('C01').map((d) => d.decision)).toEqual(['hold']);
    expect(decide('C02').map((d) => [d.decision, d.reason])).toEqual([['frozen', 'no intake temperature reading: no action until readings return']]);
  });

  test('a file that is not valid gives no readings', () => {
    writeFileSync(containerClimatePath(stateDir), JSON.stringify({ format: 1, savedAtMs: 1, state: { containers: { C01: { container: 'C01', writtenMs: 1, intakeC: 'warm' } } } }));
    expect(new ClimateFeed(stateDir, log).read().size).toBe(0);
    writeFileSync(containerClimatePath(stateDir), '{"format":1,');
    expect(new ClimateFeed(stateDir, log).read().size).toBe(0);
    // A body that names another container than its key is not trusted.
    writeFileSync(containerClimatePath(stateDir), JSON.stringify({ format: 1, savedAtMs: 1, state: { containers: { C01: { container: 'C09', writtenMs: 1, intakeC: 20, intakeAtMs: 1 } } } }));
    expect(new ClimateFeed(stateDir, log).read().size).toBe(0);
  });
});
