/**
 * The InfluxQL the rack map needs (Grafana macros $timeFilter and a $site variable). The provisioned dashboards
 * and the TV-wall server both use these, so what a test proves about them holds for both.
 */
const PLACE = `"site", "container", "rack", "shelf", "slot", "miner"`;
/**
 * How far back a miner is still placed on the map: the dashboard's range, cut to its last RACKMAP_WINDOW (Grafana's
 * `${__to}`, epoch ms). Older than that, a miner loses its slot; a container silent for longer keeps its silent
 * header (heartbeats, 30 days).
 */
export const RACKMAP_WINDOW = '15m';
/**
 * The miners' values are read raw over the newest minutes only: one row per miner and sweep (30-60 s), tags as
 * columns, the newest value per miner picked by rows.ts. last() of six fields per miner GROUP BY its place tags (an
 * iterator per series and field, 5,000 series in the answer) took 1.2 s at 5,000 miners on an idle machine and
 * up to 5 s under load, whatever the window (issue 17); as a subquery like `up`'s, 0.7 s. 7 minutes: a miner that
 * stopped answering a few minutes ago keeps its model and nominal (the TV wall band's nominal counts it, so its loss
 * lowers the farm's share), at 0.3-0.4 s for 5,000 miners at 60 s sweeps (3 minutes: 0.13-0.21 s, but such a miner
 * left the nominal; 15 minutes, as long as the map places a miner: 0.7-0.8 s, the panel just over 1 s). A miner
 * silent for longer than 7 minutes is shown unreachable or stale without values, and leaves the band's nominal.
 */
export const RACKMAP_VALUES_WINDOW = '7m';
const KNOWN = `$timeFilter AND time > \${__to}ms - ${RACKMAP_WINDOW}`;
const SITE = `"site" =~ /^$site$/`;

export const RACKMAP_QUERIES = {
  /**
   * Newest scrape attempt per miner: its time decides stale, its value unreachable. last() per miner in a subquery,
   * its rows selected raw: the answer is one series of one row per miner, not a series per miner (about half the
   * time at 5,000 miners), and each row keeps its point's own time.
   */
  up: `SELECT "reachable", ${PLACE} FROM (SELECT last("reachable") AS "reachable" FROM "miner_up" WHERE ${SITE} AND ${KNOWN} GROUP BY ${PLACE})`,
  miner:
    `SELECT "temp_max_c", "hashrate_ths", "nominal_ths", "fan_min_rpm", "power_w", "mode", ${PLACE}, "model" FROM "miner" ` +
    `WHERE ${SITE} AND $timeFilter AND time > \${__to}ms - ${RACKMAP_VALUES_WINDOW}`,
  /**
   * Faults whose last transition in 30 days raised them (not the dashboard window: a fault raised last week is still
   * on). One selector with the transition's other fields beside it, per fault series in a subquery, and only the
   * active ones selected raw: a small answer of one series. Three last() GROUP BY nine tags answered every fault
   * series of the month (2,857 at 5,000 miners) in 0.5-0.8 s.
   */
  faults:
    `SELECT "active", "message", "since_ms", ${PLACE}, "code", "severity", "part" FROM (` +
    `SELECT last("active") AS "active", "message", "since_ms" FROM "fault" WHERE ${SITE} AND time > now() - 30d GROUP BY ${PLACE}, "code", "severity", "part"` +
    `) WHERE "active" = 1`,
  climate:
    `SELECT last("intake_c") AS "intake_c", last("exhaust_c") AS "exhaust_c" FROM "climate_container" ` +
    `WHERE ${SITE} AND ${KNOWN} GROUP BY "site", "container"`,
  /**
   * Newest heartbeat of each container's edge (source miner), with its own time: a raw select, newest first, one
   * row per series (a selector function with several fields would carry the window start instead). 30 days, not
   * the dashboard window, so a container silent for hours is still known to be silent. No edges: no rows.
   */
  heartbeats:
    `SELECT "seq", "interval_ms", "clock_offset_ms" FROM "edge_heartbeat" WHERE "site" =~ /^$site$/ AND "source" = 'miner' AND time > now() - 30d ` +
    `GROUP BY "site", "container", "edge", "source" ORDER BY time DESC LIMIT 1`,
} as const;

export type RackMapQueryName = keyof typeof RACKMAP_QUERIES;
