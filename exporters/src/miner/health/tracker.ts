import { hostname } from 'node:os';
import type { Fault, FaultEvent, MinerSpec } from '@flymining/shared';
import { evaluateMinerHealth } from './evaluate';
import type { HealthInput, MinerChange, MinerHealthState } from './types';

/** Raised/cleared events between two sets of active faults (keyed by faultKey); a fault kept active emits nothing. */
export function faultTransitions(
  previous: Readonly<Record<string, Fault>>,
  next: Readonly<Record<string, Fault>>,
  at: number,
  source: string,
): FaultEvent[] {
  const events: FaultEvent[] = [];
  for (const [key, fault] of Object.entries(previous)) {
    if (!(key in next)) events.push({ type: 'cleared', fault, at, source });
  }
  for (const [key, fault] of Object.entries(next)) {
    if (!(key in previous)) events.push({ type: 'raised', fault, at, source });
  }
  return events;
}

/** Health state of every miner an exporter scrapes; one `update` per scrape, returning what changed. */
export class HealthTracker {
  private readonly states = new Map<string, MinerHealthState>();

  /** @param source names this exporter instance in the events (e.g. the container name); the host name by default. */
  constructor(private readonly source: string = hostname()) {}

  update(spec: MinerSpec, input: HealthInput, now: number): FaultEvent[] {
    return this.judge(spec, input, now).events;
  }

  /** As update, also returning the pool, firmware and identity changes seen (for the audit history). */
  judge(spec: MinerSpec, input: HealthInput, now: number): { events: FaultEvent[]; changes: MinerChange[] } {
    const previous = this.states.get(spec.id);
    const { state, changes } = evaluateMinerHealth(input, spec, previous, now);
    this.states.set(spec.id, state);
    return { events: faultTransitions(previous?.active ?? {}, state.active, now, this.source), changes };
  }

  /** The miner left the inventory: drop its state and clear whatever it had active. */
  forget(minerId: string, now: number): FaultEvent[] {
    const previous = this.states.get(minerId);
    if (!previous) return [];
    this.states.delete(minerId);
    return faultTransitions(previous.active, {}, now, this.source);
  }

  /** Active faults of one miner, or of all miners when no id is given. */
  activeFaults(minerId?: string): Fault[] {
    if (minerId !== undefined) return Object.values(this.states.get(minerId)?.active ?? {});
    const all: Fault[] = [];
    for (const state of this.states.values()) all.push(...Object.values(state.active));
    return all;
  }

  /** Serializable state of one miner, e.g. to persist across exporter restarts. */
  stateOf(minerId: string): MinerHealthState | undefined {
    return this.states.get(minerId);
  }

  /** Puts back a state saved with `stateOf`; emits nothing (its faults were already announced). */
  restore(minerId: string, state: MinerHealthState): void {
    this.states.set(minerId, state);
  }

  minerIds(): IterableIterator<string> {
    return this.states.keys();
  }
}
