/**
 * One simulated container for the policy tests over real sockets: Braiins OS REST units (their family module is on
 * main) on their own 127.x addresses, a fake clock the test and the executor move, and what the edge agent does
 * after each sweep, done plainly here: read every miner, hand the policy its MinerStates, carry the actions out
 * through the real ControlExecutor (rate limits, staggering, confirmation, audit), and report the results back.
 */
import type { ProfileId } from '@flymining/simulator';
import { SimulatedFarm, type SimMiner, type SimMinerSpec } from '@flymining/simulator';
import type { ControlPolicy, MinerState, PolicyDecision } from '../../src/control/types';
import { backendId } from '../../src/miner/backends/types';
import { ControlExecutor, type ActionResult, type ControlTarget, type ExecutorOptions } from '../../src/miner/control/executor';
import { ActionHistory } from '../../src/miner/control/history';
import { controlBackendFor } from '../../src/miner/control/registry';
import { scrapeMiner } from '../../src/miner/scrape';

export const REST_PORT = 8080;
/** Short enough that a hung unit costs a sweep little, long enough for a loaded machine's REST answers. */
export const SIM_TRANSPORT = { connectTimeoutMs: 1000, readTimeoutMs: 600, maxBytes: 1024 * 1024 };

export class SimContainer {
  nowMs = Date.parse('2026-11-27T12:00:00Z');
  readonly history = new ActionHistory(() => this.nowMs);
  readonly audit: ActionResult[] = [];
  readonly executor: ControlExecutor;
  readonly targets: ControlTarget[];
  private readonly notHashingSince = new Map<string, number>();
  private readonly lastCaps = new Map<string, MinerState['capabilities']>();
  private readonly sessions = new Map<string, string>();
  private farm!: SimulatedFarm;

  private constructor(
    readonly specs: SimMinerSpec[],
    executorOptions: Partial<ExecutorOptions>,
  ) {
    this.targets = specs.map((s) => ({
      id: s.id,
      site: 'SIM',
      container: 'C01',
      rack: s.position.rack,
      shelf: s.position.shelf,
      slot: s.position.slot,
      host: s.host,
      port: REST_PORT,
      protocol: 'braiins-rest',
      backend: 'braiins/v25_07',
      credentials: { user: 'root', password: 'root' },
    }));
    this.executor = new ControlExecutor({
      history: this.history,
      audit: [{ record: (r) => void this.audit.push(r) }],
      now: () => this.nowMs,
      // The executor's waits (staggering, settling, confirming) pass on the fake clock.
      sleep: (ms) => this.advance(ms / 1000),
      scrape: { transport: SIM_TRANSPORT, sessions: this.sessions, now: () => this.nowMs },
      ...executorOptions,
    });
  }

  /** Units of the given profiles at baseAddress .1, .2, … (one per entry). */
  static async start(baseAddress: string, profiles: readonly ProfileId[], executorOptions: Partial<ExecutorOptions> = {}): Promise<SimContainer> {
    const prefix = baseAddress.split('.').slice(0, 3).join('.');
    const specs: SimMinerSpec[] = profiles.map((profile, n) => ({
      id: `C01-R01-S${Math.floor(n / 5) + 1}-${(n % 5) + 1}`,
      host: `${prefix}.${n + 1}`,
      port: 4028,
      httpPort: REST_PORT,
      profile,
      position: { site: 'SIM', container: 'C01', rack: 'R01', shelf: `S${Math.floor(n / 5) + 1}`, slot: String((n % 5) + 1) },
    }));
    const container = new SimContainer(specs, executorOptions);
    container.farm = new SimulatedFarm({ specs, seed: 11, clock: () => container.nowMs });
    await container.farm.start();
    return container;
  }

  miner(id: string): SimMiner {
    const m = this.farm.miner(id);
    if (!m) throw new Error(`no simulated miner ${id}`);
    return m;
  }

  /** Moves the fake clock; listeners follow (a reboot's downtime ends), with a moment for them to reopen. */
  async advance(seconds: number): Promise<void> {
    this.nowMs += Math.round(seconds * 1000);
    for (const t of this.targets) this.miner(t.id).onReachabilityChange?.();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Reads every miner as the exporter's sweep does, and keeps what the agent keeps between sweeps. */
  async sweep(): Promise<MinerState[]> {
    return Promise.all(
      this.targets.map(async (target): Promise<MinerState> => {
        const read = await scrapeMiner(target, { transport: SIM_TRANSPORT, sessions: this.sessions, now: () => this.nowMs });
        const hashing = read.ok && read.sample.mode === 'hashing';
        if (hashing) this.notHashingSince.delete(target.id);
        else if (!this.notHashingSince.has(target.id)) this.notHashingSince.set(target.id, this.nowMs);
        if (read.ok) this.lastCaps.set(target.id, controlBackendFor(backendId(read.dialect))?.capabilities(read.sample));
        return {
          target,
          sample: read.ok ? read.sample : undefined,
          lastOkMs: read.ok ? this.nowMs : undefined,
          notHashingSinceMs: this.notHashingSince.get(target.id),
          capabilities: this.lastCaps.get(target.id),
          faults: [],
        };
      }),
    );
  }

  /** One sweep, one evaluation, its actions carried out and reported back. */
  async evaluate(policy: ControlPolicy): Promise<{ decisions: PolicyDecision[]; results: ActionResult[]; miners: MinerState[] }> {
    const miners = await this.sweep();
    const decisions = policy.evaluate({ now: this.nowMs, site: 'SIM', container: 'C01', miners });
    const results: ActionResult[] = [];
    for (const d of decisions)
      for (const a of d.actions) results.push(...(await this.executor.run({ targets: a.targets, action: a.action, actor: { kind: 'policy', name: policy.name }, reason: a.reason })));
    if (results.length > 0) policy.onResults?.('C01', results);
    return { decisions, results, miners };
  }

  /** The container's power as the miners report it (W). */
  static powerW(miners: readonly MinerState[]): number {
    return miners.reduce((sum, m) => sum + (m.sample?.powerW ?? 0), 0);
  }

  async stop(): Promise<void> {
    await this.farm?.stop();
  }
}
