/**
 * The temperature loop closed against a simulated container, on a simulated clock: the simulator's miners (Braiins
 * OS REST over real sockets) heat the container's air; the climate exporter takes the container's readings and
 * leaves container-climate.json; the miner exporter sweeps, and its control agent (wired as main.ts wires it for
 * --control) decides and acts through the real write path; the simulator's miners change power, and the air follows.
 * Used by the closed-loop tests and bench/temperature-loop.ts. A baseline container (same miners, same weather, no
 * loop) can run beside it on the same clock.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InventoryHolder, createLogger, parseInventory, type Logger } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs, inventoryYaml, type ClimateReading, type SimMinerSpec, type Weather } from '@flymining/simulator';
import { stringify } from 'yaml';
import { ClimateExporter } from '../../src/climate/climate-exporter';
import { configureSensors } from '../../src/climate/settings';
import type { StoreCounters } from '../../src/common/store-metrics';
import type { ControlAgent } from '../../src/control/agent';
import { loadControlSettings } from '../../src/control/settings';
import { buildControlAgent } from '../../src/main';
import { MinerExporter } from '../../src/miner/exporter';
import { tempDir } from '../e2e/helpers';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
const TRANSPORT = { connectTimeoutMs: 1000, readTimeoutMs: 4000, maxBytes: 1024 * 1024 };
const CONTAINER = 'C01';

/** The exporter's store, recording the line protocol it is given (decisions, actions, faults, samples). */
export class RecordingSink {
  readonly lines: string[] = [];
  write(lines: readonly string[]): void {
    for (const l of lines) this.lines.push(l);
  }
  stats(): StoreCounters {
    return { written: this.lines.length, failed: 0, spooled: 0, dropped: 0, replayed: 0, reachable: true, uplink: 'ok', spoolBytes: 0, spoolLines: 0, spoolOldestMs: 0 };
  }
  /** Lines of one measurement, as {tags, fields} with string values. */
  points(measurement: string): Array<{ tags: Record<string, string>; fields: Record<string, string>; time: number }> {
    return this.lines.filter((l) => l.startsWith(`${measurement},`)).map(parseLine);
  }
}

/** Enough of line protocol for our own points: unescapes `\ `, `\,`, `\=` and quoted strings. */
function parseLine(line: string): { tags: Record<string, string>; fields: Record<string, string>; time: number } {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '\\' && i + 1 < line.length) {
      current += line[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ' ' && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  const pairs = (text: string): Record<string, string> => {
    const out: Record<string, string> = {};
    let key = '';
    let value = '';
    let inKey = true;
    let q = false;
    const flush = (): void => {
      if (key) out[key] = value.startsWith('"') ? value.slice(1, -1) : value;
      key = '';
      value = '';
      inKey = true;
    };
    for (const ch of text) {
      if (ch === '"') q = !q;
      if (!q && ch === ',') flush();
      else if (inKey && ch === '=') inKey = false;
      else if (inKey) key += ch;
      else value += ch;
    }
    flush();
    return out;
  };
  const [head = '', fields = '', time = '0'] = parts;
  const firstComma = head.indexOf(',');
  return { tags: pairs(head.slice(firstComma + 1)), fields: pairs(fields), time: Number(time) };
}

export interface LoopOptions {
  miners: number;
  /** The first miner's 127.x address (each miner on its own, CGMiner API on 4028, REST on 8080). */
  baseAddress: string;
  /** The clock at start (ms). */
  startMs: number;
  /** control.yaml's `defaults.temperature` section. */
  temperature: Record<string, unknown>;
  seed?: number;
  log?: Logger;
}

export interface Observation {
  nowMs: number;
  outsideC: number;
  intakeC: number;
  exhaustC: number;
  damperPercent: number;
  /** Hottest chip per miner (0 while asleep). */
  chips: Map<string, number>;
  modes: Map<string, string>;
  powerW: number;
}

function observe(farm: SimulatedFarm, nowMs: number): Observation {
  const climate = farm.climateReadings()[0] as ClimateReading;
  const miners = farm.describe();
  return {
    nowMs,
    outsideC: climate.outside.temperatureC,
    intakeC: climate.intake.temperatureC,
    exhaustC: climate.exhaust.temperatureC,
    damperPercent: climate.damperPercent,
    chips: new Map(miners.map((m) => [m.id, m.maxChipTempC])),
    modes: new Map(miners.map((m) => [m.id, m.mode])),
    powerW: miners.reduce((sum, m) => sum + m.powerW, 0),
  };
}

function specsFor(options: LoopOptions): SimMinerSpec[] {
  const shelves = Math.ceil(options.miners / 10);
  return generateFarmSpecs({
    miners: options.miners,
    racksPerContainer: 1,
    shelvesPerRack: shelves,
    slotsPerShelf: 10,
    seed: options.seed ?? 11,
    profileMix: { 'braiins-s19xp': 1 },
    baseAddress: options.baseAddress,
    httpPort: 8080,
  });
}

/** The same container without the loop: same miners (ids, seed), same weather, same clock; nothing acts on it. */
export class BaselineContainer {
  readonly farm: SimulatedFarm;
  constructor(options: LoopOptions, clock: () => number) {
    this.farm = new SimulatedFarm({ specs: specsFor(options), seed: options.seed ?? 11, clock });
  }
  setWeather(w: Weather | null): void {
    this.farm.climates.get(CONTAINER)?.setWeather(w);
  }
  setDamper(position: number | null): void {
    this.farm.climates.get(CONTAINER)?.setDamper(position);
  }
  observe(nowMs: number): Observation {
    return observe(this.farm, nowMs);
  }
}

export class ClosedLoop {
  nowMs: number;
  readonly sink = new RecordingSink();
  readonly stateDir = tempDir('temperature-loop');
  readonly specs: SimMinerSpec[];
  readonly farm: SimulatedFarm;
  private exporter!: MinerExporter;
  private climate!: ClimateExporter;
  agent!: ControlAgent;
  private sensors!: ReturnType<typeof configureSensors>;
  private inventory!: InventoryHolder;
  readonly log: Logger;

  private constructor(readonly options: LoopOptions) {
    this.nowMs = options.startMs;
    this.log = options.log ?? createLogger('temperature-loop-test', 'silent');
    this.specs = specsFor(options);
    this.farm = new SimulatedFarm({ specs: this.specs, seed: options.seed ?? 11, clock: () => this.nowMs });
  }

  static async start(options: LoopOptions): Promise<ClosedLoop> {
    const loop = new ClosedLoop(options);
    await loop.farm.start();
    try {
      loop.wire();
    } catch (err) {
      await loop.farm.stop();
      throw err;
    }
    return loop;
  }

  private wire(): void {
    const inventoryFile = path.join(this.stateDir, 'farm.yaml');
    writeFileSync(inventoryFile, inventoryYaml(this.specs, { protocols: true }));
    this.inventory = new InventoryHolder(inventoryFile);
    const controlFile = path.join(this.stateDir, 'control.yaml');
    writeFileSync(controlFile, stringify({ defaults: { temperature: this.options.temperature } }));
    const edge = { name: 'edge-loop', stateDir: this.stateDir, controlAudit: path.join(this.stateDir, 'control-audit.jsonl') };
    const clock = {
      now: () => this.nowMs,
      // Time the write path waits (staggering, confirmation) passes on the simulated clock.
      sleep: async (ms: number) => {
        this.nowMs += ms;
        await new Promise((resolve) => setImmediate(resolve));
      },
    };
    this.agent = buildControlAgent(edge, loadControlSettings(controlFile), this.sink, TRANSPORT, [CONTAINER], this.log, clock);
    this.exporter = new MinerExporter(
      this.inventory,
      this.sink,
      { name: edge.name, intervalMs: MINUTE, jitterMs: 0, concurrency: 64, transport: TRANSPORT, stateDir: this.stateDir, control: this.agent },
      this.log,
    );
    const site = this.specs[0]?.position.site ?? 'SIM';
    const json = (id: string, position: string, paths: Record<string, string>) => ({ id, position, protocol: 'mqtt', format: 'json', topic: `loop/${id}`, paths });
    this.sensors = configureSensors(
      parseInventory(
        stringify({
          site,
          containers: [
            {
              name: CONTAINER,
              sensors: [
                json('C01-intake', 'intake', { temperatureC: 't', humidityPct: 'rh' }),
                json('C01-exhaust', 'exhaust', { temperatureC: 't' }),
                json('C01-outside', 'outside', { temperatureC: 't', humidityPct: 'rh' }),
                json('C01-damper', 'damper', { damperPct: 'd' }),
              ],
              racks: [],
            },
          ],
        }),
        'sensors.yaml',
      ),
    );
    // Never started: the readings are handed to it as its MQTT source would (onReading), on the simulated clock.
    const store = { write: (l: string[]) => this.sink.write(l), query: async () => [], stats: () => this.sink.stats() };
    this.climate = new ClimateExporter(this.sensors, store, { name: 'edge-loop', mqttUrl: 'mqtt://127.0.0.1:1', intervalS: 60, stateDir: this.stateDir }, this.log);
  }

  setWeather(w: Weather | null): void {
    this.farm.climates.get(CONTAINER)?.setWeather(w);
  }

  setDamper(position: number | null): void {
    this.farm.climates.get(CONTAINER)?.setDamper(position);
  }

  /** The climate sensors' readings as they arrive now; `intake` overrides what the intake sensor sends (a broken one). */
  async feedClimate(intake?: number): Promise<void> {
    const r = this.farm.climateReadings()[0] as ClimateReading;
    const sensor = (id: string) => this.sensors.find((s) => s.id === id) as ReturnType<typeof configureSensors>[number];
    const now = this.nowMs;
    this.climate.onReading(sensor('C01-intake'), { temperatureC: intake ?? r.intake.temperatureC, humidityPct: r.intake.humidity }, now, now);
    this.climate.onReading(sensor('C01-exhaust'), { temperatureC: r.exhaust.temperatureC }, now, now);
    this.climate.onReading(sensor('C01-outside'), { temperatureC: r.outside.temperatureC, humidityPct: r.outside.humidity }, now, now);
    this.climate.onReading(sensor('C01-damper'), { damperPct: r.damperPercent }, now, now);
    await this.climate.evaluate(now);
  }

  /**
   * One minute-ish of the container's life: the clock moves, the climate sensors report (unless silent), the miner
   * exporter sweeps and its agent decides; the actions it takes are carried out before this returns.
   */
  async step(ms: number, sensors: { silent?: boolean; intake?: number } = {}): Promise<Observation> {
    this.nowMs += ms;
    if (!sensors.silent) await this.feedClimate(sensors.intake);
    await this.exporter.sweep(0);
    await this.agent.idle();
    return observe(this.farm, this.nowMs);
  }

  /** Every write a miner accepted (from the simulator's side), oldest first. */
  writes(id: string): ReadonlyArray<{ atMs: number; action: string }> {
    return this.farm.miner(id)?.writes() ?? [];
  }

  activeFaults(): ReturnType<MinerExporter['allActiveFaults']> {
    return this.exporter.allActiveFaults();
  }

  async stop(): Promise<void> {
    await this.exporter?.stop();
    this.inventory?.close();
    await this.farm.stop();
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

/** Direction changes per miner: a write lowering power (or sleeping) after one raising it (or waking), or back. */
export function directionChanges(writes: ReadonlyArray<{ action: string }>): number {
  let last = 0;
  let changes = 0;
  let lastTarget: number | undefined;
  for (const w of writes) {
    let dir = 0;
    const target = /^power target (\d+) W$/.exec(w.action);
    if (target) {
      const watts = Number(target[1]);
      if (lastTarget !== undefined) dir = Math.sign(watts - lastTarget);
      else dir = -1; // the loop's first change of a miner is always a step down from where it found it
      lastTarget = watts;
    } else if (w.action === 'sleep') dir = -1;
    else if (w.action === 'wake') dir = 1;
    if (dir === 0) continue;
    if (last !== 0 && dir !== last) changes++;
    last = dir;
  }
  return changes;
}
