/** How the staff page and the CLI write times, ages and places: in the farm's time zone, short and readable. */
import { DateTime } from 'luxon';
import type { Ticket } from '../domain';

/** "3 d 4 h", "2 h 15 min", "40 s": the two largest units of a duration. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "2026-11-02 10:45" in the zone given (the farm's). */
export function formatTime(at: Date | null, timeZone: string): string {
  if (!at) return '–';
  return DateTime.fromJSDate(at, { zone: timeZone }).toFormat('yyyy-LL-dd HH:mm');
}

/** "Mon 2026-11-02 08:00" for shift bounds. */
export function formatShiftTime(at: Date, timeZone: string): string {
  return DateTime.fromJSDate(at, { zone: timeZone }).toFormat('ccc yyyy-LL-dd HH:mm');
}

/** Container/rack/shelf/slot as staff say it: "C01 R1 S1 #2"; a container-level fault (place "-") is "C01". */
export function formatPlace(t: Pick<Ticket, 'container' | 'rack' | 'shelf' | 'slot'>): string {
  const known = (v: string): string => (v === '-' ? '' : v);
  const slot = known(t.slot);
  return [t.container, known(t.rack), known(t.shelf), slot ? `#${slot}` : ''].filter(Boolean).join(' ') || '–';
}

/** Who works or worked the ticket. */
export function ticketOwner(t: Ticket): string {
  return t.fixedBy ?? t.takenBy ?? t.acknowledgedBy ?? '–';
}

export function ageOf(t: Ticket, now: Date): number {
  return ((t.closedAt ?? now).getTime() - t.openedAt.getTime()) / 1000;
}

/**
 * A time staff typed: ISO with an offset ("2026-12-01T08:00:00Z", "…+01:00"), or a local date-time without one
 * ("2026-12-01T08:00", "2026-12-01 08:00", "2026-12-01"), read in the farm's zone. Undefined when it is neither.
 */
export function parseStaffTime(text: string, timeZone: string): Date | undefined {
  const trimmed = text.trim().replace(' ', 'T');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(trimmed)) return undefined;
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/.test(trimmed) && trimmed.includes('T');
  const parsed = hasOffset ? DateTime.fromISO(trimmed, { setZone: true }) : DateTime.fromISO(trimmed, { zone: timeZone });
  return parsed.isValid ? parsed.toJSDate() : undefined;
}
