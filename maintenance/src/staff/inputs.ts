/**
 * What the staff API and pages accept, validated at the edge: path ids, list filters, figure ranges and action
 * bodies. Messages name the field, so a 400 says what to fix.
 */
import { formatIssues } from '@flymining/shared';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { actorSchema, repairSchema, TicketError, TICKET_STATES } from '../domain';
import { DIMENSIONS, PERIODS } from '../figures/report';

/** A zod failure as the 400 staff read: every field and what is wrong with it. */
export class InputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, whole: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InputError(formatIssues(result.error, { whole, limit: 10 }));
  return result.data;
}

/** Empty query fields (a filter form left blank) count as absent. */
const optionalText = (max: number) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().max(max, `at most ${max} characters`).regex(/^[^\u0000-\u001f]*$/, 'no control characters').optional());

export const ticketIdSchema = z.string().regex(/^\d{1,15}$/, 'a whole number such as 42').transform(Number);
export const machineKeySchema = z.string().min(1).max(200, 'at most 200 characters').regex(/^[^\u0000-\u001f]+$/, 'no control characters');
export const serialSchema = z.string().min(1).max(100, 'at most 100 characters').regex(/^[\w.:/-]+$/, 'letters, digits and . : / - _ only');
export const overrideIdSchema = z.string().regex(/^\d{1,15}$/, 'a whole number').transform(Number);

const LIST_STATES = ['backlog', 'closed', 'all', ...TICKET_STATES] as const;

export const ticketListQuerySchema = z.strictObject({
  state: z.preprocess((v) => (v === '' ? undefined : v), z.enum(LIST_STATES, { error: `one of ${LIST_STATES.join(', ')}` }).default('backlog')),
  container: optionalText(100),
  technician: optionalText(200),
  limit: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(5000).optional()),
});

const day = z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD').optional());

export const figuresQuerySchema = z.strictObject({
  from: day,
  to: day,
  period: z.preprocess((v) => (v === '' ? undefined : v), z.enum(PERIODS, { error: `one of ${PERIODS.join(', ')}` }).default('week')),
  by: z.preprocess((v) => (v === '' ? undefined : v), z.enum(DIMENSIONS, { error: `one of ${DIMENSIONS.join(', ')}` }).default('none')),
});

/** How far back a report reaches when no start is given: 31 days, 12 weeks or 12 months. */
const DEFAULT_SPAN = { day: { days: 31 }, week: { weeks: 12 }, month: { months: 12 } } as const;

/** The report range as local dates of the farm (to exclusive) and as instants. */
export function figuresRange(q: z.output<typeof figuresQuerySchema>, now: Date, timeZone: string): { from: string; to: string; fromAt: Date; toAt: Date } {
  const today = DateTime.fromJSDate(now, { zone: timeZone }).startOf('day');
  const to = q.to ? DateTime.fromISO(q.to, { zone: timeZone }) : today.plus({ days: 1 });
  const from = q.from ? DateTime.fromISO(q.from, { zone: timeZone }) : to.minus(DEFAULT_SPAN[q.period]).startOf(q.period === 'day' ? 'day' : q.period);
  if (!from.isValid) throw new TicketError('from: not a calendar date', 400);
  if (!to.isValid) throw new TicketError('to: not a calendar date', 400);
  if (to <= from) throw new TicketError('to: must be after from', 400);
  if (to.diff(from, 'days').days > 3700) throw new TicketError('from: a range of at most ten years', 400);
  return { from: from.toISODate()!, to: to.toISODate()!, fromAt: from.toJSDate(), toAt: to.toJSDate() };
}

/** Who acts: a staff session is named by its account; a token (a shared workshop screen) may say who is at it. */
const by = actorSchema.optional();

export const actorBodySchema = z.strictObject({ by });
export const noteBodySchema = z.strictObject({ by, text: z.string().trim().min(1, 'write something').max(4000, 'at most 4000 characters') });
export const closeBodySchema = repairSchema.extend({ by });

export const overrideBodySchema = z.strictObject({
  name: z.string().trim().min(1, 'who is on call').max(100),
  from: z.string().max(40),
  to: z.string().max(40),
  reason: z.string().max(500).default(''),
});
export const membersBodySchema = z.strictObject({ names: z.array(z.string().trim().min(1).max(100)).min(1, 'at least one person').max(200) });
