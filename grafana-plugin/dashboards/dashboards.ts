/**
 * The provisioned dashboards, as code. `npx tsx grafana-plugin/dashboards/generate.ts` writes them to
 * provisioning/grafana/dashboards/; a test checks the files match and runs every query against InfluxDB.
 * Every query filters on the site variable ("All" = `.*`) and reads only measurements of docs/schema.md.
 */
import { RACKMAP_QUERIES } from '../src/queries';
import { DEFAULT_OPTIONS, type RackMapOptions } from '../src/types';
import { TIER_VARIABLE_QUERY } from '../../shared/src/schema';
import { RACKMAP_PANEL_TYPE, dashboard, influx, panel, tagVariable, tierVariable, tiered, textPanel, type Dashboard, type Panel } from './model';

/** Every InfluxQL query's site filter ("All" = `.*`). */
export const SITE = `"site" =~ /^$site$/`;
const site = tagVariable('site', 'Site', 'miner_up');
const container = tagVariable('container', 'Container', 'miner_up', SITE);
const miner = tagVariable('miner', 'Miner', 'miner_up', SITE, false);
/** Hidden; refreshed on every time-range change: which policy (raw, 5-minute or 1-hour rollups) the panels read. */
export const tier = tierVariable(TIER_VARIABLE_QUERY);

function rackMap(title: string, gridPos: Panel['gridPos'], options: Partial<RackMapOptions>): Panel {
  return panel(RACKMAP_PANEL_TYPE, title, gridPos, influx(Object.values(RACKMAP_QUERIES), 'table'), { ...DEFAULT_OPTIONS, ...options }, { color: { mode: 'thresholds' } });
}

/**
 * Farm-wide panels read `container_sweep` (one row per container per sweep, the sums of its miners' rows), not
 * every miner: at 5,000 miners a panel reads 25 series instead of 5,000 (docs/scaling.md, issue 17).
 */
const CONTAINERS = tiered('container_sweep');
/**
 * Sum over containers of each container's mean per interval: the mean of its per-sweep totals (a plain sum would
 * add up sweeps). Containers are told apart by site too.
 */
export const containerSum = (field: string, interval = '$__interval') =>
  `SELECT sum("v") FROM (SELECT mean("${field}") AS "v" FROM ${CONTAINERS} WHERE ${SITE} AND $timeFilter GROUP BY time(${interval}), "site", "container") ` +
  `WHERE $timeFilter GROUP BY time(${interval}) fill(none)`;
/**
 * Each container's mean per interval of its per-sweep totals, one series per site and container: no subquery (an
 * outer GROUP BY over a subquery's buckets costs InfluxDB 1.x 4-6× the plain query at 30 days).
 */
const perContainer = (field: string) => `SELECT mean("${field}") FROM ${CONTAINERS} WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), "site", "container" fill(none)`;
/** Each container's newest row, summed: "right now" figures. */
const lastSum = (field: string) => `SELECT sum("v") FROM (SELECT last("${field}") AS "v" FROM ${CONTAINERS} WHERE ${SITE} AND $timeFilter GROUP BY "site", "container")`;
/** The share of the miners' scrapes that found `field` (reachable, hashing): counts summed over counts. */
export const minerShare = (field: string) => `sum("${field}") / sum("miners")`;
const ACTIVE_FAULTS =
  `SELECT last("active") AS "active", last("message") AS "message" FROM "fault" WHERE ${SITE} AND time > now() - 30d ` +
  `GROUP BY "container", "miner", "code", "severity", "part"`;

const stat = (title: string, x: number, query: string, unit: string, decimals = 0) =>
  panel('stat', title, { x, y: 0, w: 6, h: 4 }, influx([query]), { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value', graphMode: 'none' }, { unit, decimals, noValue: '0' });

export const farmOverview: Dashboard = dashboard(
  'flymining-farm-overview',
  'FlyMining · Farm overview',
  [
    stat('Hashrate now', 0, lastSum('hashrate_ths'), 'TH/s', 1),
    stat('Miners answering', 6, lastSum('reachable'), 'none'),
    stat('Power now', 12, lastSum('power_w'), 'watt'),
    stat('Active faults', 18, `SELECT sum("a") FROM (SELECT last("active") AS "a" FROM "fault" WHERE ${SITE} AND time > now() - 30d GROUP BY "miner", "code", "part")`, 'none'),
    rackMap('Racks by health', { x: 0, y: 4, w: 24, h: 14 }, { metric: 'health' }),
    panel('timeseries', 'Hashrate by container', { x: 0, y: 18, w: 12, h: 8 }, influx([perContainer('hashrate_ths')]), {}, { unit: 'TH/s' }),
    panel('timeseries', 'Power by container', { x: 12, y: 18, w: 12, h: 8 }, influx([perContainer('power_w')]), {}, { unit: 'watt' }),
    panel('timeseries', 'Miners answering (share)', { x: 0, y: 26, w: 12, h: 6 }, influx([`SELECT ${minerShare('reachable')} FROM ${CONTAINERS} WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), "container" fill(none)`]), {}, { unit: 'percentunit', min: 0, max: 1 }),
    panel('timeseries', 'Exporter sweep time', { x: 12, y: 26, w: 12, h: 6 }, influx([`SELECT max("sweep_ms") FROM "exporter" WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), "exporter" fill(none)`]), {}, { unit: 'ms' }),
  ],
  [site, tier],
);

export const containerClimate: Dashboard = dashboard(
  'flymining-container-climate',
  'FlyMining · Container climate',
  [
    panel('timeseries', 'Intake and exhaust air', { x: 0, y: 0, w: 12, h: 8 }, influx([`SELECT mean("intake_c") AS "intake", mean("exhaust_c") AS "exhaust" FROM ${tiered('climate_container')} WHERE ${SITE} AND "container" =~ /^$container$/ AND $timeFilter GROUP BY time($__interval), "container" fill(none)`]), {}, { unit: 'celsius' }),
    panel('timeseries', 'Intake margin over dew point', { x: 12, y: 0, w: 12, h: 8 }, influx([`SELECT mean("condensation_margin_c") FROM ${tiered('climate_container')} WHERE ${SITE} AND "container" =~ /^$container$/ AND $timeFilter GROUP BY time($__interval), "container" fill(none)`]), {}, { unit: 'celsius', thresholds: { mode: 'absolute', steps: [{ value: null, color: 'red' }, { value: 3, color: 'green' }] } }, 'Condensation risk below 3 °C'),
    panel('timeseries', "Miners' own inlet temperature", { x: 0, y: 8, w: 12, h: 8 }, influx([`SELECT mean("ambient_c") FROM ${CONTAINERS} WHERE ${SITE} AND "container" =~ /^$container$/ AND $timeFilter GROUP BY time($__interval), "container" fill(none)`]), {}, { unit: 'celsius' }, 'Measured by the miners: available even without container sensors'),
    panel('timeseries', 'Hottest chip per container', { x: 12, y: 8, w: 12, h: 8 }, influx([`SELECT max("temp_max_c") FROM ${CONTAINERS} WHERE ${SITE} AND "container" =~ /^$container$/ AND $timeFilter GROUP BY time($__interval), "container" fill(none)`]), {}, { unit: 'celsius' }),
    rackMap('Racks by temperature', { x: 0, y: 16, w: 24, h: 12 }, { metric: 'temperature' }),
  ],
  [site, container, tier],
);

const MINER = `"miner" = '$miner'`;
export const minerDetail: Dashboard = dashboard(
  'flymining-miner-detail',
  'FlyMining · Miner detail',
  [
    panel('timeseries', 'Hashrate and nominal', { x: 0, y: 0, w: 12, h: 8 }, influx([`SELECT mean("hashrate_ths") AS "hashrate", mean("nominal_ths") AS "nominal" FROM ${tiered('miner')} WHERE ${MINER} AND $timeFilter GROUP BY time($__interval) fill(none)`]), {}, { unit: 'TH/s' }),
    panel('timeseries', 'Power and efficiency', { x: 12, y: 0, w: 12, h: 8 }, influx([`SELECT mean("power_w") AS "power W", mean("efficiency_jth") AS "J/TH" FROM ${tiered('miner')} WHERE ${MINER} AND $timeFilter GROUP BY time($__interval) fill(none)`])),
    panel('timeseries', 'Board and chip temperatures', { x: 0, y: 8, w: 12, h: 8 }, influx([`SELECT mean("board_temp_c") AS "board", max("chip_temp_c") AS "chip" FROM ${tiered('miner_board')} WHERE ${MINER} AND $timeFilter GROUP BY time($__interval), "board" fill(none)`]), {}, { unit: 'celsius' }),
    panel('timeseries', 'Fans', { x: 12, y: 8, w: 12, h: 8 }, influx([`SELECT mean("rpm") FROM ${tiered('miner_fan')} WHERE ${MINER} AND $timeFilter GROUP BY time($__interval), "fan" fill(none)`]), {}, { unit: 'rotrpm' }),
    panel('table', 'Hashboards and chips', { x: 0, y: 16, w: 12, h: 7 }, influx([`SELECT last("present") AS "present", last("chips_ok") AS "chips ok", last("chips_bad") AS "chips bad", last("chips_expected") AS "chips expected", last("hashrate_ths") AS "TH/s", last("frequency_mhz") AS "MHz" FROM "miner_board" WHERE ${MINER} AND $timeFilter GROUP BY "board"`], 'table')),
    panel('table', 'Pools', { x: 12, y: 16, w: 12, h: 7 }, influx([`SELECT last("url") AS "url", last("user") AS "worker", last("status") AS "status", last("accepted") AS "accepted", last("rejected") AS "rejected" FROM "miner_pool" WHERE ${MINER} AND $timeFilter GROUP BY "pool"`], 'table')),
    panel('table', 'Faults (last transition of each)', { x: 0, y: 23, w: 24, h: 7 }, influx([`SELECT last("active") AS "active", last("message") AS "message" FROM "fault" WHERE ${MINER} AND time > now() - 30d GROUP BY "code", "severity", "part"`], 'table')),
    // Issue 15: the miner's audit history (pools, firmware/version, serial/MAC, devfee switches), newest first.
    panel(
      'table',
      'Changes',
      { x: 0, y: 30, w: 24, h: 8 },
      influx([`SELECT "kind", "before", "after" FROM "miner_change" WHERE ${MINER} AND time > now() - 40d ORDER BY time DESC LIMIT 200`], 'table'),
      {},
      {},
      'Every change of this miner the exporter saw: pool list, firmware or version, serial or MAC, devfee switches (also: flymining miner changes MINER).',
    ),
  ],
  [site, miner, tier],
);

export const tvWall: Dashboard = dashboard(
  'flymining-tv-wall',
  'FlyMining · TV wall',
  [rackMap('', { x: 0, y: 0, w: 24, h: 30 }, { metric: 'health', tvMode: true, showLabels: true })],
  [site],
  { refresh: '15s', time: { from: 'now-30m', to: 'now' } },
);

export const alertsOverview: Dashboard = dashboard(
  'flymining-alerts',
  'FlyMining · Faults and alerts',
  [
    textPanel('About', { x: 0, y: 0, w: 24, h: 2 }, 'Faults as the exporters record them (measurement `fault`). Alert routing and silences (alerting/) are being built: their own figures join here once they are written to InfluxDB.'),
    panel('table', 'Faults: last transition of each (active = 1)', { x: 0, y: 2, w: 24, h: 10 }, influx([ACTIVE_FAULTS], 'table')),
    panel('timeseries', 'Faults raised by severity', { x: 0, y: 12, w: 12, h: 8 }, influx([`SELECT count("active") FROM "fault" WHERE ${SITE} AND "active" = 1 AND $timeFilter GROUP BY time($__interval), "severity" fill(0)`]), { drawStyle: 'bars' }),
    panel('bargauge', 'Faults raised by code', { x: 12, y: 12, w: 12, h: 8 }, influx([`SELECT count("active") FROM "fault" WHERE ${SITE} AND "active" = 1 AND $timeFilter GROUP BY "code"`]), { reduceOptions: { calcs: ['sum'] } }),
  ],
  [site],
);

export const billingOverview: Dashboard = dashboard(
  'flymining-billing',
  'FlyMining · Billing inputs',
  [
    textPanel('About', { x: 0, y: 0, w: 24, h: 2 }, 'What billing computes credits from: hashing and reachable uptime, and hashrate per day. Credits, payouts and the ledger live in PostgreSQL (billing/, being built) and are not shown here yet.'),
    panel('timeseries', 'Uptime per day', { x: 0, y: 2, w: 12, h: 8 }, influx([`SELECT ${minerShare('hashing')} AS "hashing", ${minerShare('reachable')} AS "reachable" FROM ${CONTAINERS} WHERE ${SITE} AND $timeFilter GROUP BY time(1d) fill(none)`]), { drawStyle: 'bars' }, { unit: 'percentunit', min: 0, max: 1 }),
    panel('timeseries', 'Farm hashrate, daily mean', { x: 12, y: 2, w: 12, h: 8 }, influx([containerSum('hashrate_ths', '1d')]), { drawStyle: 'bars' }, { unit: 'TH/s' }),
    panel('table', 'Hashing uptime per container', { x: 0, y: 10, w: 24, h: 8 }, influx([`SELECT ${minerShare('hashing')} AS "hashing", ${minerShare('reachable')} AS "reachable" FROM ${CONTAINERS} WHERE ${SITE} AND $timeFilter GROUP BY "container"`], 'table')),
  ],
  [site, tier],
);

const CONTAINER = `"container" =~ /^$container$/`;

/** Issue 14: what the write path did and why — staff actions and the policies' decisions, per container. */
export const control: Dashboard = dashboard(
  'flymining-control',
  'FlyMining · Control',
  [
    panel(
      'timeseries',
      'Actions on miners by outcome',
      { x: 0, y: 0, w: 12, h: 8 },
      influx([`SELECT count("duration_ms") FROM "control_action" WHERE ${SITE} AND ${CONTAINER} AND $timeFilter GROUP BY time($__interval), "outcome" fill(0)`]),
      { drawStyle: 'bars' },
      {},
      'Every reboot, sleep, wake, power, pools and blink, by staff or a policy (audit: control_action).',
    ),
    panel(
      'timeseries',
      'Intake against the loop\'s band',
      { x: 12, y: 0, w: 12, h: 8 },
      influx([`SELECT mean("intake_c") AS "intake", mean("band_low_c") AS "band low", mean("band_high_c") AS "band high" FROM "control_decision" WHERE ${SITE} AND ${CONTAINER} AND "policy" = 'temperature' AND $timeFilter GROUP BY time($__interval), "container" fill(none)`]),
      {},
      { unit: 'celsius' },
      'What the temperature loop judged at each evaluation: the intake reading and the band it keeps.',
    ),
    panel(
      'timeseries',
      'Container power against the curtailment target',
      { x: 0, y: 8, w: 12, h: 8 },
      influx([`SELECT mean("power_w") AS "power", mean("target_w") AS "target" FROM "control_decision" WHERE ${SITE} AND ${CONTAINER} AND "policy" = 'curtailment' AND $timeFilter GROUP BY time($__interval), "container" fill(none)`]),
      {},
      { unit: 'watt' },
    ),
    panel(
      'bargauge',
      'Decisions by policy',
      { x: 12, y: 8, w: 12, h: 8 },
      influx([`SELECT count("miners") FROM "control_decision" WHERE ${SITE} AND ${CONTAINER} AND $timeFilter GROUP BY "policy", "decision"`]),
      { reduceOptions: { calcs: ['sum'] } },
    ),
    panel(
      'table',
      'Recent actions',
      { x: 0, y: 16, w: 24, h: 10 },
      influx([`SELECT "container", "miner", "action", "outcome", "actor_kind", "actor", "detail", "reason", "reply" FROM "control_action" WHERE ${SITE} AND ${CONTAINER} AND $timeFilter ORDER BY time DESC LIMIT 300`], 'table'),
      {},
      {},
      'Newest first. The same entries are in the audit file of the machine that acted.',
    ),
    panel(
      'table',
      'Policy decisions',
      { x: 0, y: 26, w: 24, h: 10 },
      influx([`SELECT "container", "policy", "decision", "reason", "miners" FROM "control_decision" WHERE ${SITE} AND ${CONTAINER} AND $timeFilter ORDER BY time DESC LIMIT 300`], 'table'),
    ),
  ],
  [site, container],
);

export const DASHBOARDS: Record<string, Dashboard> = {
  'farm-overview.json': farmOverview,
  'container-climate.json': containerClimate,
  'miner-detail.json': minerDetail,
  'tv-wall.json': tvWall,
  'alerts-overview.json': alertsOverview,
  'billing-overview.json': billingOverview,
  'control.json': control,
};
