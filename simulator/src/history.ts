/**
 * Weeks of a simulated farm's past, computed in seconds rather than lived: every miner of the farm (the same specs,
 * hence the same tags, as the live simulator) is read through the simulator's own model (SimMiner) at a fixed step,
 * and each look becomes the points an exporter's scrape would have written: `miner` (hashrate_ths, nominal_ths, …)
 * when it answered and `miner_up` (reachable, hashing) for every attempt, as docs/schema.md says. Billing's daily
 * run reads the same two measurements (billing/src/hashrate.ts).
 *
 * Deterministic per calendar day: each day starts from miners seeded with (seed, day), and the outages follow the
 * calendar (demoOutages), so a day written twice, by two demo starts a day apart, reads the same both times.
 */
import { encodePoints, type InfluxStore, type SchemaPoint } from '@flymining/shared';
import { PROFILES } from './catalog';
import { SimMiner, simWorker, type IntakeSource, type SimMinerSpec } from './miner';
import { Prng, deriveSeed } from './prng';

const DAY_MS = 86_400_000;
/** The field and time of the point whose encoding gives a series key (encodePoints writes integers with an `i`). */
const SERIES_PROBE = ' hashing=0i 0';
const HOUR_MS = 3_600_000;

/** Something that kept miners from hashing on one day: the reason a day delivered less. */
export interface Outage {
  day: string;
  /** 'power': the miners lost power (unreachable, then boot); 'no-work': they answered but had no pool work. */
  kind: 'power' | 'no-work';
  miners: readonly string[];
  fromHour: number;
  hours: number;
  /** What happened, in words (logs, docs, the test). */
  what: string;
}

export interface HistoryOptions {
  specs: readonly SimMinerSpec[];
  seed: number;
  /** UTC days to compute, oldest first (YYYY-MM-DD). */
  days: readonly string[];
  /** Nothing at or after this time is computed (the live exporters take over from here). */
  untilMs: number;
  /** Time between two looks at a miner (the demo sweeps every 10 s; 20 min keeps weeks small: InfluxDB ingest is the cost). */
  stepMs: number;
  outages: readonly Outage[];
}

/** Per day, each pool worker's hashrate (TH/s) as the miners delivered it: what the pool saw. */
export type DeliveredByDay = Map<string, Map<string, number>>;

const dayNumber = (day: string): number => Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);

/** The UTC days from `count` days before `today` up to and including today. */
export function historyDays(today: string, count: number): string[] {
  const first = Date.parse(`${today}T00:00:00Z`) - count * DAY_MS;
  return Array.from({ length: count + 1 }, (_, i) => new Date(first + i * DAY_MS).toISOString().slice(0, 10));
}

/**
 * The demo's outages, by the calendar: every tenth day one container loses power for 14 hours (06:00 to 20:00
 * UTC), and every twentieth day, five days after one of those, a third of another container's miners lose their
 * pool for 20 hours. So three weeks always hold two power cuts and one or two days without pool work, whatever day
 * the demo starts.
 */
export function demoOutages(specs: readonly SimMinerSpec[], days: readonly string[]): Outage[] {
  const containers = [...new Set(specs.map((s) => s.position.container))].sort();
  if (containers.length === 0) return [];
  const out: Outage[] = [];
  for (const day of days) {
    const n = dayNumber(day);
    const round = Math.floor(n / 10);
    if (n % 10 === 3) {
      const container = containers[round % containers.length]!;
      out.push({ day, kind: 'power', miners: specs.filter((s) => s.position.container === container).map((s) => s.id), fromHour: 6, hours: 14, what: `container ${container} lost power from 06:00 to 20:00 UTC` });
    } else if (n % 20 === 8) {
      const container = containers[(round + 1) % containers.length]!;
      const inside = specs.filter((s) => s.position.container === container);
      const miners = inside.slice(0, Math.max(1, Math.round(inside.length / 3))).map((s) => s.id);
      out.push({ day, kind: 'no-work', miners, fromHour: 2, hours: 20, what: `${miners.length} miners of container ${container} had no pool work from 02:00 to 22:00 UTC` });
    }
  }
  return out;
}

/** Intake air through the day: 14 °C before dawn, 28 °C mid-afternoon. */
const DIURNAL_INTAKE: IntakeSource = { intakeC: (ms) => 21 - 7 * Math.cos((2 * Math.PI * ((ms % DAY_MS) / HOUR_MS - 3)) / 24) };

/**
 * Computes the history step by step and hands each step's line-protocol lines to `sink`, waiting for it (the caller batches and
 * writes them, and makes the computation wait while a write is in flight).
 * Returns what each miner delivered per day (mean hashrate over every look, unanswered ones counting 0).
 */
export async function computeHistory(o: HistoryOptions, sink: (lines: string[]) => void | Promise<void>): Promise<DeliveredByDay> {
  const delivered: DeliveredByDay = new Map();
  const outagesByDay = new Map<string, Outage[]>();
  for (const outage of o.outages) outagesByDay.set(outage.day, [...(outagesByDay.get(outage.day) ?? []), outage]);
  for (const day of o.days) {
    const start = Date.parse(`${day}T00:00:00Z`);
    if (start >= o.untilMs) break;
    const end = Math.min(start + DAY_MS, o.untilMs);
    let now = start;
    const clock = () => now;
    const daySeed = deriveSeed(o.seed, day);
    const rng = new Prng(daySeed);
    const miners = o.specs.map((spec) => new SimMiner(spec, daySeed, clock, DIURNAL_INTAKE));
    // Small events of any day: now and then a miner reboots by itself (down 2 minutes, 3 minutes warming up).
    const reboots = new Map<string, number>();
    for (const m of miners) if (rng.chance(0.04)) reboots.set(m.id, start + Math.floor(rng.next() * DAY_MS));
    const events: Array<{ atMs: number; apply: () => void }> = [];
    for (const outage of outagesByDay.get(day) ?? []) {
      const from = start + outage.fromHour * HOUR_MS;
      const to = from + outage.hours * HOUR_MS;
      const affected = miners.filter((m) => outage.miners.includes(m.id));
      const fault = outage.kind === 'power' ? 'offline' : 'poolsDead';
      events.push({ atMs: from, apply: () => affected.forEach((m) => m.applyFault({ fault, on: true })) });
      events.push({
        atMs: to,
        apply: () =>
          affected.forEach((m) => {
            m.applyFault({ fault, on: false });
            // Power back: each unit boots (its API answers after a minute) and warms up before it hashes.
            if (outage.kind === 'power') m.applyFault({ fault: 'reboot', downSeconds: 60, warmupSeconds: 240 });
          }),
      });
    }
    for (const [id, atMs] of reboots) {
      const m = miners.find((x) => x.id === id)!;
      events.push({ atMs, apply: () => m.applyFault({ fault: 'reboot', downSeconds: 120, warmupSeconds: 180 }) });
    }
    events.sort((a, b) => a.atMs - b.atMs);
    const sums = new Float64Array(miners.length);
    let looks = 0;
    // Each miner's two series keys, escaped once by the schema's encoder; a look then only appends fields and time.
    const prefixes = miners.map((m) => {
      const p = m.spec.position;
      const profile = PROFILES[m.spec.profile];
      const loc = { site: p.site, container: p.container, rack: p.rack, shelf: p.shelf, slot: p.slot, miner: m.id };
      const key = (point: SchemaPoint): string => encodePoints([point])[0]!.slice(0, -SERIES_PROBE.length);
      return {
        miner: key({ measurement: 'miner', tags: { ...loc, vendor: profile.vendor, firmware: profile.firmware, model: profile.model }, fields: { hashing: 0 }, time: 0 }),
        up: key({ measurement: 'miner_up', tags: loc, fields: { hashing: 0 }, time: 0 }),
        nominal: profile.nominalThs,
      };
    });
    for (; now < end; now += o.stepMs) {
      while (events.length > 0 && events[0]!.atMs <= now) events.shift()!.apply();
      const lines: string[] = [];
      for (let i = 0; i < miners.length; i++) {
        const m = miners[i]!;
        const key = prefixes[i]!;
        // Each miner's scrape lands a little after the step, as sweeps spread over their interval.
        const t = now + ((i * 37) % Math.min(o.stepMs, 10_000));
        if (!m.isReachable(now)) {
          lines.push(`${key.up} reachable=0i,hashing=0i,failure="timeout" ${t}`);
          continue;
        }
        const r = m.read(now);
        const hashing = r.mode === 'hashing' ? 1 : 0;
        const ths = Math.round(r.rateGhs) / 1000;
        sums[i] = (sums[i] ?? 0) + ths;
        const mode = r.mode === 'hashing' || r.mode === 'sleeping' || r.mode === 'booting' ? r.mode : 'idle';
        lines.push(
          `${key.miner} hashrate_ths=${ths},nominal_ths=${key.nominal},power_w=${Math.round(r.powerW)},mode="${mode}",hashing=${hashing}i ${t}`,
          `${key.up} reachable=1i,hashing=${hashing}i ${t}`,
        );
      }
      looks += 1;
      await sink(lines);
    }
    // Only closed days go to the pool: it pays a day once the day is over.
    if (end === start + DAY_MS) {
      delivered.set(day, new Map(miners.map((m, i) => [simWorker(m.id), (sums[i] ?? 0) / looks])));
    }
  }
  return delivered;
}


/**
 * Computes and writes the history through `store` in batches of `batchLines`, one batch in flight while the next is
 * computed (memory stays at two batches; both cores stay busy). Throws when InfluxDB refused points.
 */
export async function writeHistory(store: InfluxStore, o: HistoryOptions, batchLines = 20_000): Promise<{ points: number; delivered: DeliveredByDay }> {
  let points = 0;
  let pending: string[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  const delivered = await computeHistory(o, async (lines) => {
    points += lines.length;
    for (const line of lines) pending.push(line);
    if (pending.length >= batchLines) {
      await inFlight;
      store.write(pending);
      pending = [];
      inFlight = store.flush();
    }
  });
  await inFlight;
  store.write(pending);
  await store.flush();
  const stats = store.stats();
  const lost = stats.failed + stats.dropped + stats.spooled;
  if (lost > 0) throw new Error(`InfluxDB did not take ${lost} of ${points} points: ${stats.lastError?.message ?? 'no reason given'}`);
  return { points, delivered };
}
