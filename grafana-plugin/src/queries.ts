/**
 * The InfluxQL the rack map needs (Grafana macros $timeFilter and a $site variable). The provisioned dashboards
 * and the TV-wall server both use these, so what a test proves about them holds for both.
 */
const PLACE = `"site", "container", "rack", "shelf", "slot", "miner"`;
/**
 * The newest points only: the dashboard's range, cut to its last RACKMAP_WINDOW (Grafana's `${__to}`, epoch ms).
 * last() per miner reads every point of the window, so over a 30-day range at 5,000 miners it would read them all
 * (issue 17); a sweep is 30-60 s, so the window holds many sweeps. A container silent for longer loses its slots
 * but keeps its silent header (heartbeats, 30 days).
 */
export const RACKMAP_WINDOW = '15m';
const NEWEST = `$timeFilter AND time > \${__to}ms - ${RACKMAP_WINDOW}`;

export const RACKMAP_QUERIES = {
  /** Newest scrape attempt per miner: its time decides stale, its value unreachable. */
  up: `SELECT last("reachable") AS "reachable" FROM "miner_up" WHERE "site" =~ /^$site$/ AND ${NEWEST} GROUP BY ${PLACE}`,
  miner:
    `SELECT last("temp_max_c") AS "temp_max_c", last("hashrate_ths") AS "hashrate_ths", last("nominal_ths") AS "nominal_ths", ` +
    `last("fan_min_rpm") AS "fan_min_rpm", last("power_w") AS "power_w", last("mode") AS "mode" ` +
    `FROM "miner" WHERE "site" =~ /^$site$/ AND ${NEWEST} GROUP BY ${PLACE}, "model"`,
  /** Last transition of every fault in 30 days (not the dashboard window: a fault raised last week is still on). */
  faults:
    `SELECT last("active") AS "active", last("message") AS "message", last("since_ms") AS "since_ms" FROM "fault" ` +
    `WHERE "site" =~ /^$site$/ AND time > now() - 30d GROUP BY ${PLACE}, "code", "severity", "part"`,
  climate:
    `SELECT last("intake_c") AS "intake_c", last("exhaust_c") AS "exhaust_c" FROM "climate_container" ` +
    `WHERE "site" =~ /^$site$/ AND ${NEWEST} GROUP BY "site", "container"`,
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
