/**
 * Curtailed miner-hours of one UTC day, per container, from the control audit (`control_action`, docs/schema.md):
 * what billing needs to credit investors for hours the farm chose not to hash (docs/control.md, "Curtailment and
 * investors").
 *
 * A miner is curtailed from a sleep the curtailment policy sent (outcome confirmed, sent or unconfirmed: the write
 * reached it) until the next wake or reboot by anyone, or a sleep by someone else (then it is asleep for their reason,
 * not curtailment's). A sleep before midnight counts from midnight: the state at the start of the day is the newest
 * such action in the 40 days before (the raw retention). Each curtailed miner is valued at its own mean hashrate while
 * it hashed that day (its nominal hashrate when it did not hash at all that day), so `withheldThs` is the TH/s,
 * averaged over the day like billing's delivered hashrate, that curtailment kept from being delivered.
 */
import { ident, influxql, regexLiteral, raw } from './influx/influxql';
import type { InfluxStore } from './influx/store';

const DAY_MS = 86_400_000;
const LOOKBACK_MS = 40 * DAY_MS;
/** Outcomes whose write reached the miner (the audit's own list of writes). */
const REACHED = '^(confirmed|sent|unconfirmed)$';
const STATE_ACTIONS = '^(sleep|wake|reboot)$';
export const CURTAILMENT_ACTOR = 'curtailment';

export interface CurtailedMiner {
  miner: string;
  hours: number;
  /** TH/s credited per curtailed hour (its hashing mean of the day, else its nominal; 0 when neither is known). */
  rateThs: number;
  /** Where rateThs comes from. */
  rateFrom: 'hashing' | 'nominal' | 'unknown';
}

export interface CurtailedContainer {
  container: string;
  /** Miners curtailed for some of the day. */
  miners: number;
  minerHours: number;
  /** Σ hours × rate / 24: add to the container's delivered TH/s to credit the hours as if hashed. */
  withheldThs: number;
  detail: CurtailedMiner[];
}

export interface CurtailedDay {
  day: string;
  containers: CurtailedContainer[];
  minerHours: number;
  withheldThs: number;
}

interface StateEvent {
  time: number;
  curtails: boolean;
}

function eventOf(row: Record<string, unknown> & { time: number }): StateEvent {
  return { time: row.time, curtails: row.action === 'sleep' && row.actor === CURTAILMENT_ACTOR };
}

/** The curtailed hours of `day` (YYYY-MM-DD, UTC), per container; a day not yet over counts up to `now`. */
export async function readCurtailedHours(store: InfluxStore, day: string, options: { site?: string; now?: number } = {}): Promise<CurtailedDay> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new RangeError(`day "${day}": expected YYYY-MM-DD`);
  const start = Date.parse(`${day}T00:00:00Z`);
  const end = Math.min(start + DAY_MS, options.now ?? Date.now());
  const site = options.site === undefined ? raw('') : raw(influxql` AND ${ident('site')} = ${options.site}`);
  const writes = raw(influxql`${ident('outcome')} =~ ${raw(regexLiteral(REACHED))} AND ${ident('action')} =~ ${raw(regexLiteral(STATE_ACTIONS))}`);

  const [before, during, hashing, nominal] = await Promise.all([
    // The newest state-changing write per miner and action before the day: whichever is newest says how it started.
    store.queryRows(
      influxql`SELECT last(${ident('actor')}) AS ${ident('actor')} FROM ${ident('control_action')} WHERE ${writes}${site} AND time >= ${new Date(start - LOOKBACK_MS)} AND time < ${new Date(start)} GROUP BY ${ident('container')}, ${ident('miner')}, ${ident('action')}`,
    ),
    store.queryRows(
      influxql`SELECT ${ident('actor')}, ${ident('action')}, ${ident('container')}, ${ident('miner')} FROM ${ident('control_action')} WHERE ${writes}${site} AND time >= ${new Date(start)} AND time < ${new Date(end)} ORDER BY time ASC`,
    ),
    store.queryRows(
      influxql`SELECT mean(${ident('hashrate_ths')}) AS ${ident('rate')} FROM ${ident('miner')} WHERE ${ident('hashrate_ths')} > 0${site} AND time >= ${new Date(start)} AND time < ${new Date(start + DAY_MS)} GROUP BY ${ident('container')}, ${ident('miner')}`,
    ),
    store.queryRows(
      influxql`SELECT mean(${ident('nominal_ths')}) AS ${ident('rate')} FROM ${ident('miner')} WHERE time >= ${new Date(start)} AND time < ${new Date(start + DAY_MS)}${site} GROUP BY ${ident('container')}, ${ident('miner')}`,
    ),
  ]);

  const key = (row: Record<string, unknown>): string => `${String(row.container ?? '')}\u0000${String(row.miner ?? '')}`;
  const startState = new Map<string, StateEvent>();
  for (const row of before) {
    const e = eventOf(row);
    const known = startState.get(key(row));
    if (!known || e.time > known.time) startState.set(key(row), e);
  }
  const events = new Map<string, StateEvent[]>();
  for (const row of during) events.set(key(row), [...(events.get(key(row)) ?? []), eventOf(row)]);
  const rates = new Map<string, number>();
  for (const row of hashing) if (typeof row.rate === 'number') rates.set(key(row), row.rate);
  const nominals = new Map<string, number>();
  for (const row of nominal) if (typeof row.rate === 'number') nominals.set(key(row), row.rate);

  const byContainer = new Map<string, CurtailedContainer>();
  for (const k of new Set([...startState.keys(), ...events.keys()])) {
    let since = startState.get(k)?.curtails ? start : undefined;
    let ms = 0;
    for (const e of events.get(k) ?? []) {
      if (e.curtails) since ??= e.time; // a second curtailment sleep keeps the first start
      else if (since !== undefined) {
        ms += e.time - since;
        since = undefined;
      }
    }
    if (since !== undefined) ms += end - since;
    if (ms <= 0) continue;
    const [container = '', miner = ''] = k.split('\u0000');
    const hashingRate = rates.get(k);
    const nominalRate = nominals.get(k);
    const rateThs = hashingRate ?? nominalRate ?? 0;
    const entry: CurtailedMiner = { miner, hours: ms / 3_600_000, rateThs, rateFrom: hashingRate !== undefined ? 'hashing' : nominalRate !== undefined ? 'nominal' : 'unknown' };
    const c = byContainer.get(container) ?? { container, miners: 0, minerHours: 0, withheldThs: 0, detail: [] };
    c.miners += 1;
    c.minerHours += entry.hours;
    c.withheldThs += (entry.hours * rateThs) / 24;
    c.detail.push(entry);
    byContainer.set(container, c);
  }
  const containers = [...byContainer.values()].sort((a, b) => a.container.localeCompare(b.container));
  for (const c of containers) c.detail.sort((a, b) => a.miner.localeCompare(b.miner));
  return {
    day,
    containers,
    minerHours: containers.reduce((s, c) => s + c.minerHours, 0),
    withheldThs: containers.reduce((s, c) => s + c.withheldThs, 0),
  };
}
