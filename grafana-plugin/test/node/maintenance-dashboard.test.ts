/**
 * The "Maintenance & effectiveness" dashboard against data: every SQL panel, with Grafana's macros expanded as
 * Grafana does (sql-macros.ts), runs on a fresh PostgreSQL holding a hand-made ticket history, as the read-only role
 * the README's snippet creates, and must give the figures worked out by hand below; every InfluxQL panel runs on
 * the jest InfluxDB with miners of known hashrate, uptime and J/TH.
 *
 * The history (rota in America/Chicago, so weeks start Monday 00:00 CDT = 05:00 UTC), in the range 25 May - 22 Jun:
 *   week of 1 Jun: A opened 2 Jun 16:00Z, acknowledged +10 min by ana, taken by ana, fixed +2 h by ana
 *                  B same machine and part as A (a repeat), opened 3 Jun 15:00Z, acknowledged +30 min by bo, fixed +4 h by bo
 *                  D opened 8 Jun 02:00Z (Sunday evening in Chicago), acknowledged +5 min by bo, fixed +1 h by bo
 *   week of 8 Jun: C opened 10 Jun 14:00Z, acknowledged +5 min by ana, fixed +1 h by ana
 *   open now (after the range): tickets 30 min, 2 h, 10 h, 3 days and 10 days old at north-1, one 5 min old at south-2.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { effectivenessReport, RotaStore } from '@flymining/maintenance';
import { ContainerSweepTotals, encodePoints, type InfluxStore, type MinerSweepFields } from '@flymining/shared';
import { freshStore } from '../../../exporters/test/e2e/helpers';
import { createMaintenanceDatabase } from '../../../maintenance/test/db';
import { urlForDatabase, type TestDatabase } from '../../../billing/test/pg';
import { DASHBOARD_DIR, dashboardFileText } from '../../dashboards/generate';
import { MAINTENANCE_DASHBOARDS, MAINTENANCE_INFLUXQL, MAINTENANCE_SQL, maintenanceEffectiveness } from '../../dashboards/maintenance';
import { DATASOURCE, PG_DATASOURCE, type SqlTarget } from '../../dashboards/model';
import { expandMacros, regexValue } from '../../src/macros';
import { expandSqlMacros } from './sql-macros';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);
const RANGE = { from: at('2026-05-25T00:00:00Z'), to: at('2026-06-22T00:00:00Z') };
/** Chicago's Mondays (CDT, UTC-5) as Grafana's time column. */
const WEEK1 = at('2026-06-01T05:00:00Z').getTime();
const WEEK2 = at('2026-06-08T05:00:00Z').getTime();
const README = path.join(__dirname, '../../README.md');

interface TicketSeed {
  machine: string;
  site?: string;
  part?: string;
  openedAt: Date;
  ack?: [Date, string];
  taken?: [Date, string];
  fixed?: [Date, string];
  repeatOf?: number;
  lost?: [number, string];
}

async function insertTicket(db: TestDatabase, t: TicketSeed): Promise<number> {
  const machine = await db.pool.query<{ id: string }>(
    `INSERT INTO maintenance.machines (identity) VALUES ($1) ON CONFLICT (identity) DO UPDATE SET identity = EXCLUDED.identity RETURNING id`,
    [t.machine],
  );
  const closed = t.fixed ? new Date(t.fixed[0].getTime() + 30 * MIN) : null;
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO maintenance.tickets (machine_id, miner, site, container, part, fault, severity, group_key, state, opened_at,
       acknowledged_at, acknowledged_by, taken_at, taken_by, fixed_at, fixed_by, verified_at, closed_at, firing, cleared_at, repeat_of, lost_th_hours, lost_btc)
     VALUES ($1, $2, $3, 'C01', $4, 'FAN_STOPPED', 'critical', $2, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $11, $15, $16, $17) RETURNING id`,
    [
      machine.rows[0]!.id, `miner-${t.machine}`, t.site ?? 'north-1', t.part ?? 'fan 1', closed ? 'verified' : t.ack ? 'acknowledged' : 'open', t.openedAt,
      t.ack?.[0] ?? null, t.ack?.[1] ?? null, t.taken?.[0] ?? null, t.taken?.[1] ?? null, t.fixed?.[0] ?? null, t.fixed?.[1] ?? null,
      closed, closed === null, t.repeatOf ?? null, t.lost?.[0] ?? null, t.lost?.[1] ?? null,
    ],
  );
  return Number(rows[0]!.id);
}

const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);

async function seedHistory(db: TestDatabase, now: number): Promise<void> {
  const aOpen = at('2026-06-02T16:00:00Z');
  const a = await insertTicket(db, { machine: 'serial:M1', openedAt: aOpen, ack: [plus(aOpen, 10 * MIN), 'ana'], taken: [plus(aOpen, 20 * MIN), 'ana'], fixed: [plus(aOpen, 2 * HOUR), 'ana'], lost: [12.5, '0.00001'] });
  const bOpen = at('2026-06-03T15:00:00Z');
  await insertTicket(db, { machine: 'serial:M1', openedAt: bOpen, ack: [plus(bOpen, 30 * MIN), 'bo'], fixed: [plus(bOpen, 4 * HOUR), 'bo'], repeatOf: a, lost: [30, '0.00002'] });
  const dOpen = at('2026-06-08T02:00:00Z');
  await insertTicket(db, { machine: 'serial:M2', openedAt: dOpen, ack: [plus(dOpen, 5 * MIN), 'bo'], fixed: [plus(dOpen, HOUR), 'bo'], lost: [1, '0.000001'] });
  const cOpen = at('2026-06-10T14:00:00Z');
  await insertTicket(db, { machine: 'serial:M3', openedAt: cOpen, ack: [plus(cOpen, 5 * MIN), 'ana'], fixed: [plus(cOpen, HOUR), 'ana'], lost: [5, '0.000004'] });
  for (const [i, age] of [30 * MIN, 2 * HOUR, 10 * HOUR, 3 * DAY, 10 * DAY].entries()) {
    await insertTicket(db, { machine: `serial:OPEN${i}`, openedAt: new Date(now - age) });
  }
  await insertTicket(db, { machine: 'serial:SOUTH', site: 'south-2', openedAt: new Date(now - 5 * MIN) });
}

/** The README's read-only role, under a name of this run (roles are cluster-wide) and on this database. */
function readerSnippet(role: string, database: string): string {
  const readme = readFileSync(README, 'utf8');
  const block = /```sql\n(-- grafana-reader[^\n]*\n[\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no ```sql block starting with "-- grafana-reader"');
  return block[1]!.replace(/flymining_grafana/g, role).replace(/DATABASE flymining\b/g, `DATABASE "${database}"`);
}

function sqlOf(title: string): SqlTarget {
  const p = maintenanceEffectiveness.panels.find((x) => x.title === title);
  if (!p) throw new Error(`no panel "${title}"`);
  return p.targets![0] as SqlTarget;
}

describe('Maintenance & effectiveness dashboard', () => {
  let db: TestDatabase;
  let reader: Client;
  let store: InfluxStore;
  let now: number;
  const role = `flymining_grafana_t${process.pid}`;

  /** `site`: the variable's value as Grafana inserts it (a regex-escaped site, or `.*` for All). */
  const run = async (title: string, site = regexValue('north-1')) => {
    const target = sqlOf(title);
    const { rows } = await reader.query<Record<string, unknown>>(expandSqlMacros(target.rawSql, { ...RANGE, variables: { site } }));
    return rows;
  };

  beforeAll(async () => {
    db = await createMaintenanceDatabase('grafana_dash');
    now = Date.now();
    await seedHistory(db, now);
    await new RotaStore(db.pool).importFile({ time_zone: 'America/Chicago', handover: '08:00', shift: 'weekly', anchor: '2026-01-05', escalate_after: '15m', members: [{ name: 'ana', active: true }, { name: 'bo', active: true }] }, 'test');
    await db.pool.query(`DROP ROLE IF EXISTS ${role}`);
    await db.pool.query(readerSnippet(role, db.name));
    const url = new URL(urlForDatabase(db.name));
    url.username = role;
    reader = new Client({ connectionString: url.toString() });
    await reader.connect();

    store = await freshStore('grafana_maintenance');
    const t = Date.now() - MIN;
    // One sweep: C01 watches m1-m3 (m3 does not answer), C02 watches m4. The panels read the container rows the
    // exporter folds from its miners' rows (container_sweep), built here the same way.
    const answered: Array<[string, MinerSweepFields]> = [
      ['C01', { hashrate_ths: 100, nominal_ths: 110, efficiency_jth: 30, hashing: 1 }],
      ['C01', { hashrate_ths: 50, nominal_ths: 110, efficiency_jth: 35, hashing: 0 }],
      ['C02', { hashrate_ths: 60, nominal_ths: 70, efficiency_jth: 31, hashing: 1 }],
    ];
    const totals = new ContainerSweepTotals();
    for (const [container, fields] of answered) totals.addAnswered(container, fields);
    store.write(encodePoints(totals.points([{ site: 'north-1', container: 'C01', watched: 3 }, { site: 'north-1', container: 'C02', watched: 1 }], t)));
    // The site variable lists the sites of miner_up, as the exporter writes it for every scrape.
    const up = (i: number, container: string, reachable: number, hashing: number) =>
      `miner_up,site=north-1,container=${container},rack=R1,shelf=S1,slot=${i},miner=m${i} reachable=${reachable}i,hashing=${hashing}i ${t}`;
    store.write([up(1, 'C01', 1, 1), up(2, 'C01', 1, 0), up(3, 'C01', 0, 0), up(4, 'C02', 1, 1)]);
    await store.flush();
  });

  afterAll(async () => {
    await reader?.end();
    await db?.drop();
    // The database (and the role's grants in it) is gone: the role can go too.
    const admin = new Client({ connectionString: urlForDatabase('postgres') });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
    await store?.close();
  });

  test('the JSON file is what maintenance.ts generates; SQL panels use the provisioned PostgreSQL source, the rest InfluxDB', () => {
    for (const name of Object.keys(MAINTENANCE_DASHBOARDS)) {
      expect({ name, text: readFileSync(path.join(DASHBOARD_DIR, name), 'utf8') }).toEqual({ name, text: dashboardFileText(name) });
    }
    const provisioned = parse(readFileSync(path.join(__dirname, '../../../provisioning/grafana/datasources/postgres.yaml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; editable: boolean }> };
    expect(provisioned.datasources).toEqual([expect.objectContaining({ uid: PG_DATASOURCE.uid, type: PG_DATASOURCE.type, editable: false })]);
    for (const p of maintenanceEffectiveness.panels) {
      for (const t of p.targets ?? []) {
        expect({ panel: p.title, panelSource: p.datasource?.uid, targetSource: t.datasource.uid, kind: 'rawSql' in t ? 'sql' : 'influxql' }).toEqual({
          panel: p.title,
          panelSource: t.datasource.uid,
          targetSource: 'rawSql' in t ? PG_DATASOURCE.uid : DATASOURCE.uid,
          kind: 'rawSql' in t ? 'sql' : 'influxql',
        });
      }
    }
  });

  test('the role of the README snippet reads the dashboard tables and nothing it should not', async () => {
    await expect(reader.query('SELECT name FROM maintenance.staff')).rejects.toThrow(/permission denied/);
    await expect(reader.query('SELECT 1 FROM investors LIMIT 1')).rejects.toThrow(/permission denied/);
    await expect(reader.query(`UPDATE maintenance.tickets SET fixed_by = 'x'`)).rejects.toThrow(/read-only|permission denied/);
  });

  test('MTTA and MTTR per week: Chicago weeks, each counted in the week of its event, as the staff report', async () => {
    const rows = await run('MTTA and MTTR per week');
    expect(rows.map((r) => ({ time: (r.time as Date).getTime(), mtta: Number(r.MTTA), mttr: Number(r.MTTR) }))).toEqual([
      // (10 + 30 + 5 min) / 3 = 15 min; (2 + 4 + 1 h) / 3 = 2 h 20 min.
      { time: WEEK1, mtta: 15 * 60, mttr: (2 * 60 + 20) * 60 },
      { time: WEEK2, mtta: 5 * 60, mttr: 60 * 60 },
    ]);
    // The staff page's report says the same.
    const report = await effectivenessReport(db.pool, { ...RANGE, period: 'week', timeZone: 'America/Chicago' });
    expect(report.map((r) => [r.period, r.mttaS, r.mttrS])).toEqual([
      ['2026-06-01', 15 * 60, (2 * 60 + 20) * 60],
      ['2026-06-08', 5 * 60, 60 * 60],
    ]);
    // Another site has none of these tickets.
    expect(await run('MTTA and MTTR per week', 'south-2')).toEqual([]);
  });

  test('open backlog by age and the oldest open ticket, per site', async () => {
    const [ages] = await run('Open backlog by age');
    expect(Object.fromEntries(Object.entries(ages!).map(([k, v]) => [k, Number(v)]))).toEqual({ 'under 1 h': 1, '1–4 h': 1, '4–24 h': 1, '1–7 days': 1, older: 1 });
    const [all] = await run('Open backlog by age', '.*');
    expect(Number(all!['under 1 h'])).toBe(2);
    const [oldest] = await run('Oldest open ticket');
    const expected = (Date.now() - (now - 10 * DAY)) / 1000;
    expect(Number(oldest!.oldest)).toBeGreaterThan(expected - 60);
    expect(Number(oldest!.oldest)).toBeLessThanOrEqual(expected + 1);
  });

  test('repeat failures per week and the machine failing again', async () => {
    const rows = await run('Repeat failures per week');
    expect(rows.map((r) => [(r.time as Date).getTime(), Number(r['repeat failures']), Number(r['tickets opened'])])).toEqual([
      [WEEK1, 1, 3],
      [WEEK2, 0, 1],
    ]);
    const machines = await run('Machines failing again');
    expect(machines.map((r) => [r.machine, Number(r.tickets), Number(r.repeats), r.faults])).toEqual([['serial:M1', 2, 1, 'FAN_STOPPED']]);
  });

  test('tickets per technician', async () => {
    const rows = await run('Tickets per technician');
    expect(rows.map((r) => [r.technician, Number(r.acknowledged), Number(r.taken), Number(r.repaired), Number(r.MTTR)])).toEqual([
      ['ana', 2, 1, 2, (2 * HOUR + HOUR) / 2 / 1000],
      ['bo', 2, 0, 2, (4 * HOUR + HOUR) / 2 / 1000],
    ]);
  });

  test('lost TH·h and BTC per week', async () => {
    const rows = await run('Lost TH·h and BTC per week');
    expect(rows.map((r) => [(r.time as Date).getTime(), r['lost TH·h'], Number((r['lost BTC'] as number).toFixed(8))])).toEqual([
      [WEEK1, 12.5 + 30 + 1, 0.000031],
      [WEEK2, 5, 0.000004],
    ]);
  });

  test('every SQL panel query is one of MAINTENANCE_SQL and runs; every InfluxQL panel gives the seeded figures', async () => {
    const sqlTargets = maintenanceEffectiveness.panels.flatMap((p) => (p.targets ?? []).filter((t): t is SqlTarget => 'rawSql' in t));
    expect(sqlTargets.map((t) => t.rawSql).sort()).toEqual(Object.values(MAINTENANCE_SQL).sort());
    const values = { timeFilter: 'time > now() - 1h', interval: '1h', variables: { site: regexValue('north-1'), tier: 'raw' } };
    const first = async (q: string) => {
      const rows = await store.queryRows(expandMacros(q, values));
      const row = rows.find((r) => Object.entries(r).some(([k, v]) => k !== 'time' && typeof v === 'number'));
      if (!row) throw new Error(`no value from ${q}`);
      return Object.entries(row).find(([k, v]) => k !== 'time' && typeof v === 'number')![1] as number;
    };
    expect(await first(MAINTENANCE_INFLUXQL.delivered)).toBe(210);
    expect(await first(MAINTENANCE_INFLUXQL.nominal)).toBe(290);
    // Hashing in 2 of the 4 scrapes of the window (m3 did not answer, m2 answered without hashing).
    expect(await first(MAINTENANCE_INFLUXQL.uptime)).toBe(0.5);
    // The mean of the containers' means: C01 (30 + 35) / 2, C02 31.
    expect(await first(MAINTENANCE_INFLUXQL.efficiency)).toBe(31.75);
    const influxTargets = maintenanceEffectiveness.panels.flatMap((p) => (p.targets ?? []).filter((t) => 'query' in t));
    expect(influxTargets).toHaveLength(Object.keys(MAINTENANCE_INFLUXQL).length);
    // The site variable's own query lists the seeded site.
    const sites = await store.queryRows(expandMacros(maintenanceEffectiveness.templating.list[0]!.query, values));
    expect(sites.map((r) => r.value)).toContain('north-1');
  });
});
