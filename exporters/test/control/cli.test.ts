/**
 * `flymining miner reboot|sleep|wake|power|pools|blink` as staff type it (issue 14), against a simulator process
 * serving a small farm and the inventory it wrote: targets by id, slot path, host and --all-in; `flymining scrape`
 * then shows the new mode (sleeping after sleep, hashing after wake); the summary table, the JSON, the exit codes
 * scripts rely on, and the audit file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../../../shared/test/cli';

const ROOT = path.resolve(__dirname, '../../..');
const MIX = 'antminer-s19kpro-luxos=4,avalon-1246=1,antminer-s9=1';

interface Slot {
  id: string;
  host: string;
  port?: number;
  model?: string;
}

let sim: ChildProcess;
let inventory = '';
let audit = '';
let slots: Slot[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-control-cli-'));
  inventory = path.join(dir, 'farm.yaml');
  audit = path.join(dir, 'audit.jsonl');
  sim = spawn(
    process.execPath,
    ['-r', 'tsx/cjs', 'simulator/src/main.ts', '--miners', '6', '--containers', '1', '--mix', MIX, '--seed', '5', '--control-port', '0', '--base-address', '127.62.0.1', '--inventory-out', inventory],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    sim.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/control API http/.test(out)) resolve();
    });
    sim.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    sim.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${out}`)));
  });
  const farm = parse(readFileSync(inventory, 'utf8')) as { containers: Array<{ racks: Array<{ shelves: Array<{ slots: Slot[] }> }> }> };
  slots = farm.containers.flatMap((c) => c.racks.flatMap((r) => r.shelves.flatMap((s) => s.slots))).filter((s) => s.host);
}, 60_000);

afterAll(() => {
  sim?.kill('SIGTERM');
});

const luxos = (): Slot[] => slots.filter((s) => /S19k/i.test(s.model ?? ''));
const s9 = (): Slot => slots.find((s) => /S9/.test(s.model ?? '') && !/S19/.test(s.model ?? ''))!;

async function miner(action: string[], extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['miner', ...action, '--inventory', inventory, '--audit-file', audit, '--timeout', '90', ...extra]);
}

async function modeOf(slot: Slot): Promise<string> {
  const result = await runCli(['scrape', slot.host, '--inventory', inventory, '--json']);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { mode: string }).mode;
}

test('sleep by id, then flymining scrape shows it sleeping; wake, then it hashes again; the table and the audit say so', async () => {
  const unit = luxos()[0]!;
  const slept = await miner(['sleep', unit.id], ['--reason', 'ticket 9']);
  expect([slept.code, slept.stderr]).toEqual([0, expect.stringContaining('running sleep on 1 miner')]);
  expect(slept.stdout).toMatch(new RegExp(`sleep: 1 miner — 1 confirmed\\n[\\s\\S]*${unit.id}\\s+C01/\\S+\\s+confirmed\\s+[\\d.]+s\\s+now sleeping`));
  expect(await modeOf(unit)).toBe('sleeping');

  const woken = await miner(['wake', unit.id]);
  expect(woken.code).toBe(0);
  expect(woken.stdout).toContain('now hashing');
  expect(await modeOf(unit)).toBe('hashing');

  const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.filter((l) => l.miner === unit.id).map((l) => [l.action, l.outcome])).toEqual([
    ['sleep', 'confirmed'],
    ['wake', 'confirmed'],
  ]);
  expect(lines[0]).toMatchObject({ reason: 'ticket 9', actor: expect.stringMatching(/^staff:/) });
}, 120_000);

test('a slot path and --all-in reach every miner there; --dry-run sends nothing; --json has one result per miner', async () => {
  const dry = await miner(['power', 'C01', '--mode', 'low'], ['--dry-run', '--json']);
  const report = JSON.parse(dry.stdout) as { results: Array<{ miner: string; outcome: string; detail: string }> };
  expect(report.results.map((r) => r.miner).sort()).toEqual(slots.map((s) => s.id).sort());
  // LuxOS takes watts, the S9 nothing, the Avalon work modes: the refusals name why before anything is sent.
  const byMiner = new Map(report.results.map((r) => [r.miner, r]));
  expect(byMiner.get(luxos()[1]!.id)).toMatchObject({ outcome: 'refused', detail: expect.stringContaining('watts') });
  expect(byMiner.get(s9().id)).toMatchObject({ outcome: 'refused' });
  expect(dry.code).toBe(3);

  const blink = await miner(['blink'], ['--all-in', 'C01', '--json']);
  const blinked = JSON.parse(blink.stdout) as { results: Array<{ miner: string; outcome: string }>; peakConcurrent: number };
  expect(blinked.results.filter((r) => r.outcome === 'sent').map((r) => r.miner).sort()).toEqual(slots.filter((s) => s.id !== s9().id).map((s) => s.id).sort());
  expect(blinked.peakConcurrent).toBeLessThanOrEqual(10);
}, 120_000);

test('a power target in watts on a LuxOS unit reads back; the S9 refuses sleep with exit 3; unknown names exit 2', async () => {
  const unit = luxos()[2]!;
  const power = await miner(['power', unit.host, '--watts', '2000']);
  expect([power.code, power.stdout]).toEqual([0, expect.stringMatching(/confirmed\s+[\d.]+s\s+now on profile \S+, drawing \d+ W/)]);

  const refused = await miner(['sleep', s9().id]);
  expect(refused.code).toBe(3);
  expect(refused.stdout).toMatch(/refused .*sleep/);

  const unknown = await miner(['reboot', 'C09/R01']);
  expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no miner stands at C09/R01')]);
  const noTarget = await miner(['reboot']);
  expect(noTarget.code).toBe(2);
  const badWatts = await miner(['power', unit.id, '--watts', 'lots']);
  expect([badWatts.code, badWatts.stderr]).toEqual([2, expect.stringContaining('--watts')]);
}, 120_000);
