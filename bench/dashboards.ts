/**
 * Dashboards over history (issue 17): every InfluxDB panel query of the provisioned dashboards, with Grafana's
 * macros expanded as Grafana expands them ($timeFilter for an absolute range, $__interval from the range and the
 * panel's width, template variables at "All", `$tier` from the tier table exactly as the dashboards' variable reads
 * it), at 24 h, 7 d, 30 d and 1 y, against a fixture of raw samples and rollups (bench/dashboards-fixture.ts):
 * tiered (as provisioned) vs the same queries on the raw policy (the baseline). Prints JSON: the worst panel per
 * range, tiered and raw, and their ratio.
 *
 * Run: npx tsx bench/dashboards.ts [--miners 5000] [--raw-step 60] [--raw-days 35] [--miner-raw-hours 24] [--days 365] [--detail-miners 1] [--no-before]
 *   [--rack-maps-only] [--rebuild] [--fixture-only]
 * The rack map panels are also run with their queries of before (rackMapBefore), and their time is given per query.
 * The fixture is kept under .flymining/bench-cache/ and reused while its options match and it is under 3 days old
 * (the raw policy's retention runs on the real clock); --rebuild writes it again.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFixture, type FixtureOptions, type FixtureStats } from './dashboards-fixture';
import { freePort, InfluxTestServer } from '../scripts/jest/influx-server';
import { ensureDatabase, InfluxStore } from '../shared/src/influx';
import { DOWNSAMPLE_RULES, schemaRetention, TIER_VARIABLE_QUERY } from '../shared/src/schema';
import { generateFarmSpecs } from '../simulator/src/farm';
import { ALL_DASHBOARDS } from '../grafana-plugin/dashboards/generate';
import { RACKMAP_PANEL_TYPE, type AnyTarget, type Dashboard } from '../grafana-plugin/dashboards/model';
import { expandMacros } from '../grafana-plugin/src/macros';
import { RACKMAP_QUERIES } from '../grafana-plugin/src/queries';

const DATABASE = 'flymining';
const FIXTURE_VERSION = 2;
const DAY_MS = 86_400_000;
const RANGES = [
  { name: '24h', ms: DAY_MS },
  { name: '7d', ms: 7 * DAY_MS },
  { name: '30d', ms: 30 * DAY_MS },
  { name: '1y', ms: 365 * DAY_MS },
] as const;
/** A 24-column Grafana grid on a 1920-pixel screen: a panel's width in pixels is its maxDataPoints. */
const SCREEN_PX = 1900;
/** provisioning/grafana/datasources/influxdb.yaml: timeInterval, the lowest $__interval. */
const MIN_INTERVAL_MS = 30_000;
const CACHE_MAX_AGE_MS = 3 * DAY_MS;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Grafana's rangeutil.roundInterval: the "nice" interval at or under a raw one. */
function roundInterval(ms: number): number {
  const steps: Array<[below: number, interval: number]> = [
    [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
    [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000], [180_000, 120_000],
    [450_000, 300_000], [1_200_000, 600_000], [2_700_000, 1_800_000], [7_200_000, 3_600_000], [21_600_000, 10_800_000],
    [86_400_000, 43_200_000], [604_800_000, 86_400_000], [1_814_400_000, 604_800_000], [3_628_800_000, 2_592_000_000],
  ];
  for (const [below, interval] of steps) if (ms < below) return interval;
  return 31_536_000_000;
}

/** $__interval as Grafana computes it for a panel: range / width in pixels, rounded, at least the data source's. */
function grafanaInterval(rangeMs: number, panelColumns: number): string {
  const ms = Math.max(MIN_INTERVAL_MS, roundInterval(rangeMs / Math.round((SCREEN_PX * panelColumns) / 24)));
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

interface PanelQueries {
  dashboard: string;
  panel: string;
  columns: number;
  queries: string[];
  tiered: boolean;
  rackMap: boolean;
}

/**
 * The rack map's queries before the raw selects (commit 921d184): last() of every field GROUP BY every place tag
 * over the newest 15 minutes, 5,000 series per answer at 5,000 miners, and every fault series of 30 days. The
 * baseline of the rackMapBefore mode.
 */
const PLACE_BEFORE = `"site", "container", "rack", "shelf", "slot", "miner"`;
const NEWEST_BEFORE = `$timeFilter AND time > \${__to}ms - 15m`;
const RACKMAP_QUERIES_BEFORE = {
  up: `SELECT last("reachable") AS "reachable" FROM "miner_up" WHERE "site" =~ /^$site$/ AND ${NEWEST_BEFORE} GROUP BY ${PLACE_BEFORE}`,
  miner:
    `SELECT last("temp_max_c") AS "temp_max_c", last("hashrate_ths") AS "hashrate_ths", last("nominal_ths") AS "nominal_ths", ` +
    `last("fan_min_rpm") AS "fan_min_rpm", last("power_w") AS "power_w", last("mode") AS "mode" ` +
    `FROM "miner" WHERE "site" =~ /^$site$/ AND ${NEWEST_BEFORE} GROUP BY ${PLACE_BEFORE}, "model"`,
  faults:
    `SELECT last("active") AS "active", last("message") AS "message", last("since_ms") AS "since_ms" FROM "fault" ` +
    `WHERE "site" =~ /^$site$/ AND time > now() - 30d GROUP BY ${PLACE_BEFORE}, "code", "severity", "part"`,
  climate:
    `SELECT last("intake_c") AS "intake_c", last("exhaust_c") AS "exhaust_c" FROM "climate_container" ` +
    `WHERE "site" =~ /^$site$/ AND ${NEWEST_BEFORE} GROUP BY "site", "container"`,
  heartbeats: RACKMAP_QUERIES.heartbeats,
};

function panelsOf(dashboards: Record<string, Dashboard<AnyTarget>>): { panels: PanelQueries[]; sqlPanels: number } {
  const panels: PanelQueries[] = [];
  let sqlPanels = 0;
  for (const [file, d] of Object.entries(dashboards)) {
    for (const p of d.panels) {
      const queries = (p.targets ?? []).flatMap((t) => ('query' in t ? [t.query] : []));
      if ((p.targets ?? []).some((t) => 'rawSql' in t)) sqlPanels++;
      if (queries.length === 0) continue;
      const tiered = queries.some((q) => q.includes('$tier'));
      panels.push({ dashboard: file.replace(/\.json$/, ''), panel: p.title || p.type, columns: p.gridPos.w, queries, tiered, rackMap: p.type === RACKMAP_PANEL_TYPE });
    }
  }
  return { panels, sqlPanels };
}

/**
 * The farm-wide panels as they were before container_sweep (commit 408cc23): every miner's series, and the rack
 * map's last() over the whole range. Run at 24 h on raw (the only range whose per-miner raw the 5,000-miner fixture
 * holds): the figure the container rows are measured against.
 */
function perMinerPanelsBefore(): PanelQueries[] {
  const site = `"site" =~ /^$site$/`;
  const sum = (field: string, measurement: string, by = '', interval = '$__interval') =>
    `SELECT sum("v") FROM (SELECT mean("${field}") AS "v" FROM "$tier"."${measurement}" WHERE ${site} AND $timeFilter GROUP BY time(${interval}), "miner"${by}) ` +
    `WHERE $timeFilter GROUP BY time(${interval})${by} fill(none)`;
  const lastSum = (field: string, measurement: string) => `SELECT sum("v") FROM (SELECT last("${field}") AS "v" FROM "$tier"."${measurement}" WHERE ${site} AND $timeFilter GROUP BY "miner")`;
  const byContainer = (select: string, measurement: string, container = '') =>
    `SELECT ${select} FROM "$tier"."${measurement}" WHERE ${site}${container} AND $timeFilter GROUP BY time($__interval), "container" fill(none)`;
  const inContainer = ` AND "container" =~ /^$container$/`;
  const panel = (dashboard: string, name: string, columns: number, queries: string[]): PanelQueries => ({ dashboard, panel: name, columns, queries, tiered: true, rackMap: false });
  const rackMapOverRange = Object.values(RACKMAP_QUERIES_BEFORE).map((q) => q.replace(/ AND time > \$\{__to\}ms - \w+/, ''));
  return [
    panel('farm-overview', 'Hashrate now', 6, [lastSum('hashrate_ths', 'miner')]),
    panel('farm-overview', 'Miners answering', 6, [lastSum('reachable', 'miner_up')]),
    panel('farm-overview', 'Power now', 6, [lastSum('power_w', 'miner')]),
    panel('farm-overview', 'Racks by health (last() over the range)', 24, rackMapOverRange),
    panel('farm-overview', 'Hashrate by container', 12, [sum('hashrate_ths', 'miner', ', "container"')]),
    panel('farm-overview', 'Power by container', 12, [sum('power_w', 'miner', ', "container"')]),
    panel('farm-overview', 'Miners answering (share)', 12, [byContainer('mean("reachable")', 'miner_up')]),
    panel('container-climate', "Miners' own inlet temperature", 12, [byContainer('mean("ambient_c")', 'miner', inContainer)]),
    panel('container-climate', 'Hottest chip per container', 12, [byContainer('max("temp_max_c")', 'miner', inContainer)]),
    panel('billing-overview', 'Uptime per day', 12, [`SELECT mean("hashing") AS "hashing", mean("reachable") AS "reachable" FROM "$tier"."miner_up" WHERE ${site} AND $timeFilter GROUP BY time(1d) fill(none)`]),
    panel('billing-overview', 'Farm hashrate, daily mean', 12, [sum('hashrate_ths', 'miner', '', '1d')]),
    panel('billing-overview', 'Hashing uptime per container', 24, [`SELECT mean("hashing") AS "hashing", mean("reachable") AS "reachable" FROM "$tier"."miner_up" WHERE ${site} AND $timeFilter GROUP BY "container"`]),
    panel('maintenance-effectiveness', 'Delivered vs nominal hashrate', 12, [sum('hashrate_ths', 'miner'), sum('nominal_ths', 'miner')]),
    panel('maintenance-effectiveness', 'Uptime (miners hashing)', 6, [`SELECT mean("hashing") AS "hashing" FROM "$tier"."miner_up" WHERE ${site} AND $timeFilter GROUP BY time($__interval) fill(none)`]),
    panel('maintenance-effectiveness', 'Efficiency', 6, [`SELECT mean("efficiency_jth") AS "J/TH" FROM "$tier"."miner" WHERE ${site} AND "efficiency_jth" > 0 AND $timeFilter GROUP BY time($__interval) fill(none)`]),
  ];
}

interface Manifest {
  version: number;
  options: FixtureOptions;
  stats: FixtureStats;
  builtAtMs: number;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await f();
  return { ms: performance.now() - started, value };
}

async function main(): Promise<void> {
  const options: FixtureOptions = {
    miners: arg('miners', 5000),
    rawStepS: arg('raw-step', 60),
    rawDays: arg('raw-days', 35),
    minerRawHours: arg('miner-raw-hours', 24),
    rollupDays: arg('days', 365),
    detailMiners: arg('detail-miners', 1),
    seed: arg('seed', 17),
    endMs: Math.floor(Date.now() / 3_600_000) * 3_600_000,
  };
  const key = `v${FIXTURE_VERSION}-${options.miners}m-${options.rawStepS}s-${options.rawDays}d-${options.minerRawHours}h-${options.rollupDays}d-${options.detailMiners}-${options.seed}`;
  const cacheDir = path.resolve(__dirname, '../.flymining/bench-cache/dashboards', key);
  const manifestFile = path.join(cacheDir, 'manifest.json');
  let manifest: Manifest | undefined = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest) : undefined;
  if (manifest && (process.argv.includes('--rebuild') || Date.now() - manifest.builtAtMs > CACHE_MAX_AGE_MS || manifest.version !== FIXTURE_VERSION)) {
    rmSync(cacheDir, { recursive: true, force: true });
    manifest = undefined;
  }
  if (!manifest) rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });

  // Continuous queries off: the fixture's rollups are written, and a CQ firing mid-measurement would add load.
  const server = new InfluxTestServer(await freePort(), await freePort(), undefined, {
    dataDir: path.join(cacheDir, 'influx'),
    startTimeoutMs: 300_000,
    env: { INFLUXDB_CONTINUOUS_QUERIES_ENABLED: 'false', INFLUXDB_DATA_CACHE_MAX_MEMORY_SIZE: '2g', INFLUXDB_HTTP_MAX_BODY_SIZE: '0', INFLUXDB_COORDINATOR_WRITE_TIMEOUT: '120s' },
  });
  const store = new InfluxStore({ url: server.url, database: DATABASE, timeoutMs: 600_000 }, { spool: false });
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const load = () => os.loadavg().map((l) => Math.round(l * 100) / 100);
  const loadAtStart = load();
  try {
    await server.start();
    if (!manifest) {
      await ensureDatabase(store, schemaRetention(DATABASE));
      log(`writing the fixture (${key}) into ${cacheDir}...`);
      const stats = await writeFixture(server.url, DATABASE, options, log);
      manifest = { version: FIXTURE_VERSION, options, stats, builtAtMs: Date.now() };
      writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
    }
    if (process.argv.includes('--fixture-only')) {
      console.log(JSON.stringify({ fixture: manifest }, null, 2));
      return;
    }
    const fixture = manifest.options;
    const endMs = fixture.endMs;
    const first = generateFarmSpecs({ miners: 1, seed: fixture.seed, site: 'north-1' })[0]!;
    const firstMiner = first.id;

    // The rollups equal what the continuous queries write: the CQs' own aggregates (GROUP BY time over the raw
    // policy, without INTO, so the cached fixture is left alone) against the stored rollups, over one raw hour,
    // for the first (detail) miner and its container's container_sweep rows.
    const checkFrom = endMs - 3 * DAY_MS;
    const hour = `time >= ${checkFrom}ms AND time < ${checkFrom + 3_600_000}ms`;
    let worstRelative = 0;
    let compared = 0;
    const checked = [
      { measurement: 'miner', window: `"miner" = '${firstMiner}' AND ${hour}` },
      { measurement: 'container_sweep', window: `"container" = '${first.position.container}' AND ${hour}` },
    ];
    for (const { measurement, window } of checked) for (const rule of DOWNSAMPLE_RULES.filter((r) => r.measurement === measurement)) {
      const fields = Object.entries(rule.aggregates).filter(([, a]) => a !== 'last');
      const byCq = await store.queryRows(
        `SELECT ${fields.map(([f, a]) => `${a}("${f}") AS "${f}"`).join(', ')} FROM "raw"."${measurement}" WHERE ${window} GROUP BY time(${rule.interval}) fill(none)`,
      );
      const stored = await store.queryRows(`SELECT ${fields.map(([f]) => `"${f}"`).join(', ')} FROM "${rule.targetRp}"."${measurement}" WHERE ${window}`);
      const storedAt = new Map(stored.map((r) => [r.time, r]));
      for (const row of byCq) {
        for (const [f] of fields) {
          const v = row[f];
          if (typeof v !== 'number') continue;
          const old = storedAt.get(row.time)?.[f];
          compared++;
          worstRelative = Math.max(worstRelative, typeof old === 'number' ? Math.abs(v - old) / Math.max(1e-9, Math.abs(v)) : Infinity);
        }
      }
    }

    // A container's row of a sweep is the sum of its miners' rows of that sweep (newest raw hour: every miner's rows).
    const sweepAt = endMs - 30 * 60_000;
    const fromMiners = await store.queryRows(`SELECT sum("hashrate_ths") AS "ths", sum("power_w") AS "w" FROM "raw"."miner" WHERE time = ${sweepAt}ms GROUP BY "container"`);
    const fromContainers = await store.queryRows(`SELECT "hashrate_ths" AS "ths", "power_w" AS "w" FROM "raw"."container_sweep" WHERE time = ${sweepAt}ms GROUP BY "container"`);
    const containerAt = new Map(fromContainers.map((r) => [r.container, r]));
    let worstContainerDifference = 0;
    for (const r of fromMiners) {
      const c = containerAt.get(r.container);
      for (const f of ['ths', 'w']) {
        const a = Number(r[f]);
        const b = Number(c?.[f]);
        worstContainerDifference = Math.max(worstContainerDifference, Number.isFinite(b) ? Math.abs(a - b) / Math.max(1e-9, Math.abs(a)) : Infinity);
      }
    }

    const all = panelsOf(ALL_DASHBOARDS as Record<string, Dashboard<AnyTarget>>);
    const rackMapsOnly = process.argv.includes('--rack-maps-only');
    const panels = rackMapsOnly ? all.panels.filter((p) => p.rackMap) : all.panels;
    const sqlPanels = all.sqlPanels;
    const rackMapsBefore = panels.filter((p) => p.rackMap).map((p) => ({ ...p, queries: Object.values(RACKMAP_QUERIES_BEFORE) }));
    const queryNames = (mode: string) => Object.keys(mode === 'rackMapBefore' ? RACKMAP_QUERIES_BEFORE : RACKMAP_QUERIES);
    const results: Array<Record<string, unknown>> = [];
    const summary: Record<string, unknown> = {};
    for (const range of RANGES) {
      const from = endMs - range.ms;
      const timeFilter = `time >= ${from}ms and time <= ${endMs}ms`;
      const tierRows = await store.queryRows(expandMacros(TIER_VARIABLE_QUERY, { timeFilter, interval: '1m', variables: { __from: String(from), __to: String(endMs) } }));
      const tier = String(tierRows[0]?.rp);
      const worst: Record<string, { ms: number; panel: string }> = {};
      for (const mode of ['tiered', 'raw', 'rackMapBefore', 'perMinerBefore'] as const) {
        if (mode === 'perMinerBefore' && (range.ms > DAY_MS || process.argv.includes('--no-before') || rackMapsOnly)) continue;
        // The rack maps read no $tier: with them alone, raw would run the same queries again.
        if (mode === 'raw' && rackMapsOnly) continue;
        for (const p of mode === 'perMinerBefore' ? perMinerPanelsBefore() : mode === 'rackMapBefore' ? rackMapsBefore : panels) {
          const values = {
            timeFilter,
            interval: grafanaInterval(range.ms, p.columns),
            variables: { site: '.*', container: '.*', miner: firstMiner, tier: mode === 'tiered' ? tier : 'raw', __to: String(endMs) },
          };
          const expanded = p.queries.map((q) => expandMacros(q, values));
          // One warm-up, then the median of three runs of the panel's queries in turn (a panel is drawn when all
          // have answered): the machine is shared, single timings are noisy. A panel over 5 s cold is timed once.
          const queryMs: number[][] = expanded.map(() => []);
          const runPanel = async () => {
            let rows = 0;
            for (const [i, q] of expanded.entries()) {
              const answer = await timed(() => store.queryRows(q));
              queryMs[i]!.push(answer.ms);
              rows += answer.value.length;
            }
            return rows;
          };
          const median = (runs: number[]) => Math.round(runs.slice().sort((x, y) => x - y)[Math.floor(runs.length / 2)] as number);
          const first = await timed(runPanel);
          const runs = first.ms > 5000 ? [first.ms] : [(await timed(runPanel)).ms, (await timed(runPanel)).ms, (await timed(runPanel)).ms];
          if (runs.length > 1) for (const q of queryMs) q.shift();
          const ms = median(runs);
          // The rack maps' time per query (their queries are named in RACKMAP_QUERIES and its before).
          const perQueryMs = p.rackMap ? Object.fromEntries(queryNames(mode).map((name, i) => [name, median(queryMs[i]!)])) : undefined;
          results.push({ range: range.name, mode, dashboard: p.dashboard, panel: p.panel, tiered: p.tiered, interval: values.interval, ms, rows: first.value, ...(perQueryMs ? { perQueryMs } : {}) });
          if (!worst[mode] || ms > worst[mode].ms) worst[mode] = { ms, panel: `${p.dashboard} / ${p.panel}` };
          const key = `${mode}TieredOnly`;
          if (p.tiered && (!worst[key] || ms > worst[key].ms)) worst[key] = { ms, panel: `${p.dashboard} / ${p.panel}` };
        }
      }
      const t = worst.tiered!;
      const r = worst.raw;
      const tt = worst.tieredTieredOnly;
      const rt = worst.rawTieredOnly;
      const ratio = (x: number, y: number) => Math.round((x / Math.max(1, y)) * 10) / 10;
      const rackMapRows = (mode: string) => results.filter((x) => x.range === range.name && x.mode === mode && x.perQueryMs);
      const worstOf = (rows: Array<Record<string, unknown>>) => rows.reduce((a, b) => (Number(b.ms) > Number(a.ms) ? b : a));
      const rackMapNow = worstOf(rackMapRows('tiered'));
      const rackMapBefore = worstOf(rackMapRows('rackMapBefore'));
      summary[range.name] = {
        tier,
        worstTieredMs: t.ms,
        worstTieredPanel: t.panel,
        ...(r ? { worstRawMs: r.ms, worstRawPanel: r.panel, rawOverTiered: ratio(r.ms, t.ms) } : {}),
        // Among the panels that read $tier (the others run the same query in both modes).
        ...(tt && rt ? { tieredPanelsOnly: { worstTieredMs: tt.ms, worstTieredPanel: tt.panel, worstRawMs: rt.ms, worstRawPanel: rt.panel, rawOverTiered: ratio(rt.ms, tt.ms) } } : {}),
        // The slowest rack map panel with its queries of now and of before, and each of its queries.
        rackMap: {
          nowMs: rackMapNow.ms, nowPanel: `${String(rackMapNow.dashboard)} / ${String(rackMapNow.panel)}`, nowPerQueryMs: rackMapNow.perQueryMs,
          beforeMs: rackMapBefore.ms, beforePerQueryMs: rackMapBefore.perQueryMs, beforeOverNow: ratio(Number(rackMapBefore.ms), Number(rackMapNow.ms)),
        },
        ...(worst.perMinerBefore ? { perMinerBefore: { worstMs: worst.perMinerBefore.ms, worstPanel: worst.perMinerBefore.panel, overTiered: ratio(worst.perMinerBefore.ms, t.ms) } } : {}),
      };
      log(`${range.name}: ${JSON.stringify(summary[range.name])}`);
    }
    console.log(
      JSON.stringify(
        {
          fixture: { ...fixture, endIso: new Date(endMs).toISOString(), ...manifest.stats, cached: manifest.builtAtMs < Date.now() - 60_000 },
          rollupCheck: { valuesCompared: compared, worstRelativeDifference: worstRelative },
          containerSweepCheck: { containers: fromMiners.length, worstRelativeDifferenceToMinerSums: worstContainerDifference },
          panels: panels.length,
          tieredPanels: panels.filter((p) => p.tiered).length,
          sqlPanelsNotRun: sqlPanels,
          summary,
          loadAverage: { start: loadAtStart, end: load() },
          results,
        },
        null,
        2,
      ),
    );
  } finally {
    await store.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
