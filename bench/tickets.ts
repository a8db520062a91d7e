/**
 * Repair tickets benchmark: a 5,000-miner farm where 2 % of the miners fail each day, in a throwaway PostgreSQL
 * database.
 *   1. A year of closed history (~36,500 tickets) goes in through the demo seed (batched SQL): seconds, tickets/s.
 *   2. A realistic day on top of it through the real code: 100 faults fire at random times, syncTickets opens their
 *      tickets, staff acknowledge, take and close them (TicketStore, repair records with parts) while the fault
 *      still fires, the fault clears (sync: fixed), and 30 min later the sync verifies them. The sync runs whenever
 *      something fires, clears or falls due for verification. Tickets/s, against plain autocommit INSERT/UPDATE
 *      statements writing the same rows (machine, ticket, alert, events, repair, part, the same state updates).
 *      Also the steady sync cycle with nothing changing (what the alerting leader pays every evaluation).
 *   3. The figures over the year: effectivenessReport per week (by none, by technician), a one-week report,
 *      backlog() and weekOverWeek(); the year's report against a plain SQL aggregate over the same rows
 *      (avg(fixed_at − opened_at) grouped by date_trunc('week', fixed_at)). Goal: the year's report < 1 s. The short
 *      ones are measured again after dropping migration 002's indexes (acknowledged_at, fixed_at, self-healed, state).
 * Prints JSON. Run: npx tsx bench/tickets.ts [miners] [days] (PostgreSQL from FLYMINING_TEST_PG_URL's server, else local).
 */
import type { Pool, PoolClient } from 'pg';
import { Prng } from '../simulator/src/prng';
import { createMaintenanceDatabase } from '../maintenance/test/db';
import { seedTicketHistory, type SeedMiner } from '../maintenance/src/demo-seed';
import { backlog, effectivenessReport, weekOverWeek } from '../maintenance/src/figures/report';
import { machineRef, syncTickets, type ActiveAlert } from '../maintenance/src/tickets/sync';
import { TicketStore } from '../maintenance/src/tickets/store';

const MINERS = Number(process.argv[2] ?? 5000);
const DAYS = Number(process.argv[3] ?? 365);
const FAILING_SHARE = 0.02;
const MINUTE = 60_000;
const DAY = 86_400_000;
// The realistic day: Monday 2026-11-23 (UTC), after the year of history.
const DAY_START = Date.parse('2026-11-23T00:00:00Z');
const TECHNICIANS = ['alice', 'bob', 'carol', 'dmitri', 'erin', 'farid', 'gulnara', 'hector'];
const SYNC = { verifyAfterMs: 30 * MINUTE, repeatWindowMs: 7 * DAY };
const REPEATS = 7;

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
}

/** First (cold) run and the median of the following ones, in ms. */
async function repeated(fn: () => Promise<unknown>): Promise<{ firstMs: number; medianMs: number }> {
  const first = (await timed(fn)).ms;
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) times.push((await timed(fn)).ms);
  times.sort((a, b) => a - b);
  return { firstMs: round(first), medianMs: round(times[Math.floor(times.length / 2)]!) };
}

const round = (ms: number, digits = 2): number => +ms.toFixed(digits);

function farm(n: number): SeedMiner[] {
  return Array.from({ length: n }, (_, i) => {
    const container = `C${String(1 + Math.floor(i / 250)).padStart(2, '0')}`;
    const rack = `R${1 + Math.floor((i % 250) / 50)}`;
    const shelf = `S${1 + Math.floor((i % 50) / 10)}`;
    const slot = String(1 + (i % 10));
    return { id: `${container}-${rack}-${shelf}-${slot}`, container, rack, shelf, slot, site: 'north-1', serial: `SN${String(i).padStart(6, '0')}`, nominalThs: 110 + (i % 3) * 50 };
  });
}

interface DayFault {
  alert: ActiveAlert;
  firedAt: number;
  ackAt: number;
  takeAt: number;
  closeAt: number;
  clearAt: number;
  who: string;
}

/** The day's 100 faults: when each fires, is acknowledged, taken, repaired and clears. */
function dayPlan(miners: SeedMiner[], dayStart: number, prng: Prng): DayFault[] {
  const count = Math.round(miners.length * FAILING_SHARE);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(prng.int(0, miners.length - 1));
  return [...chosen].map((i) => {
    const m = miners[i]!;
    const fan = prng.chance(0.6);
    const fault = fan ? 'FAN_STOPPED' : 'CHIPS_DEAD';
    const part = fan ? `fan ${prng.int(1, 4)}` : `board ${prng.int(1, 3)}`;
    const firedAt = dayStart + Math.floor(prng.range(0, 20 * 3600_000));
    const ackAt = firedAt + Math.floor(prng.range(2, 30) * MINUTE);
    const takeAt = ackAt + Math.floor(prng.range(5, 40) * MINUTE);
    const closeAt = takeAt + Math.floor(prng.range(20, 90) * MINUTE);
    const clearAt = closeAt + Math.floor(prng.range(1, 6) * MINUTE);
    const alert: ActiveAlert = {
      fingerprint: `${m.id}|${fault}|${part}`,
      fault,
      severity: fan ? 'critical' : 'warning',
      miner: m.id,
      site: m.site,
      container: m.container,
      rack: m.rack,
      shelf: m.shelf,
      slot: m.slot,
      part,
      firedAt,
      groupKey: `0:alertname="${fan ? 'FanFailure' : 'HardwareFault'}",container="${m.container}",site="${m.site}"`,
      pages: true,
      machine: machineRef(m.id, { serial: m.serial! }),
      nominalThs: m.nominalThs,
    };
    return { alert, firedAt, ackAt, takeAt, closeAt, clearAt, who: TECHNICIANS[prng.int(0, TECHNICIANS.length - 1)]! };
  });
}

/** The day through syncTickets and TicketStore. Returns the time spent and how many syncs and actions ran. */
async function realDay(pool: Pool, plan: DayFault[]): Promise<{ ms: number; syncs: number; actions: number; verified: number; syncMs: number; actionMs: number }> {
  const store = new TicketStore(pool);
  type Step = { at: number; kind: 'sync' | 'ack' | 'take' | 'close'; f?: DayFault };
  const steps: Step[] = [];
  for (const f of plan) {
    steps.push({ at: f.firedAt, kind: 'sync' }, { at: f.ackAt, kind: 'ack', f }, { at: f.takeAt, kind: 'take', f }, { at: f.closeAt, kind: 'close', f });
    steps.push({ at: f.clearAt, kind: 'sync' }, { at: f.clearAt + SYNC.verifyAfterMs + 5000, kind: 'sync' });
  }
  steps.sort((a, b) => a.at - b.at || (a.kind === 'sync' ? -1 : 1));
  const ticketOf = new Map<DayFault, number>();
  let syncs = 0;
  let actions = 0;
  let verified = 0;
  let syncMs = 0;
  let actionMs = 0;
  const started = performance.now();
  for (const s of steps) {
    const t0 = performance.now();
    if (s.kind === 'sync') {
      const firing = plan.filter((f) => f.firedAt <= s.at && s.at < f.clearAt).map((f) => f.alert);
      const out = await syncTickets(pool, firing, s.at, SYNC);
      for (const id of out.opened) {
        const f = plan.find((p) => p.firedAt <= s.at && s.at < p.clearAt && !ticketOf.has(p));
        if (f) ticketOf.set(f, id);
      }
      verified += out.verified.length;
      syncs += 1;
      syncMs += performance.now() - t0;
      continue;
    }
    const id = ticketOf.get(s.f!)!;
    const at = new Date(s.at);
    if (s.kind === 'ack') await store.acknowledge(id, s.f!.who, at);
    else if (s.kind === 'take') await store.take(id, s.f!.who, at);
    else {
      const fan = s.f!.alert.fault === 'FAN_STOPPED';
      await store.close(id, s.f!.who, fan
        ? { action: 'replace_fan', minutesOnSite: 25, parts: [{ kind: 'fan', installedSerial: `FAN-${id}` }] }
        : { action: 'replace_hashboard', minutesOnSite: 70, parts: [{ kind: 'hashboard', removedSerial: `${s.f!.alert.machine.serial}-HB`, installedSerial: `HB-${id}` }] }, at);
    }
    actions += 1;
    actionMs += performance.now() - t0;
  }
  return { ms: performance.now() - started, syncs, actions, verified, syncMs, actionMs };
}

/**
 * The same rows as plain autocommit statements, one ticket after the other: what the day would cost with nothing
 * but the writes (no transactions, locks, live-ticket reads or repeat look-ups).
 */
async function plainDay(client: PoolClient, plan: DayFault[]): Promise<{ ms: number; statements: number }> {
  let statements = 0;
  const q = async (sql: string, params: unknown[]): Promise<string> => {
    statements += 1;
    const { rows } = await client.query<{ id: string }>(sql, params);
    return rows[0]?.id ?? '';
  };
  const ev = (ticket: string, at: Date, kind: string, by: string | null, detail: string): Promise<string> =>
    q('INSERT INTO maintenance.ticket_events (ticket_id, at, kind, by, detail) VALUES ($1, $2, $3, $4, $5)', [ticket, at, kind, by, detail]);
  const started = performance.now();
  for (const f of plan) {
    const a = f.alert;
    // The next day, so these rows sit beside the real code's rather than on top of them.
    const next = (t: number): Date => new Date(t + DAY);
    const [fired, ack, take, close, clear, verify] = [next(f.firedAt), next(f.ackAt), next(f.takeAt), next(f.closeAt), next(f.clearAt), next(f.clearAt + SYNC.verifyAfterMs)];
    const machine = await q(
      `INSERT INTO maintenance.machines (identity, serial) VALUES ($1, $2) ON CONFLICT (identity) DO UPDATE SET serial = EXCLUDED.serial RETURNING id`,
      [a.machine.identity, a.machine.serial],
    );
    const id = await q(
      `INSERT INTO maintenance.tickets (machine_id, miner, site, container, rack, shelf, slot, part, fault, severity, group_key, state, firing, opened_at, nominal_ths)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', true, $12, $13) RETURNING id`,
      [machine, a.miner, a.site, a.container, a.rack, a.shelf, a.slot, a.part, a.fault, a.severity, a.groupKey, fired, a.nominalThs],
    );
    await q('INSERT INTO maintenance.ticket_alerts (ticket_id, fingerprint, fault, firing, fired_at) VALUES ($1, $2, $3, true, $4)', [id, `${a.fingerprint}#plain`, a.fault, fired]);
    await ev(id, fired, 'opened', null, a.fault);
    await q(`UPDATE maintenance.tickets SET state = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1`, [id, ack, f.who]);
    await ev(id, ack, 'acknowledged', f.who, '');
    await q(`UPDATE maintenance.tickets SET state = 'in_repair', taken_at = $2, taken_by = $3 WHERE id = $1`, [id, take, f.who]);
    await ev(id, take, 'taken', f.who, '');
    const repair = await q('INSERT INTO maintenance.repairs (ticket_id, machine_id, at, by, action, minutes_on_site) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id', [id, machine, close, f.who, 'replace_fan', 25]);
    await q('INSERT INTO maintenance.repair_parts (repair_id, kind, installed_serial) VALUES ($1, $2, $3)', [repair, 'fan', `FAN-P${id}`]);
    await ev(id, close, 'repair', f.who, 'replace fan');
    await q(`UPDATE maintenance.ticket_alerts SET firing = false, cleared_at = $2 WHERE ticket_id = $1`, [id, clear]);
    await q(`UPDATE maintenance.tickets SET firing = false, cleared_at = $2, state = 'fixed', fixed_at = $2, fixed_by = $3 WHERE id = $1`, [id, clear, f.who]);
    await ev(id, clear, 'cleared', null, '');
    await ev(id, clear, 'fixed', f.who, '');
    await q(`UPDATE maintenance.tickets SET state = 'verified', verified_at = $2, closed_at = $2 WHERE id = $1`, [id, verify]);
    await ev(id, verify, 'verified', null, '');
  }
  return { ms: performance.now() - started, statements };
}

async function main(): Promise<void> {
  // A throwaway database with the ledger (market days) and the maintenance schema, dropped at the end.
  const db = await createMaintenanceDatabase('bench');
  const pool = db.pool;
  try {
    const miners = farm(MINERS);
    const prng = new Prng(2026);

    // 1. A year of closed history, in bulk.
    const seed = await timed(() =>
      seedTicketHistory(pool, { weeks: Math.round(DAYS / 7), miners, technicians: TECHNICIANS, now: DAY_START, random: () => prng.next(), dailyFailureRate: FAILING_SHARE, minFailuresPerDay: 0 }),
    );
    const sizes = (await pool.query<{ tickets: string; events: string; repairs: string }>(
      `SELECT (SELECT count(*) FROM maintenance.tickets) AS tickets, (SELECT count(*) FROM maintenance.ticket_events) AS events, (SELECT count(*) FROM maintenance.repairs) AS repairs`,
    )).rows[0]!;
    // What autovacuum would have done over the year: statistics for the planner.
    await pool.query('VACUUM ANALYZE');

    // 2. A realistic day through the real code, then the same rows as plain statements.
    const plan = dayPlan(miners, DAY_START, prng);
    const day = await realDay(pool, plan);
    const dayTickets = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM maintenance.tickets WHERE opened_at >= $1 AND state = 'verified'`, [new Date(DAY_START)])).rows[0]!.n);
    // The steady cycle: a sync with 20 live tickets whose alerts keep firing, nothing changing.
    const steadyAt = DAY_START + 2 * DAY;
    const steadyAlerts = dayPlan(miners, steadyAt - 3600_000, new Prng(7)).slice(0, 20).map((f) => ({ ...f.alert, firedAt: steadyAt - 3600_000 }));
    await syncTickets(pool, steadyAlerts, steadyAt, SYNC);
    const steady = await repeated(() => syncTickets(pool, steadyAlerts, steadyAt + 5000, SYNC));
    await syncTickets(pool, [], steadyAt + 10_000, SYNC); // they clear by themselves: self-healed, out of the backlog
    const client = await pool.connect();
    const plain = await plainDay(client, plan);
    client.release();

    // 3. The figures over the year.
    await pool.query('ANALYZE maintenance.tickets');
    const now = new Date(DAY_START + 3 * DAY);
    const year = { from: new Date(now.getTime() - 365 * DAY), to: now };
    const byNone = await repeated(() => effectivenessReport(pool, { ...year, period: 'week', by: 'none' }));
    const byTechnician = await repeated(() => effectivenessReport(pool, { ...year, period: 'week', by: 'technician' }));
    const oneWeek = await repeated(() => effectivenessReport(pool, { from: new Date(now.getTime() - 7 * DAY), to: now, period: 'day', by: 'technician' }));
    const plainAggregate = await repeated(() =>
      pool.query(`SELECT date_trunc('week', fixed_at) AS week, avg(fixed_at - opened_at) AS mttr FROM maintenance.tickets WHERE fixed_at >= $1 AND fixed_at < $2 GROUP BY 1 ORDER BY 1`, [year.from, year.to]),
    );
    const backlogTime = await repeated(() => backlog(pool, now));
    const wow = await repeated(() => weekOverWeek(pool, now, 'UTC'));
    // The same short-range figures without migration 002's indexes (dropped in this throwaway database).
    await pool.query('DROP INDEX maintenance.tickets_acknowledged, maintenance.tickets_fixed, maintenance.tickets_self_healed, maintenance.tickets_state');
    const oneWeekWithout = await repeated(() => effectivenessReport(pool, { from: new Date(now.getTime() - 7 * DAY), to: now, period: 'day', by: 'technician' }));
    const byNoneWithout = await repeated(() => effectivenessReport(pool, { ...year, period: 'week', by: 'none' }));
    const wowWithout = await repeated(() => weekOverWeek(pool, now, 'UTC'));
    const backlogWithout = await repeated(() => backlog(pool, now));
    const weeks = await effectivenessReport(pool, { ...year, period: 'week', by: 'none' });
    const weekly = weeks.filter((w) => w.mttrS !== null);

    const realPerS = dayTickets / (day.ms / 1000);
    const plainPerS = plan.length / (plain.ms / 1000);
    console.log(
      JSON.stringify(
        {
          benchmark: 'repair tickets',
          miners: MINERS,
          failingPerDay: plan.length,
          history: {
            days: DAYS,
            tickets: Number(sizes.tickets),
            events: Number(sizes.events),
            repairs: Number(sizes.repairs),
            seedSeconds: round(seed.ms / 1000),
            seedTicketsPerS: Math.round(seed.result / (seed.ms / 1000)),
          },
          realisticDay: {
            ticketsVerified: dayTickets,
            seconds: round(day.ms / 1000, 3),
            ticketsPerS: Math.round(realPerS),
            syncs: day.syncs,
            syncMsMean: round(day.syncMs / day.syncs),
            staffActions: day.actions,
            staffActionMsMean: round(day.actionMs / day.actions),
            steadySyncMs20Live: steady,
          },
          plainStatementsDay: { tickets: plan.length, statements: plain.statements, seconds: round(plain.ms / 1000, 3), ticketsPerS: Math.round(plainPerS) },
          ticketsPerSVsPlain: +(realPerS / plainPerS).toFixed(3),
          figures: {
            yearReportWeekByNone: byNone,
            yearReportWeekByTechnician: byTechnician,
            oneWeekReportByDayAndTechnician: oneWeek,
            plainSqlWeeklyMttr: plainAggregate,
            reportVsPlain: { byNone: +(byNone.medianMs / plainAggregate.medianMs).toFixed(2), byTechnician: +(byTechnician.medianMs / plainAggregate.medianMs).toFixed(2) },
            backlog: backlogTime,
            weekOverWeek: wow,
            without002Indexes: { yearReportWeekByNone: byNoneWithout, oneWeekReportByDayAndTechnician: oneWeekWithout, backlog: backlogWithout, weekOverWeek: wowWithout },
            goalReportUnder1s: Math.max(byNone.firstMs, byNone.medianMs, byTechnician.firstMs, byTechnician.medianMs) < 1000,
          },
          story: {
            weeks: weeks.length,
            firstWeeksMttrMin: round(weekly.slice(1, 5).reduce((s, w) => s + w.mttrS!, 0) / 4 / 60, 1),
            lastWeeksMttrMin: round(weekly.slice(-5, -1).reduce((s, w) => s + w.mttrS!, 0) / 4 / 60, 1),
            repeats: weeks.reduce((s, w) => s + w.repeats, 0),
            selfHealed: weeks.reduce((s, w) => s + w.selfHealed, 0),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
