/**
 * Outside weather for tests and the demo (POST /containers/:name/weather), and a container's air and chips answering
 * to it and to the miners' total power: what the temperature loop of issue 14 is tested against.
 */
import { startControlServer, type ControlServer } from '../src/control';
import { SimulatedFarm, generateFarmSpecs } from '../src/farm';
import type { ClimateReading } from '../src/climate';
import { obj } from './helpers';

const HOUR = 3600_000;
let nowMs = Date.UTC(2026, 0, 15, 2); // 02:00 UTC: the coldest hour of the profiles
const specs = generateFarmSpecs({ miners: 10, racksPerContainer: 1, shelvesPerRack: 2, slotsPerShelf: 5, seed: 5, profileMix: { 'braiins-s19xp': 1 }, baseAddress: '127.217.0.1' });
const farm = new SimulatedFarm({ specs, seed: 5, clock: () => nowMs });
let control: ControlServer;

beforeAll(async () => {
  control = await startControlServer(farm, 0);
});
afterAll(async () => {
  await control.close();
});
afterEach(() => {
  for (const m of farm.miners.values()) {
    m.commandWake('test');
    m.commandWorkMode('test', 'normal');
  }
  farm.climates.get('C01')?.setWeather(null);
  farm.climates.get('C01')?.setDamper(null);
  nowMs += 60_000; // past the woken miners' warm-up
});

async function weather(body: unknown, container = 'C01'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${control.url}/containers/${container}/weather`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: obj(await res.json()) };
}

const air = (): ClimateReading => farm.climateReadings()[0] as ClimateReading;
/** Later than the 1 s reading cache of the climate and the miners. */
const tick = (ms = 2000): void => {
  nowMs += ms;
};
const hottestChip = (id: string): number => Math.max(...(farm.miner(id)?.read(nowMs).boards.map((b) => b.chipTempC) ?? []));
const setPowerShare = (share: number): void => {
  for (const m of farm.miners.values()) m.commandPowerTarget('test', Math.round(m.profile.typicalPowerW * share));
};

describe('POST /containers/:name/weather', () => {
  test('a fixed outside temperature: intake follows it (plus the little exhaust that leaks back), exhaust follows total power', async () => {
    const res = await weather({ outsideC: 30 });
    expect(res.status).toBe(200);
    expect(res.body.weather).toEqual({ outsideC: 30 });
    tick();
    const full = air();
    expect(full.outside.temperatureC).toBe(30);
    expect(full.damperPercent).toBe(0);
    expect(full.intake.temperatureC).toBeGreaterThan(30);
    expect(full.intake.temperatureC).toBeLessThan(31.5);
    const fullRise = full.exhaust.temperatureC - full.intake.temperatureC;
    expect(fullRise).toBeGreaterThan(6); // ~31 kW through ~3.2 kg/s of air

    for (const m of [...farm.miners.values()].slice(0, 5)) m.commandSleep('test');
    tick();
    const half = air();
    const halfRise = half.exhaust.temperatureC - half.intake.temperatureC;
    expect(halfRise).toBeLessThan(fullRise * 0.6);
    expect(halfRise).toBeGreaterThan(fullRise * 0.4);
  });

  test('chips answer to the miner’s own power and to the intake', async () => {
    await weather({ outsideC: 30 });
    tick();
    const id = specs[0]!.id;
    const full = hottestChip(id);
    setPowerShare(0.55);
    tick();
    const low = hottestChip(id);
    expect(full - low).toBeGreaterThan(10);
    await weather({ outsideC: 20 });
    tick();
    expect(low - hottestChip(id)).toBeGreaterThan(5);
  });

  test('cold-night: recirculation holds the intake while the heat suffices; less miner power, colder intake', async () => {
    expect((await weather({ profile: 'cold-night' })).status).toBe(200);
    tick();
    const full = air();
    expect(full.outside.temperatureC).toBeLessThan(-12);
    expect(full.damperPercent).toBeGreaterThan(50);
    expect(full.intake.temperatureC).toBeCloseTo(15, 0); // the damper controller's target
    setPowerShare(0.5);
    tick();
    const low = air();
    expect(low.damperPercent).toBe(80); // fully open, and still not enough heat
    expect(low.intake.temperatureC).toBeLessThan(full.intake.temperatureC - 2);
    // A damper stuck nearly shut: the intake is close to the outside air.
    farm.climates.get('C01')?.setDamper(0.1);
    tick();
    expect(air().intake.temperatureC).toBeLessThan(low.intake.temperatureC - 10);
  });

  test('profiles run on the farm clock: hot-afternoon at 14:00, diurnal from night to afternoon; default gives the farm’s climate back', async () => {
    await weather({ profile: 'hot-afternoon' });
    nowMs += 12 * HOUR; // 14:00
    expect(air().outside.temperatureC).toBeGreaterThan(33);
    await weather({ profile: 'diurnal' });
    tick();
    const afternoon = air().outside.temperatureC;
    nowMs += 12 * HOUR; // 02:00
    expect(afternoon - air().outside.temperatureC).toBeGreaterThan(25);
    const back = await weather({ profile: 'default' });
    expect(back.body.weather).toBe('default');
  });

  test('refuses what it cannot apply, naming the choices; unknown containers are 404', async () => {
    const bad = await weather({ profile: 'monsoon' });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/invalid weather for container C01.*"cold-night" \| "hot-afternoon" \| "diurnal" \| "default"/);
    expect((await weather({ outsideC: 500 })).status).toBe(400);
    expect((await weather({ outsideC: 10, profile: 'diurnal' })).status).toBe(400);
    expect((await weather({ outsideC: 10 }, 'C99')).status).toBe(404);
  });
});
