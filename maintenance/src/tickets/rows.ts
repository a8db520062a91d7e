/** Typed mapping of ticket rows (numeric and bigint columns arrive as strings). */
import type { Ticket, TicketPlace, TicketState } from '../domain';

export const TICKET_COLUMNS = `t.id, m.identity AS machine, t.miner, t.site, t.container, t.rack, t.shelf, t.slot, t.part, t.fault, t.severity,
  t.group_key, t.state, t.firing, t.opened_at, t.acknowledged_at, t.acknowledged_by, t.taken_at, t.taken_by, t.cleared_at, t.fixed_at,
  t.fixed_by, t.verified_at, t.closed_at, t.reopened, t.repeat_of, t.nominal_ths, t.lost_th_hours, t.lost_btc`;
export const TICKET_FROM = 'maintenance.tickets t JOIN maintenance.machines m ON m.id = t.machine_id';

export interface TicketRow extends TicketPlace {
  id: string;
  machine: string;
  fault: string;
  severity: Ticket['severity'];
  group_key: string;
  state: TicketState;
  firing: boolean;
  opened_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  taken_at: Date | null;
  taken_by: string | null;
  cleared_at: Date | null;
  fixed_at: Date | null;
  fixed_by: string | null;
  verified_at: Date | null;
  closed_at: Date | null;
  reopened: number;
  repeat_of: string | null;
  nominal_ths: string | null;
  lost_th_hours: string | null;
  lost_btc: string | null;
}

export function ticketOf(r: TicketRow): Ticket {
  return {
    id: Number(r.id),
    machine: r.machine,
    miner: r.miner,
    site: r.site,
    container: r.container,
    rack: r.rack,
    shelf: r.shelf,
    slot: r.slot,
    part: r.part,
    fault: r.fault,
    severity: r.severity,
    groupKey: r.group_key,
    state: r.state,
    firing: r.firing,
    openedAt: r.opened_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    takenAt: r.taken_at,
    takenBy: r.taken_by,
    clearedAt: r.cleared_at,
    fixedAt: r.fixed_at,
    fixedBy: r.fixed_by,
    verifiedAt: r.verified_at,
    closedAt: r.closed_at,
    reopened: r.reopened,
    repeatOf: r.repeat_of === null ? null : Number(r.repeat_of),
    nominalThs: r.nominal_ths === null ? null : Number(r.nominal_ths),
    lostThHours: r.lost_th_hours === null ? null : Number(r.lost_th_hours),
    lostBtc: r.lost_btc,
  };
}
