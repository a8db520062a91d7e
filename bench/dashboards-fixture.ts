/**
 * The history fixture of bench/dashboards.ts: raw samples for the last `rawDays` and rollups for a year, for a farm
 * laid out by the simulator (generateFarmSpecs: containers, racks, profiles by seed), each miner following the
 * simulator's model (simulator/src/miner.ts: fan duty from intake, chip rise over intake from load and airflow, power
 * and rate from the profile), written as gzip'd line protocol in big batches over keep-alive HTTP, several at once.
 *
 * What is written (issue 17, sized so 5,000 miners can be written on a shared 2-core machine):
 * - every miner is simulated at every sweep of the raw days (and once an hour before them), and each sweep's
 *   `container_sweep` rows are folded from those samples with the exporter's own ContainerSweepTotals: raw for the raw
 *   days, 5-minute rollups for the raw days, 1-hour rollups for the year; `climate_container` likewise;
 * - per-miner raw (`miner`, `miner_up`) for every miner only in the last `minerRawHours` (the 24 h range, the rack
 *   map's window and the per-miner baseline read nothing older);
 * - the first `detailMiners` miners in full: raw for the raw days with boards, fans and pools, both rollup tiers
 *   (the miner-detail dashboard reads one miner at every range);
 * - exporter sweeps and edge heartbeats per sweep, a few faults, control actions and decisions an hour.
 *
 * Rollups are what the continuous queries of shared/src/schema.ts (DOWNSAMPLE_RULES) would write: the same
 * aggregates over the same buckets, computed here while generating (the raw samples of a year do not exist, and
 * SELECT … INTO over 35 days would take longer than the bench). bench/dashboards.ts checks one miner-day of them
 * against InfluxDB's own GROUP BY time over the raw tier.
 */
import http from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { generateFarmSpecs } from '../simulator/src/farm';
import { PROFILES } from '../simulator/src/catalog';
import { deriveSeed, Prng } from '../simulator/src/prng';
import { ContainerSweepTotals } from '../shared/src/container-sweep';
import { DOWNSAMPLE_RULES, RETENTION, type DownsampleRule } from '../shared/src/schema';
import { parseDuration } from '../shared/src/text/duration';

export interface FixtureOptions {
  miners: number;
  /** Seconds between raw samples (a sweep): the exporter sweeps every 30-60 s. */
  rawStepS: number;
  rawDays: number;
  /** Hours (up to the end) in which every miner's raw `miner` and `miner_up` rows are written. */
  minerRawHours: number;
  /** Days of the 1-hour tier (a year); the 5-minute tier covers the raw days, the only ranges that read it. */
  rollupDays: number;
  /** Miners that also get hashboard, fan and pool history (the miner-detail dashboard reads one miner). */
  detailMiners: number;
  seed: number;
  /** End of the history (ms, on a whole hour). */
  endMs: number;
}

export interface FixtureStats {
  lines: number;
  bytes: number;
  seconds: number;
  byPolicy: Record<string, number>;
}

const HOUR_S = 3600;
const DAY_S = 86_400;

type Fields = Record<string, number | string>;
interface SeriesSample {
  t: number;
  fields: Fields;
}

interface MinerInfo {
  id: string;
  container: string;
  seed: number;
  nominalThs: number;
  typicalPowerW: number;
  maxFanRpm: number;
  fans: number;
  boards: number;
  hydro: boolean;
  minerTags: string;
  locationTags: string;
}

/** A number in [0, 1) fixed by (seed, n): outages and curtailment hours repeat for a given seed. */
function hash01(seed: number, n: number): number {
  return deriveSeed(seed, String(n)) / 4294967296;
}

/** Outside air: seasonal swing plus a day's, like the climate model's weather (°C). */
function outsideC(t: number): number {
  const day = t / DAY_S;
  return 12 + 10 * Math.sin((2 * Math.PI * (day - 110)) / 365) + 6 * Math.sin((2 * Math.PI * (day % 1 - 0.375)));
}

/** A container's intake: outside air warmed by recirculation, held in the damper's band. */
function intakeC(containerIndex: number, t: number): number {
  const c = outsideC(t) + 10 + (containerIndex % 5) * 0.7;
  return Math.min(38, Math.max(16, c));
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** One miner's sample at time t, following SimMiner.reading(): fans from intake, chip rise from load and airflow. */
function minerSample(m: MinerInfo, containerIndex: number, t: number, rng: Prng, down: boolean, curtailed: boolean): { up: Fields; miner?: Fields } {
  if (down) return { up: { reachable: 0, hashing: 0 } };
  const intake = intakeC(containerIndex, t) + 0.3 * (rng.next() - 0.5);
  const fanPercent = m.hydro ? 0 : Math.min(100, Math.max(25, 35 + (intake - 10) * 2.2));
  const airflow = m.hydro ? 1 : fanPercent / 100;
  if (curtailed) {
    return {
      up: { reachable: 1, hashing: 0 },
      miner: { hashrate_ths: 0, nominal_ths: m.nominalThs, power_w: 15, temp_max_c: r2(intake + 2), ambient_c: r2(intake), hashing: 0, mode: 'sleeping', ...(m.hydro ? {} : { fan_min_rpm: 0 }) },
    };
  }
  const rate = m.nominalThs * (1 + 0.012 * (rng.next() + rng.next() - 1) * 1.7);
  const power = (m.typicalPowerW + 60) * (1 + 0.01 * (rng.next() - 0.5));
  const rise = 38 * (1.3 - 0.5 * airflow) + 3;
  const board = intake + rise + 0.6 * (rng.next() - 0.5);
  const chip = board + 11 + 0.6 * (rng.next() - 0.5);
  const fanRpm = Math.round(((fanPercent / 100) * m.maxFanRpm) / 60) * 60;
  const miner: Fields = {
    hashrate_ths: r2(rate),
    nominal_ths: m.nominalThs,
    power_w: Math.round(power),
    efficiency_jth: r2(power / rate),
    temp_max_c: r2(chip),
    ambient_c: r2(intake),
    hashing: 1,
    mode: 'hashing',
    ...(m.hydro ? {} : { fan_min_rpm: fanRpm }),
  };
  return { up: { reachable: 1, hashing: 1 }, miner };
}

function boardSamples(m: MinerInfo, sample: Fields | undefined, rng: Prng): Fields[] {
  const out: Fields[] = [];
  for (let b = 0; b < m.boards; b++) {
    const chip = sample ? Number(sample.temp_max_c) - 0.8 * b : 0;
    out.push({
      hashrate_ths: sample ? r2(Number(sample.hashrate_ths) / m.boards) : 0,
      board_temp_c: sample ? r2(chip - 11 + 0.3 * rng.next()) : 0,
      chip_temp_c: sample ? r2(chip) : 0,
    });
  }
  return out;
}

/** Aggregates one bucket of one series the way the rule's continuous query does (mean, max, min, last, sum). */
export function aggregateBucket(rule: DownsampleRule, samples: readonly SeriesSample[]): Fields | undefined {
  const out: Fields = {};
  for (const [field, agg] of Object.entries(rule.aggregates)) {
    let n = 0;
    let acc = 0;
    let last: number | string | undefined;
    for (const s of samples) {
      const v = s.fields[field];
      if (v === undefined) continue;
      last = v;
      if (typeof v !== 'number') continue;
      if (n === 0) acc = agg === 'mean' || agg === 'sum' ? 0 : v;
      n++;
      if (agg === 'mean' || agg === 'sum') acc += v;
      else if (agg === 'max') acc = Math.max(acc, v);
      else if (agg === 'min') acc = Math.min(acc, v);
    }
    if (last === undefined) continue;
    if (agg === 'last') out[field] = last;
    else if (n > 0) out[field] = agg === 'mean' ? acc / n : acc;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Field types of the rolled-up points: a mean of integers is a float; min/max/last/sum keep the raw type. */
function fieldText(field: string, v: number | string, ints: ReadonlySet<string>): string {
  if (typeof v === 'string') return `${field}="${v}"`;
  return ints.has(field) && Number.isInteger(v) ? `${field}=${v}i` : `${field}=${v}`;
}

const RAW_INTS: Record<string, ReadonlySet<string>> = {
  miner: new Set(['fan_min_rpm', 'hashing']),
  miner_up: new Set(['reachable', 'hashing']),
  miner_fan: new Set(['rpm']),
  container_sweep: new Set(['miners', 'reachable', 'hashing']),
};

function line(measurement: string, tags: string, fields: Fields, t: number, ints: ReadonlySet<string>): string {
  let f = '';
  for (const k in fields) f += (f ? ',' : '') + fieldText(k, fields[k] as number | string, ints);
  return `${measurement},${tags} ${f} ${t}`;
}

/** Batches of lines per retention policy, POSTed over one keep-alive agent, at most `parallel` at a time. */
class FixtureWriter {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly buffers = new Map<string, string[]>();
  private readonly inFlight = new Set<Promise<void>>();
  readonly byPolicy: Record<string, number> = {};
  lines = 0;
  bytes = 0;

  constructor(
    private readonly url: string,
    private readonly database: string,
    private readonly batchLines = 20_000,
    private readonly parallel = 4,
  ) {}

  /** Waits only when a batch is full and `parallel` are already in flight. */
  add(rp: string, l: string): Promise<void> | undefined {
    let buf = this.buffers.get(rp);
    if (!buf) this.buffers.set(rp, (buf = []));
    buf.push(l);
    if (buf.length < this.batchLines) return undefined;
    this.buffers.set(rp, []);
    return this.send(rp, buf);
  }

  private async send(rp: string, lines: string[]): Promise<void> {
    while (this.inFlight.size >= this.parallel) await Promise.race(this.inFlight);
    const text = lines.join('\n');
    this.lines += lines.length;
    this.bytes += text.length;
    this.byPolicy[rp] = (this.byPolicy[rp] ?? 0) + lines.length;
    // Compressed in libuv's pool, off this thread: a fifth of the bytes for InfluxDB to read.
    const p = gzipAsync(text, { level: 1 })
      .then((body) => this.post(rp, body))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** A busy InfluxDB answers 500 "timeout" and may still take the batch later: points are idempotent, so resend. */
  private async post(rp: string, body: Buffer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.postOnce(rp, body);
      } catch (err) {
        if (attempt >= 5 || !/HTTP 5\d\d/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  }

  private postOnce(rp: string, body: Buffer): Promise<void> {
    const u = new URL(`/write?db=${encodeURIComponent(this.database)}&rp=${encodeURIComponent(rp)}&precision=s`, this.url);
    return new Promise((resolve, reject) => {
      const req = http.request(u, { method: 'POST', agent: this.agent, headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`fixture write to ${rp}: HTTP ${res.statusCode} ${text.slice(0, 300)}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async close(): Promise<void> {
    for (const [rp, buf] of this.buffers) if (buf.length > 0) await this.send(rp, buf);
    this.buffers.clear();
    await Promise.all(this.inFlight);
    this.agent.destroy();
  }
}

const gzipAsync = promisify(gzip);

const STEP_S = new Map(DOWNSAMPLE_RULES.map((r) => [r, parseDuration(r.interval) / 1000]));
const RULES_BY_MEASUREMENT = new Map<string, DownsampleRule[]>();
for (const r of DOWNSAMPLE_RULES) RULES_BY_MEASUREMENT.set(r.measurement, [...(RULES_BY_MEASUREMENT.get(r.measurement) ?? []), r]);
function rulesFor(measurement: string): readonly DownsampleRule[] {
  return RULES_BY_MEASUREMENT.get(measurement) ?? [];
}

/** Writes raw points of one series for one hour and the rollups of every rule over them. */
async function writeSeriesHour(
  w: FixtureWriter,
  measurement: string,
  tags: string,
  samples: SeriesSample[],
  hourStart: number,
  withRaw: boolean,
  tiersFrom: (rule: DownsampleRule) => boolean,
): Promise<void> {
  const ints = RAW_INTS[measurement] ?? new Set<string>();
  if (withRaw) for (const s of samples) await w.add(RETENTION.raw.name, line(measurement, tags, s.fields, s.t, ints));
  for (const rule of rulesFor(measurement)) {
    if (!tiersFrom(rule)) continue;
    // As the CQ writes them: a mean is a float even when every sample was 1; min, max, last and sum keep the type.
    const rolledInts = new Set([...ints].filter((f) => rule.aggregates[f] !== 'mean'));
    const step = (STEP_S.get(rule) as number);
    const buckets: SeriesSample[][] = Array.from({ length: HOUR_S / step }, () => []);
    for (const s of samples) buckets[Math.floor((s.t - hourStart) / step)]?.push(s);
    for (let k = 0; k < buckets.length; k++) {
      const agg = aggregateBucket(rule, buckets[k] as SeriesSample[]);
      if (agg) await w.add(rule.targetRp, line(measurement, tags, agg, hourStart + k * step, rolledInts));
    }
  }
}

/**
 * Writes the history. The raw days get a sample every rawStepS and both tiers; older days get one sample per hour
 * (standing for the hour's mean) into the 1-hour tier only.
 */
export async function writeFixture(url: string, database: string, o: FixtureOptions, log: (msg: string) => void = () => {}): Promise<FixtureStats> {
  const started = performance.now();
  const specs = generateFarmSpecs({ miners: o.miners, seed: o.seed, site: 'north-1' });
  const containers = [...new Set(specs.map((s) => s.position.container))];
  const miners: MinerInfo[] = specs.map((s) => {
    const p = PROFILES[s.profile];
    const l = s.position;
    const location = `container=${l.container},miner=${s.id},rack=${l.rack},shelf=${l.shelf},site=${l.site},slot=${l.slot}`;
    return {
      id: s.id,
      container: l.container,
      seed: deriveSeed(o.seed, s.id),
      nominalThs: p.nominalThs,
      typicalPowerW: p.typicalPowerW,
      maxFanRpm: p.maxFanRpm,
      fans: p.fans,
      boards: p.boards,
      hydro: p.cooling === 'hydro',
      locationTags: location,
      minerTags: `${location},firmware=${p.firmware},model=${p.model.replace(/[ ,=]/g, '\\$&')},vendor=${p.vendor}`,
    };
  });
  const containerIndex = new Map(containers.map((c, i) => [c, i]));
  const served = containers.map((c) => ({ site: 'north-1', container: c, watched: miners.filter((m) => m.container === c).length }));
  const w = new FixtureWriter(url, database);
  const endS = Math.floor(o.endMs / 1000);
  const rawFrom = endS - o.rawDays * DAY_S;
  const yearFrom = endS - o.rollupDays * DAY_S;
  const rngs = miners.map((m) => new Prng(m.seed));
  const minerRawFrom = endS - o.minerRawHours * HOUR_S;
  const hours = (endS - yearFrom) / HOUR_S;
  const noTiers = () => false;
  for (let h = 0; h < hours; h++) {
    const hourStart = yearFrom + h * HOUR_S;
    const raw = hourStart >= rawFrom;
    const minerRaw = hourStart >= minerRawFrom;
    const step = raw ? o.rawStepS : HOUR_S;
    // Raw hours feed both tiers; older hours only the 1-hour tier (the 5-minute tier is read by ranges ≤ 35 days).
    const tiers = (rule: DownsampleRule) => raw || rule.targetRp !== RETENTION.rollup.name;
    const curtailedContainers = containers.map((_, ci) => hash01(ci + 7919, hourStart / HOUR_S) < 0.01);
    const sweepTimes: number[] = [];
    for (let t = hourStart; t < hourStart + HOUR_S; t += step) sweepTimes.push(t);
    // Each sweep's container rows, folded from that sweep's miner samples as the exporter folds them.
    const sweeps = sweepTimes.map(() => new ContainerSweepTotals());
    for (let i = 0; i < miners.length; i++) {
      const m = miners[i] as MinerInfo;
      const rng = rngs[i] as Prng;
      const ci = containerIndex.get(m.container) as number;
      const detail = i < o.detailMiners;
      const written = detail || minerRaw;
      const ups: SeriesSample[] = [];
      const ms: SeriesSample[] = [];
      const boards: SeriesSample[][] = detail ? Array.from({ length: m.boards }, () => []) : [];
      const fans: SeriesSample[][] = detail ? Array.from({ length: m.fans }, () => []) : [];
      const down = hash01(m.seed, hourStart / HOUR_S) < 0.003;
      const curtailed = curtailedContainers[ci] === true;
      for (let k = 0; k < sweepTimes.length; k++) {
        const t = sweepTimes[k] as number;
        const s = minerSample(m, ci, t, rng, down, curtailed);
        if (s.miner) sweeps[k]?.addAnswered(m.container, s.miner);
        if (!written) continue;
        ups.push({ t, fields: s.up });
        if (s.miner) ms.push({ t, fields: s.miner });
        if (detail && s.miner) {
          boardSamples(m, s.miner, rng).forEach((f, b) => boards[b]?.push({ t, fields: f }));
          for (let f = 0; f < m.fans; f++) fans[f]?.push({ t, fields: { rpm: Number(s.miner.fan_min_rpm ?? 0) + 60 * f } });
        }
      }
      if (!written) continue;
      // Per-miner rollups only for the detail miners: no farm-wide panel reads them (they read container_sweep).
      const minerTiers = detail ? tiers : noTiers;
      await writeSeriesHour(w, 'miner_up', m.locationTags, ups, hourStart, raw, minerTiers);
      await writeSeriesHour(w, 'miner', m.minerTags, ms, hourStart, raw, minerTiers);
      for (let b = 0; b < boards.length; b++) await writeSeriesHour(w, 'miner_board', `board=${b},${m.locationTags}`, boards[b] ?? [], hourStart, raw, tiers);
      for (let f = 0; f < fans.length; f++) await writeSeriesHour(w, 'miner_fan', `fan=${f + 1},${m.locationTags}`, fans[f] ?? [], hourStart, raw, tiers);
      if (detail && raw) {
        for (let p = 0; p < 3; p++) {
          const fields = `url="stratum+tcp://btc.pool.example:${p === 0 ? 3333 : 443}",user="flymining.${m.id}",status="alive",accepted=${h * 40 + p}i,rejected=${h}i,alive=1i,active=${p === 0 ? 1 : 0}i`;
          await w.add(RETENTION.raw.name, `miner_pool,${m.locationTags},pool=${p} ${fields} ${hourStart}`);
        }
      }
    }
    const containerSamples = new Map<string, SeriesSample[]>(containers.map((c) => [c, []]));
    for (let k = 0; k < sweepTimes.length; k++) {
      for (const p of sweeps[k]!.points(served, sweepTimes[k] as number)) {
        const fields: Fields = {};
        for (const [f, v] of Object.entries(p.fields)) if (typeof v === 'number') fields[f] = v;
        containerSamples.get(p.tags.container as string)?.push({ t: p.time, fields });
      }
    }
    for (let ci = 0; ci < containers.length; ci++) {
      const container = containers[ci] as string;
      await writeSeriesHour(w, 'container_sweep', `container=${container},site=north-1`, containerSamples.get(container) ?? [], hourStart, raw, tiers);
      const samples: SeriesSample[] = [];
      for (const t of sweepTimes) {
        const intake = r2(intakeC(ci, t));
        samples.push({ t, fields: { intake_c: intake, exhaust_c: r2(intake + 14), condensation_margin_c: r2(intake - outsideC(t) + 6) } });
      }
      await writeSeriesHour(w, 'climate_container', `container=${container},site=north-1`, samples, hourStart, raw, tiers);
    }
    if (raw) {
      for (let t = hourStart; t < hourStart + HOUR_S; t += o.rawStepS) {
        await w.add(RETENTION.raw.name, `exporter,exporter=miner,site=north-1 sweep_ms=${4000 + (t % 997)},miners=${o.miners}i ${t}`);
        for (const c of containers) {
          await w.add(RETENTION.raw.name, `edge_heartbeat,container=${c},edge=edge-${c},site=north-1,source=miner seq=${t}i,interval_ms=${o.rawStepS * 1000}i,clock_offset_ms=3i ${t}`);
        }
      }
      // Faults, control actions and decisions: a few an hour across the farm, as a busy farm has them.
      const rng = new Prng(deriveSeed(o.seed, `events-${h}`));
      for (let k = 0; k < 6; k++) {
        const m = miners[rng.int(0, miners.length - 1)] as MinerInfo;
        const t = hourStart + rng.int(0, HOUR_S - 1);
        await w.add(RETENTION.raw.name, `fault,${m.locationTags},code=HASHRATE_LOW,part=miner,severity=warning active=${k % 2}i,message="hashrate low on ${m.id}",since_ms=${t * 1000}i ${t}`);
        await w.add(RETENTION.raw.name, `control_action,${m.locationTags},action=reboot,actor_kind=policy,outcome=confirmed actor="recovery",detail="reboot",reply="ok",reason="hashrate low",duration_ms=1200,confirm_ms=64000 ${t}`);
        await w.add(RETENTION.raw.name, `control_decision,container=${m.container},decision=hold,policy=temperature,site=north-1 reason="in band",miners=0i,intake_c=${r2(intakeC(0, t))},band_low_c=20,band_high_c=30 ${t}`);
      }
    }
    if (h % 24 === 0) log(`fixture: ${h}/${hours} hours, ${w.lines} lines, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await w.close();
  return { lines: w.lines, bytes: w.bytes, seconds: (performance.now() - started) / 1000, byPolicy: w.byPolicy };
}
