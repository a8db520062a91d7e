/**
 * `flymining tickets ...`, `flymining oncall ...` and `flymining report maintenance`: the maintenance staff's
 * commands (docs/maintenance.md). PostgreSQL from --pg-url or FLYMINING_PG_URL; each command migrates the
 * maintenance schema first (a no-op once done). Tables for people, --json for scripts; a refused action prints
 * its reason on stderr and exits 1.
 */
import { formatIssues, InfluxStore, loadInfluxConfig } from '@flymining/shared';
import { Command, Option } from 'commander';
import { Pool } from 'pg';
import { z } from 'zod';
import { migrateMaintenance } from './db';
import { PART_KINDS, REPAIR_ACTIONS, TicketError, type Ticket } from './domain';
import { loadRotaFile, RotaConfigError } from './rota/store';
import { figures, rotaNow, staffData, type StaffData } from './staff/data';
import { ageOf, formatAge, formatPlace, formatShiftTime, formatTime, parseStaffTime, ticketOwner } from './staff/format';
import { figuresQuerySchema, ticketListQuerySchema } from './staff/inputs';
import { machineChanges } from './tickets/changes';
import type { RepairRecord } from './tickets/store';

const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/flymining';

interface PgOptions {
  pgUrl: string;
}

const pgOption = () => new Option('--pg-url <url>', 'PostgreSQL of the center (FLYMINING_PG_URL)').default(process.env.FLYMINING_PG_URL ?? DEFAULT_PG, 'FLYMINING_PG_URL or local');

async function withData<T>(opts: PgOptions, fn: (data: StaffData) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: opts.pgUrl, max: 4 });
  pool.on('error', () => undefined); // a dropped idle connection: the next query reports any real outage
  try {
    await migrateMaintenance(pool);
    return await fn(staffData(pool));
  } finally {
    await pool.end();
  }
}

/** One line on stderr and exit code 1 instead of a stack trace: the reason is what staff need. */
function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const message =
        err instanceof z.ZodError ? formatIssues(err, { whole: 'input' }).join('; ') : err instanceof RotaConfigError ? err.message : err instanceof Error ? err.message : String(err);
      process.stderr.write(`flymining ${name}: ${message}\n`);
      process.exitCode = 1;
    }
  };
}

const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const json = (value: unknown): void => out(JSON.stringify(value, null, 2));

/** Columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function ticketId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new TicketError(`ticket id: "${text}" is not a whole number`, 400);
  return Number(text);
}

function ticketTable(tickets: Ticket[], timeZone: string, now: Date): string {
  return table(
    ['ID', 'AGE', 'SEVERITY', 'PLACE', 'FAULT', 'PART', 'STATE', 'WHO', 'OPENED'],
    tickets.map((t) => [`#${t.id}`, formatAge(ageOf(t, now)), t.severity, formatPlace(t), t.fault, t.part || '-', t.state, ticketOwner(t), formatTime(t.openedAt, timeZone)]),
  );
}

function repairLines(repairs: RepairRecord[], timeZone: string): string {
  if (repairs.length === 0) return 'no repairs recorded';
  return table(
    ['WHEN', 'TICKET', 'WHO', 'ACTION', 'PARTS (out -> in)', 'MIN', 'NOTES'],
    repairs.map((r) => [
      formatTime(r.at, timeZone),
      `#${r.ticketId}`,
      r.by,
      r.action,
      r.parts.map((p) => `${p.kind} ${p.removedSerial ?? '-'} -> ${p.installedSerial ?? '-'}`).join(', ') || '-',
      r.minutesOnSite === null ? '-' : String(r.minutesOnSite),
      r.notes.replace(/\s+/g, ' '),
    ]),
  );
}

/** "--part fan:OLD:NEW" (either serial may be empty: "fan::NEW" for a part put in where none was). */
function partOf(text: string, previous: Array<{ kind: string; removedSerial?: string; installedSerial?: string }> = []) {
  const m = /^([a-z_]+):([^:]*):([^:]*)$/.exec(text);
  if (!m || !(PART_KINDS as readonly string[]).includes(m[1]!)) throw new TicketError(`--part: expected KIND:SERIAL_OUT:SERIAL_IN with KIND one of ${PART_KINDS.join(', ')}, got "${text}"`, 400);
  return [...previous, { kind: m[1]!, ...(m[2] ? { removedSerial: m[2] } : {}), ...(m[3] ? { installedSerial: m[3] } : {}) }];
}

/** A store on the FLYMINING_INFLUX_* settings for one command, closed after it. */
async function withInflux<T>(fn: (store: InfluxStore) => Promise<T>): Promise<T> {
  const store = new InfluxStore(loadInfluxConfig({}, process.env, 'FLYMINING_INFLUX_*'), { spool: false });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerMaintenanceCommands(program: Command): void {
  registerTicketCommands(program);
  registerOncallCommands(program);
  const report = program.commands.find((c) => c.name() === 'report') ?? program.command('report').description('reports');
  report
    .command('maintenance')
    .description('MTTA, MTTR, repaired, repeats, self-healed and lost TH·h/BTC per day, week or month')
    .option('--from <YYYY-MM-DD>', 'first day (farm time zone); default 12 periods back')
    .option('--to <YYYY-MM-DD>', 'day after the last (default tomorrow)')
    .option('--period <p>', 'day, week or month', 'week')
    .option('--by <dimension>', 'none, technician, container or fault', 'none')
    .option('--json', 'JSON for scripts')
    .addOption(pgOption())
    .action(
      action('report maintenance', async (o: PgOptions & { from?: string; to?: string; period: string; by: string; json?: boolean }) =>
        withData(o, async (data) => {
          const q = figuresQuerySchema.safeParse({ from: o.from, to: o.to, period: o.period, by: o.by });
          if (!q.success) throw new TicketError(formatIssues(q.error, { locate: (p) => `--${String(p[0] ?? 'input')}` }).join('; '), 400);
          const f = await figures(data, q.data);
          if (o.json) return json({ range: f.range, rows: f.rows, backlog: f.backlog, weekOverWeek: f.weekOverWeek });
          out(`Maintenance ${f.range.from} to ${f.range.to} (exclusive) per ${f.range.period}${f.range.by === 'none' ? '' : ` by ${f.range.by}`}, ${f.range.timeZone}`);
          out(
            f.rows.length === 0
              ? 'no tickets in this range'
              : table(
                  ['PERIOD', ...(f.range.by === 'none' ? [] : [f.range.by.toUpperCase()]), 'OPENED', 'REPEATS', 'MTTA', 'REPAIRED', 'MTTR', 'SELF-HEALED', 'LOST TH·h', 'LOST BTC'],
                  f.rows.map((r) => [r.period, ...(f.range.by === 'none' ? [] : [r.key]), String(r.opened), String(r.repeats), formatAge(r.mttaS), String(r.repaired), formatAge(r.mttrS), String(r.selfHealed), r.lostThHours.toFixed(1), r.lostBtc]),
                ),
          );
          const w = f.weekOverWeek;
          out(`\nOpen now: ${f.backlog.open} (${f.backlog.unacknowledged} not acknowledged, oldest ${formatAge(f.backlog.oldestS)})`);
          out(`MTTR this week ${formatAge(w.thisWeek.mttrS)} (${w.thisWeek.repaired} repaired), last week ${formatAge(w.lastWeek.mttrS)} (${w.lastWeek.repaired} repaired)`);
        }),
      ),
    );
}

function registerTicketCommands(program: Command): void {
  const tickets = program.command('tickets').description('repair tickets: list, show, acknowledge, take, note, close, machine and part history');
  tickets
    .command('list')
    .description('tickets by severity and age (default: the open backlog)')
    .option('--state <state>', 'backlog, closed, all or one state (open, acknowledged, in_repair, fixed, verified, reopened, self_healed)', 'backlog')
    .option('--container <c>', 'only this container')
    .option('--technician <name>', 'only tickets taken or fixed by this person')
    .option('--limit <n>', 'at most this many', '200')
    .option('--json', 'JSON for scripts')
    .addOption(pgOption())
    .action(
      action('tickets list', async (o: PgOptions & { state: string; container?: string; technician?: string; limit: string; json?: boolean }) =>
        withData(o, async (data) => {
          const q = ticketListQuerySchema.safeParse({ state: o.state, container: o.container, technician: o.technician, limit: o.limit });
          if (!q.success) throw new TicketError(formatIssues(q.error, { locate: (p) => `--${String(p[0] ?? 'input')}` }).join('; '), 400);
          const list = await data.tickets.list(q.data);
          if (o.json) return json(list);
          out(list.length === 0 ? `no tickets (${q.data.state})` : ticketTable(list, await data.timeZone(), data.now()));
        }),
      ),
    );
  tickets
    .command('show')
    .description('one ticket: where, state, timeline and repairs')
    .argument('<id>', 'ticket number')
    .option('--json', 'JSON for scripts')
    .addOption(pgOption())
    .action(
      action('tickets show', async (id: string, o: PgOptions & { json?: boolean }) =>
        withData(o, async (data) => {
          const d = await data.tickets.get(ticketId(id));
          if (o.json) return json(d);
          const tz = await data.timeZone();
          const t = d.ticket;
          out(`Ticket #${t.id}: ${t.fault}${t.part ? ` (${t.part})` : ''}, ${t.severity}, ${t.state}${t.firing ? ', still firing' : ''}`);
          out(`Where:   ${t.site} ${formatPlace(t)} (miner ${t.miner}), machine ${t.machine}`);
          out(`Opened:  ${formatTime(t.openedAt, tz)} (${formatAge(ageOf(t, data.now()))}${t.closedAt ? ' until closed' : ' ago'})`);
          if (t.acknowledgedAt) out(`Acked:   ${formatTime(t.acknowledgedAt, tz)} by ${t.acknowledgedBy ?? '?'}`);
          if (t.takenAt) out(`Taken:   ${formatTime(t.takenAt, tz)} by ${t.takenBy ?? '?'}`);
          if (t.fixedAt) out(`Fixed:   ${formatTime(t.fixedAt, tz)} by ${t.fixedBy ?? '?'}`);
          if (t.lostThHours !== null) out(`Lost:    ${t.lostThHours.toFixed(1)} TH·h${t.lostBtc ? `, ${t.lostBtc} BTC` : ''}`);
          out(`\nTimeline (${tz}):`);
          out(table(['WHEN', 'WHAT', 'WHO', 'DETAIL'], d.events.map((e) => [formatTime(e.at, tz), e.kind, e.by ?? '-', e.detail.replace(/\s+/g, ' ')])));
          out('\nRepairs:');
          out(repairLines(d.repairs, tz));
        }),
      ),
    );
  const simple = (name: 'ack' | 'take', what: string, run: (data: StaffData, id: number, by: string) => Promise<Ticket>) =>
    tickets
      .command(name)
      .description(what)
      .argument('<id>', 'ticket number')
      .requiredOption('--by <name>', 'who does it (recorded on the ticket)')
      .option('--json', 'the ticket as JSON')
      .addOption(pgOption())
      .action(
        action(`tickets ${name}`, async (id: string, o: PgOptions & { by: string; json?: boolean }) =>
          withData(o, async (data) => {
            const t = await run(data, ticketId(id), o.by);
            if (o.json) return json(t);
            out(`ticket #${t.id} is ${t.state.replace('_', ' ')}${t.takenBy ? ` (taken by ${t.takenBy})` : t.acknowledgedBy ? ` (acknowledged by ${t.acknowledgedBy})` : ''}`);
          }),
        ),
      );
  simple('ack', 'acknowledge: you have seen it', (data, id, by) => data.tickets.acknowledge(id, by));
  simple('take', 'take it into repair (acknowledges it too)', (data, id, by) => data.tickets.take(id, by));
  tickets
    .command('note')
    .description('add a note to the timeline')
    .argument('<id>', 'ticket number')
    .argument('<text...>', 'the note')
    .requiredOption('--by <name>', 'who writes it')
    .addOption(pgOption())
    .action(
      action('tickets note', async (id: string, words: string[], o: PgOptions & { by: string }) =>
        withData(o, async (data) => {
          const t = await data.tickets.note(ticketId(id), o.by, words.join(' '));
          out(`note added to ticket #${t.id}`);
        }),
      ),
    );
  tickets
    .command('close')
    .description('record the repair: fixed now if the fault has cleared, else once it clears')
    .argument('<id>', 'ticket number')
    .requiredOption('--by <name>', 'who repaired it')
    .addOption(new Option('--action <action>', 'what was done').choices([...REPAIR_ACTIONS]).makeOptionMandatory())
    .option('--part <kind:out:in>', `a part changed, e.g. fan:FAN-OLD:FAN-NEW (kind: ${PART_KINDS.join(', ')}); repeatable`, partOf, [])
    .option('--notes <text>', 'what you found', '')
    .option('--minutes <n>', 'minutes on site')
    .option('--json', 'the outcome as JSON')
    .addOption(pgOption())
    .action(
      action(
        'tickets close',
        async (id: string, o: PgOptions & { by: string; action: string; part: Array<{ kind: string; removedSerial?: string; installedSerial?: string }>; notes: string; minutes?: string; json?: boolean }) =>
          withData(o, async (data) => {
            if (o.minutes !== undefined && !/^\d{1,6}$/.test(o.minutes)) throw new TicketError(`--minutes: "${o.minutes}" is not a whole number of minutes`, 400);
            const outcome = await data.tickets.close(ticketId(id), o.by, {
              action: o.action as (typeof REPAIR_ACTIONS)[number],
              parts: o.part as Array<{ kind: (typeof PART_KINDS)[number]; removedSerial?: string; installedSerial?: string }>,
              notes: o.notes,
              ...(o.minutes !== undefined ? { minutesOnSite: Number(o.minutes) } : {}),
            });
            if (o.json) return json(outcome);
            out(
              outcome.waitingForClear
                ? `repair recorded on ticket #${outcome.ticket.id}; the fault still fires: the ticket becomes fixed when it clears`
                : `ticket #${outcome.ticket.id} fixed; verified once the miner runs without alerts for a while`,
            );
          }),
      ),
    );
  tickets
    .command('history')
    .description("a machine's tickets and repairs across the slots it stood in")
    .argument('<key>', 'serial, MAC, identity (serial:…) or a miner id that had a ticket')
    .option('--json', 'JSON for scripts')
    .addOption(pgOption())
    .action(
      action('tickets history', async (key: string, o: PgOptions & { json?: boolean }) =>
        withData(o, async (data) => {
          const h = await data.tickets.machineHistory(key);
          // The exporter's record of pool, firmware and identity changes, when InfluxDB is configured.
          const changes = process.env.FLYMINING_INFLUX_URL ? await withInflux((store) => machineChanges(store, h)) : undefined;
          if (o.json) return json({ ...h, ...(changes ? { changes } : {}) });
          const tz = await data.timeZone();
          out(`Machine ${h.machine.identity}${h.machine.model ? ` (${h.machine.model})` : ''}: ${h.tickets.length} ticket(s), ${h.repairs.length} repair(s)`);
          if (h.tickets.length) out(ticketTable(h.tickets, tz, data.now()));
          out('');
          out(repairLines(h.repairs, tz));
          if (changes) {
            out('');
            out(changes.length ? `Changes (last 40 days, newest first):` : 'No pool, firmware or identity change recorded in the last 40 days.');
            for (const c of changes) out(`  ${formatTime(new Date(c.time), tz)}  ${c.miner}  ${c.kind.replace(/_/g, ' ')}: ${(c.before || '-').slice(0, 200)} -> ${(c.after || '-').slice(0, 200)}`.replace(/[\x00-\x1f\x7f]/g, '?'));
          }
        }),
      ),
    );
  tickets
    .command('part')
    .description("a part's serial history: the repairs that took it out or put it in")
    .argument('<serial>', 'the serial number')
    .option('--json', 'JSON for scripts')
    .addOption(pgOption())
    .action(
      action('tickets part', async (serial: string, o: PgOptions & { json?: boolean }) =>
        withData(o, async (data) => {
          const repairs = await data.tickets.partHistory(serial);
          if (o.json) return json(repairs);
          out(repairs.length === 0 ? `no repair names ${serial}` : repairLines(repairs, await data.timeZone()));
        }),
      ),
    );
}

function registerOncallCommands(program: Command): void {
  const oncall = program.command('oncall').description('the on-call rota: who is on call, import, overrides, rotation order');
  oncall
    .command('show')
    .description('who is on call now (or at --at) and the next shifts')
    .option('--at <time>', 'ISO time, or local to the farm (2026-12-01T08:00)')
    .option('--count <n>', 'how many shifts', '6')
    .option('--json', 'JSON for scripts')
    .addOption(pgOption())
    .action(
      action('oncall show', async (o: PgOptions & { at?: string; count: string; json?: boolean }) =>
        withData(o, async (data) => {
          const tz = await data.timeZone();
          const at = o.at === undefined ? data.now() : parseStaffTime(o.at, tz);
          if (!at) throw new TicketError(`--at: "${o.at}" is not a time (2026-12-01T08:00 local to ${tz}, or ISO with an offset)`, 400);
          if (!/^\d{1,3}$/.test(o.count) || Number(o.count) < 1) throw new TicketError(`--count: "${o.count}" is not a number from 1 to 999`, 400);
          const r = await rotaNow(data, at, Number(o.count));
          if (!r.rota) throw new TicketError('no rota yet: import one with `flymining oncall import provisioning/maintenance/rota.yaml`', 404);
          if (o.json) return json({ at, onCall: r.onCall ?? null, upcoming: r.upcoming, rota: r.rota });
          out(r.onCall ? `On call: ${r.onCall.person.name} until ${formatShiftTime(r.onCall.until, tz)} (${tz})${r.onCall.override ? ` [override: ${r.onCall.override.reason || 'no reason'}]` : ''}` : 'On call: nobody (no active member in the rotation)');
          out(`Hand-over ${r.rota.handover}, ${r.rota.shift} shifts, escalation after ${formatAge(r.rota.escalateAfterMs / 1000)}\n`);
          out(table(['FROM', 'UNTIL', 'ON CALL', 'NOTE'], r.upcoming.map((s) => [formatShiftTime(s.from, tz), formatShiftTime(s.until, tz), s.person.name, s.override ? `override ${s.override.reason}`.trim() : ''])));
        }),
      ),
    );
  oncall
    .command('import')
    .description('replace settings and rotation with a rota file (overrides are kept)')
    .argument('<file>', 'rota YAML, e.g. provisioning/maintenance/rota.yaml')
    .option('--by <name>', 'who imports it', process.env.USER ?? 'cli')
    .addOption(pgOption())
    .action(
      action('oncall import', async (file: string, o: PgOptions & { by: string }) => {
        const rota = loadRotaFile(file); // before connecting: a bad file needs no database
        await withData(o, async (data) => {
          await data.rota.importFile(rota, o.by);
          out(`rota imported from ${file}: ${rota.members.length} people, ${rota.shift} shifts, hand-over ${rota.handover} ${rota.time_zone}`);
        });
      }),
    );
  oncall
    .command('override')
    .description('put NAME on call from --from to --to (a swap, cover for a sick day)')
    .argument('<name>', 'a person on the staff list')
    .requiredOption('--from <time>', 'start: ISO, or local to the farm (2026-12-01T08:00)')
    .requiredOption('--to <time>', 'end')
    .option('--reason <text>', 'why', '')
    .option('--by <name>', 'who arranges it', process.env.USER ?? 'cli')
    .addOption(pgOption())
    .action(
      action('oncall override', async (name: string, o: PgOptions & { from: string; to: string; reason: string; by: string }) =>
        withData(o, async (data) => {
          const tz = await data.timeZone();
          const startsAt = parseStaffTime(o.from, tz);
          const endsAt = parseStaffTime(o.to, tz);
          if (!startsAt) throw new TicketError(`--from: "${o.from}" is not a time (2026-12-01T08:00 local to ${tz}, or ISO with an offset)`, 400);
          if (!endsAt) throw new TicketError(`--to: "${o.to}" is not a time (2026-12-01T08:00 local to ${tz}, or ISO with an offset)`, 400);
          const id = await data.rota.addOverride({ name, startsAt, endsAt, reason: o.reason }, o.by);
          out(`override #${id}: ${name} on call ${formatShiftTime(startsAt, tz)} – ${formatShiftTime(endsAt, tz)} (${tz})`);
        }),
      ),
    );
  oncall
    .command('members')
    .description('set the rotation order')
    .argument('<names>', 'comma-separated, in order: Kari,Ola,Ingrid')
    .option('--by <name>', 'who changes it', process.env.USER ?? 'cli')
    .addOption(pgOption())
    .action(
      action('oncall members', async (names: string, o: PgOptions & { by: string }) =>
        withData(o, async (data) => {
          const list = names.split(',').map((n) => n.trim()).filter(Boolean);
          await data.rota.setMembers(list, o.by);
          out(`rotation: ${list.join(' -> ')}`);
        }),
      ),
    );
}
