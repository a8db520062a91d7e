/** Payload families, unit conversion, the plausibility gate, dew point and recirculation maths, settings errors. */
import { parseInventory, type Inventory } from '@flymining/shared';
import { FloodGuard, checkPlausible } from '../../src/climate/gate';
import { decodeEsphomeState, decodeJsonPaths, decodeShelly, decodeTasmota, shellyTime, tasmotaTime } from '../../src/climate/payloads';
import { dewPointC, recirculationAdvicePct } from '../../src/climate/psychrometrics';
import { configureSensors } from '../../src/climate/settings';
import { decodeRegisters } from '../../src/climate/sources/modbus';
import { PayloadRejected } from '../../src/climate/types';

function rejection(fn: () => unknown): PayloadRejected {
  try {
    fn();
  } catch (err) {
    if (err instanceof PayloadRejected) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('Tasmota SENSOR telemetry', () => {
  it('reads an SHT3X in °C', () => {
    const v = decodeTasmota('{"Time":"2026-11-24T20:00:00","SHT3X":{"Temperature":15.0,"Humidity":43.7,"DewPoint":2.7},"TempUnit":"C"}');
    expect(v).toEqual({ temperatureC: 15, humidityPct: 43.7 });
  });

  it('converts TempUnit F to °C', () => {
    const v = decodeTasmota('{"Time":"2026-11-24T20:00:00","AM2301":{"Temperature":68.0,"Humidity":50.0},"TempUnit":"F"}');
    expect(v.temperatureC).toBeCloseTo(20, 5);
  });

  it('reads a DS18B20 chosen by sensorKey, and a power plug ENERGY block', () => {
    const text = '{"Time":"x","DS18B20":{"Id":"01","Temperature":-3.5},"SHT3X":{"Temperature":9,"Humidity":80},"ENERGY":{"Total":12.5,"Power":1830},"TempUnit":"C"}';
    expect(decodeTasmota(text, 'DS18B20')).toEqual({ temperatureC: -3.5, humidityPct: undefined, powerW: 1830, energyKwh: 12.5 });
  });

  it('unwraps the HTTP Status 10 reply (StatusSNS)', () => {
    expect(decodeTasmota('{"StatusSNS":{"Time":"x","BME280":{"Temperature":21.1,"Humidity":40.2,"Pressure":1012},"TempUnit":"C"}}')).toEqual({ temperatureC: 21.1, humidityPct: 40.2 });
  });

  it('rejects non-JSON and wrong types with the field named', () => {
    expect(rejection(() => decodeTasmota('Online')).reason).toBe('not-json');
    const wrong = rejection(() => decodeTasmota('{"SHT3X":{"Temperature":"hot","Humidity":40}}'));
    expect(wrong.reason).toBe('wrong-type');
    expect(wrong.message).toContain('SHT3X.Temperature');
  });
});

describe('Shelly Gen2 NotifyStatus', () => {
  it('reads temperature:0 and humidity:0 from a Plus H&T notification', () => {
    const text = JSON.stringify({
      src: 'shellyplusht-c049ef8b0b7c',
      dst: 'shellyplusht-c049ef8b0b7c/events',
      method: 'NotifyStatus',
      params: { ts: 1732478400.12, 'temperature:0': { id: 0, tC: 24.6, tF: 76.3 }, 'humidity:0': { id: 0, rh: 38.4 } },
    });
    expect(decodeShelly(text)).toEqual({ temperatureC: 24.6, humidityPct: 38.4 });
  });

  it('falls back to tF (converted) and reads a Pro EM total power', () => {
    const text = JSON.stringify({ method: 'NotifyStatus', params: { 'temperature:0': { id: 0, tF: 95 }, 'em:0': { id: 0, total_act_power: 152340.5 } } });
    const v = decodeShelly(text);
    expect(v.temperatureC).toBeCloseTo(35, 5);
    expect(v.powerW).toBe(152340.5);
  });

  it('ignores events that carry no readings', () => {
    expect(decodeShelly('{"method":"NotifyEvent","params":{"events":[{"event":"single_push"}]}}')).toEqual({});
  });
});

describe('ESPHome state topics and generic JSON', () => {
  it('reads bare numbers and refuses nan', () => {
    expect(decodeEsphomeState('21.25', 'node/sensor/t/state')).toBe(21.25);
    expect(rejection(() => decodeEsphomeState('nan', 'node/sensor/t/state')).reason).toBe('absurd-value');
    expect(rejection(() => decodeEsphomeState('ON', 'node/sensor/t/state')).reason).toBe('wrong-type');
  });

  it('follows dot paths and converts °F', () => {
    const v = decodeJsonPaths('{"data":{"sensors":[{"t":50,"rh":"81.5"}]}}', { temperatureC: 'data.sensors.0.t', humidityPct: 'data.sensors.0.rh' }, 'F');
    expect(v.temperatureC).toBeCloseTo(10, 5);
    expect(v.humidityPct).toBe(81.5);
  });
});

describe('Modbus register maps', () => {
  it('applies scale, signed 16-bit and 32-bit word order', () => {
    const settings = {
      host: 'x', port: 502, unitId: 1, unit: 'C' as const, intervalS: 10, timeoutMs: 1000,
      registers: {
        temperatureC: { address: 10, type: 'int16' as const, scale: 0.1, offset: 0, words: 'big' as const },
        powerW: { address: 12, type: 'uint32' as const, scale: 1, offset: 0, words: 'big' as const },
        energyKwh: { address: 14, type: 'float32' as const, scale: 1, offset: 0, words: 'little' as const },
      },
    };
    const f = Buffer.alloc(4);
    f.writeFloatBE(1234.5);
    // -12.3 °C as int16 tenths = 0xFF85; 150,000 W = 0x0002_49F0; float little-endian words swapped.
    const v = decodeRegisters(settings, 10, [0xff85, 0, 0x0002, 0x49f0, f.readUInt16BE(2), f.readUInt16BE(0)]);
    expect(v.temperatureC).toBeCloseTo(-12.3, 5);
    expect(v.powerW).toBe(150_000);
    expect(v.energyKwh).toBeCloseTo(1234.5, 3);
  });
});

describe('plausibility gate and flood guard', () => {
  it.each([[-273], [500], [Number.NaN]])('rejects %p °C as absurd', (t) => {
    expect(rejection(() => checkPlausible({ temperatureC: t })).reason).toBe('absurd-value');
  });

  it('rejects humidity over 100 % and payloads without readings', () => {
    expect(rejection(() => checkPlausible({ temperatureC: 20, humidityPct: 140 })).reason).toBe('absurd-value');
    expect(rejection(() => checkPlausible({})).reason).toBe('no-values');
  });

  it('lets a burst through, then one message per second', () => {
    const guard = new FloodGuard(3, 1);
    const t0 = 1_000_000;
    expect([1, 2, 3, 4].map(() => guard.allow('s', t0))).toEqual([true, true, true, false]);
    expect(guard.allow('s', t0 + 1000)).toBe(true);
    expect(guard.allow('other', t0)).toBe(true);
  });
});

describe('dew point (Magnus, Alduchov & Eskridge coefficients)', () => {
  // Reference dew points as published in standard psychrometric tables (to 0.1 °C).
  it.each([
    [20, 50, 9.3],
    [25, 60, 16.7],
    [30, 80, 26.2],
    [35, 40, 19.4],
    [0, 50, -9.2],
    [10, 100, 10.0],
  ])('%p °C at %p %% RH → %p °C', (t, rh, td) => {
    expect(Math.abs(dewPointC(t, rh) - td)).toBeLessThanOrEqual(0.1);
  });
});

describe('recirculation advice', () => {
  const intakeWith = (outsideC: number, riseC: number, pct: number): number => outsideC + ((pct / 100) * riseC) / (1 - pct / 100);

  it('closes the damper when outside air is warm enough', () => {
    expect(recirculationAdvicePct({ outsideC: 18, riseC: 15, minC: 10, maxC: 35, condensationMarginC: 3 })).toBe(0);
  });

  it('opens it so that the mixed intake lands just above the band floor in frost', () => {
    const pct = recirculationAdvicePct({ outsideC: -15, riseC: 20, minC: 10, maxC: 35, condensationMarginC: 3 });
    const intake = intakeWith(-15, 20, pct);
    expect(intake).toBeGreaterThanOrEqual(10);
    expect(intake).toBeLessThan(13);
  });

  it('raises the floor to dew point + margin in wet air', () => {
    const pct = recirculationAdvicePct({ outsideC: 12, riseC: 20, dewPointC: 11, minC: 5, maxC: 35, condensationMarginC: 3 });
    expect(intakeWith(12, 20, pct)).toBeGreaterThanOrEqual(14);
  });

  it('never exceeds the damper limit', () => {
    expect(recirculationAdvicePct({ outsideC: -40, riseC: 2, minC: 10, maxC: 35, condensationMarginC: 3 })).toBe(80);
  });
});

describe('sensor settings from the inventory', () => {
  /** An inventory file `file` of site t1 with one container, no racks, and these sensors (YAML flow maps). */
  const inventoryWithSensors = (file: string, container: string, sensors: string[]): Inventory =>
    parseInventory(['site: t1', 'containers:', `  - name: ${container}`, '    sensors:', ...sensors.map((sensor) => `      - ${sensor}`), '    racks: []', ''].join('\n'), file);

  it('names the file, container and sensor of each bad setting', () => {
    const inv = inventoryWithSensors('north.yaml', 'C7', [
      `{ id: c7-in, position: intake, protocol: mqtt, format: shelly }`,
      `{ id: c7-meter, position: power, protocol: modbus, host: 10.0.0.9, registers: { powerW: { address: -1 } } }`,
      `{ id: c7-wild, position: exhaust, protocol: mqtt, topic: "tele/+/SENSOR" }`,
      `{ id: c7-ok, position: outside, protocol: http, url: "http://10.0.0.8/status", paths: { temperatureC: t } }`,
    ]);
    expect(() => configureSensors(inv)).toThrow(/north\.yaml: container C7, sensor c7-in \(mqtt\): topic/);
    expect(() => configureSensors(inv)).toThrow(/north\.yaml: container C7, sensor c7-meter \(modbus\): registers\.powerW\.address/);
    expect(() => configureSensors(inv)).toThrow(/sensor c7-wild \(mqtt\): topic: one exact topic, without the MQTT wildcards/);
    expect(() => configureSensors(inv)).not.toThrow(/c7-ok/);
  });

  it('refuses a time zone it cannot apply, naming the sensor', () => {
    const inv = inventoryWithSensors('south.yaml', 'C8', [
      `{ id: c8-in, position: intake, protocol: mqtt, topic: tele/c8/SENSOR, timezone: Mars/Olympus }`,
      `{ id: c8-out, position: outside, protocol: mqtt, topic: tele/c8o/SENSOR, utcOffset: "3 hours" }`,
      `{ id: c8-both, position: other, protocol: mqtt, topic: tele/c8b/SENSOR, utcOffset: "+01:00", timezone: Europe/Paris }`,
      `{ id: c8-ok, position: exhaust, protocol: mqtt, topic: tele/c8x/SENSOR, timezone: Europe/Berlin, maxAgeS: 600 }`,
    ]);
    expect(() => configureSensors(inv)).toThrow(/south\.yaml: container C8, sensor c8-in \(mqtt\): timezone: not a time zone/);
    expect(() => configureSensors(inv)).toThrow(/sensor c8-out \(mqtt\): utcOffset: use \+HH:MM/);
    expect(() => configureSensors(inv)).toThrow(/sensor c8-both \(mqtt\): .*utcOffset or timezone, not both/);
    expect(() => configureSensors(inv)).not.toThrow(/c8-ok/);
  });
});

describe('reading times stamped by the device', () => {
  const tasmota = (extra: Record<string, unknown>): unknown => ({ SHT3X: { Temperature: 20 }, ...extra });

  it('reads Tasmota local time in the zone it is told: the payload TimeZone, else the sensor setting, else UTC', () => {
    const local = tasmota({ Time: '2026-11-24T20:00:00' });
    expect(tasmotaTime(local)).toBe(Date.UTC(2026, 10, 24, 20, 0, 0));
    expect(tasmotaTime(local, { utcOffset: '+03:00' })).toBe(Date.UTC(2026, 10, 24, 17, 0, 0));
    expect(tasmotaTime(local, { utcOffset: '-05:30' })).toBe(Date.UTC(2026, 10, 25, 1, 30, 0));
    expect(tasmotaTime(tasmota({ Time: '2026-11-24T20:00:00', TimeZone: '+01:00' }), { utcOffset: '+03:00' })).toBe(Date.UTC(2026, 10, 24, 19, 0, 0));
    // SetOption52: the time carries its own offset; an epoch number is absolute.
    expect(tasmotaTime(tasmota({ Time: '2026-11-24T20:00:00+02:00' }), { utcOffset: '+05:00' })).toBe(Date.UTC(2026, 10, 24, 18, 0, 0));
    expect(tasmotaTime(tasmota({ Time: 1_795_000_000 }))).toBe(1_795_000_000_000);
    // HTTP Status 10 wraps the same object.
    expect(tasmotaTime({ StatusSNS: { Time: '2026-11-24T20:00:00' } }, { utcOffset: '+01:00' })).toBe(Date.UTC(2026, 10, 24, 19, 0, 0));
  });

  it('follows daylight saving time for an IANA zone', () => {
    const berlin = { timezone: 'Europe/Berlin' };
    expect(tasmotaTime(tasmota({ Time: '2026-01-15T12:00:00' }), berlin)).toBe(Date.UTC(2026, 0, 15, 11, 0, 0)); // CET
    expect(tasmotaTime(tasmota({ Time: '2026-07-15T12:00:00' }), berlin)).toBe(Date.UTC(2026, 6, 15, 10, 0, 0)); // CEST
    expect(tasmotaTime(tasmota({ Time: '2026-03-29T03:30:00' }), berlin)).toBe(Date.UTC(2026, 2, 29, 1, 30, 0)); // just after the switch
  });

  it('has no time for a missing or unreadable stamp (the reading is then stamped on arrival)', () => {
    expect(tasmotaTime(tasmota({}))).toBeUndefined();
    expect(tasmotaTime(tasmota({ Time: 'yesterday' }))).toBeUndefined();
    expect(tasmotaTime(tasmota({ Time: '2026-11-24T20:00:00+99:00' }))).toBeUndefined();
  });

  it('reads Shelly Gen2 NotifyStatus params.ts (epoch seconds, fractional)', () => {
    expect(shellyTime({ method: 'NotifyStatus', params: { ts: 1_795_000_000.25, 'temperature:0': { tC: 20 } } })).toBe(1_795_000_000_250);
    expect(shellyTime({ method: 'NotifyStatus', params: { 'temperature:0': { tC: 20 } } })).toBeUndefined();
    expect(shellyTime({ 'temperature:0': { tC: 20 } })).toBeUndefined();
  });
});
