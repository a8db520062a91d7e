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
 * The newest minutes, read raw: one row per miner and sweep (30-60 s), tags as columns, the newest row per miner
 * picked by rows.ts. At 5,000 miners, last() per miner GROUP BY its place tags answered 5,000 series (an iterator
 * per series and field, 1.6 MB of JSON) in 1-5 s whatever the window (issue 17); a raw select answers one series.
 * As long as the default stale threshold (180 s): a miner with no point in it is stale, found by `stale` below.
 */
export const RACKMAP_FRESH_WINDOW = '3m';
const FRESH = `$timeFilter AND time > \${__to}ms - ${RACKMAP_FRESH_WINDOW}`;
const KNOWN = `$timeFilter AND time > \${__to}ms - ${RACKMAP_WINDOW}`;
const SITE = `"site" =~ /^$site$/`;

export const RACKMAP_QUERIES = {
  /** Scrape attempts of the fresh window: the newest per miner decides unreachable (its value) and stale (its time). */
  up: `SELECT "reachable", ${PLACE} FROM "miner_up" WHERE ${SITE} AND ${FRESH}`,
  /**
   * Miners whose newest scrape attempt is older than the fresh window (stale ones, or a silent container's): the
   * outer WHERE keeps only those, so the answer is as small as the number of such miners.
   */
  stale:
    `SELECT "reachable", ${PLACE} FROM (SELECT last("reachable") AS "reachable" FROM "miner_up" WHERE ${SITE} AND ${KNOWN} GROUP BY ${PLACE}) ` +
    `WHERE time <= \${__to}ms - ${RACKMAP_FRESH_WINDOW}`,
  miner: `SELECT "temp_max_c", "hashrate_ths", "nominal_ths", "fan_min_rpm", "power_w", "mode", ${PLACE}, "model" FROM "miner" WHERE ${SITE} AND ${FRESH}`,
  /** Last transition of every fault in 30 days (not the dashboard window: a fault raised last week is still on). */
  faults:
    `SELECT last("active") AS "active", last("message") AS "message", last("since_ms") AS "since_ms" FROM "fault" ` +
    `WHERE "site" =~ /^$site$/ AND time > now() - 30d GROUP BY ${PLACE}, "code", "severity", "part"`,
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
