/** What the maintenance component deals in: tickets and their states, repairs, and the errors staff actions meet. */
import { z } from 'zod';

export const TICKET_STATES = ['open', 'acknowledged', 'in_repair', 'fixed', 'verified', 'reopened', 'self_healed'] as const;
export type TicketState = (typeof TICKET_STATES)[number];
/** States that still need somebody: the backlog. */
export const BACKLOG_STATES: readonly TicketState[] = ['open', 'acknowledged', 'in_repair', 'reopened'];

export const REPAIR_ACTIONS = ['reseat', 'replace_fan', 'replace_hashboard', 'replace_psu', 'replace_control_board', 'reflash', 'clean', 'move', 'other'] as const;
export type RepairAction = (typeof REPAIR_ACTIONS)[number];
export const PART_KINDS = ['fan', 'hashboard', 'psu', 'control_board', 'other'] as const;

/** Where a ticket's fault is: the miner's inventory id and place when it opened, and the part ('' for all of it). */
export interface TicketPlace {
  miner: string;
  site: string;
  container: string;
  rack: string;
  shelf: string;
  slot: string;
  part: string;
}

export interface Ticket extends TicketPlace {
  id: number;
  machine: string;
  fault: string;
  severity: 'critical' | 'warning' | 'info';
  groupKey: string;
  state: TicketState;
  firing: boolean;
  openedAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  takenAt: Date | null;
  takenBy: string | null;
  clearedAt: Date | null;
  fixedAt: Date | null;
  fixedBy: string | null;
  verifiedAt: Date | null;
  closedAt: Date | null;
  reopened: number;
  repeatOf: number | null;
  nominalThs: number | null;
  lostThHours: number | null;
  lostBtc: string | null;
}

export interface TicketEvent {
  at: Date;
  kind: string;
  by: string | null;
  detail: string;
}

const serial = z.string().trim().min(1).max(100).regex(/^[\w.:/-]+$/, 'letters, digits and . : / - _ only');

/** A repair as staff enter it (CLI, staff page): validated here, errors name the field. */
export const repairSchema = z.strictObject({
  action: z.enum(REPAIR_ACTIONS, { error: `one of ${REPAIR_ACTIONS.join(', ')}` }),
  notes: z.string().max(4000).default(''),
  minutesOnSite: z.number().int().min(0).max(10080).optional(),
  parts: z
    .array(
      z
        .strictObject({ kind: z.enum(PART_KINDS, { error: `one of ${PART_KINDS.join(', ')}` }), removedSerial: serial.optional(), installedSerial: serial.optional() })
        .refine((p) => p.removedSerial !== undefined || p.installedSerial !== undefined, 'give the serial taken out, put in, or both'),
    )
    .max(20)
    .default([]),
});
export type RepairInput = z.input<typeof repairSchema>;
export type Repair = z.output<typeof repairSchema>;

/** A staff action that cannot be done as asked: `status` is the HTTP answer, the message says why. */
export class TicketError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

/** Who did something, as recorded: a name or address, bounded and printable. */
export const actorSchema = z.string().trim().min(1, 'who did it must be named').max(200).regex(/^[^\u0000-\u001f]+$/, 'no control characters');
