/**
 * The InfluxDB schema: every measurement, tag and field the stack writes, with units. This file is the single
 * source; docs/schema.md explains it for people, dashboards and billing query it, exporters write it.
 *
 * Units are in the field names (_ths, _c, _w, _rpm, _s, _jth) so a query never needs a lookup table.
 */
import type { Fault } from './faults';
import type { MinerSpec } from './inventory/types';
import type { MinerSample } from './sample';
import { formatLine, type FieldSet, type TagSet } from './influx/lineProtocol';
import type { RetentionSpec } from './influx/retention';

export type FieldType = 'float' | 'int' | 'string' | 'bool';

export interface MeasurementSpec {
  readonly description: string;
  readonly tags: readonly string[];
  readonly fields: Readonly<Record<string, FieldType>>;
}

/** Tags that place a miner in the farm; on every miner-level measurement. */
export const LOCATION_TAGS = ['site', 'container', 'rack', 'shelf', 'slot', 'miner'] as const;

export const MEASUREMENTS = {
  miner: {
    description: 'One row per miner per scrape: totals and state.',
    tags: [...LOCATION_TAGS, 'vendor', 'firmware', 'model'],
    fields: {
      hashrate_ths: 'float', // 5 s (shortest window the firmware gives)
      hashrate_avg_ths: 'float', // since start; lags
      nominal_ths: 'float', // inventory nominal
      reported_nominal_ths: 'float', // what the firmware claims
      power_w: 'float',
      efficiency_jth: 'float',
      uptime_s: 'int',
      hw_errors: 'int',
      ambient_c: 'float',
      temp_max_c: 'float', // hottest chip (or board) reading that is plausible
      fan_min_rpm: 'int',
      boards_present: 'int',
      boards_expected: 'int',
      chips_ok: 'int',
      chips_expected: 'int',
      pools_alive: 'int',
      mode: 'string', // hashing | sleeping | booting | idle
      hashing: 'int', // 1 while mode = hashing: sums to "miners hashing" and averages to uptime share
      firmware_version: 'string',
      errors: 'int', // API commands that failed in this scrape
      // Issue 13: what the newer APIs give (Whatsminer v3, Antminer web, Braiins REST, ePIC, VNish); unset when not reported.
      protocol: 'string', // cgminer | whatsminer-v3 | antminer-web | braiins-rest | epic | vnish
      serial: 'string', // the miner's serial number as the firmware gives it
      mac: 'string',
      work_mode: 'string', // normal | low | sleep | power-target | hashrate-target | ... as the firmware names it
      power_target_w: 'float',
      water_inlet_c: 'float', // hydro units: water loop
      water_outlet_c: 'float',
      water_flow_lpm: 'float',
      psu_model: 'string',
      psu_serial: 'string',
      psu_input_v: 'float',
      psu_output_v: 'float',
      psu_input_a: 'float',
      psu_output_a: 'float',
      psu_input_w: 'float',
      psu_output_w: 'float',
      firmware_errors: 'int', // error codes the firmware reports now (rows in miner_firmware_error)
    },
  },
  miner_board: {
    description: 'One row per hashboard per scrape.',
    tags: [...LOCATION_TAGS, 'board'],
    fields: {
      present: 'int',
      hashrate_ths: 'float',
      chips_found: 'int',
      chips_ok: 'int',
      chips_bad: 'int',
      chips_expected: 'int',
      board_temp_c: 'float',
      chip_temp_c: 'float',
      inlet_temp_c: 'float',
      outlet_temp_c: 'float',
      hw_errors: 'int',
      frequency_mhz: 'float',
      voltage_v: 'float',
      power_w: 'float',
      serial: 'string', // hashboard serial number
    },
  },
  miner_firmware_error: {
    description:
      'One row per error code the firmware reports, per scrape, as given (code and text verbatim). The `error` tag is the ' +
      "position in the firmware's list (bounded), so several codes of one scrape are several rows.",
    tags: [...LOCATION_TAGS, 'error'],
    fields: {
      code: 'string',
      text: 'string',
      component: 'string', // the part the firmware names ("Hashboard 1", "fans"), when it does
      level: 'string', // error | warning
      logged_ms: 'int', // when the firmware logged it, when it says
    },
  },
  miner_fan: {
    description: 'One row per real fan per scrape.',
    tags: [...LOCATION_TAGS, 'fan'],
    fields: { rpm: 'int', percent: 'float' },
  },
  miner_pool: {
    description: 'One row per configured pool per scrape. URL and worker are fields: free text from the miner.',
    tags: [...LOCATION_TAGS, 'pool'],
    fields: {
      url: 'string',
      user: 'string',
      status: 'string',
      alive: 'int',
      active: 'int',
      accepted: 'int',
      rejected: 'int',
      stale: 'int',
      last_share_ms: 'int',
    },
  },
  miner_change: {
    description:
      "A miner's audit history (issue 15): one row per change of its configured pools, firmware or version, serial or " +
      'MAC, a devfee switch, or an unknown device answering on a container subnet (then `miner` is its address and ' +
      "rack/shelf/slot are '-'). before/after are the values as the miner gave them, bounded.",
    tags: [...LOCATION_TAGS, 'kind'],
    fields: { before: 'string', after: 'string' },
  },
  control_action: {
    description:
      'The control audit (issue 14): one row per action the write path took or refused on a miner: who (staff user or ' +
      "policy), what, the outcome (confirmed, sent, unconfirmed, refused, rate-limited, failed, unreachable, dry-run) and " +
      "the firmware's reply, bounded. Pool passwords never appear.",
    tags: [...LOCATION_TAGS, 'action', 'outcome', 'actor_kind'],
    fields: { actor: 'string', detail: 'string', reply: 'string', reason: 'string', duration_ms: 'float', confirm_ms: 'float' },
  },
  control_decision: {
    description:
      'Every decision of a control policy (recovery, temperature loop, curtailment), acted on or not: the policy, the ' +
      'container, what it decided and why, with the readings it judged (intake, band, power target). One row per ' +
      'policy per container per evaluation that changed or held something worth telling.',
    tags: ['site', 'container', 'policy', 'decision'],
    fields: { reason: 'string', miners: 'int', intake_c: 'float', band_low_c: 'float', band_high_c: 'float', power_w: 'float', target_w: 'float' },
  },
  miner_up: {
    description: 'One row per miner per scrape attempt, success or not: reachability, for uptime and billing.',
    tags: [...LOCATION_TAGS],
    fields: {
      reachable: 'int', // 1 when the API answered
      hashing: 'int', // 1 when it answered and hashed
      scrape_ms: 'float',
      failure: 'string', // refused | timeout | reset | malformed | too-large | unreachable, empty when ok
    },
  },
  fault: {
    description: 'Fault transitions: active=1 when raised, active=0 when cleared. Code and part are tags.',
    tags: [...LOCATION_TAGS, 'code', 'severity', 'part'],
    fields: { active: 'int', message: 'string', since_ms: 'int' },
  },
  climate_sensor: {
    description: 'One row per accepted climate sensor reading, in SI units (°F converted). Only what the sensor reports.',
    tags: ['site', 'container', 'position', 'sensor'],
    fields: {
      temperature_c: 'float',
      humidity_pct: 'float', // relative humidity
      dew_point_c: 'float', // computed from temperature and humidity (Magnus)
      damper_pct: 'float', // measured damper opening, 0 = all outside air
      damper_command_pct: 'float', // what the damper controller was told
      power_w: 'float', // container power meter
      energy_kwh: 'float', // meter total
    },
  },
  climate_container: {
    description: 'One row per container per climate evaluation: derived airflow, condensation and recirculation figures.',
    tags: ['site', 'container'],
    fields: {
      intake_c: 'float',
      exhaust_c: 'float',
      outside_c: 'float',
      delta_t_c: 'float', // exhaust - intake
      intake_humidity_pct: 'float',
      intake_dew_point_c: 'float',
      condensation_margin_c: 'float', // intake - intake dew point; < margin setting raises CONDENSATION_RISK
      miners_power_w: 'float', // sum of the container's miners' last power_w
      metered_power_w: 'float', // container power meter, when there is one
      heat_share: 'float', // miners' power / metered power
      airflow_m3h: 'float', // air that carries the miners' heat at the measured delta-T
      damper_pct: 'float', // measured
      damper_advice_pct: 'float', // opening that holds the intake in its band
      sensors_stale: 'int',
    },
  },
  edge_heartbeat: {
    description:
      'One row per container per sweep from each edge exporter (source miner or climate): proof of life across the uplink, ' +
      'with the edge clock (the point time), its spool and uplink state. The center pages ContainerSilent when it stops.',
    tags: ['site', 'container', 'edge', 'source'],
    fields: {
      seq: 'int', // sweeps since this edge process started; a restart starts again at 1
      interval_ms: 'int', // the sweep interval, so the center knows when a heartbeat is late
      miners: 'int', // miners (or sensors) of this container the edge watches
      reachable: 'int', // of those, how many answered this sweep
      active_faults: 'int', // fault_state rows written with this heartbeat (same time): the snapshot is complete when all are there
      spool_lines: 'int', // points waiting in the edge spool for the uplink
      spool_bytes: 'int',
      spool_oldest_ms: 'int', // time of the oldest spooled point (0 when the spool is empty)
      points_dropped: 'int', // points the edge lost since it started (spool full); should stay 0
      clock_offset_ms: 'int', // center clock (HTTP Date of its last answer) minus edge clock; unset until measured
      uplink: 'string', // ok | unreachable | refused (credentials) | tls (certificate) | starting
      uplink_error: 'string', // the uplink's last error, without secrets
    },
  },
  fault_state: {
    description:
      'Level-based fault snapshot: every fault active at an edge, re-asserted with each heartbeat at the heartbeat time. ' +
      'The center rebuilds its active-fault state from the newest complete snapshot, so outages of any hop converge.',
    tags: [...LOCATION_TAGS, 'code', 'severity', 'part', 'source', 'edge'],
    fields: { since_ms: 'int', message: 'string', details: 'string' },
  },
  container_sweep: {
    description:
      "One row per container per miner-exporter sweep: the container's miners summed (hashrate, nominal, power), the " +
      'hottest chip and mean inlet, and how many miners were watched, answered and hashed. The farm-wide panels read it ' +
      'instead of every miner (issue 17: a panel over 5,000 miners reads 25 series, not 5,000).',
    tags: ['site', 'container'],
    fields: {
      miners: 'int', // miners of the container the edge watches
      reachable: 'int', // of those, how many answered this sweep
      hashing: 'int', // of those, how many answered in mode hashing
      hashrate_ths: 'float', // sum of the answering miners' hashrate_ths
      nominal_ths: 'float', // sum of the answering miners' inventory nominal
      power_w: 'float', // sum of power_w of the answering miners that report it
      efficiency_jth: 'float', // mean efficiency_jth of the answering miners that report one above 0
      temp_max_c: 'float', // hottest plausible chip (or board) of the answering miners
      ambient_c: 'float', // mean of the answering miners' own inlet reading
    },
  },
  exporter: {
    description: 'Self-metrics of each exporter per sweep.',
    tags: ['site', 'exporter'],
    fields: {
      miners: 'int',
      reachable: 'int',
      sweep_ms: 'float',
      overrun: 'int',
      points_spooled: 'int',
      points_dropped: 'int',
    },
  },
} as const satisfies Record<string, MeasurementSpec>;

export type MeasurementName = keyof typeof MEASUREMENTS;
type FieldsOf<M extends MeasurementName> = keyof (typeof MEASUREMENTS)[M]['fields'];
type TagsOf<M extends MeasurementName> = (typeof MEASUREMENTS)[M]['tags'][number];

/** A point in schema terms, before line-protocol encoding. Undefined fields are left out. */
export interface SchemaPoint<M extends MeasurementName = MeasurementName> {
  measurement: M;
  tags: Partial<Record<TagsOf<M>, string>>;
  fields: Partial<Record<FieldsOf<M>, number | string | boolean | undefined>>;
  time: number;
}

function locationTags(spec: MinerSpec): Record<(typeof LOCATION_TAGS)[number], string> {
  const l = spec.location;
  return { site: l.site, container: l.container, rack: l.rack, shelf: l.shelf, slot: l.slot, miner: spec.id };
}

/** A reading only counts when it is physically plausible (a dead sensor reads -83 °C or 0). */
function plausibleTemp(t: number | undefined): number | undefined {
  return t !== undefined && t > -40 && t < 150 && t !== 0 ? t : undefined;
}

function maxOf(values: Array<number | undefined>): number | undefined {
  let m: number | undefined;
  for (const v of values) if (v !== undefined && (m === undefined || v > m)) m = v;
  return m;
}

function sumOf(values: Array<number | undefined>): number | undefined {
  let s: number | undefined;
  for (const v of values) if (v !== undefined) s = (s ?? 0) + v;
  return s;
}

/** All points one successful scrape produces. */
export function samplePoints(sample: MinerSample, spec: MinerSpec, scrapeMs: number): SchemaPoint[] {
  const loc = locationTags(spec);
  const t = sample.time;
  const boardsPresent = sample.boards.filter((b) => b.present).length;
  const points: SchemaPoint[] = [];
  points.push({
    measurement: 'miner',
    tags: { ...loc, vendor: sample.vendor, firmware: sample.firmware, model: sample.model ?? spec.model },
    fields: {
      hashrate_ths: sample.hashrateThs,
      hashrate_avg_ths: sample.hashrateAvgThs,
      nominal_ths: spec.nominalThs,
      reported_nominal_ths: sample.nominalThs,
      power_w: sample.powerW,
      efficiency_jth: sample.efficiencyJth,
      uptime_s: sample.uptimeS,
      hw_errors: sample.hwErrors,
      ambient_c: sample.ambientTempC,
      temp_max_c: maxOf(sample.boards.map((b) => plausibleTemp(b.chipTempC) ?? plausibleTemp(b.boardTempC))),
      fan_min_rpm: sample.fans.length ? Math.min(...sample.fans.map((f) => f.rpm)) : undefined,
      boards_present: boardsPresent,
      boards_expected: spec.hashboards,
      chips_ok: sumOf(sample.boards.map((b) => b.chipsOk ?? b.chipsFound)),
      chips_expected: spec.hashboards * spec.chipsPerBoard,
      pools_alive: sample.pools.filter((p) => p.status === 'alive').length,
      mode: sample.mode,
      hashing: sample.mode === 'hashing' ? 1 : 0,
      firmware_version: sample.firmwareVersion,
      errors: sample.errors.length,
      protocol: sample.protocol,
      serial: sample.serial,
      mac: sample.mac,
      work_mode: sample.workMode,
      power_target_w: sample.powerTargetW,
      water_inlet_c: sample.water?.inletTempC,
      water_outlet_c: sample.water?.outletTempC,
      water_flow_lpm: sample.water?.flowLpm,
      psu_model: sample.psu?.model,
      psu_serial: sample.psu?.serial,
      psu_input_v: sample.psu?.inputVoltageV,
      psu_output_v: sample.psu?.outputVoltageV,
      psu_input_a: sample.psu?.inputCurrentA,
      psu_output_a: sample.psu?.outputCurrentA,
      psu_input_w: sample.psu?.inputPowerW,
      psu_output_w: sample.psu?.outputPowerW,
      firmware_errors: sample.firmwareErrors?.length,
    },
    time: t,
  });
  for (const b of sample.boards) {
    points.push({
      measurement: 'miner_board',
      tags: { ...loc, board: String(b.index) },
      fields: {
        present: b.present ? 1 : 0,
        hashrate_ths: b.hashrateThs,
        chips_found: b.chipsFound,
        chips_ok: b.chipsOk,
        chips_bad: b.chipsBad,
        chips_expected: spec.chipsPerBoard,
        board_temp_c: b.boardTempC,
        chip_temp_c: b.chipTempC,
        inlet_temp_c: b.inletTempC,
        outlet_temp_c: b.outletTempC,
        hw_errors: b.hwErrors,
        frequency_mhz: b.frequencyMhz,
        voltage_v: b.voltageV,
        power_w: b.powerW,
        serial: b.serial,
      },
      time: t,
    });
  }
  for (const [position, e] of (sample.firmwareErrors ?? []).entries()) {
    points.push({
      measurement: 'miner_firmware_error',
      tags: { ...loc, error: String(position) },
      fields: { code: e.code, text: e.text, component: e.component, level: e.level ?? 'error', logged_ms: e.time },
      time: t,
    });
  }
  for (const f of sample.fans) {
    points.push({ measurement: 'miner_fan', tags: { ...loc, fan: String(f.index) }, fields: { rpm: f.rpm, percent: f.percent }, time: t });
  }
  for (const p of sample.pools) {
    points.push({
      measurement: 'miner_pool',
      tags: { ...loc, pool: String(p.index) },
      fields: {
        url: p.url,
        user: p.user,
        status: p.status,
        alive: p.status === 'alive' ? 1 : 0,
        active: p.active ? 1 : 0,
        accepted: p.accepted,
        rejected: p.rejected,
        stale: p.stale,
        last_share_ms: p.lastShareTime,
      },
      time: t,
    });
  }
  points.push(upPoint(spec, t, scrapeMs, sample.mode === 'hashing', ''));
  return points;
}

/** The reachability point of a scrape attempt; `failure` is empty when the miner answered. */
export function upPoint(spec: MinerSpec, time: number, scrapeMs: number, hashing: boolean, failure: string): SchemaPoint {
  return {
    measurement: 'miner_up',
    tags: locationTags(spec),
    fields: { reachable: failure ? 0 : 1, hashing: hashing ? 1 : 0, scrape_ms: scrapeMs, failure },
    time,
  };
}

/** One row of a miner's change history (`miner_change`); `kind` is pools, devfee, firmware, serial, mac or unknown_device. */
export function changePoint(location: Fault['location'], minerId: string, kind: string, before: string, after: string, time: number): SchemaPoint {
  const l = location;
  return {
    measurement: 'miner_change',
    tags: { site: l.site, container: l.container, rack: l.rack, shelf: l.shelf, slot: l.slot, miner: minerId, kind },
    fields: { before, after },
    time,
  };
}

/** Tags that name a fault: where it is, what it is, which part (`miner` for the whole miner). */
export function faultTags(fault: Fault): Record<(typeof LOCATION_TAGS)[number] | 'code' | 'severity' | 'part', string> {
  const l = fault.location;
  return {
    site: l.site,
    container: l.container,
    rack: l.rack,
    shelf: l.shelf,
    slot: l.slot,
    miner: fault.minerId,
    code: fault.code,
    severity: fault.severity,
    part: fault.part || 'miner',
  };
}

export function faultPoint(fault: Fault, active: boolean, time: number): SchemaPoint {
  return {
    measurement: 'fault',
    tags: faultTags(fault),
    fields: { active: active ? 1 : 0, message: fault.message, since_ms: fault.since },
    time,
  };
}

/**
 * Retention: raw samples long enough for billing reruns; 5-minute rollups for weeks of history, 1-hour rollups for
 * years; a tier table (policy `meta`) from which the dashboards pick the policy for their time range.
 */
export const RETENTION = {
  raw: { name: 'raw', duration: '40d', default: true },
  rollup: { name: 'rollup', duration: '730d', default: false },
  rollup1h: { name: 'rollup_1h', duration: 'INF', default: false },
  meta: { name: 'meta', duration: 'INF', default: false },
} as const;

const DAY_MS = 86_400_000;

/**
 * Which policy a dashboard reads for a time range of a given span: raw up to 2 days (a 1,000-pixel panel at 2 days
 * has ~3-minute buckets, finer than the 5-minute tier), the 5-minute tier up to 35 days, the 1-hour tier beyond.
 * Grafana's `$tier` variable reads this table (TIER_VARIABLE_QUERY).
 */
export const DASHBOARD_TIERS = [
  { rp: RETENTION.raw.name, maxSpanMs: 2 * DAY_MS },
  { rp: RETENTION.rollup.name, maxSpanMs: 35 * DAY_MS },
  { rp: RETENTION.rollup1h.name, maxSpanMs: Infinity },
] as const;

export const TIER_TABLE = { policy: RETENTION.meta.name, measurement: 'dashboard_tier', tiers: DASHBOARD_TIERS };

/** The Grafana query of the dashboards' `$tier` variable (refreshed on every time-range change). */
export const TIER_VARIABLE_QUERY = `SELECT "rp" FROM "${TIER_TABLE.policy}"."${TIER_TABLE.measurement}" WHERE "min_span_ms" < $__to - $__from AND "max_span_ms" >= $__to - $__from`;

export interface DownsampleRule {
  measurement: MeasurementName;
  interval: string;
  /** Policy the rollup goes to. */
  targetRp: string;
  /**
   * field -> aggregate; the rolled-up field keeps the raw field's name, so a dashboard query reads any tier with only
   * `$tier` changed. Each aggregate is the one the dashboards apply to the field (mean of means, max of maxes, …).
   */
  aggregates: Record<string, 'mean' | 'max' | 'min' | 'last' | 'sum'>;
}

const MINER_AGGREGATES = {
  hashrate_ths: 'mean',
  nominal_ths: 'mean',
  power_w: 'mean',
  efficiency_jth: 'mean',
  temp_max_c: 'max',
  ambient_c: 'mean',
  fan_min_rpm: 'min',
  hashing: 'mean',
  mode: 'last',
} as const;
/** The `miner` fields container_sweep folds per container (sums, max, means); rolled up as the miners' are. */
const CONTAINER_FIELDS_OF_MINERS = ['hashing', 'hashrate_ths', 'nominal_ths', 'power_w', 'efficiency_jth', 'temp_max_c', 'ambient_c'] as const;
const TIERED: ReadonlyArray<Pick<DownsampleRule, 'measurement' | 'aggregates'>> = [
  { measurement: 'miner', aggregates: MINER_AGGREGATES },
  { measurement: 'miner_up', aggregates: { reachable: 'mean', hashing: 'mean' } },
  { measurement: 'miner_board', aggregates: { hashrate_ths: 'mean', board_temp_c: 'mean', chip_temp_c: 'max' } },
  { measurement: 'miner_fan', aggregates: { rpm: 'mean' } },
  { measurement: 'climate_container', aggregates: { intake_c: 'mean', exhaust_c: 'mean', condensation_margin_c: 'min' } },
  // The miners' fields with the miners' aggregates; counts as means: a bucket's mean of `reachable` over its mean
  // of `miners` is the share of scrapes that answered.
  {
    measurement: 'container_sweep',
    aggregates: { miners: 'mean', reachable: 'mean', ...Object.fromEntries(CONTAINER_FIELDS_OF_MINERS.map((f) => [f, MINER_AGGREGATES[f]])) },
  },
];

/** Both tiers from raw: a 1-hour CQ over raw gives exactly the 5-minute tier's aggregates of aggregates. */
export const DOWNSAMPLE_RULES: readonly DownsampleRule[] = TIERED.flatMap((t) => [
  { ...t, interval: '5m', targetRp: RETENTION.rollup.name },
  { ...t, interval: '1h', targetRp: RETENTION.rollup1h.name },
]);

const INTEGER_FIELDS: Record<string, ReadonlySet<string>> = Object.fromEntries(
  Object.entries(MEASUREMENTS).map(([name, spec]) => [
    name,
    new Set(Object.entries(spec.fields as Record<string, FieldType>).filter(([, t]) => t === 'int').map(([f]) => f)),
  ]),
);

/** Encodes schema points as line protocol (ms precision); points without any field value are left out. */
export function encodePoints(points: readonly SchemaPoint[]): string[] {
  const lines: string[] = [];
  for (const p of points) {
    const line = formatLine(p.measurement, p.tags as TagSet, p.fields as FieldSet, p.time, { integerFields: INTEGER_FIELDS[p.measurement] });
    if (line !== undefined) lines.push(line);
  }
  return lines;
}

/** Retention policies and downsampling in the storage layer's terms (ensureDatabase / downsample). */
export function schemaRetention(database?: string): RetentionSpec {
  return {
    database,
    raw: { name: RETENTION.raw.name, duration: RETENTION.raw.duration },
    rollup: { name: RETENTION.rollup.name, duration: RETENTION.rollup.duration },
    tiers: [{ name: RETENTION.rollup1h.name, duration: RETENTION.rollup1h.duration }],
    downsamples: DOWNSAMPLE_RULES.map((r) => ({ measurement: r.measurement, interval: r.interval, fields: r.aggregates, targetRp: r.targetRp, keepFieldNames: true })),
    tierTable: TIER_TABLE,
  };
}
