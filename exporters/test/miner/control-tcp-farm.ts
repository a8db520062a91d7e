/**
 * The farm of the TCP families' write-path tests (Whatsminer, LuxOS, Avalon, Hiveon, ePIC): simulated units of one
 * profile each, served in this process over real sockets on their own loopback addresses, with a clock the test moves. Writes go through the exporter's control link and module, and
 * every check reads the unit back as the exporter does (scrapeMiner), not through the simulator's internals.
 */
import type { MinerProtocol, MinerSample } from '@flymining/shared';
import { SimulatedFarm, type ProfileId, type SimMiner } from '@flymining/simulator';
import { openControlLink } from '../../src/miner/control/link';
import { controlBackendFor } from '../../src/miner/control/registry';
import { refusalFor, type ActionReply, type ControlBackend, type ControlLink, type MinerAction } from '../../src/miner/control/types';
import { scrapeMiner, type ScrapeTarget } from '../../src/miner/scrape';
import type { MinerCredentials } from '../../src/miner/transports/http-client';

const TRANSPORT = { connectTimeoutMs: 1000, readTimeoutMs: 5000, maxBytes: 1024 * 1024 };

export interface Unit {
  id: string;
  host: string;
  miner: SimMiner;
  backendId: string;
  protocol: MinerProtocol;
  port: number;
}

export class ControlFarm {
  now = Date.parse('2026-11-24T12:00:00Z');
  readonly farm: SimulatedFarm;
  readonly units: Unit[];

  /** One unit per entry; `base` is the first loopback address (each test file its own range). */
  constructor(base: string, entries: ReadonlyArray<{ profile: ProfileId; backend: string; protocol: MinerProtocol }>) {
    const [a, b, c] = base.split('.');
    const specs = entries.map((e, i) => {
      const host = `${a}.${b}.${c}.${i + 1}`;
      return { id: `C01-R01-S1-${i + 1}`, host, port: 4028, v3Port: 4433, profile: e.profile, position: { site: 'SIM', container: 'C01', rack: 'R01', shelf: 'S1', slot: String(i + 1) } };
    });
    this.farm = new SimulatedFarm({ specs, seed: 5, clock: () => this.now });
    this.units = entries.map((e, i) => {
      const spec = specs[i]!;
      return { id: spec.id, host: spec.host, miner: this.farm.miner(spec.id)!, backendId: e.backend, protocol: e.protocol, port: e.protocol === 'whatsminer-v3' ? 4433 : 4028 };
    });
  }

  start(): Promise<void> {
    return this.farm.start();
  }

  stop(): Promise<void> {
    return this.farm.stop();
  }

  /** Moves the farm's clock; a unit whose reboot downtime is over opens its ports again. */
  async advance(ms: number): Promise<void> {
    this.now += ms;
    for (const u of this.units) u.miner.onReachabilityChange?.();
    await new Promise((r) => setTimeout(r, 50));
  }

  target(unit: Unit): ScrapeTarget {
    return { host: unit.host, port: unit.port, protocol: unit.protocol, backend: unit.backendId };
  }

  /** The exporter's read of the unit (throws with the failure when the scrape fails). */
  async read(unit: Unit): Promise<MinerSample> {
    const result = await scrapeMiner(this.target(unit), { transport: TRANSPORT, now: () => this.now });
    if (!result.ok) throw new Error(`${unit.id}: scrape failed: ${result.failure.kind} ${result.failure.message}`);
    return result.sample;
  }

  /** Whether a scrape of the unit fails (its API is down). */
  async unreachable(unit: Unit): Promise<boolean> {
    return !(await scrapeMiner(this.target(unit), { transport: TRANSPORT, now: () => this.now })).ok;
  }

  link(unit: Unit, credentials?: MinerCredentials): ControlLink {
    return openControlLink(unit.protocol, unit.host, unit.port, { credentials, transport: TRANSPORT });
  }

  backend(unit: Unit): ControlBackend {
    const backend = controlBackendFor(unit.backendId);
    if (!backend) throw new Error(`no control backend for ${unit.backendId}`);
    return backend;
  }

  /** As the executor does it: refused by the capabilities first, else sent. */
  async act(unit: Unit, action: MinerAction, credentials?: MinerCredentials): Promise<ActionReply> {
    const sample = await this.read(unit);
    const backend = this.backend(unit);
    const refusal = refusalFor(action, backend.capabilities(sample));
    if (refusal) throw new Error(`refused by capabilities: ${refusal}`);
    return backend.execute(action, this.link(unit, credentials), sample);
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, got a result');
}
