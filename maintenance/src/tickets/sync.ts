/**
 * Alerts → tickets. The alerting leader calls syncTickets each cycle with every firing alert: an alert that pages
 * opens a ticket (one per machine and part; a second alert of the same part joins it), an alert that clears moves
 * its ticket on, and time verifies a fix. Idempotent: the same alerts twice change nothing.
 *
 *   open ──ack──▶ acknowledged ──take──▶ in_repair ──fault clears──▶ fixed ──quiet for verify_after──▶ verified
 *   open/acknowledged ──fault clears by itself──▶ self_healed          fixed ──fault back──▶ reopened ──▶ …
 */
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../db';
import type { TicketPlace, TicketState } from '../domain';

/** The machine an alert is about: its history follows `identity` ("serial:…", "mac:…", else "slot:<miner id>"). */
export interface MachineRef {
  identity: string;
  serial?: string;
  mac?: string;
  model?: string;
}

/** A firing alert; its `miner` is the inventory id of the miner (or the container, for a container-level fault). */
export interface ActiveAlert extends TicketPlace {
  fingerprint: string;
  /** Fault code or alert name. */
  fault: string;
  severity: 'critical' | 'warning' | 'info';
  firedAt: number;
  /** The alert group it is paged in. */
  groupKey: string;
  /** In a group that is paged now (not silenced, inhibited or stale): only these open tickets. */
  pages: boolean;
  machine: MachineRef;
  nominalThs?: number;
}

export interface SyncOptions {
  /** A fixed ticket is verified after its machine has had no firing alert for this long. */
  verifyAfterMs: number;
  /** A ticket that opens this soon after a fix on the same machine counts as a repeat failure. */
  repeatWindowMs: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = { verifyAfterMs: 30 * 60_000, repeatWindowMs: 7 * 86_400_000 };

export interface SyncOutcome {
  opened: number[];
  selfHealed: number[];
  fixed: number[];
  verified: number[];
  reopened: number[];
}

interface LiveTicket {
  id: number;
  state: TicketState;
  machineId: number;
  identity: string;
  part: string;
  firing: boolean;
  fixedAt: Date | null;
  clearedAt: Date | null;
  takenBy: string | null;
  alerts: Map<string, boolean>;
}

/** "serial:…" when the inventory names a serial, else "mac:…", else the slot's miner id. */
export function machineRef(minerId: string, spec?: { serial?: string; mac?: string; model?: string }): MachineRef {
  const identity = spec?.serial ? `serial:${spec.serial}` : spec?.mac ? `mac:${spec.mac.toLowerCase()}` : `slot:${minerId}`;
  return { identity, ...(spec?.serial ? { serial: spec.serial } : {}), ...(spec?.mac ? { mac: spec.mac.toLowerCase() } : {}), ...(spec?.model ? { model: spec.model } : {}) };
}

export async function addEvent(tx: PoolClient, ticketId: number, kind: string, at: Date, by: string | null, detail = ''): Promise<void> {
  await tx.query('INSERT INTO maintenance.ticket_events (ticket_id, at, kind, by, detail) VALUES ($1, $2, $3, $4, $5)', [ticketId, at, kind, by, detail]);
}

async function liveTickets(tx: PoolClient): Promise<LiveTicket[]> {
  const { rows } = await tx.query<{ id: string; state: TicketState; machine_id: string; identity: string; part: string; firing: boolean; fixed_at: Date | null; cleared_at: Date | null; taken_by: string | null }>(
    `SELECT t.id, t.state, t.machine_id, m.identity, t.part, t.firing, t.fixed_at, t.cleared_at, t.taken_by
       FROM maintenance.tickets t JOIN maintenance.machines m ON m.id = t.machine_id
      WHERE t.closed_at IS NULL ORDER BY t.id FOR UPDATE OF t`,
  );
  const tickets = rows.map((r) => ({ id: Number(r.id), state: r.state, machineId: Number(r.machine_id), identity: r.identity, part: r.part, firing: r.firing, fixedAt: r.fixed_at, clearedAt: r.cleared_at, takenBy: r.taken_by, alerts: new Map<string, boolean>() }));
  const byId = new Map(tickets.map((t) => [t.id, t]));
  if (tickets.length > 0) {
    const alerts = await tx.query<{ ticket_id: string; fingerprint: string; firing: boolean }>('SELECT ticket_id, fingerprint, firing FROM maintenance.ticket_alerts WHERE ticket_id = ANY($1)', [tickets.map((t) => t.id)]);
    for (const a of alerts.rows) byId.get(Number(a.ticket_id))?.alerts.set(a.fingerprint, a.firing);
  }
  return tickets;
}

async function machineId(tx: PoolClient, m: MachineRef): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO maintenance.machines (identity, serial, mac, model) VALUES ($1, $2, $3, $4)
     ON CONFLICT (identity) DO UPDATE SET serial = COALESCE(EXCLUDED.serial, machines.serial), mac = COALESCE(EXCLUDED.mac, machines.mac),
       model = COALESCE(EXCLUDED.model, machines.model)
     RETURNING id`,
    [m.identity, m.serial ?? null, m.mac ?? null, m.model ?? null],
  );
  return Number(rows[0]!.id);
}

export async function syncTickets(pool: Pool, alerts: readonly ActiveAlert[], now: number, options: SyncOptions = DEFAULT_SYNC_OPTIONS): Promise<SyncOutcome> {
  return inTransaction(pool, (tx) => syncWithin(tx, alerts, now, options));
}

async function syncWithin(tx: PoolClient, alerts: readonly ActiveAlert[], nowMs: number, options: SyncOptions): Promise<SyncOutcome> {
  const now = new Date(nowMs);
  const out: SyncOutcome = { opened: [], selfHealed: [], fixed: [], verified: [], reopened: [] };
  // One sync at a time (several alerting instances, a bench): the live tickets are read and changed as a whole.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('flymining.maintenance.sync'))`);
  const live = await liveTickets(tx);
  const byFingerprint = new Map<string, LiveTicket>();
  const byMachinePart = new Map<string, LiveTicket>();
  for (const t of live) {
    for (const fp of t.alerts.keys()) byFingerprint.set(fp, t);
    byMachinePart.set(`${t.identity}\u0000${t.part}`, t);
  }
  const firingFingerprints = new Set(alerts.map((a) => a.fingerprint));
  const firingMachines = new Set(alerts.map((a) => a.machine.identity));
  const touched = new Set<LiveTicket>();

  const reopen = async (t: LiveTicket, why: string): Promise<void> => {
    await tx.query(`UPDATE maintenance.tickets SET state = 'reopened', reopened = reopened + 1 WHERE id = $1`, [t.id]);
    await addEvent(tx, t.id, 'reopened', now, null, why);
    t.state = 'reopened';
    out.reopened.push(t.id);
  };

  for (const a of alerts) {
    let t = byFingerprint.get(a.fingerprint);
    if (t) {
      if (t.alerts.get(a.fingerprint) === false) {
        await tx.query('UPDATE maintenance.ticket_alerts SET firing = true, fired_at = $3, cleared_at = NULL WHERE ticket_id = $1 AND fingerprint = $2', [t.id, a.fingerprint, new Date(a.firedAt)]);
        await addEvent(tx, t.id, 'refired', now, null, a.fault);
        t.alerts.set(a.fingerprint, true);
        if (t.state === 'fixed') await reopen(t, `${a.fault} fired again after the fix`);
      }
      touched.add(t);
      continue;
    }
    if (!a.pages) continue;
    t = byMachinePart.get(`${a.machine.identity}\u0000${a.part}`);
    if (t) {
      await tx.query('INSERT INTO maintenance.ticket_alerts (ticket_id, fingerprint, fault, firing, fired_at) VALUES ($1, $2, $3, true, $4)', [t.id, a.fingerprint, a.fault, new Date(a.firedAt)]);
      await addEvent(tx, t.id, 'refired', now, null, `${a.fault} joined this ticket`);
      t.alerts.set(a.fingerprint, true);
      byFingerprint.set(a.fingerprint, t);
      if (t.state === 'fixed') await reopen(t, `${a.fault} after the fix`);
      touched.add(t);
      continue;
    }
    const id = await machineId(tx, a.machine);
    const openedAt = new Date(Math.min(a.firedAt, nowMs));
    const repeat = await tx.query<{ id: string }>(
      `SELECT id FROM maintenance.tickets WHERE machine_id = $1 AND fixed_at IS NOT NULL AND fixed_at >= $2 ORDER BY fixed_at DESC LIMIT 1`,
      [id, new Date(openedAt.getTime() - options.repeatWindowMs)],
    );
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO maintenance.tickets (machine_id, miner, site, container, rack, shelf, slot, part, fault, severity, group_key, state, firing, opened_at, repeat_of, nominal_ths)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', true, $12, $13, $14) RETURNING id`,
      [id, a.miner, a.site, a.container, a.rack, a.shelf, a.slot, a.part, a.fault, a.severity, a.groupKey, openedAt, repeat.rows[0]?.id ?? null, a.nominalThs ?? null],
    );
    const ticketId = Number(rows[0]!.id);
    await tx.query('INSERT INTO maintenance.ticket_alerts (ticket_id, fingerprint, fault, firing, fired_at) VALUES ($1, $2, $3, true, $4)', [ticketId, a.fingerprint, a.fault, new Date(a.firedAt)]);
    await addEvent(tx, ticketId, 'opened', openedAt, null, `${a.fault}${a.part ? ` (${a.part})` : ''}${repeat.rows[0] ? `: repeat failure, ticket #${repeat.rows[0].id} was fixed less than ${Math.round(options.repeatWindowMs / 86_400_000)} days ago` : ''}`);
    const created: LiveTicket = { id: ticketId, state: 'open', machineId: id, identity: a.machine.identity, part: a.part, firing: true, fixedAt: null, clearedAt: null, takenBy: null, alerts: new Map([[a.fingerprint, true]]) };
    byFingerprint.set(a.fingerprint, created);
    byMachinePart.set(`${a.machine.identity}\u0000${a.part}`, created);
    touched.add(created);
    out.opened.push(ticketId);
  }

  for (const t of live) {
    // Alerts that stopped firing.
    for (const [fp, firing] of t.alerts) {
      if (!firing || firingFingerprints.has(fp)) continue;
      await tx.query('UPDATE maintenance.ticket_alerts SET firing = false, cleared_at = $3 WHERE ticket_id = $1 AND fingerprint = $2', [t.id, fp, now]);
      t.alerts.set(fp, false);
    }
    const firing = [...t.alerts.values()].some(Boolean);
    if (firing !== t.firing) {
      await tx.query('UPDATE maintenance.tickets SET firing = $2, cleared_at = CASE WHEN $2 THEN cleared_at ELSE $3 END WHERE id = $1', [t.id, firing, now]);
      if (!firing) {
        await addEvent(tx, t.id, 'cleared', now, null, 'every alert of this ticket cleared');
        t.clearedAt = now;
      }
      t.firing = firing;
      if (!firing) {
        if (t.state === 'open' || t.state === 'acknowledged') {
          await tx.query(`UPDATE maintenance.tickets SET state = 'self_healed', closed_at = $2 WHERE id = $1`, [t.id, now]);
          await addEvent(tx, t.id, 'self_healed', now, null, 'the fault cleared before anybody worked on it');
          out.selfHealed.push(t.id);
          continue;
        }
        if (t.state === 'in_repair' || t.state === 'reopened') {
          await tx.query(`UPDATE maintenance.tickets SET state = 'fixed', fixed_at = $2, fixed_by = COALESCE(fixed_by, taken_by) WHERE id = $1`, [t.id, now]);
          await addEvent(tx, t.id, 'fixed', now, t.takenBy, 'the fault cleared after the repair');
          t.state = 'fixed';
          t.fixedAt = now;
          out.fixed.push(t.id);
        }
      }
    }
    if (t.state === 'fixed' && !t.firing && !firingMachines.has(t.identity)) {
      const quietSince = Math.max(t.fixedAt?.getTime() ?? 0, t.clearedAt?.getTime() ?? 0);
      if (nowMs - quietSince >= options.verifyAfterMs) {
        await tx.query(`UPDATE maintenance.tickets SET state = 'verified', verified_at = $2, closed_at = $2 WHERE id = $1`, [t.id, now]);
        await addEvent(tx, t.id, 'verified', now, null, `no alert on this miner for ${Math.round(options.verifyAfterMs / 60_000)} min after the fix`);
        out.verified.push(t.id);
      }
    }
  }
  return out;
}
