/** What the API and the pages both read: the farm's time zone, the rota now, the figures, the TV wall's summary. */
import type { Pool } from 'pg';
import { backlog, effectivenessReport, weekOverWeek, type Backlog, type ReportRow, type WeekOverWeek } from '../figures/report';
import { onCallAt, upcomingShifts, type OnCallShift, type Rota } from '../rota/schedule';
import { RotaStore } from '../rota/store';
import { TicketStore } from '../tickets/store';
import { figuresQuerySchema, figuresRange } from './inputs';
import type { z } from 'zod';

export interface StaffData {
  pool: Pool;
  tickets: TicketStore;
  rota: RotaStore;
  now(): Date;
  /** The rota's zone, else the configured default (UTC). */
  timeZone(): Promise<string>;
}

export function staffData(pool: Pool, options: { now?: () => Date; defaultTimeZone?: string } = {}): StaffData {
  const rota = new RotaStore(pool);
  return {
    pool,
    tickets: new TicketStore(pool),
    rota,
    now: options.now ?? (() => new Date()),
    async timeZone() {
      const settings = await pool.query<{ time_zone: string }>('SELECT time_zone FROM maintenance.rota_settings WHERE id = 1');
      return settings.rows[0]?.time_zone ?? options.defaultTimeZone ?? 'UTC';
    },
  };
}

export interface RotaNow {
  rota: Rota | undefined;
  onCall: OnCallShift | undefined;
  upcoming: OnCallShift[];
}

export async function rotaNow(data: StaffData, at = data.now(), shifts = 8): Promise<RotaNow> {
  const rota = await data.rota.load();
  if (!rota) return { rota, onCall: undefined, upcoming: [] };
  return { rota, onCall: onCallAt(rota, at), upcoming: upcomingShifts(rota, at, shifts) };
}

export interface Figures {
  range: { from: string; to: string; period: string; by: string; timeZone: string };
  rows: ReportRow[];
  /** Per period without a dimension (the chart). */
  totals: ReportRow[];
  backlog: Backlog;
  weekOverWeek: WeekOverWeek;
  repeatOffenders: Array<{ serial: string; kind: string; removals: number; lastAt: Date }>;
}

export async function figures(data: StaffData, query: z.output<typeof figuresQuerySchema>): Promise<Figures> {
  const timeZone = await data.timeZone();
  const now = data.now();
  const r = figuresRange(query, now, timeZone);
  const base = { from: r.fromAt, to: r.toAt, period: query.period, timeZone };
  const [rows, totals, open, wow, repeatOffenders] = await Promise.all([
    effectivenessReport(data.pool, { ...base, by: query.by }),
    query.by === 'none' ? Promise.resolve(undefined) : effectivenessReport(data.pool, { ...base, by: 'none' }),
    backlog(data.pool, now),
    weekOverWeek(data.pool, now, timeZone),
    data.tickets.repeatOffenders(),
  ]);
  return { range: { from: r.from, to: r.to, period: query.period, by: query.by, timeZone }, rows, totals: totals ?? rows, backlog: open, weekOverWeek: wow, repeatOffenders };
}

export interface Summary {
  backlog: Backlog;
  weekOverWeek: WeekOverWeek;
  onCall: { name: string; until: string } | null;
}

/** What the TV wall's maintenance band shows. */
export async function summary(data: StaffData): Promise<Summary> {
  const now = data.now();
  const timeZone = await data.timeZone();
  const [open, wow, rota] = await Promise.all([backlog(data.pool, now), weekOverWeek(data.pool, now, timeZone), data.rota.load()]);
  const shift = rota ? onCallAt(rota, now) : undefined;
  return { backlog: open, weekOverWeek: wow, onCall: shift ? { name: shift.person.name, until: shift.until.toISOString() } : null };
}
