/**
 * A miner's audit history (`miner_change`, written by the miner exporter: pool list, devfee switches, firmware,
 * serial, MAC, unknown devices), read back for `flymining miner changes` and a machine's maintenance history.
 */
import { ident, influxql } from './influx/influxql';
import type { InfluxStore } from './influx/store';

const MAX_CHANGE_ROWS = 1000;

export interface MinerChangeRow {
  time: number;
  kind: string;
  before: string;
  after: string;
  /** container/rack/shelf/slot where it happened. */
  where: string;
}

/** A miner's changes, newest first, within `sinceMs` (at most 1,000 rows). */
export async function readMinerChanges(store: InfluxStore, miner: string, sinceMs: number, kind?: string): Promise<MinerChangeRow[]> {
  const from = new Date(Date.now() - sinceMs);
  const byKind = kind ? influxql` AND ${ident('kind')} = ${kind}` : '';
  const rows = await store.queryRows(
    influxql`SELECT ${ident('before')}, ${ident('after')}, ${ident('kind')}, ${ident('container')}, ${ident('rack')}, ${ident('shelf')}, ${ident('slot')} FROM ${ident('miner_change')} WHERE ${ident('miner')} = ${miner} AND time >= ${from}` +
      byKind +
      ` ORDER BY time DESC LIMIT ${MAX_CHANGE_ROWS}`,
  );
  return rows.map((r) => ({
    time: r.time,
    kind: String(r.kind ?? ''),
    before: String(r.before ?? ''),
    after: String(r.after ?? ''),
    where: [r.container, r.rack, r.shelf, r.slot].map((v) => String(v ?? '-')).join('/'),
  }));
}
