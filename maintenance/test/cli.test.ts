/**
 * `flymining tickets ...` and `flymining oncall ...` as staff run them: the real bin/flymining.js in a child process
 * against a test database. Tables for people, JSON for scripts, exit code 1 with the reason when refused.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import type { TestDatabase } from '../../billing/test/pg';
import { syncTickets } from '../src';
import { firing } from './alerts';
import { createMaintenanceDatabase } from './db';

const BIN = path.join(__dirname, '..', '..', 'bin', 'flymining.js');
const ROTA = path.join(__dirname, '..', '..', 'provisioning', 'maintenance', 'rota.yaml');
let db: TestDatabase;
let fanTicket: number;
let boardTicket: number;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, FLYMINING_PG_URL: db.url }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  db = await createMaintenanceDatabase('cli');
  const now = Date.now();
  const { opened } = await syncTickets(
    db.pool,
    [firing('C03-R1-S2-5', 'FAN_STOPPED', 'fan 1', now - 2 * 3_600_000), firing('C04-R2-S1-1', 'BOARD_DEAD', 'board 2', now - 600_000, { severity: 'warning' })],
    now - 590_000,
  );
  [fanTicket, boardTicket] = opened as [number, number];
});
afterAll(async () => db?.drop());

test('tickets list: an aligned table of the backlog, critical first; --json and --container for scripts', async () => {
  const list = await cli('tickets', 'list');
  expect(list.code).toBe(0);
  const lines = list.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^ID\s+AGE\s+SEVERITY\s+PLACE\s+FAULT\s+PART\s+STATE\s+WHO\s+OPENED$/);
  expect(lines[1]).toMatch(new RegExp(`^#${fanTicket}\\s+2 h( 1 min)?\\s+critical\\s+C03 R1 S2 #5\\s+FAN_STOPPED\\s+fan 1\\s+open\\s+–`));
  expect(lines[2]).toMatch(new RegExp(`^#${boardTicket}\\s+1[01] min\\s+warning\\s+C04 R2 S1 #1\\s+BOARD_DEAD`));
  // Columns line up: each row's FAULT starts where the header's does.
  const faultAt = lines[0]!.indexOf('FAULT');
  expect(lines.slice(1).map((l) => l.slice(faultAt, faultAt + 4))).toEqual(['FAN_', 'BOAR']);
  const only = JSON.parse((await cli('tickets', 'list', '--container', 'C04', '--json')).stdout) as Array<{ id: number; severity: string }>;
  expect(only.map((t) => t.id)).toEqual([boardTicket]);
});

test('take, a second technician refused with the reason, note, close with parts; show and part history tell it', async () => {
  expect((await cli('tickets', 'take', String(fanTicket), '--by', 'alice')).stdout).toBe(`ticket #${fanTicket} is in repair (taken by alice)\n`);
  const second = await cli('tickets', 'take', String(fanTicket), '--by', 'bob');
  expect(second.code).toBe(1);
  expect(second.stderr).toBe(`flymining tickets take: ticket #${fanTicket} is already in repair by alice\n`);
  expect((await cli('tickets', 'note', String(fanTicket), '--by', 'alice', 'fan', 'blade', 'broken')).code).toBe(0);
  const closed = await cli('tickets', 'close', String(fanTicket), '--by', 'alice', '--action', 'replace_fan', '--part', 'fan:FAN-A1:FAN-B2', '--minutes', '15', '--notes', 'swapped');
  expect(closed.code).toBe(0);
  expect(closed.stdout).toMatch(/the fault still fires: the ticket becomes fixed when it clears/);

  const show = await cli('tickets', 'show', String(fanTicket));
  expect(show.stdout).toContain(`Ticket #${fanTicket}: FAN_STOPPED (fan 1), critical, in_repair, still firing`);
  expect(show.stdout).toMatch(/note\s+alice\s+fan blade broken/);
  expect(show.stdout).toMatch(new RegExp(`#${fanTicket}\\s+alice\\s+replace_fan\\s+fan FAN-A1 -> FAN-B2\\s+15\\s+swapped`));
  const part = JSON.parse((await cli('tickets', 'part', 'FAN-B2', '--json')).stdout) as Array<{ ticketId: number; by: string }>;
  expect(part).toEqual([expect.objectContaining({ ticketId: fanTicket, by: 'alice' })]);
  expect((await cli('tickets', 'history', 'C03-R1-S2-5')).stdout).toMatch(/^Machine slot:C03-R1-S2-5: 1 ticket\(s\), 1 repair\(s\)/);
});

test('refusals exit 1 and say why: a bad id, a bad part, a missing --by', async () => {
  const badId = await cli('tickets', 'show', 'seven');
  expect([badId.code, badId.stderr]).toEqual([1, 'flymining tickets show: ticket id: "seven" is not a whole number\n']);
  const badPart = await cli('tickets', 'close', String(boardTicket), '--by', 'bob', '--action', 'replace_hashboard', '--part', 'board:X:Y');
  expect(badPart.code).toBe(1);
  expect(badPart.stderr).toMatch(/--part: expected KIND:SERIAL_OUT:SERIAL_IN with KIND one of fan, hashboard/);
  const noBy = await cli('tickets', 'ack', String(boardTicket));
  expect(noBy.code).toBe(1);
  expect(noBy.stderr).toMatch(/required option '--by <name>' not specified/);
});

test('oncall: import the example rota, who is on call at a time by hand-over in Oslo, an override, a bad file by line', async () => {
  expect((await cli('oncall', 'import', ROTA)).stdout).toMatch(/3 people, weekly shifts, hand-over 08:00 Europe\/Oslo/);
  // Anchor Monday 2026-01-05 08:00 Oslo, weekly: Kari, Ola, Ingrid, Kari... 2026-03-02 is 8 weeks on: Ingrid (8 mod 3 = 2).
  const before = await cli('oncall', 'show', '--at', '2026-03-02T07:59', '--count', '2');
  expect(before.stdout.split('\n')[0]).toBe('On call: Ola Hansen until Mon 2026-03-02 08:00 (Europe/Oslo)');
  const after = JSON.parse((await cli('oncall', 'show', '--at', '2026-03-02T08:00', '--json')).stdout) as { onCall: { person: { name: string }; until: string } };
  expect(after.onCall.person.name).toBe('Ingrid Berg');
  expect(after.onCall.until).toBe('2026-03-09T07:00:00.000Z'); // 08:00 in Oslo is 07:00 UTC in winter
  // An override (kept for 30 days after it ends, so one in the coming days): from tomorrow 12:00 to the day after, Oslo time.
  const tomorrow = DateTime.now().setZone('Europe/Oslo').plus({ days: 1 }).set({ hour: 12, minute: 0, second: 0, millisecond: 0 });
  const local = (d: DateTime) => d.toFormat("yyyy-LL-dd'T'HH:mm");
  const added = await cli('oncall', 'override', 'Kari Nordmann', '--from', local(tomorrow), '--to', local(tomorrow.plus({ days: 1 })), '--reason', 'swap');
  expect(added.stdout).toMatch(/^override #\d+: Kari Nordmann on call /);
  const covered = await cli('oncall', 'show', '--at', local(tomorrow.plus({ hours: 3 })), '--count', '1');
  expect(covered.stdout.split('\n')[0]).toBe(`On call: Kari Nordmann until ${tomorrow.plus({ days: 1 }).toFormat('ccc yyyy-LL-dd')} 12:00 (Europe/Oslo) [override: swap]`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-rota-'));
  writeFileSync(path.join(dir, 'bad.yaml'), 'time_zone: Mars/Olympus\nhandover: "8 am"\nanchor: 2026-01-05\nmembers: [{ name: A }]\n');
  const bad = await cli('oncall', 'import', path.join(dir, 'bad.yaml'));
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/bad\.yaml:1:\d+: time_zone: an IANA time zone/);
  expect(bad.stderr).toMatch(/bad\.yaml:2:\d+: handover: a local time HH:MM/);
});
