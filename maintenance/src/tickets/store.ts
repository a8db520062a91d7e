/**
 * Tickets as staff see and work them: lists, one ticket with its timeline and repairs, a machine's history, a
 * board's serial history, and the actions (acknowledge, take, note, close with a repair record). Each action checks
 * the ticket's state under a row lock, so two technicians pressing "take" at once get one ticket each way: one
 * succeeds, the other is told who took it.
 */
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../db';
import { actorSchema, BACKLOG_STATES, repairSchema, TicketError, type RepairInput, type Ticket, type TicketEvent, type TicketState } from '../domain';
import { addEvent } from './sync';
import { TICKET_COLUMNS, TICKET_FROM, ticketOf, type TicketRow } from './rows';

export interface TicketFilter {
  /** 'backlog' (default): still needs somebody; 'closed'; 'all'; or one state. */
  state?: 'backlog' | 'closed' | 'all' | TicketState;
  container?: string;
  technician?: string;
  limit?: number;
}

export interface RepairRecord {
  id: number;
  ticketId: number;
  at: Date;
  by: string;
  action: string;
  notes: string;
  minutesOnSite: number | null;
  parts: Array<{ kind: string; removedSerial: string | null; installedSerial: string | null }>;
}

export interface TicketDetail {
  ticket: Ticket;
  events: TicketEvent[];
  repairs: RepairRecord[];
}

export interface MachineHistory {
  machine: { identity: string; serial: string | null; mac: string | null; model: string | null };
  tickets: Ticket[];
  repairs: RepairRecord[];
}

export interface CloseOutcome {
  ticket: Ticket;
  /** The fault still fires: the ticket becomes fixed when it clears. */
  waitingForClear: boolean;
}

const SEVERITY_ORDER = `CASE t.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END`;

export class TicketStore {
  constructor(private readonly pool: Pool) {}

  /** Backlog first by severity then oldest first; closed ones newest first. */
  async list(filter: TicketFilter = {}): Promise<Ticket[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const state = filter.state ?? 'backlog';
    if (state === 'backlog') where.push(`t.state = ANY($${params.push(BACKLOG_STATES)})`);
    else if (state === 'closed') where.push('t.closed_at IS NOT NULL');
    else if (state !== 'all') where.push(`t.state = $${params.push(state)}`);
    if (filter.container) where.push(`t.container = $${params.push(filter.container)}`);
    if (filter.technician) where.push(`(t.taken_by = $${params.push(filter.technician)} OR t.fixed_by = $${params.length})`);
    const order = state === 'backlog' ? `${SEVERITY_ORDER}, t.opened_at` : 't.opened_at DESC';
    const limit = Math.min(Math.max(filter.limit ?? 200, 1), 5000);
    const { rows } = await this.pool.query<TicketRow>(
      `SELECT ${TICKET_COLUMNS} FROM ${TICKET_FROM} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}, t.id LIMIT ${limit}`,
      params,
    );
    return rows.map(ticketOf);
  }

  async get(id: number): Promise<TicketDetail> {
    const ticket = await this.ticket(this.pool, id);
    const [events, repairs] = await Promise.all([
      this.pool.query<TicketEvent>('SELECT at, kind, by, detail FROM maintenance.ticket_events WHERE ticket_id = $1 ORDER BY at, id', [id]),
      this.repairs('r.ticket_id = $1', [id]),
    ]);
    return { ticket, events: events.rows, repairs };
  }

  /**
   * Everything that happened to one machine, found by its identity ("serial:…", "mac:…", "slot:…"), its serial,
   * its MAC, or the miner id of a slot it stood in.
   */
  async machineHistory(key: string): Promise<MachineHistory> {
    const { rows } = await this.pool.query<{ id: string; identity: string; serial: string | null; mac: string | null; model: string | null }>(
      `SELECT m.id, m.identity, m.serial, m.mac, m.model FROM maintenance.machines m
        WHERE m.identity = $1 OR m.serial = $1 OR m.mac = lower($1) OR m.identity = 'slot:' || $1
           OR m.id = (SELECT machine_id FROM maintenance.tickets WHERE miner = $1 ORDER BY opened_at DESC LIMIT 1)
        ORDER BY (m.identity = $1) DESC LIMIT 1`,
      [key],
    );
    const m = rows[0];
    if (!m) throw new TicketError(`no machine known as "${key}" (give a serial, a MAC or a miner id that had a ticket)`, 404);
    const [tickets, repairs] = await Promise.all([
      this.pool.query<TicketRow>(`SELECT ${TICKET_COLUMNS} FROM ${TICKET_FROM} WHERE t.machine_id = $1 ORDER BY t.opened_at DESC`, [m.id]),
      this.repairs('r.machine_id = $1', [m.id]),
    ]);
    return { machine: { identity: m.identity, serial: m.serial, mac: m.mac, model: m.model }, tickets: tickets.rows.map(ticketOf), repairs };
  }

  /** Repairs that took out or put in the part with this serial (a hashboard that keeps failing shows here). */
  async partHistory(serial: string): Promise<RepairRecord[]> {
    return this.repairs('r.id IN (SELECT repair_id FROM maintenance.repair_parts WHERE removed_serial = $1 OR installed_serial = $1)', [serial]);
  }

  /** Parts taken out as failed more than once: serial, kind, times removed, last removal. */
  async repeatOffenders(minRemovals = 2): Promise<Array<{ serial: string; kind: string; removals: number; lastAt: Date }>> {
    const { rows } = await this.pool.query<{ serial: string; kind: string; removals: string; last_at: Date }>(
      `SELECT p.removed_serial AS serial, p.kind, count(*) AS removals, max(r.at) AS last_at
         FROM maintenance.repair_parts p JOIN maintenance.repairs r ON r.id = p.repair_id
        WHERE p.removed_serial IS NOT NULL GROUP BY p.removed_serial, p.kind HAVING count(*) >= $1 ORDER BY count(*) DESC, max(r.at) DESC`,
      [minRemovals],
    );
    return rows.map((r) => ({ serial: r.serial, kind: r.kind, removals: Number(r.removals), lastAt: r.last_at }));
  }

  /** Acknowledges one ticket: somebody has seen it. Acknowledging twice keeps the first. */
  async acknowledge(id: number, by: string, at = new Date()): Promise<Ticket> {
    const who = actor(by);
    return this.act(id, async (tx, t) => {
      if (t.closedAt) throw new TicketError(`ticket #${id} is closed (${t.state})`, 409);
      if (t.acknowledgedAt) return;
      await tx.query(`UPDATE maintenance.tickets SET acknowledged_at = $2, acknowledged_by = $3, state = CASE WHEN state IN ('open', 'reopened') THEN 'acknowledged' ELSE state END WHERE id = $1`, [id, at, who]);
      await addEvent(tx, id, 'acknowledged', at, who);
    });
  }

  /** What an acknowledge link does: every live ticket of the alert group not yet acknowledged. Returns their ids. */
  async acknowledgeGroup(groupKey: string, by: string, at = new Date()): Promise<number[]> {
    const who = actor(by);
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE maintenance.tickets SET acknowledged_at = $2, acknowledged_by = $3, state = CASE WHEN state IN ('open', 'reopened') THEN 'acknowledged' ELSE state END
          WHERE group_key = $1 AND closed_at IS NULL AND acknowledged_at IS NULL RETURNING id`,
        [groupKey, at, who],
      );
      for (const r of rows) await addEvent(tx, Number(r.id), 'acknowledged', at, who, 'from the link in the notice');
      return rows.map((r) => Number(r.id));
    });
  }

  /** Groups (of those given) that have a live ticket nobody has acknowledged: what escalation keeps paging. */
  async unacknowledgedGroups(groupKeys: readonly string[]): Promise<Set<string>> {
    if (groupKeys.length === 0) return new Set();
    const { rows } = await this.pool.query<{ group_key: string }>(
      'SELECT DISTINCT group_key FROM maintenance.tickets WHERE group_key = ANY($1) AND closed_at IS NULL AND acknowledged_at IS NULL',
      [groupKeys],
    );
    return new Set(rows.map((r) => r.group_key));
  }

  /** An unacknowledged page went on to the next person: an 'escalated' event on every live ticket of its group. */
  async recordEscalation(groupKey: string, to: string, at = new Date()): Promise<number[]> {
    const detail = actor(to);
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ id: string }>('SELECT id FROM maintenance.tickets WHERE group_key = $1 AND closed_at IS NULL ORDER BY id', [groupKey]);
      for (const r of rows) await addEvent(tx, Number(r.id), 'escalated', at, null, detail);
      return rows.map((r) => Number(r.id));
    });
  }

  /** Takes a ticket into repair (acknowledging it if nobody had). */
  async take(id: number, by: string, at = new Date()): Promise<Ticket> {
    const who = actor(by);
    return this.act(id, async (tx, t) => {
      if (t.state === 'in_repair' && t.takenBy === who) return;
      if (t.state === 'in_repair') throw new TicketError(`ticket #${id} is already in repair by ${t.takenBy ?? 'somebody'}`, 409);
      if (!['open', 'acknowledged', 'reopened'].includes(t.state)) throw new TicketError(`ticket #${id} is ${t.state.replace('_', ' ')}: nothing to take`, 409);
      await tx.query(
        `UPDATE maintenance.tickets SET state = 'in_repair', taken_at = $2, taken_by = $3, acknowledged_at = COALESCE(acknowledged_at, $2), acknowledged_by = COALESCE(acknowledged_by, $3) WHERE id = $1`,
        [id, at, who],
      );
      if (!t.acknowledgedAt) await addEvent(tx, id, 'acknowledged', at, who);
      await addEvent(tx, id, 'taken', at, who);
    });
  }

  async note(id: number, by: string, text: string, at = new Date()): Promise<Ticket> {
    const who = actor(by);
    const body = text.trim();
    if (body.length === 0 || body.length > 4000) throw new TicketError('a note must have 1 to 4000 characters', 400);
    return this.act(id, async (tx) => addEvent(tx, id, 'note', at, who, body));
  }

  /**
   * Records the repair. If the fault has cleared the ticket is fixed now; if it still fires it stays in repair and
   * becomes fixed when it clears (the sync sees that), so "fixed" always means the fault went away after the action.
   */
  async close(id: number, by: string, input: RepairInput, at = new Date()): Promise<CloseOutcome> {
    const who = actor(by);
    const parsed = repairSchema.safeParse(input);
    if (!parsed.success) throw new TicketError(`repair record: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'repair'}: ${i.message}`).join('; ')}`, 400);
    const repair = parsed.data;
    let waitingForClear = false;
    const ticket = await this.act(id, async (tx, t) => {
      if (t.closedAt || t.state === 'fixed') throw new TicketError(`ticket #${id} is already ${t.state.replace('_', ' ')}`, 409);
      const machine = await tx.query<{ machine_id: string }>('SELECT machine_id FROM maintenance.tickets WHERE id = $1', [id]);
      const { rows } = await tx.query<{ id: string }>(
        'INSERT INTO maintenance.repairs (ticket_id, machine_id, at, by, action, notes, minutes_on_site) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
        [id, machine.rows[0]!.machine_id, at, who, repair.action, repair.notes, repair.minutesOnSite ?? null],
      );
      for (const p of repair.parts)
        await tx.query('INSERT INTO maintenance.repair_parts (repair_id, kind, removed_serial, installed_serial) VALUES ($1, $2, $3, $4)', [rows[0]!.id, p.kind, p.removedSerial ?? null, p.installedSerial ?? null]);
      const parts = repair.parts.map((p) => `${p.kind}${p.removedSerial ? ` out ${p.removedSerial}` : ''}${p.installedSerial ? ` in ${p.installedSerial}` : ''}`).join(', ');
      await addEvent(tx, id, 'repair', at, who, [repair.action.replace(/_/g, ' '), parts, repair.notes].filter(Boolean).join(' · '));
      waitingForClear = t.firing;
      await tx.query(
        `UPDATE maintenance.tickets SET acknowledged_at = COALESCE(acknowledged_at, $2), acknowledged_by = COALESCE(acknowledged_by, $3),
           taken_at = COALESCE(taken_at, $2), taken_by = COALESCE(taken_by, $3),
           state = CASE WHEN firing THEN 'in_repair' ELSE 'fixed' END,
           fixed_at = CASE WHEN firing THEN NULL ELSE $2 END, fixed_by = CASE WHEN firing THEN NULL ELSE $3 END
         WHERE id = $1`,
        [id, at, who],
      );
      if (!t.firing) await addEvent(tx, id, 'fixed', at, who, 'repaired; verified once the miner runs without alerts');
    });
    return { ticket, waitingForClear };
  }

  private async act(id: number, change: (tx: PoolClient, t: Ticket) => Promise<void>): Promise<Ticket> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new TicketError(`"${id}" is not a ticket number`, 400);
    return inTransaction(this.pool, async (tx) => {
      const t = await this.ticket(tx, id, true);
      await change(tx, t);
      return this.ticket(tx, id);
    });
  }

  private async ticket(q: Pool | PoolClient, id: number, lock = false): Promise<Ticket> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new TicketError(`"${id}" is not a ticket number`, 400);
    const { rows } = await q.query<TicketRow>(`SELECT ${TICKET_COLUMNS} FROM ${TICKET_FROM} WHERE t.id = $1${lock ? ' FOR UPDATE OF t' : ''}`, [id]);
    if (!rows[0]) throw new TicketError(`no ticket #${id}`, 404);
    return ticketOf(rows[0]);
  }

  private async repairs(where: string, params: unknown[]): Promise<RepairRecord[]> {
    const { rows } = await this.pool.query<{ id: string; ticket_id: string; at: Date; by: string; action: string; notes: string; minutes_on_site: number | null; parts: RepairRecord['parts'] | null }>(
      `SELECT r.id, r.ticket_id, r.at, r.by, r.action, r.notes, r.minutes_on_site,
              (SELECT json_agg(json_build_object('kind', p.kind, 'removedSerial', p.removed_serial, 'installedSerial', p.installed_serial))
                 FROM maintenance.repair_parts p WHERE p.repair_id = r.id) AS parts
         FROM maintenance.repairs r WHERE ${where} ORDER BY r.at DESC, r.id DESC`,
      params,
    );
    return rows.map((r) => ({ id: Number(r.id), ticketId: Number(r.ticket_id), at: r.at, by: r.by, action: r.action, notes: r.notes, minutesOnSite: r.minutes_on_site, parts: r.parts ?? [] }));
  }
}

function actor(by: string): string {
  const parsed = actorSchema.safeParse(by);
  if (!parsed.success) throw new TicketError(`who: ${parsed.error.issues[0]?.message ?? 'invalid'}`, 400);
  return parsed.data;
}
