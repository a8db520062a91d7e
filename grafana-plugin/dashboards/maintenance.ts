/**
 * "Maintenance & effectiveness": how fast faults are acknowledged and repaired, by whom, what stays open, what
 * fails again and what it cost (PostgreSQL, schema maintenance), beside how well the farm mines (InfluxDB).
 * The SQL counts each figure when its event happened, as the staff page's report does (maintenance/src/figures/
 * report.ts): MTTA in the week of the acknowledgement, MTTR in the week of the fix, repeats and losses in the week the
 * ticket opened. Weeks start on Monday in the rota's time zone (UTC without a rota), like the report's.
 */
import { BACKLOG_STATES } from '../../maintenance/src/domain';
import { containerSum, minerShare, SITE, tier } from './dashboards';
import { dashboard, influx, panel, sql, sqlPanel, tagVariable, textPanel, tiered, type AnyTarget, type Dashboard } from './model';

/** Tickets of the chosen site; "All" is `.*`. The raw format: Grafana would otherwise quote the value. */
const TICKET_SITE = `site ~ '^\${site:raw}$'`;
const FARM_ZONE = `COALESCE((SELECT time_zone FROM maintenance.rota_settings WHERE id = 1), 'UTC')`;
/** The start of the week holding `column`, as a timestamptz (Grafana's time column). */
const week = (column: string) => `date_trunc('week', ${column} AT TIME ZONE ${FARM_ZONE}) AT TIME ZONE ${FARM_ZONE}`;
const BACKLOG = `state IN (${BACKLOG_STATES.map((s) => `'${s}'`).join(', ')})`;

export const MAINTENANCE_SQL = {
  mttaMttr:
    `WITH times AS (\n` +
    `  SELECT ${week('acknowledged_at')} AS week, extract(epoch FROM acknowledged_at - opened_at) AS tta, NULL::float8 AS ttr\n` +
    `    FROM maintenance.tickets WHERE $__timeFilter(acknowledged_at) AND ${TICKET_SITE}\n` +
    `  UNION ALL\n` +
    `  SELECT ${week('fixed_at')}, NULL, extract(epoch FROM fixed_at - opened_at)\n` +
    `    FROM maintenance.tickets WHERE $__timeFilter(fixed_at) AND ${TICKET_SITE}\n` +
    `)\n` +
    `SELECT week AS "time", avg(tta) AS "MTTA", avg(ttr) AS "MTTR" FROM times GROUP BY week ORDER BY week`,
  backlogByAge:
    `SELECT count(*) FILTER (WHERE now() - opened_at < interval '1 hour') AS "under 1 h",\n` +
    `       count(*) FILTER (WHERE now() - opened_at >= interval '1 hour' AND now() - opened_at < interval '4 hours') AS "1–4 h",\n` +
    `       count(*) FILTER (WHERE now() - opened_at >= interval '4 hours' AND now() - opened_at < interval '24 hours') AS "4–24 h",\n` +
    `       count(*) FILTER (WHERE now() - opened_at >= interval '24 hours' AND now() - opened_at < interval '7 days') AS "1–7 days",\n` +
    `       count(*) FILTER (WHERE now() - opened_at >= interval '7 days') AS "older"\n` +
    `  FROM maintenance.tickets WHERE ${BACKLOG} AND ${TICKET_SITE}`,
  oldestOpen: `SELECT extract(epoch FROM now() - min(opened_at)) AS "oldest" FROM maintenance.tickets WHERE ${BACKLOG} AND ${TICKET_SITE}`,
  repeats:
    `SELECT ${week('opened_at')} AS "time", count(*) FILTER (WHERE repeat_of IS NOT NULL) AS "repeat failures", count(*) AS "tickets opened"\n` +
    `  FROM maintenance.tickets WHERE $__timeFilter(opened_at) AND ${TICKET_SITE} GROUP BY 1 ORDER BY 1`,
  repeatMachines:
    `SELECT m.identity AS "machine", max(t.miner) AS "last slot", count(*) AS "tickets", count(*) FILTER (WHERE t.repeat_of IS NOT NULL) AS "repeats",\n` +
    `       string_agg(DISTINCT t.fault, ', ') AS "faults"\n` +
    `  FROM maintenance.tickets t JOIN maintenance.machines m ON m.id = t.machine_id\n` +
    ` WHERE $__timeFilter(t.opened_at) AND t.${TICKET_SITE}\n` +
    ` GROUP BY m.identity HAVING count(*) FILTER (WHERE t.repeat_of IS NOT NULL) > 0 ORDER BY 4 DESC, 1 LIMIT 50`,
  perTechnician:
    `WITH acts AS (\n` +
    `  SELECT acknowledged_by AS who, 'acknowledged' AS kind, NULL::float8 AS ttr FROM maintenance.tickets\n` +
    `   WHERE acknowledged_by IS NOT NULL AND $__timeFilter(acknowledged_at) AND ${TICKET_SITE}\n` +
    `  UNION ALL\n` +
    `  SELECT taken_by, 'taken', NULL FROM maintenance.tickets WHERE taken_by IS NOT NULL AND $__timeFilter(taken_at) AND ${TICKET_SITE}\n` +
    `  UNION ALL\n` +
    `  SELECT fixed_by, 'repaired', extract(epoch FROM fixed_at - opened_at) FROM maintenance.tickets\n` +
    `   WHERE fixed_by IS NOT NULL AND $__timeFilter(fixed_at) AND ${TICKET_SITE}\n` +
    `)\n` +
    `SELECT who AS "technician", count(*) FILTER (WHERE kind = 'acknowledged') AS "acknowledged", count(*) FILTER (WHERE kind = 'taken') AS "taken",\n` +
    `       count(*) FILTER (WHERE kind = 'repaired') AS "repaired", avg(ttr) AS "MTTR"\n` +
    `  FROM acts GROUP BY who ORDER BY 4 DESC, 1`,
  losses:
    `SELECT ${week('opened_at')} AS "time", sum(lost_th_hours)::float8 AS "lost TH·h", sum(lost_btc)::float8 AS "lost BTC"\n` +
    `  FROM maintenance.tickets WHERE $__timeFilter(opened_at) AND ${TICKET_SITE} AND lost_th_hours IS NOT NULL GROUP BY 1 ORDER BY 1`,
} as const;

export const MAINTENANCE_INFLUXQL = {
  delivered: containerSum('hashrate_ths'),
  nominal: containerSum('nominal_ths'),
  uptime: `SELECT ${minerShare('hashing')} AS "hashing" FROM ${tiered('container_sweep')} WHERE ${SITE} AND $timeFilter GROUP BY time($__interval) fill(none)`,
  efficiency: `SELECT mean("efficiency_jth") AS "J/TH" FROM ${tiered('container_sweep')} WHERE ${SITE} AND "efficiency_jth" > 0 AND $timeFilter GROUP BY time($__interval) fill(none)`,
} as const;

const seconds = { unit: 's', decimals: 0 };
const overrideUnit = (field: string, unit: string, extra: Record<string, unknown> = {}) => ({
  matcher: { id: 'byName', options: field },
  properties: [{ id: 'unit', value: unit }, ...Object.entries(extra).map(([id, value]) => ({ id, value }))],
});

export const maintenanceEffectiveness: Dashboard<AnyTarget> = dashboard<AnyTarget>(
  'flymining-maintenance',
  'FlyMining · Maintenance & effectiveness',
  [
    textPanel('About', { x: 0, y: 0, w: 24, h: 2 }, 'Repair tickets (PostgreSQL, schema `maintenance`): MTTA counted in the week of the acknowledgement, MTTR in the week of the fix, repeats and lost TH·h/BTC in the week the ticket opened. Mining from InfluxDB. The staff page (`/figures`) has the same figures per technician, container and fault.'),
    sqlPanel('timeseries', 'MTTA and MTTR per week', { x: 0, y: 2, w: 12, h: 8 }, sql([MAINTENANCE_SQL.mttaMttr]), { legend: { displayMode: 'list', placement: 'bottom' } }, { ...seconds, custom: { drawStyle: 'line', pointSize: 6, showPoints: 'always' } }),
    sqlPanel('bargauge', 'Open backlog by age', { x: 12, y: 2, w: 8, h: 8 }, sql([MAINTENANCE_SQL.backlogByAge], 'table'), { orientation: 'horizontal', displayMode: 'basic', reduceOptions: { calcs: ['lastNotNull'], values: false, fields: '' } }, { unit: 'none', decimals: 0, min: 0 }),
    sqlPanel('stat', 'Oldest open ticket', { x: 20, y: 2, w: 4, h: 8 }, sql([MAINTENANCE_SQL.oldestOpen], 'table'), { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value', graphMode: 'none' }, { ...seconds, noValue: 'none open' }),
    sqlPanel('timeseries', 'Repeat failures per week', { x: 0, y: 10, w: 12, h: 8 }, sql([MAINTENANCE_SQL.repeats]), {}, { unit: 'none', decimals: 0, custom: { drawStyle: 'bars', fillOpacity: 60 } }, 'The same machine and part failing again within 7 days of the previous ticket closing'),
    sqlPanel('table', 'Machines failing again', { x: 12, y: 10, w: 12, h: 8 }, sql([MAINTENANCE_SQL.repeatMachines], 'table')),
    sqlPanel('table', 'Tickets per technician', { x: 0, y: 18, w: 12, h: 8 }, sql([MAINTENANCE_SQL.perTechnician], 'table'), {}, {}, undefined, [overrideUnit('MTTR', 's')]),
    sqlPanel('timeseries', 'Lost TH·h and BTC per week', { x: 12, y: 18, w: 12, h: 8 }, sql([MAINTENANCE_SQL.losses]), {}, { custom: { drawStyle: 'bars', fillOpacity: 60 } }, 'Hashrate lost to each ticket while it was open (from the stored samples) and its value at that day\'s hashprice; filled when a ticket closes', [
      overrideUnit('lost TH·h', 'none', { decimals: 1 }),
      overrideUnit('lost BTC', 'none', { decimals: 8, 'custom.axisPlacement': 'right' }),
    ]),
    panel('timeseries', 'Delivered vs nominal hashrate', { x: 0, y: 26, w: 12, h: 8 }, influx({ delivered: MAINTENANCE_INFLUXQL.delivered, nominal: MAINTENANCE_INFLUXQL.nominal }), {}, { unit: 'TH/s' }),
    panel('timeseries', 'Uptime (miners hashing)', { x: 12, y: 26, w: 6, h: 8 }, influx([MAINTENANCE_INFLUXQL.uptime]), {}, { unit: 'percentunit', min: 0, max: 1 }, 'The share of scrapes that found the miner hashing (container_sweep: miners hashing over miners watched)'),
    panel('timeseries', 'Efficiency', { x: 18, y: 26, w: 6, h: 8 }, influx([MAINTENANCE_INFLUXQL.efficiency]), {}, { unit: 'none', decimals: 1 }, 'J/TH, mean over containers of their miners\' mean (reported, else power / hashrate)'),
  ],
  [tagVariable('site', 'Site', 'miner_up'), tier],
  { refresh: '5m', time: { from: 'now-90d', to: 'now' } },
);

/** Dashboards that read PostgreSQL too (the others read InfluxDB alone). */
export const MAINTENANCE_DASHBOARDS: Record<string, Dashboard<AnyTarget>> = {
  'maintenance-effectiveness.json': maintenanceEffectiveness,
};
