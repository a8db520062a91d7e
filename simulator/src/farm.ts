/**
 * A whole simulated farm in one process: thousands of miners, each a real TCP listener on its own 127.x.y.z address
 * (Linux routes all of 127.0.0.0/8 to lo) or on distinct ports of 127.0.0.1, plus one climate model per container.
 */
import { ALL_PROFILE_IDS, PROFILES, apiOf, isProfileId, type ProfileId } from './catalog';
import { ClimatePublisher, ContainerClimate, DEFAULT_CLIMATE, type ClimateOptions, type ClimateReading } from './climate';
import { ContainerModbusDevice, SensorFaults, type SensorFaultRequest } from './climate-sensors';
import { SimMiner, type MinerDescription, type SimMinerSpec } from './miner';
import type { CredentialSet } from './next/credentials';
import { Prng } from './prng';
import { MinerServer } from './server';

export const DEFAULT_API_PORT = 4028;

export interface FarmLayout {
  miners: number;
  /** Defaults to as many as the miners need. */
  containers?: number;
  racksPerContainer?: number;
  shelvesPerRack?: number;
  slotsPerShelf?: number;
  /** Relative weights per profile; defaults to a mixed farm with every profile. */
  profileMix?: Partial<Record<ProfileId, number>>;
  /** First miner address (default 127.1.0.1); following miners take the next addresses, skipping .0 and .255. */
  baseAddress?: string;
  /** 'ports': every miner on 127.0.0.1 at basePort + n instead of its own address. */
  bind?: 'addresses' | 'ports';
  /** Port for 'addresses' mode (default 4028) or the first port in 'ports' mode (default 14028). */
  basePort?: number;
  seed?: number;
  site?: string;
  /** Profiles that must appear at least once (placed deterministically when the draw left them out). */
  ensureProfiles?: readonly ProfileId[];
  /** Port of the web APIs in 'addresses' mode (default 80); in 'ports' mode each unit gets its own after the main ports. */
  httpPort?: number;
  /** Port of Whatsminer API v3 in 'addresses' mode (default 4433). */
  v3Port?: number;
}

/** The library's default mix: units the exporter reads over the CGMiner API alone. */
export const DEFAULT_PROFILE_MIX: Readonly<Partial<Record<ProfileId, number>>> = {
  'antminer-s19pro': 30,
  'antminer-s9': 8,
  'antminer-s9-hiveon': 6,
  'antminer-s9-vnish': 6,
  'antminer-s19kpro-luxos': 12,
  'antminer-s21xp-hyd': 6,
  'braiins-s9': 8,
  'whatsminer-m31s': 14,
  'avalon-1246': 10,
};

/**
 * The demo farm (the simulator CLI's default): today's farm, with units behind Whatsminer API v3, the Antminer web
 * API, Braiins OS REST and ePIC's HTTP API next to the CGMiner-era ones; DEMO_REQUIRED_PROFILES appear at least once.
 */
export const DEMO_PROFILE_MIX: Readonly<Partial<Record<ProfileId, number>>> = {
  ...DEFAULT_PROFILE_MIX,
  'whatsminer-m60s': 6,
  'antminer-s23-hyd': 4,
  'braiins-s19xp': 3,
  'braiins-s21pro': 3,
  'epic-s19xp': 4,
  'antminer-s19jpro-vnish': 2,
};

export const DEMO_REQUIRED_PROFILES: readonly ProfileId[] = ['whatsminer-m60s', 'antminer-s23-hyd', 'braiins-s19xp', 'braiins-s21pro', 'epic-s19xp'];

export const DEFAULT_HTTP_PORT = 80;
export const DEFAULT_V3_PORT = 4433;

function ipv4ToInt(address: string): number {
  const parts = address.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`farm layout: "${address}" is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Specs with positions for a farm layout; deterministic for a given seed. */
export function generateFarmSpecs(layout: FarmLayout): SimMinerSpec[] {
  const racks = layout.racksPerContainer ?? 10;
  const shelves = layout.shelvesPerRack ?? 4;
  const slots = layout.slotsPerShelf ?? 5;
  const perContainer = racks * shelves * slots;
  if (!Number.isInteger(layout.miners) || layout.miners < 0) throw new Error(`farm layout: miners must be a whole number >= 0, got ${layout.miners}`);
  if (perContainer <= 0) throw new Error('farm layout: racks, shelves and slots must all be at least 1');
  const containers = layout.containers ?? Math.max(1, Math.ceil(layout.miners / perContainer));
  if (containers * perContainer < layout.miners) {
    throw new Error(`farm layout: ${layout.miners} miners do not fit in ${containers} containers of ${perContainer} slots`);
  }
  const mix = Object.entries(layout.profileMix ?? DEFAULT_PROFILE_MIX).filter(([, w]) => (w ?? 0) > 0);
  for (const [id] of mix) if (!isProfileId(id)) throw new Error(`farm layout: unknown profile "${id}" (known: ${ALL_PROFILE_IDS.join(', ')})`);
  for (const id of layout.ensureProfiles ?? []) if (!isProfileId(id)) throw new Error(`farm layout: unknown profile "${id}" in ensureProfiles`);
  if (mix.length === 0) throw new Error('farm layout: profileMix gives no profile a positive weight');
  const totalWeight = mix.reduce((s, [, w]) => s + (w ?? 0), 0);
  const rng = new Prng(layout.seed ?? 1);
  const pickProfile = (): ProfileId => {
    let x = rng.next() * totalWeight;
    for (const [id, w] of mix) {
      x -= w ?? 0;
      if (x < 0) return id as ProfileId;
    }
    return mix[mix.length - 1]?.[0] as ProfileId;
  };

  const bindPorts = layout.bind === 'ports';
  const basePort = layout.basePort ?? (bindPorts ? 14028 : DEFAULT_API_PORT);
  let address = ipv4ToInt(layout.baseAddress ?? '127.1.0.1');
  const nextAddress = (): string => {
    while ((address & 255) === 0 || (address & 255) === 255) address++;
    if (address >>> 24 !== 127) throw new Error(`farm layout: addresses ran out of 127.0.0.0/8 (base ${layout.baseAddress ?? '127.1.0.1'})`);
    return intToIpv4(address++);
  };
  if (bindPorts && basePort + layout.miners > 65536) throw new Error(`farm layout: ${layout.miners} ports from ${basePort} exceed 65535`);

  const site = layout.site ?? 'SIM';
  const profiles: ProfileId[] = [];
  for (let n = 0; n < layout.miners; n++) profiles.push(pickProfile());
  // Required profiles the draw missed replace evenly spaced miners, so a small demo farm still has each of them.
  const ensure = (layout.ensureProfiles ?? []).filter((id) => !profiles.includes(id));
  if (ensure.length > layout.miners) throw new Error(`farm layout: ${layout.miners} miners cannot hold the ${ensure.length} required profiles`);
  ensure.forEach((id, k) => {
    profiles[Math.floor(((k + 0.5) * layout.miners) / ensure.length)] = id;
  });
  const needsHttp = (id: ProfileId): boolean => apiOf(PROFILES[id]).http !== undefined;
  const needsV3 = (id: ProfileId): boolean => apiOf(PROFILES[id]).whatsminerV3 === true;
  if (bindPorts && profiles.some((id) => needsHttp(id) || needsV3(id)) && basePort + 3 * layout.miners > 65536) {
    throw new Error(`farm layout: ${layout.miners} miners with web/v3 ports (3 ports each from ${basePort}) exceed 65535`);
  }
  const specs: SimMinerSpec[] = [];
  for (let n = 0; n < layout.miners; n++) {
    const c = Math.floor(n / perContainer);
    const inContainer = n % perContainer;
    const rack = Math.floor(inContainer / (shelves * slots));
    const shelf = Math.floor((inContainer % (shelves * slots)) / slots);
    const slot = inContainer % slots;
    const position = { site, container: `C${pad(c + 1, 2)}`, rack: `R${pad(rack + 1, 2)}`, shelf: `S${shelf + 1}`, slot: String(slot + 1) };
    specs.push({
      id: `${position.container}-${position.rack}-${position.shelf}-${position.slot}`,
      host: bindPorts ? '127.0.0.1' : nextAddress(),
      port: bindPorts ? basePort + n : basePort,
      ...(needsHttp(profiles[n]!) ? { httpPort: bindPorts ? basePort + layout.miners + n : (layout.httpPort ?? DEFAULT_HTTP_PORT) } : {}),
      ...(needsV3(profiles[n]!) ? { v3Port: bindPorts ? basePort + 2 * layout.miners + n : (layout.v3Port ?? DEFAULT_V3_PORT) } : {}),
      profile: profiles[n]!,
      position,
    });
  }
  return specs;
}

/** "2/3" -> part 2 of 3. */
export interface FarmPart {
  index: number;
  of: number;
}

/**
 * Part `index` of `of` of a farm's specs (1-based), whole containers each, so one farm can be served by several
 * simulator processes (a process may hold at most so many open files; each miner is a listener): every part computes
 * the same full farm from the same seed and keeps its own containers. A container is never split, so its climate
 * model sees all its miners. Contiguous: part 1 holds the first containers.
 */
export function farmPart(specs: readonly SimMinerSpec[], part: FarmPart): SimMinerSpec[] {
  if (!Number.isInteger(part.of) || part.of < 1 || !Number.isInteger(part.index) || part.index < 1 || part.index > part.of) {
    throw new Error(`farm part: ${part.index}/${part.of} is not a part k/n with 1 <= k <= n`);
  }
  const containers = [...new Set(specs.map((s) => s.position.container))];
  const first = Math.floor(((part.index - 1) * containers.length) / part.of);
  const last = Math.floor((part.index * containers.length) / part.of);
  const mine = new Set(containers.slice(first, last));
  return specs.filter((s) => mine.has(s.position.container));
}

export interface FarmOptions {
  specs: readonly SimMinerSpec[];
  seed?: number;
  /** The farm's clock in ms since the epoch (tests pass a fake one). */
  clock?: () => number;
  climate?: Partial<ClimateOptions>;
  /** Publish climate sensors to this MQTT broker (e.g. mqtt://127.0.0.1:1883). */
  mqttUrl?: string;
  mqttIntervalMs?: number;
  /** Serve each container's damper and power meter over Modbus TCP on 127.0.0.1 from this port (one per container). */
  modbusBasePort?: number;
  /** What the newer APIs accept (default: the firmware defaults, next/credentials.ts). */
  credentials?: CredentialSet;
}

/** Listeners opened at once while starting; keeps the accept queue and file-descriptor spikes modest. */
const START_BATCH = 500;

export class SimulatedFarm {
  readonly miners = new Map<string, SimMiner>();
  readonly climates = new Map<string, ContainerClimate>();
  readonly sensorFaults = new Map<string, SensorFaults>();
  readonly modbusDevices = new Map<string, ContainerModbusDevice>();
  private readonly servers: MinerServer[] = [];
  private publisher: ClimatePublisher | undefined;
  private readonly clock: () => number;
  private running = false;

  constructor(private readonly options: FarmOptions) {
    this.clock = options.clock ?? Date.now;
    const seed = options.seed ?? 1;
    const climateOptions = { ...DEFAULT_CLIMATE, ...options.climate };
    const byContainer = new Map<string, SimMiner[]>();
    const endpoints = new Set<string>();
    for (const spec of options.specs) {
      if (!isProfileId(spec.profile)) throw new Error(`miner ${spec.id}: unknown profile "${spec.profile}"`);
      if (this.miners.has(spec.id)) throw new Error(`miner id "${spec.id}" appears twice in the farm specs`);
      for (const port of [spec.port, spec.httpPort, spec.v3Port]) {
        if (port === undefined) continue;
        const endpoint = `${spec.host}:${port}`;
        if (endpoints.has(endpoint)) throw new Error(`miner ${spec.id}: ${endpoint} is already used by another miner`);
        endpoints.add(endpoint);
      }
      const miner = new SimMiner(spec, seed, this.clock);
      if (options.credentials) miner.credentials = options.credentials;
      this.miners.set(spec.id, miner);
      const list = byContainer.get(spec.position.container) ?? [];
      list.push(miner);
      byContainer.set(spec.position.container, list);
    }
    for (const [name, list] of byContainer) {
      const climate = new ContainerClimate(name, seed, climateOptions, () => {
        const now = this.clock();
        let airHeatW = 0;
        let airflowKgS = 0;
        for (const m of list) {
          const load = m.airLoad(now);
          airHeatW += load.airHeatW;
          airflowKgS += load.airflowKgS;
        }
        return { airHeatW, airflowKgS };
      });
      this.climates.set(name, climate);
      const faults = new SensorFaults();
      this.sensorFaults.set(name, faults);
      if (options.modbusBasePort !== undefined) {
        // The meter sees the miners plus the container's own ventilation, lights and uplink (~2 % + 800 W).
        const powerW = (): number => 800 + 1.02 * list.reduce((sum, m) => sum + m.read(this.clock()).powerW, 0);
        const port = options.modbusBasePort + this.modbusDevices.size;
        this.modbusDevices.set(name, new ContainerModbusDevice(climate, faults, powerW, this.clock, '127.0.0.1', port));
      }
      for (const m of list) m.setIntake(PROFILES[m.profile.id].cooling === 'hydro' ? climate.water : climate);
    }
  }

  /** Opens every miner's listener (and the MQTT publisher). Stops what it opened if any listener fails. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const all = [...this.miners.values()].map((m) => new MinerServer(m, this.clock));
    try {
      for (let i = 0; i < all.length; i += START_BATCH) {
        const batch = all.slice(i, i + START_BATCH);
        this.servers.push(...batch);
        await Promise.all(batch.map((s) => s.start()));
      }
      if (this.options.mqttUrl) {
        this.publisher = new ClimatePublisher({
          url: this.options.mqttUrl,
          intervalMs: this.options.mqttIntervalMs ?? 10_000,
          climates: [...this.climates.values()],
          clock: this.clock,
          faults: (container) => this.sensorFaults.get(container),
        });
        await this.publisher.start();
      }
      for (const device of this.modbusDevices.values()) await device.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    const publisher = this.publisher;
    this.publisher = undefined;
    await publisher?.stop();
    await Promise.all([...this.modbusDevices.values()].map((d) => d.stop()));
    const servers = this.servers.splice(0);
    await Promise.all(servers.map((s) => s.stop()));
  }

  miner(id: string): SimMiner | undefined {
    return this.miners.get(id);
  }

  describe(filter: { container?: string } = {}): MinerDescription[] {
    const now = this.clock();
    const out: MinerDescription[] = [];
    for (const m of this.miners.values()) {
      if (filter.container && m.spec.position.container !== filter.container) continue;
      out.push(m.describe(now));
    }
    return out;
  }

  climateReadings(): ClimateReading[] {
    const now = this.clock();
    return [...this.climates.values()].map((c) => c.read(now));
  }

  /** Injects a sensor fault into a container (see climate-sensors.ts); false when there is no such container. */
  applySensorFault(container: string, req: SensorFaultRequest): boolean {
    const faults = this.sensorFaults.get(container);
    const climate = this.climates.get(container);
    if (!faults || !climate) return false;
    faults.apply(req, climate.read(this.clock()).damperPercent);
    if (req.fault === 'stale') this.modbusDevices.get(container)?.dropConnections();
    return true;
  }

  /** Publishes the climate sensors right now (tests use it instead of waiting for the interval). */
  async publishClimate(): Promise<void> {
    await this.publisher?.publishOnce();
  }
}
