/**
 * The effectiveness figures: per day, week or month, and per technician, container or fault type:
 *   MTTA  mean time from a ticket opening to its acknowledgement (counted when acknowledged)
 *   MTTR  mean time from a ticket opening to its fix (counted when fixed: the fault cleared after the repair)
 *   opened / repeats (the same machine failing again within 7 days of a fix) / self-healed / repaired per person
 *   lost TH·h and BTC of the tickets opened in the period (filled once a ticket closes)
 * Each figure is counted in the period its event happened, in the farm's time zone. One SQL statement over the
 * ticket table: a year of a 5,000-miner farm is ~36,000 tickets (bench/tickets.ts measures it).
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { BACKLOG_STATES } from '../domain';

export const PERIODS = ['day', 'week', 'month'] as const;
export const DIMENSIONS = ['none', 'technician', 'container', 'fault'] as const;
export type Period = (typeof PERIODS)[number];
export type Dimension = (typeof DIMENSIONS)[number];

export const reportQuerySchema = z.strictObject({
  from: z.coerce.date(),
  to: z.coerce.date(),
  period: z.enum(PERIODS).default('week'),
  by: z.enum(DIMENSIONS).default('none'),
  timeZone: z.string().max(64).default('UTC'),
});
export type ReportQuery = z.input<typeof reportQuerySchema>;

export interface ReportRow {
  /** Local date the period starts on (YYYY-MM-DD). */
  period: string;
  /** Technician, container or fault code; 'all' without a dimension. Rows without one show as '(none)'. */
  key: string;
  opened: number;
  repeats: number;
  acknowledged: number;
  /** Seconds; null when nothing was acknowledged in the period. */
  mttaS: number | null;
  repaired: number;
  mttrS: number | null;
  selfHealed: number;
  lostThHours: number;
  lostBtc: string;
}

// For each dimension: the column of the event stream that names the row (a technician only exists for the
// acknowledgement and the fix, so "opened" rows of that dimension are '(none)').
const KEY_COLUMN: Record<Dimension, string> = { none: `'all'`, technician: `COALESCE(who, '(none)')`, container: 'container', fault: 'fault' };

export async function effectivenessReport(pool: Pool, query: ReportQuery): Promise<ReportRow[]> {
  const q = reportQuerySchema.parse(query);
  const { rows } = await pool.query<{
    period: string;
    key: string;
    opened: string;
    repeats: string;
    acknowledged: string;
    mtta: number | null;
    repaired: string;
    mttr: number | null;
    self_healed: string;
    lost_th_hours: string | null;
    lost_btc: string | null;
  }>(
    `WITH events AS (
       SELECT 'opened' AS kind, opened_at AS at, NULL::text AS who, container, fault, NULL::float8 AS seconds,
              repeat_of IS NOT NULL AS repeat, lost_th_hours, lost_btc
         FROM maintenance.tickets WHERE opened_at >= $1 AND opened_at < $2
       UNION ALL
       SELECT 'acknowledged', acknowledged_at, acknowledged_by, container, fault, extract(epoch FROM acknowledged_at - opened_at), false, NULL, NULL
         FROM maintenance.tickets WHERE acknowledged_at >= $1 AND acknowledged_at < $2
       UNION ALL
       SELECT 'fixed', fixed_at, fixed_by, container, fault, extract(epoch FROM fixed_at - opened_at), false, NULL, NULL
         FROM maintenance.tickets WHERE fixed_at >= $1 AND fixed_at < $2
       UNION ALL
       SELECT 'self_healed', closed_at, NULL, container, fault, NULL, false, NULL, NULL
         FROM maintenance.tickets WHERE state = 'self_healed' AND closed_at >= $1 AND closed_at < $2
     )
     SELECT to_char(date_trunc($3, at AT TIME ZONE $4), 'YYYY-MM-DD') AS period, ${KEY_COLUMN[q.by]} AS key,
            count(*) FILTER (WHERE kind = 'opened') AS opened,
            count(*) FILTER (WHERE kind = 'opened' AND repeat) AS repeats,
            count(*) FILTER (WHERE kind = 'acknowledged') AS acknowledged,
            avg(seconds) FILTER (WHERE kind = 'acknowledged') AS mtta,
            count(*) FILTER (WHERE kind = 'fixed') AS repaired,
            avg(seconds) FILTER (WHERE kind = 'fixed') AS mttr,
            count(*) FILTER (WHERE kind = 'self_healed') AS self_healed,
            sum(lost_th_hours) AS lost_th_hours, sum(lost_btc) AS lost_btc
       FROM events GROUP BY 1, 2 ORDER BY 1, 2`,
    [q.from, q.to, q.period, q.timeZone],
  );
  return rows.map((r) => ({
    period: r.period,
    key: r.key,
    opened: Number(r.opened),
    repeats: Number(r.repeats),
    acknowledged: Number(r.acknowledged),
    mttaS: r.mtta === null ? null : Math.round(r.mtta),
    repaired: Number(r.repaired),
    mttrS: r.mttr === null ? null : Math.round(r.mttr),
    selfHealed: Number(r.self_healed),
    lostThHours: Number(r.lost_th_hours ?? 0),
    lostBtc: Number(r.lost_btc ?? 0).toFixed(8),
  }));
}

export interface Backlog {
  open: number;
  bySeverity: Record<'critical' | 'warning' | 'info', number>;
  /** Open tickets by age: under 1 h, 1-4 h, 4-24 h, 1-7 days, older. */
  byAge: { under1h: number; under4h: number; under24h: number; under7d: number; older: number };
  oldestS: number | null;
  unacknowledged: number;
}

export async function backlog(pool: Pool, now = new Date()): Promise<Backlog> {
  const { rows } = await pool.query<Record<string, string | null>>(
    `SELECT count(*) AS open,
            count(*) FILTER (WHERE severity = 'critical') AS critical, count(*) FILTER (WHERE severity = 'warning') AS warning,
            count(*) FILTER (WHERE severity = 'info') AS info,
            count(*) FILTER (WHERE $1 - opened_at < interval '1 hour') AS under1h,
            count(*) FILTER (WHERE $1 - opened_at >= interval '1 hour' AND $1 - opened_at < interval '4 hours') AS under4h,
            count(*) FILTER (WHERE $1 - opened_at >= interval '4 hours' AND $1 - opened_at < interval '24 hours') AS under24h,
            count(*) FILTER (WHERE $1 - opened_at >= interval '24 hours' AND $1 - opened_at < interval '7 days') AS under7d,
            count(*) FILTER (WHERE $1 - opened_at >= interval '7 days') AS older,
            count(*) FILTER (WHERE acknowledged_at IS NULL) AS unacknowledged,
            extract(epoch FROM $1 - min(opened_at)) AS oldest
       FROM maintenance.tickets WHERE state = ANY($2)`,
    [now, BACKLOG_STATES],
  );
  const r = rows[0]!;
  const n = (k: string): number => Number(r[k] ?? 0);
  return {
    open: n('open'),
    bySeverity: { critical: n('critical'), warning: n('warning'), info: n('info') },
    byAge: { under1h: n('under1h'), under4h: n('under4h'), under24h: n('under24h'), under7d: n('under7d'), older: n('older') },
    oldestS: r.oldest === null || r.oldest === undefined ? null : Math.round(Number(r.oldest)),
    unacknowledged: n('unacknowledged'),
  };
}

export interface WeekOverWeek {
  thisWeek: { mttrS: number | null; repaired: number; mttaS: number | null };
  lastWeek: { mttrS: number | null; repaired: number; mttaS: number | null };
}

/**
 * MTTR and MTTA of this week so far and of last week (weeks start Monday in the farm's time zone). The week's bounds
 * are turned into instants so the indexes on fixed_at and acknowledged_at serve it (the TV wall polls this).
 */
export async function weekOverWeek(pool: Pool, now = new Date(), timeZone = 'UTC'): Promise<WeekOverWeek> {
  const { rows } = await pool.query<{ week: string; mttr: number | null; repaired: string; mtta: number | null }>(
    `WITH bounds AS (SELECT date_trunc('week', $1::timestamptz AT TIME ZONE $2) AS this_week)
     SELECT w.week,
            (SELECT avg(extract(epoch FROM fixed_at - opened_at)) FROM maintenance.tickets
              WHERE fixed_at >= w.starts AT TIME ZONE $2 AND fixed_at < (w.starts + interval '7 days') AT TIME ZONE $2) AS mttr,
            (SELECT count(*) FROM maintenance.tickets
              WHERE fixed_at >= w.starts AT TIME ZONE $2 AND fixed_at < (w.starts + interval '7 days') AT TIME ZONE $2) AS repaired,
            (SELECT avg(extract(epoch FROM acknowledged_at - opened_at)) FROM maintenance.tickets
              WHERE acknowledged_at >= w.starts AT TIME ZONE $2 AND acknowledged_at < (w.starts + interval '7 days') AT TIME ZONE $2) AS mtta
       FROM bounds, LATERAL (VALUES ('this', bounds.this_week), ('last', bounds.this_week - interval '7 days')) AS w(week, starts)`,
    [now, timeZone],
  );
  const pick = (week: string): WeekOverWeek['thisWeek'] => {
    const r = rows.find((x) => x.week === week);
    return { mttrS: r?.mttr == null ? null : Math.round(r.mttr), repaired: Number(r?.repaired ?? 0), mttaS: r?.mtta == null ? null : Math.round(r.mtta) };
  };
  return { thisWeek: pick('this'), lastWeek: pick('last') };
}
