/**
 * The gate every decoded reading passes before it is stored: physically possible values only, and no floods.
 * A sensor that sends -273 °C or 500 °C is broken, not a fire; a sensor that sends 50 messages a second is
 * misconfigured or hostile. Both are counted and logged with the sensor named, never stored.
 */
import { PayloadRejected, type Quantity, type SensorValues } from './types';

const PLAUSIBLE: Record<Quantity, [number, number]> = {
  temperatureC: [-60, 100], // colder than any farm site, hotter than any air a miner survives
  humidityPct: [0, 100],
  damperPct: [0, 100],
  damperCommandPct: [0, 100],
  powerW: [0, 5_000_000], // a 40 ft container draws ~1-2 MW
  energyKwh: [0, 1e10],
};

export function checkPlausible(values: SensorValues): SensorValues {
  let any = false;
  for (const [q, v] of Object.entries(values) as Array<[Quantity, number | undefined]>) {
    if (v === undefined) continue;
    const [lo, hi] = PLAUSIBLE[q];
    if (!Number.isFinite(v) || v < lo || v > hi) throw new PayloadRejected('absurd-value', `${q} ${v} outside ${lo}..${hi}`);
    any = true;
  }
  if (!any) throw new PayloadRejected('no-values', 'payload carried none of the expected readings');
  return values;
}

/** Token bucket per sensor: `burst` messages at once, refilled at `perSecond`. */
export class FloodGuard {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst = 10,
    private readonly perSecond = 1,
  ) {}

  /** True when this message may pass. */
  allow(sensorId: string, now: number): boolean {
    const b = this.buckets.get(sensorId) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(sensorId, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
