/**
 * A plausible history of closed repair tickets, so a demo (or a benchmark) opens on figures that are not empty:
 * fans fail most often, then hashboards and chips, power supplies, unreachable miners; somebody acknowledges in
 * minutes (slower at night), takes the ticket, records the repair while the fault still fires, the fault clears, the
 * sync fixes and 30 min later verifies it. A few faults heal by themselves, some machines fail again within 7 days,
 * a few fixes are reopened, two hashboards (by serial) keep failing and are taken out twice, and repairs get a
 * little faster week after week.
 *
 * The rows are what syncTickets and TicketStore would have written for that story (states, events with their texts,
 * repairs with part serials, repeat_of, closed_at, lost TH·h and BTC) but go in with a few batched statements, so a
 * year of a 5,000-miner farm takes seconds. Seeded tickets carry a "seed:" group key: that marks the history as
 * seeded, so a second call writes nothing.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { Prng } from '@flymining/simulator/src/prng';
import { FAULT_CODES, type FaultCode } from '@flymining/shared/src/faults';
import { inTransaction } from './db';
import { actorSchema, type RepairAction } from './domain';
import { hashprice } from './figures/loss';
import { DEFAULT_SYNC_OPTIONS, machineRef } from './tickets/sync';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** BTC per TH per day used for a day the ledger has no market data for (about 2026's hashprice). */
const FALLBACK_HASHPRICE = 6.2e-7;
/** Group keys of seeded tickets start with this: how a second call knows the history is there. */
export const SEED_GROUP_PREFIX = 'seed:';
const BATCH = 5000;

const minerSchema = z.strictObject({
  id: z.string().min(1).max(200),
  container: z.string().max(100),
  rack: z.string().max(100),
  shelf: z.string().max(100),
  slot: z.string().max(100),
  site: z.string().max(100),
  serial: z.string().min(1).max(100).optional(),
  model: z.string().max(100).optional(),
  nominalThs: z.number().positive().max(100_000),
});

const seedOptionsSchema = z.strictObject({
  weeks: z.number().int().min(1).max(260),
  miners: z.array(minerSchema).min(1, 'give at least one miner'),
  technicians: z.array(actorSchema).min(1, 'give at least one technician'),
  now: z.union([z.date(), z.number()]).transform((v) => (typeof v === 'number' ? v : v.getTime())),
  /** Uniform in [0, 1); a seeded PRNG gives the same history every time. */
  random: z.custom<() => number>((v) => typeof v === 'function', 'a function returning numbers in [0, 1)').optional(),
  /** Share of the miners that fail each day (2 %: a 5,000-miner farm opens ~100 tickets a day). */
  dailyFailureRate: z.number().min(0).max(1).default(0.02),
  /** At least this many faults a day, so a small demo farm has figures every week. */
  minFailuresPerDay: z.number().int().min(0).max(10_000).default(3),
});
export type SeedMiner = z.input<typeof minerSchema>;
export type SeedOptions = z.input<typeof seedOptionsSchema>;

interface FaultKind {
  code: FaultCode;
  alertname: string;
  weight: number;
  part: 'fan' | 'board' | '';
  /** Chance it clears before anybody repairs it. */
  selfHeal: number;
  /** Share of nominal hashrate lost while it is open. */
  lossShare: number;
  /** What technicians do about it (weights), with minutes on site [min, max]. */
  actions: Array<{ action: RepairAction; weight: number; minutes: [number, number] }>;
}

// The fault mix: fans most often, then hashboards and chips, then power (a dead PSU shows as not hashing), then
// unreachable miners (often a reboot or a cable).
const FAULTS: FaultKind[] = [
  { code: 'FAN_STOPPED', alertname: 'FanFailure', weight: 30, part: 'fan', selfHeal: 0.04, lossShare: 1, actions: [{ action: 'replace_fan', weight: 8, minutes: [10, 35] }, { action: 'clean', weight: 2, minutes: [15, 40] }] },
  { code: 'FAN_MISSING', alertname: 'FanFailure', weight: 6, part: 'fan', selfHeal: 0.05, lossShare: 1, actions: [{ action: 'reseat', weight: 6, minutes: [5, 20] }, { action: 'replace_fan', weight: 4, minutes: [10, 35] }] },
  { code: 'CHIPS_DEAD', alertname: 'HardwareFault', weight: 14, part: 'board', selfHeal: 0.03, lossShare: 0.33, actions: [{ action: 'replace_hashboard', weight: 7, minutes: [40, 120] }, { action: 'reflash', weight: 2, minutes: [15, 40] }, { action: 'reseat', weight: 1, minutes: [15, 40] }] },
  { code: 'BOARD_MISSING', alertname: 'HardwareFault', weight: 6, part: 'board', selfHeal: 0.05, lossShare: 0.33, actions: [{ action: 'reseat', weight: 6, minutes: [20, 50] }, { action: 'replace_hashboard', weight: 4, minutes: [40, 120] }] },
  { code: 'CHIP_OVERHEAT', alertname: 'Overheating', weight: 5, part: 'board', selfHeal: 0.3, lossShare: 0.5, actions: [{ action: 'clean', weight: 1, minutes: [20, 60] }] },
  { code: 'BOARD_OVERHEAT', alertname: 'Overheating', weight: 3, part: 'board', selfHeal: 0.3, lossShare: 0.5, actions: [{ action: 'clean', weight: 2, minutes: [20, 60] }, { action: 'replace_fan', weight: 1, minutes: [10, 35] }] },
  { code: 'MINER_NOT_HASHING', alertname: 'MinerDown', weight: 9, part: '', selfHeal: 0.1, lossShare: 1, actions: [{ action: 'replace_psu', weight: 6, minutes: [20, 60] }, { action: 'reflash', weight: 2, minutes: [15, 45] }, { action: 'replace_control_board', weight: 1, minutes: [30, 80] }] },
  { code: 'MINER_UNREACHABLE', alertname: 'MinerDown', weight: 12, part: '', selfHeal: 0.35, lossShare: 1, actions: [{ action: 'reseat', weight: 5, minutes: [5, 25] }, { action: 'replace_control_board', weight: 2, minutes: [30, 80] }, { action: 'replace_psu', weight: 2, minutes: [20, 60] }, { action: 'other', weight: 1, minutes: [10, 40] }] },
  { code: 'HASHRATE_LOW', alertname: 'MinerHashrateLow', weight: 5, part: '', selfHeal: 0.5, lossShare: 0.2, actions: [{ action: 'clean', weight: 2, minutes: [20, 60] }, { action: 'reflash', weight: 1, minutes: [15, 45] }] },
  { code: 'TEMP_SENSOR_FAULT', alertname: 'HardwareFault', weight: 2, part: 'board', selfHeal: 0.1, lossShare: 0, actions: [{ action: 'reflash', weight: 1, minutes: [15, 40] }, { action: 'replace_hashboard', weight: 1, minutes: [40, 120] }] },
];
const FAULT_BY_CODE = new Map(FAULTS.map((f) => [f.code, f]));

const NOTES: Partial<Record<RepairAction, string[]>> = {
  replace_fan: ['bearing noise, fan swapped', 'fan seized', ''],
  replace_hashboard: ['board sent to the repair bench', 'burnt chip area on the board', ''],
  replace_psu: ['PSU dead, swapped', 'PSU fan failed', ''],
  reseat: ['connector was loose', 'reseated and re-plugged', ''],
  clean: ['dust on the heat sinks', 'intake filter clogged', ''],
  reflash: ['firmware reinstalled', ''],
  replace_control_board: ['control board would not boot', ''],
  other: ['network cable replaced', 'switch port changed', ''],
};

/** A failure to be told as a ticket; forced ones are the hashboards that keep failing. */
interface Episode {
  miner: number;
  at: number;
  kind: FaultKind;
  part: string;
  forced?: { removed?: string; installed?: string };
}

interface MachineState {
  miner: SeedMiner & { nominalThs: number };
  identity: string;
  machineId: number;
  base: string;
  /** Current serial of each serialised part ("board 2", "psu", "control"). */
  serials: Map<string, string>;
  /** Tickets fixed, as [ticketId, fixedAt], in the order written. */
  fixes: Array<[number, number]>;
  busyUntil: Map<string, number>;
}

interface TicketRow {
  id: number;
  machineId: number;
  m: SeedMiner;
  part: string;
  fault: string;
  severity: string;
  groupKey: string;
  state: 'verified' | 'self_healed';
  openedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  takenAt: number | null;
  takenBy: string | null;
  clearedAt: number;
  fixedAt: number | null;
  fixedBy: string | null;
  verifiedAt: number | null;
  closedAt: number;
  reopened: number;
  repeatOf: number | null;
  lostThHours: number;
  lostBtc: string;
  fingerprint: string;
  alertFiredAt: number;
}

interface EventRow {
  ticketId: number;
  at: number;
  kind: string;
  by: string | null;
  detail: string;
}

interface RepairRow {
  id: number;
  ticketId: number;
  machineId: number;
  at: number;
  by: string;
  action: RepairAction;
  notes: string;
  minutes: number;
  parts: Array<{ kind: string; removed: string | null; installed: string | null }>;
}

/**
 * Writes `weeks` of closed ticket history ending at `now` unless the database already has seeded history.
 * Returns how many tickets it wrote (0 on a second call).
 */
export async function seedTicketHistory(pool: Pool, options: SeedOptions): Promise<number> {
  const parsed = seedOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`demo seed: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}`);
  const o = parsed.data;
  const prng = new Prng(0x5eed12);
  const random = o.random ?? (() => prng.next());
  const start = o.now - o.weeks * 7 * DAY;
  const prices = await hashprices(pool, start, o.now);

  return inTransaction(pool, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('flymining.maintenance.demo-seed'))`);
    const seeded = await tx.query(`SELECT 1 FROM maintenance.tickets WHERE group_key LIKE $1 LIMIT 1`, [`${SEED_GROUP_PREFIX}%`]);
    if (seeded.rowCount) return 0;
    const machines = await upsertMachines(tx, o.miners, start);
    const story = tell(o, machines, random, start, prices);
    if (story.tickets.length === 0) return 0;
    const ticketIds = await reserveIds(tx, 'maintenance.tickets_id_seq', story.tickets.length);
    const repairIds = await reserveIds(tx, 'maintenance.repairs_id_seq', story.repairs.length);
    // The story numbers tickets and repairs 1..n; the sequences hand out the real ids.
    const tid = (n: number): number => ticketIds[n - 1]!;
    const rid = (n: number): number => repairIds[n - 1]!;
    await writeTickets(tx, story.tickets, tid);
    await writeEvents(tx, story.events, tid);
    await writeRepairs(tx, story.repairs, tid, rid);
    return story.tickets.length;
  });
}

/** BTC per TH per day by UTC day from the ledger's market days, where it has them. */
async function hashprices(pool: Pool, from: number, to: number): Promise<Map<string, number>> {
  const prices = new Map<string, number>();
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('market_days')::text AS t`);
  if (!exists.rows[0]?.t) return prices;
  const { rows } = await pool.query<{ day: string }>(`SELECT day::text AS day FROM market_days WHERE day BETWEEN $1::date AND $2::date`, [new Date(from), new Date(to)]);
  for (const r of rows) {
    const price = await hashprice(pool, r.day);
    if (price) prices.set(r.day, price.toNumber());
  }
  return prices;
}

async function upsertMachines(tx: PoolClient, miners: readonly SeedMiner[], firstSeen: number): Promise<MachineState[]> {
  const states = miners.map((m) => {
    const ref = machineRef(m.id, { ...(m.serial ? { serial: m.serial } : {}), ...(m.model ? { model: m.model } : {}) });
    return { miner: m, identity: ref.identity, ref, machineId: 0, base: m.serial ?? m.id, serials: new Map<string, string>(), fixes: [] as Array<[number, number]>, busyUntil: new Map<string, number>() };
  });
  const unique = [...new Map(states.map((s) => [s.identity, s.ref])).values()];
  const { rows } = await tx.query<{ id: string; identity: string }>(
    `INSERT INTO maintenance.machines (identity, serial, model, first_seen)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
     ON CONFLICT (identity) DO UPDATE SET serial = COALESCE(machines.serial, EXCLUDED.serial), model = COALESCE(machines.model, EXCLUDED.model),
       first_seen = LEAST(machines.first_seen, EXCLUDED.first_seen)
     RETURNING id, identity`,
    [unique.map((r) => r.identity), unique.map((r) => r.serial ?? null), unique.map((r) => r.model ?? null), unique.map(() => new Date(firstSeen))],
  );
  const ids = new Map(rows.map((r) => [r.identity, Number(r.id)]));
  for (const s of states) s.machineId = ids.get(s.identity)!;
  return states;
}

async function reserveIds(tx: PoolClient, sequence: string, n: number): Promise<number[]> {
  if (n === 0) return [];
  const { rows } = await tx.query<{ id: string }>(`SELECT nextval($1::regclass) AS id FROM generate_series(1, $2::int) ORDER BY 1`, [sequence, n]);
  return rows.map((r) => Number(r.id));
}

type ParsedOptions = z.output<typeof seedOptionsSchema>;

/** The whole history in memory, in the order things happened (tickets numbered 1..n by opening time). */
function tell(o: ParsedOptions, machines: MachineState[], random: () => number, start: number, prices: Map<string, number>) {
  const between = (lo: number, hi: number): number => lo + (hi - lo) * random();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const weighted = <T extends { weight: number }>(items: readonly T[]): T => {
    let r = random() * items.reduce((s, i) => s + i.weight, 0);
    for (const i of items) if ((r -= i.weight) < 0) return i;
    return items[items.length - 1]!;
  };
  // Log-normal around a median: most acknowledgements take minutes, a few take hours.
  const skewed = (median: number, spread: number): number => {
    const g = Array.from({ length: 6 }, random).reduce((s, v) => s + v, 0) - 3;
    return median * Math.exp(spread * g * Math.SQRT2);
  };
  const serialTag = (): string => Math.floor(random() * 0xffffff).toString(16).toUpperCase().padStart(6, '0');
  const serialOf = (m: MachineState, slot: string): string => {
    let s = m.serials.get(slot);
    if (!s) m.serials.set(slot, (s = `${m.base}-${slot.replace(' ', '').toUpperCase()}`));
    return s;
  };
  // Technicians differ: some are quicker than others.
  const pace = new Map(o.technicians.map((t) => [t, between(0.75, 1.3)]));
  const days = o.weeks * 7;

  const episodes: Episode[] = [];
  const partOf = (kind: FaultKind): string => (kind.part === 'fan' ? `fan ${1 + Math.floor(random() * 4)}` : kind.part === 'board' ? `board ${1 + Math.floor(random() * 3)}` : '');
  for (let d = 0; d < days; d++) {
    const count = Math.max(o.minFailuresPerDay, Math.round(machines.length * o.dailyFailureRate * between(0.8, 1.2)));
    for (let i = 0; i < count; i++) {
      const kind = weighted(FAULTS);
      const e: Episode = { miner: Math.floor(random() * machines.length), at: start + (d + random()) * DAY, kind, part: partOf(kind) };
      episodes.push(e);
      // Some fixes do not hold: the same machine fails again within a week (same trouble, or a neighbouring part).
      if (random() < 0.06) {
        const again = random() < 0.7 ? kind : weighted(FAULTS);
        episodes.push({ miner: e.miner, at: e.at + between(0.5, 6) * DAY, kind: again, part: again === kind ? e.part : partOf(again) });
      }
    }
  }
  // Two hashboards that keep failing: taken out of one miner, repaired on the bench, put into another, failing again.
  const boards = FAULT_BY_CODE.get('CHIPS_DEAD')!;
  for (let b = 0; b < 2 && machines.length >= 2; b++) {
    const first = Math.floor(random() * machines.length);
    const second = (first + 1 + Math.floor(random() * (machines.length - 1))) % machines.length;
    const bad = `HB-${serialTag()}-R`;
    const slotA = `board ${1 + b}`;
    const slotB = `board ${3 - b}`;
    machines[first]!.serials.set(slotA, bad);
    const t1 = start + (0.1 + 0.2 * b) * days * DAY;
    const t2 = t1 + Math.max(1, 0.25 * days) * DAY;
    const t3 = t2 + between(2, 5) * DAY;
    if (t3 > o.now - DAY) continue;
    episodes.push({ miner: first, at: t1, kind: boards, part: slotA, forced: { removed: bad } });
    episodes.push({ miner: second, at: t2, kind: boards, part: slotB, forced: { installed: bad } });
    episodes.push({ miner: second, at: t3, kind: boards, part: slotB, forced: { removed: bad } });
  }
  episodes.sort((a, b) => a.at - b.at);

  const tickets: TicketRow[] = [];
  const events: EventRow[] = [];
  const repairs: RepairRow[] = [];
  const verifyAfter = DEFAULT_SYNC_OPTIONS.verifyAfterMs;
  const repeatWindow = DEFAULT_SYNC_OPTIONS.repeatWindowMs;

  for (const e of episodes) {
    const m = machines[e.miner]!;
    // One live ticket per machine and part: a fault on a part already in a ticket is that ticket; the boards that keep
    // failing wait for it to close instead.
    const busyUntil = m.busyUntil.get(e.part) ?? 0;
    if (busyUntil > e.at && !e.forced) continue;
    const opened = Math.round(busyUntil > e.at ? busyUntil + HOUR : e.at);
    const progress = days > 7 ? (opened - start) / (days * DAY) : 0.5;
    // Repairs get faster as the team settles in: ~1.3× the median time in the first week, ~0.8× in the last.
    const speed = (1.3 - 0.5 * progress) * between(0.85, 1.15);
    const hour = new Date(opened).getUTCHours();
    const night = hour >= 22 || hour < 6 ? 2.5 : 1;
    const id = tickets.length + 1;
    const ev = (at: number, kind: string, by: string | null, detail = ''): void => void events.push({ ticketId: id, at, kind, by, detail });
    // As the sync finds it: the machine's latest fix within the repeat window.
    let repeat: [number, number] | undefined;
    for (const f of m.fixes) if (f[1] <= opened && f[1] >= opened - repeatWindow && (!repeat || f[1] > repeat[1])) repeat = f;
    const acker = pick(o.technicians);
    const ackDelay = Math.min(8 * HOUR, Math.max(30_000, skewed(14 * MINUTE, 0.8) * speed * night * pace.get(acker)!));
    const t: TicketRow = {
      id,
      machineId: m.machineId,
      m: m.miner,
      part: e.part,
      fault: e.kind.code,
      severity: FAULT_CODES[e.kind.code].severity,
      groupKey: `${SEED_GROUP_PREFIX}0:alertname=${JSON.stringify(e.kind.alertname)},container=${JSON.stringify(m.miner.container)},site=${JSON.stringify(m.miner.site)}`,
      state: 'verified',
      openedAt: opened,
      acknowledgedAt: null,
      acknowledgedBy: null,
      takenAt: null,
      takenBy: null,
      clearedAt: 0,
      fixedAt: null,
      fixedBy: null,
      verifiedAt: null,
      closedAt: 0,
      reopened: 0,
      repeatOf: repeat ? repeat[0] : null,
      lostThHours: 0,
      lostBtc: '0',
      fingerprint: createHash('sha1').update(`${m.miner.id}\u0000${e.kind.code}\u0000${e.part}`).digest('hex').slice(0, 16),
      alertFiredAt: opened,
    };
    const firstEvent = events.length;
    const firstRepair = repairs.length;
    ev(opened, 'opened', null, `${e.kind.code}${e.part ? ` (${e.part})` : ''}${repeat ? `: repeat failure, ticket #${repeat[0]} was fixed less than 7 days ago` : ''}`);

    if (!e.forced && random() < e.kind.selfHeal) {
      const cleared = opened + Math.round(skewed(12 * MINUTE, 0.6));
      if (random() < 0.5 && opened + ackDelay < cleared) {
        t.acknowledgedAt = opened + Math.round(ackDelay);
        t.acknowledgedBy = acker;
        ev(t.acknowledgedAt, 'acknowledged', acker, random() < 0.5 ? 'from the link in the notice' : '');
      }
      ev(cleared, 'cleared', null, 'every alert of this ticket cleared');
      ev(cleared, 'self_healed', null, 'the fault cleared before anybody worked on it');
      Object.assign(t, { state: 'self_healed', clearedAt: cleared, closedAt: cleared });
    } else {
      const taker = random() < 0.75 ? acker : pick(o.technicians);
      const takerPace = pace.get(taker)!;
      let taken: number;
      if (random() < 0.25) {
        // Taken straight from the page: taking acknowledges.
        taken = opened + Math.round(ackDelay);
        ev(taken, 'acknowledged', taker);
        Object.assign(t, { acknowledgedAt: taken, acknowledgedBy: taker });
      } else {
        t.acknowledgedAt = opened + Math.round(ackDelay);
        t.acknowledgedBy = acker;
        ev(t.acknowledgedAt, 'acknowledged', acker, random() < 0.5 ? 'from the link in the notice' : '');
        taken = t.acknowledgedAt + Math.round(between(3, 50) * MINUTE * speed * takerPace);
      }
      ev(taken, 'taken', taker);
      Object.assign(t, { takenAt: taken, takenBy: taker });
      const chosen = e.forced ? { action: 'replace_hashboard' as const, minutes: [40, 120] as [number, number] } : weighted(e.kind.actions);
      const repairOnce = (from: number, action: RepairAction, minutesRange: [number, number], forced?: Episode['forced']): number => {
        const minutes = Math.round(between(...minutesRange) * speed * takerPace);
        const at = from + Math.round(between(5, 25) * MINUTE * speed) + minutes * MINUTE;
        const parts = partsFor(action, m, e.part, forced);
        const notes = pick(NOTES[action] ?? ['']);
        repairs.push({ id: repairs.length + 1, ticketId: id, machineId: m.machineId, at, by: taker, action, notes, minutes, parts });
        const partText = parts.map((p) => `${p.kind}${p.removed ? ` out ${p.removed}` : ''}${p.installed ? ` in ${p.installed}` : ''}`).join(', ');
        ev(at, 'repair', taker, [action.replace(/_/g, ' '), partText, notes].filter(Boolean).join(' · '));
        return at;
      };
      const partsFor = (action: RepairAction, ms: MachineState, part: string, forced?: Episode['forced']): RepairRow['parts'] => {
        const swap = (kind: string, slot: string, fresh: string): RepairRow['parts'] => {
          const removed = forced?.removed ?? serialOf(ms, slot);
          const installed = forced?.installed ?? fresh;
          ms.serials.set(slot, installed);
          return [{ kind, removed, installed }];
        };
        switch (action) {
          case 'replace_fan':
            return [{ kind: 'fan', removed: null, installed: `FAN-${serialTag()}` }];
          case 'replace_hashboard':
            return swap('hashboard', part.startsWith('board') ? part : `board ${1 + Math.floor(random() * 3)}`, `HB-${serialTag()}`);
          case 'replace_psu':
            return swap('psu', 'psu', `PSU-${serialTag()}`);
          case 'replace_control_board':
            return swap('control_board', 'control', `CB-${serialTag()}`);
          default:
            return [];
        }
      };
      // Usually the repair is recorded while the fault still fires, and it clears when the miner comes back; now
      // and then a reboot on site clears it with nothing to record.
      const recorded = e.forced || e.kind.part !== '' || random() > 0.15;
      const done = recorded ? repairOnce(taken, chosen.action, chosen.minutes, e.forced) : taken + Math.round(between(5, 20) * MINUTE);
      let cleared = done + Math.round(between(1, 8) * MINUTE);
      ev(cleared, 'cleared', null, 'every alert of this ticket cleared');
      ev(cleared, 'fixed', taker, 'the fault cleared after the repair');
      t.fixedAt = cleared;
      t.fixedBy = taker;
      if (!e.forced && random() < 0.04) {
        // The fix did not hold: the fault fired again before verification, so the ticket reopened.
        const refired = cleared + Math.round(between(3, verifyAfter / MINUTE - 2) * MINUTE);
        ev(refired, 'refired', null, e.kind.code);
        ev(refired, 'reopened', null, `${e.kind.code} fired again after the fix`);
        const again = refired + Math.round(between(10, 60) * MINUTE * speed);
        ev(again, 'taken', taker);
        const doneAgain = repairOnce(again, 'reseat', [10, 40]);
        cleared = doneAgain + Math.round(between(1, 5) * MINUTE);
        ev(cleared, 'cleared', null, 'every alert of this ticket cleared');
        ev(cleared, 'fixed', taker, 'the fault cleared after the repair');
        Object.assign(t, { reopened: 1, takenAt: again, fixedAt: cleared, alertFiredAt: refired });
      }
      const verified = cleared + verifyAfter + Math.round(between(0, 60_000));
      ev(verified, 'verified', null, `no alert on this miner for ${Math.round(verifyAfter / MINUTE)} min after the fix`);
      Object.assign(t, { clearedAt: cleared, verifiedAt: verified, closedAt: verified });
    }
    if (t.closedAt > o.now) {
      // Would still be open now: not part of a closed history.
      events.length = firstEvent;
      repairs.length = firstRepair;
      continue;
    }
    const lossEnd = t.fixedAt ?? t.closedAt;
    const nominal = m.miner.nominalThs;
    t.lostThHours = (nominal * e.kind.lossShare * (lossEnd - opened)) / HOUR;
    let btc = 0;
    for (let from = opened; from < lossEnd; from = Math.floor(from / DAY) * DAY + DAY) {
      const to = Math.min(lossEnd, Math.floor(from / DAY) * DAY + DAY);
      const day = new Date(from).toISOString().slice(0, 10);
      btc += (((nominal * e.kind.lossShare * (to - from)) / HOUR) * (prices.get(day) ?? FALLBACK_HASHPRICE)) / 24;
    }
    t.lostBtc = btc.toFixed(8);
    tickets.push(t);
    m.busyUntil.set(e.part, t.closedAt);
    if (t.fixedAt !== null) m.fixes.push([id, t.fixedAt]);
  }
  return { tickets, events, repairs };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

async function inBatches<T>(rows: readonly T[], write: (batch: readonly T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) await write(rows.slice(i, i + BATCH));
}

async function writeTickets(tx: PoolClient, tickets: readonly TicketRow[], tid: (n: number) => number): Promise<void> {
  await inBatches(tickets, async (b) => {
    await tx.query(
      `INSERT INTO maintenance.tickets (id, machine_id, miner, site, container, rack, shelf, slot, part, fault, severity, group_key, state,
         opened_at, acknowledged_at, acknowledged_by, taken_at, taken_by, firing, cleared_at, fixed_at, fixed_by, verified_at, closed_at,
         reopened, repeat_of, nominal_ths, lost_th_hours, lost_btc)
       SELECT id, machine_id, miner, site, container, rack, shelf, slot, part, fault, severity, group_key, state,
              opened_at, acknowledged_at, acknowledged_by, taken_at, taken_by, false, cleared_at, fixed_at, fixed_by, verified_at, closed_at,
              reopened, repeat_of, nominal_ths, lost_th_hours, lost_btc
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                     $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::text[], $17::timestamptz[], $18::text[],
                     $19::timestamptz[], $20::timestamptz[], $21::text[], $22::timestamptz[], $23::timestamptz[], $24::int[], $25::bigint[],
                     $26::numeric[], $27::numeric[], $28::numeric[])
           AS r(id, machine_id, miner, site, container, rack, shelf, slot, part, fault, severity, group_key, state, opened_at, acknowledged_at,
                acknowledged_by, taken_at, taken_by, cleared_at, fixed_at, fixed_by, verified_at, closed_at, reopened, repeat_of, nominal_ths,
                lost_th_hours, lost_btc)`,
      [
        b.map((t) => tid(t.id)),
        b.map((t) => t.machineId),
        b.map((t) => t.m.id),
        b.map((t) => t.m.site),
        b.map((t) => t.m.container),
        b.map((t) => t.m.rack),
        b.map((t) => t.m.shelf),
        b.map((t) => t.m.slot),
        b.map((t) => t.part),
        b.map((t) => t.fault),
        b.map((t) => t.severity),
        b.map((t) => t.groupKey),
        b.map((t) => t.state),
        b.map((t) => iso(t.openedAt)),
        b.map((t) => iso(t.acknowledgedAt)),
        b.map((t) => t.acknowledgedBy),
        b.map((t) => iso(t.takenAt)),
        b.map((t) => t.takenBy),
        b.map((t) => iso(t.clearedAt)),
        b.map((t) => iso(t.fixedAt)),
        b.map((t) => t.fixedBy),
        b.map((t) => iso(t.verifiedAt)),
        b.map((t) => iso(t.closedAt)),
        b.map((t) => t.reopened),
        b.map((t) => (t.repeatOf === null ? null : tid(t.repeatOf))),
        b.map((t) => t.m.nominalThs.toFixed(3)),
        b.map((t) => t.lostThHours.toFixed(3)),
        b.map((t) => t.lostBtc),
      ],
    );
    await tx.query(
      `INSERT INTO maintenance.ticket_alerts (ticket_id, fingerprint, fault, firing, fired_at, cleared_at)
       SELECT ticket_id, fingerprint, fault, false, fired_at, cleared_at FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
         AS r(ticket_id, fingerprint, fault, fired_at, cleared_at)`,
      [b.map((t) => tid(t.id)), b.map((t) => t.fingerprint), b.map((t) => t.fault), b.map((t) => iso(t.alertFiredAt)), b.map((t) => iso(t.clearedAt))],
    );
  });
}

async function writeEvents(tx: PoolClient, events: readonly EventRow[], tid: (n: number) => number): Promise<void> {
  // In time order within each ticket, so event ids follow the timeline as the real code's do.
  await inBatches(events, (b) =>
    tx.query(
      `INSERT INTO maintenance.ticket_events (ticket_id, at, kind, by, detail)
       SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])`,
      [b.map((e) => tid(e.ticketId)), b.map((e) => iso(e.at)), b.map((e) => e.kind), b.map((e) => e.by), b.map((e) => e.detail)],
    ),
  );
}

async function writeRepairs(tx: PoolClient, repairs: readonly RepairRow[], tid: (n: number) => number, rid: (n: number) => number): Promise<void> {
  await inBatches(repairs, async (b) => {
    await tx.query(
      `INSERT INTO maintenance.repairs (id, ticket_id, machine_id, at, by, action, notes, minutes_on_site)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::int[])`,
      [b.map((r) => rid(r.id)), b.map((r) => tid(r.ticketId)), b.map((r) => r.machineId), b.map((r) => iso(r.at)), b.map((r) => r.by), b.map((r) => r.action), b.map((r) => r.notes), b.map((r) => r.minutes)],
    );
    const parts = b.flatMap((r) => r.parts.map((p) => ({ repair: rid(r.id), ...p })));
    if (parts.length === 0) return;
    await tx.query(
      `INSERT INTO maintenance.repair_parts (repair_id, kind, removed_serial, installed_serial)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])`,
      [parts.map((p) => p.repair), parts.map((p) => p.kind), parts.map((p) => p.removed), parts.map((p) => p.installed)],
    );
  });
}
