/** Firing alerts as alerting hands them to syncTickets, for tests. */
import { machineRef, type ActiveAlert } from '../src';

export function firing(miner: string, fault: string, part: string, firedAt: number, extra: Partial<ActiveAlert> = {}): ActiveAlert {
  const [container = '', rack = '', shelf = '', slot = ''] = miner.split('-');
  return {
    fingerprint: `${miner}|${fault}|${part}`,
    fault,
    severity: 'critical',
    miner,
    site: 'north-1',
    container,
    rack,
    shelf,
    slot,
    part,
    firedAt,
    groupKey: `route:container="${container}"`,
    pages: true,
    machine: machineRef(miner),
    nominalThs: 100,
    ...extra,
  };
}

export const at = (iso: string): number => Date.parse(iso);
