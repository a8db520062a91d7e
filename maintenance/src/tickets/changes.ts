/**
 * The audit history of a machine beside its tickets: what the miner exporter recorded (`miner_change`: pool list,
 * devfee switches, firmware, serial, MAC) for every slot the machine stood in, newest first. Read from InfluxDB when
 * the service has its settings; without them a history simply has no changes section.
 */
import { readMinerChanges, type InfluxStore, type MinerChangeRow } from '@flymining/shared';
import type { MachineHistory } from './store';

/** How far back a machine's changes are read (the raw retention keeps 40 days). */
export const CHANGES_SINCE_MS = 40 * 86_400_000;

export interface MachineChange extends MinerChangeRow {
  miner: string;
}

export async function machineChanges(influx: InfluxStore, history: MachineHistory): Promise<MachineChange[]> {
  const miners = [...new Set(history.tickets.map((t) => t.miner))].slice(0, 20);
  const rows = await Promise.all(miners.map(async (miner) => (await readMinerChanges(influx, miner, CHANGES_SINCE_MS)).map((r) => ({ ...r, miner }))));
  return rows.flat().sort((a, b) => b.time - a.time);
}
