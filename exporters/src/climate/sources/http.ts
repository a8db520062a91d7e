/** HTTP JSON pull: GET a sensor's URL every interval (Tasmota `Status 10`, Shelly `Shelly.GetStatus`, any JSON). */
import { decodeJsonPaths, decodeShelly, decodeTasmota } from '../payloads';
import type { ConfiguredSensor, HttpSensorSettings } from '../settings';
import { PayloadRejected, type ClimateSource, type SensorRef, type SensorValues, type SourceEvents } from '../types';
import { Poller } from './poller';

const MAX_BODY_BYTES = 64 * 1024;

type HttpSensor = SensorRef & { settings: HttpSensorSettings };

function decode(s: HttpSensorSettings, text: string): SensorValues {
  if (s.format === 'tasmota') return decodeTasmota(text);
  if (s.format === 'shelly') return decodeShelly(text, s.component);
  if (!s.paths) throw new PayloadRejected('no-values', 'format json needs paths');
  return decodeJsonPaths(text, s.paths, s.unit);
}

export class HttpSource implements ClimateSource {
  readonly protocol = 'http' as const;
  private readonly sensors: HttpSensor[];
  private readonly poller = new Poller();

  constructor(
    sensors: readonly ConfiguredSensor[],
    private readonly events: SourceEvents,
  ) {
    this.sensors = sensors.filter((s): s is HttpSensor & ConfiguredSensor => s.protocol === 'http');
  }

  async readOnce(sensor: HttpSensor): Promise<void> {
    const s = sensor.settings;
    let text: string;
    try {
      const res = await fetch(s.url, { signal: AbortSignal.timeout(s.timeoutMs), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      this.events.rejected(sensor, 'unreachable', `${s.url}: ${(err as Error).message}`);
      return;
    }
    if (text.length > MAX_BODY_BYTES) return this.events.rejected(sensor, 'too-large', `${text.length} bytes from ${s.url}`);
    try {
      this.events.reading(sensor, decode(s, text), Date.now());
    } catch (err) {
      const reason = err instanceof PayloadRejected ? err.reason : 'wrong-type';
      this.events.rejected(sensor, reason, `${(err as Error).message} (${s.url})`);
    }
  }

  async start(): Promise<void> {
    for (const s of this.sensors) this.poller.every(s.id, s.settings.intervalS * 1000, () => this.readOnce(s));
  }

  async stop(): Promise<void> {
    this.poller.stop();
  }
}
