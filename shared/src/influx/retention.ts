/**
 * Database, retention policies and downsampling (InfluxDB 1.x continuous queries; the equivalent InfluxDB 2.x
 * task is described in docs/influx-storage.md).
 *
 * raw: full-resolution points, kept at least 35 days because billing reruns a month after its end.
 * rollup: downsampled points, kept long (400 days by default, or INF).
 * Further policies (`tiers`) hold coarser rollups, e.g. 1-hour means kept for years; a tier table tells dashboards
 * which policy to read for a time range (see TierTableSpec).
 */
import { durationLiteral, ident, influxql, quoteIdentifier, raw } from './influxql';
import { formatLine } from './lineProtocol';
import type { InfluxStore } from './store';
import { parseDuration } from '../text/duration';

export type Aggregation = 'mean' | 'max' | 'min' | 'last' | 'sum';
export const aggregations: readonly Aggregation[] = ['mean', 'max', 'min', 'last', 'sum'];

export interface DownsampleSpec {
  measurement: string;
  /** Field → aggregation(s); the rolled-up field is named `<aggregation>_<field>`, e.g. mean_hashrate_ths. */
  fields: Readonly<Record<string, Aggregation | readonly Aggregation[]>>;
  /** Bucket width as an InfluxQL duration, e.g. '5m' (at least 1s). */
  interval: string;
  /** Default: the raw policy of the RetentionSpec. */
  sourceRp?: string;
  /** Default: the rollup policy of the RetentionSpec. */
  targetRp?: string;
  /** Default: the same measurement name in the target policy. */
  targetMeasurement?: string;
  /**
   * Name each rolled-up field as its source (`hashrate_ths`, not `mean_hashrate_ths`), so one query reads any tier
   * with only the policy changed. Needs exactly one aggregation per field.
   */
  keepFieldNames?: boolean;
}

/** A non-default retention policy for a coarser tier of rollups. */
export interface PolicySpec {
  name: string;
  duration: string;
}

/**
 * Rows telling a dashboard which policy answers a time range: one point per tier at time 0 in `policy` (INF), with
 * the string field `rp` and the span (ms) it serves, `min_span_ms` < span <= `max_span_ms`. A Grafana query
 * variable refreshed on time-range change reads it:
 * SELECT "rp" FROM "<policy>"."<measurement>" WHERE "min_span_ms" < $__to - $__from AND "max_span_ms" >= $__to - $__from
 */
export interface TierTableSpec {
  policy: string;
  measurement: string;
  /** Ordered by span: the last tier takes every longer range. */
  tiers: ReadonlyArray<{ rp: string; maxSpanMs: number }>;
}

export interface RetentionSpec {
  /** Default: the store's database. */
  database?: string;
  raw?: { name?: string; duration?: string };
  rollup?: { name?: string; duration?: string };
  /** Further non-default policies (coarser tiers) a downsample may target. */
  tiers?: readonly PolicySpec[];
  downsamples?: readonly DownsampleSpec[];
  tierTable?: TierTableSpec;
}

const DAY_MS = 86_400_000;
/** Billing reruns a month after its end: raw data must outlive that. */
export const MIN_RAW_RETENTION_MS = 35 * DAY_MS;
const TIER_INT_FIELDS = new Set(['min_span_ms', 'max_span_ms']);
/** Names of the continuous queries this module owns; others on the database are left alone. */
const CQ_PREFIX = 'fm_';

/** A retention or bucket duration ('40d', '12h', 'INF') in ms; Infinity for INF. */
function durationMs(text: string, what: string): number {
  return parseDuration(text, { infinite: true, what });
}

function resolved(spec: RetentionSpec, store: InfluxStore) {
  const database = spec.database ?? store.config.database;
  const rawRp = { name: spec.raw?.name ?? store.config.retentionPolicy, duration: spec.raw?.duration ?? '40d' };
  const rollupRp = { name: spec.rollup?.name ?? 'rollup', duration: spec.rollup?.duration ?? '400d' };
  const rawMs = durationMs(rawRp.duration, `retention policy ${rawRp.name}`);
  if (rawMs < MIN_RAW_RETENTION_MS) {
    throw new Error(
      `retention policy ${rawRp.name}: ${rawRp.duration} is below 35d; billing reruns need raw data for 35 days`,
    );
  }
  durationMs(rollupRp.duration, `retention policy ${rollupRp.name}`);
  const tiers = (spec.tiers ?? []).map((t) => ({ name: t.name, duration: t.duration }));
  for (const t of tiers) durationMs(t.duration, `retention policy ${t.name}`);
  const known = new Set([rawRp.name, rollupRp.name, ...tiers.map((t) => t.name), ...(spec.tierTable ? [spec.tierTable.policy] : [])]);
  const downsamples = (spec.downsamples ?? []).map((d) => resolveDownsample(d, rawRp.name, rollupRp.name));
  for (const d of downsamples) {
    if (!known.has(d.targetRp)) throw new Error(`downsample of ${d.measurement}: target policy "${d.targetRp}" is not raw, rollup or a tier`);
  }
  return { database, rawRp, rollupRp, tiers, downsamples, tierTable: spec.tierTable };
}

/** A downsample spec with defaults filled in and checked. */
interface ResolvedDownsample {
  name: string;
  measurement: string;
  targetMeasurement: string;
  fields: Array<[field: string, aggregation: Aggregation]>;
  keepFieldNames: boolean;
  intervalMs: number;
  sourceRp: string;
  targetRp: string;
}

function resolveDownsample(d: DownsampleSpec, rawName: string, rollupName: string): ResolvedDownsample {
  const where = `downsample of ${d.measurement}`;
  const intervalMs = durationMs(d.interval, `${where}: interval`);
  if (!Number.isFinite(intervalMs) || intervalMs < 1000) throw new Error(`${where}: interval must be at least 1s`);
  const fields = Object.entries(d.fields).flatMap(([field, aggs]) =>
    (typeof aggs === 'string' ? [aggs] : aggs).map((a): [string, Aggregation] => [field, a]),
  );
  if (fields.length === 0) throw new Error(`${where}: no fields to aggregate`);
  for (const [field, a] of fields) {
    if (!aggregations.includes(a)) throw new Error(`${where}: unknown aggregation "${a}" for field ${field}`);
  }
  if (d.keepFieldNames && new Set(fields.map(([f]) => f)).size !== fields.length) {
    throw new Error(`${where}: keepFieldNames needs one aggregation per field`);
  }
  const sourceRp = d.sourceRp ?? rawName;
  const targetRp = d.targetRp ?? rollupName;
  const safe = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '_');
  return {
    name: `${CQ_PREFIX}${safe(d.measurement)}_${safe(sourceRp)}_${safe(targetRp)}_${d.interval}`,
    measurement: d.measurement,
    targetMeasurement: d.targetMeasurement ?? d.measurement,
    fields,
    keepFieldNames: d.keepFieldNames === true,
    intervalMs,
    sourceRp,
    targetRp,
  };
}

/** The SELECT … INTO … GROUP BY time(..), * statement shared by the CQ and by downsample(). */
function selectInto(database: string, d: ResolvedDownsample, where: string): string {
  const projections = d.fields.map(([field, a]) => `${a}(${quoteIdentifier(field)}) AS ${quoteIdentifier(d.keepFieldNames ? field : `${a}_${field}`)}`);
  const target = `${quoteIdentifier(database)}.${quoteIdentifier(d.targetRp)}.${quoteIdentifier(d.targetMeasurement)}`;
  const source = `${quoteIdentifier(database)}.${quoteIdentifier(d.sourceRp)}.${quoteIdentifier(d.measurement)}`;
  return `SELECT ${projections.join(', ')} INTO ${target} FROM ${source}${where} GROUP BY time(${durationLiteral(d.intervalMs)}), *`;
}

export interface EnsureDatabaseResult {
  database: string;
  statements: string[];
}

/**
 * Creates the database, the raw (DEFAULT) and rollup retention policies (altering durations that differ) and one
 * continuous query per downsample spec. Idempotent: run it at every start.
 */
export async function ensureDatabase(store: InfluxStore, spec: RetentionSpec = {}): Promise<EnsureDatabaseResult> {
  const { database, rawRp, rollupRp, tiers, downsamples, tierTable } = resolved(spec, store);
  const statements: string[] = [];
  const run = async (q: string) => {
    statements.push(q);
    await store.query(q);
  };
  await run(influxql`CREATE DATABASE ${ident(database)}`);

  const existing = await store.query(influxql`SHOW RETENTION POLICIES ON ${ident(database)}`);
  const existingNames = new Set(existing.flatMap((s) => s.rows.map((r) => String(r.name))));
  const policies: Array<readonly [{ name: string; duration: string }, boolean]> = [
    [rawRp, true],
    [rollupRp, false],
    ...tiers.map((t) => [t, false] as const),
    ...(tierTable ? [[{ name: tierTable.policy, duration: 'INF' }, false] as const] : []),
  ];
  for (const [rp, isDefault] of policies) {
    const verb = existingNames.has(rp.name) ? 'ALTER' : 'CREATE';
    // Written from the parsed value: InfluxQL takes neither decimals nor weeks, which the config may use.
    const ms = durationMs(rp.duration, `retention policy ${rp.name}`);
    const duration = Number.isFinite(ms) ? durationLiteral(ms) : 'INF';
    await run(
      influxql`${raw(verb)} RETENTION POLICY ${ident(rp.name)} ON ${ident(database)} DURATION ${raw(duration)} REPLICATION 1${raw(isDefault ? ' DEFAULT' : '')}`,
    );
  }

  const wanted = new Map(downsamples.map((d) => [d.name, d]));
  const cqs = await store.query('SHOW CONTINUOUS QUERIES');
  const ours = cqs
    .filter((s) => s.name === database)
    .flatMap((s) => s.rows.map((r) => String(r.name)))
    .filter((name) => name.startsWith(CQ_PREFIX));
  for (const name of ours) {
    if (!wanted.has(name)) await run(influxql`DROP CONTINUOUS QUERY ${ident(name)} ON ${ident(database)}`);
  }
  for (const [name, d] of wanted) {
    // Re-created each time so a changed spec takes effect; DROP of a missing CQ is not an error on 1.x.
    await run(influxql`DROP CONTINUOUS QUERY ${ident(name)} ON ${ident(database)}`);
    await run(
      `CREATE CONTINUOUS QUERY ${quoteIdentifier(name)} ON ${quoteIdentifier(database)} BEGIN ${selectInto(database, d, '')} END`,
    );
  }
  if (tierTable) await writeTierTable(store, database, tierTable);
  return { database, statements };
}

/** The tier table's points (time 0, INF policy: never expire); rewritten at every start, so a changed table takes effect. */
async function writeTierTable(store: InfluxStore, database: string, table: TierTableSpec): Promise<void> {
  // Same tier numbers, same time: rewriting overwrites. A table shortened later leaves its old last rows (DROP SERIES
  // FROM the measurement by hand), never the other way round.
  let from = 0;
  const lines = table.tiers.map((t, i) => {
    const to = Number.isFinite(t.maxSpanMs) && i < table.tiers.length - 1 ? t.maxSpanMs : Number.MAX_SAFE_INTEGER;
    const line = formatLine(table.measurement, { tier: String(i + 1) }, { rp: t.rp, min_span_ms: from, max_span_ms: to }, 0, { integerFields: TIER_INT_FIELDS });
    from = to;
    return line as string;
  });
  await store.writeNow(lines, { database, retentionPolicy: table.policy });
}

/**
 * Runs the downsampling of [fromMs, toMs) now, bucket-aligned (from rounded down, to rounded up), writing the same
 * points the continuous queries write. Re-running over a range overwrites with identical points. Returns the
 * number of points written per spec, in spec order.
 */
export async function downsample(
  store: InfluxStore,
  spec: RetentionSpec,
  fromMs: number,
  toMs: number,
): Promise<number[]> {
  const { database, downsamples } = resolved(spec, store);
  const written: number[] = [];
  for (const d of downsamples) {
    const from = Math.floor(fromMs / d.intervalMs) * d.intervalMs;
    const to = Math.ceil(toMs / d.intervalMs) * d.intervalMs;
    const where = ` WHERE time >= ${durationLiteral(from)} AND time < ${durationLiteral(to)}`;
    const series = await store.query(selectInto(database, d, where));
    const count = series.flatMap((s) => s.rows).reduce((sum, r) => sum + Number(r.written ?? 0), 0);
    written.push(count);
  }
  return written;
}
