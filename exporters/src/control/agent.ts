/**
 * The control agent (issue 14): runs the enabled policies in the miner exporter after each sweep, next to the miners
 * they act on, so control keeps working while the uplink is down.
 *
 * Per sweep: each scrape is observed (newest sample, last good read, since when not hashing, what its family can do);
 * after the sweep every served container gets a PolicyContext (its miners, the climate exporter's newest readings
 * from container-climate.json) and each policy decides. Decisions become `control_decision` points (through the
 * exporter's store, i.e. the uplink) and log lines; the policies' faults join the exporter's fault set (snapshots and
 * `fault` transitions, as any other fault reaches alerting); actions go through one ControlExecutor (rate limits,
 * staggering, audit, confirmation) as actor {kind: 'policy', name}. A container whose actions are still being carried
 * out is not judged again until they are done (no decision on a half-applied step).
 */
import { encodePoints, faultKey, type Fault, type FaultEvent, type Logger, type MinerSample, type MinerSpec } from '@flymining/shared';
import path from 'node:path';
import { z } from 'zod';
import { EdgeStateFile, faultSchema } from '../common/edge/state-file';
import { backendId, protocolOf } from '../miner/backends/types';
import { CredentialStore, type CredentialSource } from '../miner/credentials';
import type { ActionResult, ControlExecutor, ControlTarget, KnownRead } from '../miner/control/executor';
import { faultTransitions } from '../miner/health';
import { controlBackendFor } from '../miner/control/registry';
import { targetFromSpec } from '../miner/control/targets';
import type { ControlBackend, ControlCapabilities } from '../miner/control/types';
import type { ScrapeResult } from '../miner/scrape';
import type { ClimateFeed } from './climate-feed';
import { decisionPoint, type ContainerClimate, type ControlPolicy, type MinerState, type PolicyDecision } from './types';

/** What the agent remembers of a miner between sweeps. */
interface Observed {
  target: ControlTarget;
  sample?: MinerSample;
  lastOkMs?: number;
  notHashingSinceMs?: number;
  capabilities?: ControlCapabilities;
  /** The newest successful read, for the executor to act on without reading again. */
  read?: KnownRead;
}

/** Resolves nothing: specs reach targetFromSpec without their credentials reference. */
const NO_CREDENTIALS = new CredentialStore(undefined);

const savedFaultsSchema = z.object({ groups: z.record(z.string(), z.record(z.string(), faultSchema)) });
type SavedFaults = z.infer<typeof savedFaultsSchema>;

export function controlFaultsPath(stateDir: string): string {
  return path.join(stateDir, 'control-faults.json');
}

export interface ControlAgentOptions {
  /** The edge's name: the source of fault events. */
  name: string;
  policies: readonly ControlPolicy[];
  executor: ControlExecutor;
  /** The climate exporter's newest readings (container-climate.json); absent: policies see no climate. */
  climate?: Pick<ClimateFeed, 'read'>;
  /** The exporter's store: decisions go out as `control_decision` points. */
  sink: { write(lines: string[]): void };
  log: Logger;
  /** Where the policies' active faults are kept across restarts (so a restart does not raise them again). */
  stateDir?: string;
  /** The write path by read backend id (tests may pass their own list). */
  backendFor?: (readBackendId: string) => ControlBackend | undefined;
  now?: () => number;
}

export interface SweepOutcome {
  /** Fault transitions of the policies' faults, for the exporter's `fault` points. */
  events: FaultEvent[];
  decisions: PolicyDecision[];
  /** Resolves when the actions decided in this sweep have been carried out. */
  done: Promise<void>;
}

export class ControlAgent {
  private readonly observed = new Map<string, Observed>();
  /** Active faults by `<policy>|<container>`, then faultKey. */
  private readonly faults = new Map<string, Record<string, Fault>>();
  private readonly busy = new Map<string, Promise<void>>();
  /** The last decision word per policy and container, so repeated holds log at debug. */
  private readonly lastDecision = new Map<string, string>();
  private readonly stateFile: EdgeStateFile<SavedFaults> | undefined;
  private readonly backendFor: (id: string) => ControlBackend | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ControlAgentOptions) {
    this.backendFor = options.backendFor ?? controlBackendFor;
    this.now = options.now ?? Date.now;
    if (options.stateDir) {
      this.stateFile = new EdgeStateFile(controlFaultsPath(options.stateDir), savedFaultsSchema, options.log);
      for (const [group, faults] of Object.entries(this.stateFile.load()?.groups ?? {})) this.faults.set(group, faults);
    }
  }

  get policies(): readonly ControlPolicy[] {
    return this.options.policies;
  }

  /** One scrape's outcome for a miner (called by the exporter for every scrape). */
  observe(spec: MinerSpec, credentials: CredentialSource | undefined, result: ScrapeResult, now = this.now()): void {
    // The exporter has resolved the credentials already (and logged a missing entry once): they are passed in.
    const target: ControlTarget = { ...targetFromSpec({ ...spec, credentials: undefined }, NO_CREDENTIALS), credentials };
    const seen: Observed = { ...this.observed.get(spec.id), target };
    if (result.ok) {
      seen.sample = result.sample;
      seen.lastOkMs = now;
      const readId = backendId(result.dialect);
      const backend = this.backendFor(readId);
      seen.capabilities = backend?.capabilities(result.sample);
      seen.read = { sample: result.sample, backendId: readId, protocol: result.sample.protocol ?? protocolOf(result.dialect) };
      if (result.sample.mode === 'hashing') seen.notHashingSinceMs = undefined;
      else seen.notHashingSinceMs ??= now;
    } else {
      seen.notHashingSinceMs ??= now;
    }
    this.observed.set(spec.id, seen);
  }

  /** Miners taken out of the inventory. */
  forget(listed: ReadonlySet<string>): void {
    for (const id of this.observed.keys()) if (!listed.has(id)) this.observed.delete(id);
  }

  /** The policies' active faults (they join the exporter's snapshots). */
  activeFaults(): Fault[] {
    return [...this.faults.values()].flatMap((byKey) => Object.values(byKey));
  }

  /** Resolves when no action is being carried out. */
  async idle(): Promise<void> {
    while (this.busy.size > 0) await Promise.all([...this.busy.values()]);
  }

  /**
   * Judges every served container: decisions are written and logged and faults updated before this returns (so the
   * sweep's snapshot carries them); the actions run in the background (`done`).
   */
  afterSweep(containers: ReadonlyArray<{ site: string; container: string }>, miners: readonly MinerSpec[], healthFaults: (minerId: string) => Fault[]): SweepOutcome {
    const now = this.now();
    let climate: Map<string, ContainerClimate>;
    try {
      climate = this.options.climate?.read() ?? new Map();
    } catch (err) {
      this.options.log.error({ err: (err as Error).message }, 'control: cannot read the climate readings; policies see none');
      climate = new Map();
    }
    const events: FaultEvent[] = [];
    const decisions: PolicyDecision[] = [];
    const runs: Array<Promise<void>> = [];
    const points: string[] = [];
    for (const { site, container } of containers) {
      if (this.busy.has(container)) {
        this.options.log.debug({ container }, `control: ${container} still carrying out its last actions; judged next sweep`);
        continue;
      }
      const states: MinerState[] = [];
      for (const spec of miners) {
        if (spec.location.container !== container) continue;
        const seen = this.observed.get(spec.id);
        if (!seen) continue;
        states.push({ ...seen, faults: healthFaults(spec.id) });
      }
      const ctx = { now, site, container, miners: states, climate: climate.get(container) };
      const planned: Array<{ policy: ControlPolicy; decision: PolicyDecision }> = [];
      for (const policy of this.options.policies) {
        let made: PolicyDecision[];
        try {
          made = policy.evaluate(ctx);
        } catch (err) {
          this.options.log.error({ policy: policy.name, container, err: (err as Error).message }, `control: policy ${policy.name} failed on ${container}; no decision`);
          continue;
        }
        const next: Record<string, Fault> = {};
        for (const d of made) {
          for (const f of d.faults ?? []) next[faultKey(f)] = f;
          points.push(...encodePoints([decisionPoint(site, d, now)]));
          this.logDecision(d);
          decisions.push(d);
          if (d.actions.length > 0) planned.push({ policy, decision: d });
        }
        const group = `${policy.name}|${container}`;
        events.push(...faultTransitions(this.faults.get(group) ?? {}, next, now, this.options.name));
        if (Object.keys(next).length > 0) this.faults.set(group, next);
        else this.faults.delete(group);
      }
      if (planned.length > 0) {
        const run = this.carryOut(container, planned).finally(() => this.busy.delete(container));
        this.busy.set(container, run);
        runs.push(run);
      }
    }
    if (points.length > 0) this.options.sink.write(points);
    if (events.length > 0) this.stateFile?.save({ groups: Object.fromEntries(this.faults) });
    return { events, decisions, done: Promise.all(runs).then(() => undefined) };
  }

  private logDecision(d: PolicyDecision): void {
    const key = `${d.policy}|${d.container}`;
    const repeated = this.lastDecision.get(key) === d.decision && d.actions.length === 0;
    this.lastDecision.set(key, d.decision);
    const fields = { policy: d.policy, container: d.container, decision: d.decision, miners: d.actions.reduce((n, a) => n + a.targets.length, 0), intakeC: d.intakeC };
    const text = `control: ${d.policy} on ${d.container}: ${d.decision}: ${d.reason}`;
    if (d.decision === 'frozen' && !repeated) this.options.log.warn(fields, text);
    else if (repeated) this.options.log.debug(fields, text);
    else this.options.log.info(fields, text);
  }

  /** Runs one container's planned actions through the executor and tells each policy its results. */
  private async carryOut(container: string, planned: ReadonlyArray<{ policy: ControlPolicy; decision: PolicyDecision }>): Promise<void> {
    const byPolicy = new Map<ControlPolicy, ActionResult[]>();
    await Promise.all(
      planned.flatMap(({ policy, decision }) =>
        decision.actions.map(async (a) => {
          try {
            // The sweep has just read these miners: the executor acts on those reads instead of reading again.
            const knownReads = new Map(a.targets.flatMap((t) => {
              const read = this.observed.get(t.id)?.read;
              return read ? [[t.id, read] as const] : [];
            }));
            const results = await this.options.executor.run({ targets: a.targets, action: a.action, actor: { kind: 'policy', name: policy.name }, reason: a.reason, knownReads });
            byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), ...results]);
          } catch (err) {
            this.options.log.error({ policy: policy.name, container, err: (err as Error).message }, `control: carrying out ${policy.name}'s ${a.action.kind} on ${container} failed`);
          }
        }),
      ),
    );
    for (const [policy, results] of byPolicy) {
      try {
        policy.onResults?.(container, results);
      } catch (err) {
        this.options.log.error({ policy: policy.name, container, err: (err as Error).message }, `control: policy ${policy.name} could not take its results`);
      }
    }
  }
}
