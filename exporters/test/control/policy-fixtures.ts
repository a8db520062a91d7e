/** Hand-made miners and contexts for the policy tests: what the agent would hand a policy after a sweep. */
import type { MinerMode, MinerSample } from '@flymining/shared';
import type { MinerState, PolicyContext } from '../../src/control/types';
import type { ControlTarget } from '../../src/miner/control/executor';
import type { ControlCapabilities } from '../../src/miner/control/types';

export const FULL_CAPS: ControlCapabilities = { reboot: true, sleep: true, pools: { maxSlots: 3, canSwitch: true }, blink: true, needsCredentials: false };

export function target(id: string, container = 'C01', extra: Partial<ControlTarget> = {}): ControlTarget {
  const [, rack = 'R01', shelf = 'S1', slot = '1'] = /^C\d+-(R\d+)-(S\d+)-(\d+)$/.exec(id) ?? [];
  return { id, site: 'test', container, rack, shelf, slot, host: '127.0.0.1', port: 4028, ...extra };
}

export function sample(mode: MinerMode, extra: Partial<MinerSample> = {}): MinerSample {
  return { time: 0, vendor: 'antminer', firmware: 'antminer-stock', model: 'Antminer S19', mode, boards: [], fans: [], pools: [], errors: [], ...extra };
}

export interface MinerOptions {
  mode?: MinerMode;
  /** false: the last scrape failed (no sample). */
  reachable?: boolean;
  notHashingSinceMs?: number;
  capabilities?: ControlCapabilities | null;
  sample?: Partial<MinerSample>;
  target?: Partial<ControlTarget>;
}

export function miner(id: string, o: MinerOptions = {}): MinerState {
  const reachable = o.reachable ?? true;
  return {
    target: target(id, o.target?.container ?? 'C01', o.target),
    sample: reachable ? sample(o.mode ?? 'hashing', o.sample) : undefined,
    notHashingSinceMs: o.notHashingSinceMs,
    capabilities: o.capabilities === null ? undefined : (o.capabilities ?? FULL_CAPS),
    faults: [],
  };
}

export function context(now: number, miners: readonly MinerState[], container = 'C01'): PolicyContext {
  return { now, site: 'test', container, miners };
}

export const MINUTE = 60_000;
export const HOUR = 3600_000;
