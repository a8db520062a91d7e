/**
 * The edge's control policies (issue 14): recovery, the container temperature loop, curtailment. They run in the
 * miner exporter after each sweep (agent.ts), next to the miners they act on, so they keep working while the LTE
 * uplink is down. A policy only decides; the agent carries its actions out through the write path (ControlExecutor:
 * rate limits, staggering, audit) and records every decision as a `control_decision` point.
 */
import type { Fault, MinerSample, SchemaPoint } from '@flymining/shared';
import type { ActionResult, ControlTarget } from '../miner/control/executor';
import type { ControlCapabilities, MinerAction } from '../miner/control/types';

export const POLICY_NAMES = ['recovery', 'temperature', 'curtailment'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** One miner as the policies see it after a sweep. */
export interface MinerState {
  target: ControlTarget;
  /** The newest sample, when the last scrape succeeded. */
  sample?: MinerSample;
  /** Time of the last successful scrape (undefined: never read since start). */
  lastOkMs?: number;
  /** Since when it has not been hashing (unreachable, or reachable but not hashing), undefined while it hashes. */
  notHashingSinceMs?: number;
  /** What its family can do on its model (undefined: no write path for it, or never read). */
  capabilities?: ControlCapabilities;
  /** Its active faults from the health evaluation. */
  faults: readonly Fault[];
}

/** The climate exporter's newest readings for a container (from the edge state folder, container-climate.json). */
export interface ContainerClimate {
  container: string;
  /** When the climate exporter wrote these. */
  writtenMs: number;
  intakeC?: number;
  intakeAtMs?: number;
  exhaustC?: number;
  exhaustAtMs?: number;
  outsideC?: number;
  outsideAtMs?: number;
  /** Intake air temperature minus its dew point: the condensation margin. */
  dewPointMarginC?: number;
  dewPointAtMs?: number;
  /** Recirculation damper position, 0-100 %, when a damper sensor reports it. */
  damperPercent?: number;
  damperAtMs?: number;
}

export interface PolicyContext {
  now: number;
  site: string;
  container: string;
  miners: readonly MinerState[];
  climate?: ContainerClimate;
}

/** An action a policy wants taken on some miners of the container. */
export interface PolicyAction {
  action: MinerAction;
  targets: readonly ControlTarget[];
  reason: string;
}

/** One decision, acted on or not; becomes a `control_decision` point and a log line. */
export interface PolicyDecision {
  policy: PolicyName;
  container: string;
  /** A short word: hold, step-down, sleep, wake, step-up, reboot, ticket, frozen, curtail, restore, recommend-recirculation… */
  decision: string;
  reason: string;
  actions: readonly PolicyAction[];
  /** Faults the policy raises (a frozen loop pages; a miner past its reboot cap gets a ticket through its fault). */
  faults?: readonly Fault[];
  /** Readings it judged, for Grafana. */
  intakeC?: number;
  bandLowC?: number;
  bandHighC?: number;
  powerW?: number;
  targetW?: number;
}

export interface ControlPolicy {
  readonly name: PolicyName;
  /** Decides for one container. Must not throw on odd input: a decision `frozen` with the reason instead. */
  evaluate(ctx: PolicyContext): PolicyDecision[];
  /** The executor's results for this policy's last actions (to learn what it really changed). */
  onResults?(container: string, results: readonly ActionResult[]): void;
}

/** A decision as its `control_decision` point (docs/schema.md). */
export function decisionPoint(site: string, d: PolicyDecision, time: number): SchemaPoint<'control_decision'> {
  const miners = new Set(d.actions.flatMap((a) => a.targets.map((t) => t.id))).size;
  return {
    measurement: 'control_decision',
    tags: { site, container: d.container, policy: d.policy, decision: d.decision },
    fields: {
      reason: d.reason,
      miners,
      ...(d.intakeC === undefined ? {} : { intake_c: d.intakeC }),
      ...(d.bandLowC === undefined ? {} : { band_low_c: d.bandLowC }),
      ...(d.bandHighC === undefined ? {} : { band_high_c: d.bandHighC }),
      ...(d.powerW === undefined ? {} : { power_w: d.powerW }),
      ...(d.targetW === undefined ? {} : { target_w: d.targetW }),
    },
    time,
  };
}
