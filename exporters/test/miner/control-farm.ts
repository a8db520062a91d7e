/**
 * A small simulated farm for the write-path tests: real listeners on their own 127.x addresses (CGMiner API on
 * 4028, the web API on 8080), a fake clock the tests move (warm-ups, reboot downtime), and the steps of an action as
 * the executor takes them: read the miner, pick its family's write path, check the capabilities, send.
 */
import type http from 'node:http';
import type { MinerProtocol, MinerSample } from '@flymining/shared';
import { SimulatedFarm, type ProfileId, type SimMiner, type SimMinerSpec } from '@flymining/simulator';
import { createMinerHttpServer } from '../../../simulator/src/next/http-api';
import { backendId } from '../../src/miner/backends/types';
import { openControlLink } from '../../src/miner/control/link';
import { controlBackendFor } from '../../src/miner/control/registry';
import { refusalFor, type ActionReply, type ControlBackend, type ControlLink, type MinerAction } from '../../src/miner/control/types';
import type { MinerCredentials } from '../../src/miner/transports/http-client';
import { scrapeMiner, type ScrapeResult } from '../../src/miner/scrape';

export const HTTP_PORT = 8080;
export const TRANSPORT = { connectTimeoutMs: 1000, readTimeoutMs: 4000, maxBytes: 1024 * 1024 };

export interface Unit {
  spec: SimMinerSpec;
  miner: SimMiner;
}

/** How a test reads a unit: a pinned backend (with its credentials), or detection on 4028. */
export interface ReadAs {
  backend?: string;
  credentials?: MinerCredentials;
}

export class ControlFarm {
  nowMs = Date.parse('2026-11-27T12:00:00Z');
  private readonly extra: http.Server[] = [];

  private constructor(
    readonly farm: SimulatedFarm,
    private readonly units: Map<ProfileId, Unit>,
  ) {}

  /**
   * One unit per profile at baseAddress, .2, .3 …; `cgiFor` profiles get the Antminer web CGI on 8080 although the
   * catalog does not serve it for them (stock S19 Pro, S9: real units have it, the demo farm reads them on 4028).
   */
  static async start(baseAddress: string, profiles: readonly ProfileId[], cgiFor: readonly ProfileId[] = []): Promise<ControlFarm> {
    const prefix = baseAddress.split('.').slice(0, 3).join('.');
    const specs: SimMinerSpec[] = profiles.map((profile, n) => ({
      id: `C01-R01-S1-${n + 1}`,
      host: `${prefix}.${n + 1}`,
      port: 4028,
      httpPort: HTTP_PORT,
      profile,
      position: { site: 'SIM', container: 'C01', rack: 'R01', shelf: 'S1', slot: String(n + 1) },
    }));
    let control: ControlFarm | undefined;
    const farm = new SimulatedFarm({ specs, seed: 7, clock: () => control?.nowMs ?? Date.parse('2026-11-27T12:00:00Z') });
    const units = new Map<ProfileId, Unit>();
    for (const spec of specs) units.set(spec.profile, { spec, miner: farm.miner(spec.id)! });
    control = new ControlFarm(farm, units);
    await farm.start();
    for (const profile of cgiFor) {
      const unit = control.unit(profile);
      const server = createMinerHttpServer('antminer-cgi', unit.miner, () => control!.nowMs);
      await new Promise<void>((resolve) => server.listen(HTTP_PORT, unit.spec.host, resolve));
      control.extra.push(server);
    }
    return control;
  }

  unit(profile: ProfileId): Unit {
    const unit = this.units.get(profile);
    if (!unit) throw new Error(`no ${profile} in this test farm`);
    return unit;
  }

  /** Moves the clock, then lets every unit's listener follow (a reboot's downtime ends on the fake clock). */
  async advance(seconds: number): Promise<void> {
    this.nowMs += seconds * 1000;
    for (const { miner } of this.units.values()) miner.onReachabilityChange?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  read(profile: ProfileId, as: ReadAs = {}): Promise<ScrapeResult> {
    const { spec } = this.unit(profile);
    const ports: Partial<Record<MinerProtocol, number>> = { 'antminer-web': HTTP_PORT, 'braiins-rest': HTTP_PORT, vnish: HTTP_PORT };
    return scrapeMiner({ host: spec.host, port: spec.port, backend: as.backend, credentials: as.credentials, ports }, { transport: TRANSPORT });
  }

  async sample(profile: ProfileId, as: ReadAs = {}): Promise<{ sample: MinerSample; backend: ControlBackend; readId: string }> {
    const result = await this.read(profile, as);
    if (!result.ok) throw new Error(`${profile}: read failed: ${result.failure.kind}: ${result.failure.message}`);
    const readId = backendId(result.dialect);
    const backend = controlBackendFor(readId);
    if (!backend) throw new Error(`${profile}: no write path for ${readId}`);
    return { sample: result.sample, backend, readId };
  }

  /** The write link the executor would open: the family's write protocol on the unit's web port. */
  link(profile: ProfileId, protocol: MinerProtocol, credentials: MinerCredentials | undefined): ControlLink {
    const { spec } = this.unit(profile);
    return openControlLink(protocol, spec.host, HTTP_PORT, { credentials, transport: TRANSPORT });
  }

  /** Read, pick the write path, check the capabilities (a refusal throws), send: the executor's steps, without its audit. */
  async act(profile: ProfileId, action: MinerAction, as: ReadAs, credentials: MinerCredentials | undefined): Promise<ActionReply> {
    const { sample, backend } = await this.sample(profile, as);
    const refusal = refusalFor(action, backend.capabilities(sample));
    if (refusal) throw new Error(`refused by capabilities: ${refusal}`);
    return backend.execute(action, this.link(profile, backend.writeProtocol ?? sample.protocol ?? 'cgminer', credentials), sample);
  }

  async stop(): Promise<void> {
    await Promise.all(this.extra.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await this.farm.stop();
  }
}

/** Polls until the unit's 4028 listener is gone (a reboot takes the API down once its answer is out). */
export async function waitUntilDown(farm: ControlFarm, profile: ProfileId): Promise<ScrapeResult> {
  for (let i = 0; i < 40; i++) {
    const result = await farm.read(profile);
    if (!result.ok) return result;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${profile}: the API never went down`);
}
