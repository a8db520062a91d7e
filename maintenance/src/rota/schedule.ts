/**
 * Who is on call at a moment: members take turns, one shift each (a day or a week), shifts change at the hand-over
 * time in the farm's own time zone (so a 08:00 hand-over stays 08:00 across daylight-saving changes). An override
 * (a swap, cover for a sick day) wins over the rotation while it lasts. Escalation level n is the n-th member after
 * whoever is on call, in rotation order.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';

export interface StaffMember {
  name: string;
  email?: string;
  telegram?: string;
  slack?: string;
  active: boolean;
}

export interface RotaOverride {
  id?: number;
  name: string;
  startsAt: Date;
  endsAt: Date;
  reason: string;
}

export interface Rota {
  timeZone: string;
  /** "HH:MM", local. */
  handover: string;
  shift: 'daily' | 'weekly';
  /** Local date (YYYY-MM-DD) whose hand-over starts members[0]'s first shift. */
  anchor: string;
  escalateAfterMs: number;
  /** In rotation order; only active members take shifts. */
  members: StaffMember[];
  overrides: RotaOverride[];
}

export interface OnCallShift {
  person: StaffMember;
  /** 0: on call; n: the n-th escalation. */
  level: number;
  /** The shift this answer holds for (an override's own bounds when one applies). */
  from: Date;
  until: Date;
  override?: RotaOverride;
}

export const rotaSettingsSchema = z.strictObject({
  time_zone: z.string().refine((tz) => DateTime.now().setZone(tz).isValid, 'an IANA time zone such as Europe/Oslo or America/Chicago'),
  handover: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM, e.g. 08:00'),
  shift: z.enum(['daily', 'weekly']).default('weekly'),
  anchor: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD'),
  escalate_after: z.string().regex(/^\d+(s|m|h)$/, 'a duration such as 15m').default('15m'),
});

function handoverAt(rota: Rota, localDate: DateTime): DateTime {
  const [h, m] = rota.handover.split(':').map(Number) as [number, number];
  return localDate.set({ hour: h, minute: m, second: 0, millisecond: 0 });
}

/** The rotation's shift holding `at`: its index since the anchor and its bounds. */
export function shiftAt(rota: Rota, at: Date): { index: number; from: Date; until: Date } {
  const days = rota.shift === 'weekly' ? 7 : 1;
  const anchor = handoverAt(rota, DateTime.fromISO(rota.anchor, { zone: rota.timeZone }));
  if (!anchor.isValid) throw new Error(`rota: anchor ${rota.anchor} or time zone ${rota.timeZone} is not valid`);
  const local = DateTime.fromJSDate(at, { zone: rota.timeZone });
  // Calendar days between the anchor's date and this local date, then back one shift if before today's hand-over.
  let dayOffset = Math.floor(local.startOf('day').diff(anchor.startOf('day'), 'days').days + 0.5);
  if (local < handoverAt(rota, local)) dayOffset -= 1;
  const index = Math.floor(dayOffset / days);
  const from = handoverAt(rota, anchor.plus({ days: index * days }));
  const until = handoverAt(rota, anchor.plus({ days: (index + 1) * days }));
  return { index, from: from.toJSDate(), until: until.toJSDate() };
}

/** Who answers a page at `at` at escalation `level` (0: on call). Undefined when nobody is on the rota. */
export function onCallAt(rota: Rota, at: Date, level = 0): OnCallShift | undefined {
  const members = rota.members.filter((m) => m.active);
  if (members.length === 0) return undefined;
  const shift = shiftAt(rota, at);
  const scheduled = members[((shift.index % members.length) + members.length) % members.length]!;
  const override = rota.overrides.find((o) => o.startsAt <= at && at < o.endsAt);
  const first = override ? (rota.members.find((m) => m.name === override.name) ?? { name: override.name, active: true }) : scheduled;
  if (level === 0) return override ? { person: first, level, from: override.startsAt, until: override.endsAt, override } : { person: first, level, from: shift.from, until: shift.until };
  // Escalation walks the rotation after the person on call, skipping them; beyond the last member nobody is left.
  const start = Math.max(0, members.findIndex((m) => m.name === first.name));
  const others = [...members.slice(start + 1), ...members.slice(0, start)].filter((m) => m.name !== first.name);
  const person = others[level - 1];
  return person ? { person, level, from: shift.from, until: shift.until } : undefined;
}

/** The next `count` shifts from `from`: what the staff page's rota table shows. */
export function upcomingShifts(rota: Rota, from: Date, count: number): OnCallShift[] {
  const shifts: OnCallShift[] = [];
  let at = from;
  for (let i = 0; i < count; i += 1) {
    const s = onCallAt(rota, at);
    if (!s) break;
    shifts.push(s);
    at = new Date(s.until.getTime());
  }
  return shifts;
}
