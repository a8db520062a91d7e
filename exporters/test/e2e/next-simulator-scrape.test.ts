/**
 * Issue 13 end to end: the simulator's demo farm serves every newer protocol over its real transport (Whatsminer
 * API v3 on 4433, the Antminer web CGI behind digest auth, Braiins OS REST with its token, ePIC's HTTP on 4028), and
 * `flymining scrape HOST` reads each one as a user would: detection and the inventory's pins pick the protocol, the
 * sample carries serial and MAC where the API gives them, and a firmware error code injected into the simulated
 * unit comes back as its stable fault.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../../../shared/test/cli';

const ROOT = path.resolve(__dirname, '../../..');
const MIX = 'antminer-s19pro=1,whatsminer-m60s=1,antminer-s23-hyd=1,braiins-s19xp=1,braiins-s21pro=1,epic-s19xp=1';

interface Slot {
  id: string;
  host: string;
  port?: number;
  protocol?: string;
  model?: string;
}

let sim: ChildProcess;
let control = '';
let inventory = '';
let slots: Slot[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-next-e2e-'));
  inventory = path.join(dir, 'farm.yaml');
  sim = spawn(process.execPath, ['-r', 'tsx/cjs', 'simulator/src/main.ts', '--miners', '24', '--containers', '1', '--mix', MIX, '--seed', '3', '--control-port', '0', '--base-address', '127.43.0.1', '--inventory-out', inventory], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  control = await new Promise<string>((resolve, reject) => {
    let out = '';
    sim.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /control API (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve(url);
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

async function scrape(slot: Slot): Promise<Record<string, unknown>> {
  // As a user types it: the host; the inventory's entry says how that miner is read (protocol, port, credentials).
  const result = await runCli(['scrape', slot.host, '--inventory', inventory, '--json', '--timeout', '5000']);
  expect([slot.id, result.code, result.stderr]).toEqual([slot.id, 0, '']);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

const bySlot = (protocol: string): Slot => {
  const slot = slots.find((s) => s.protocol === protocol);
  if (!slot) throw new Error(`the simulated farm has no ${protocol} unit: ${JSON.stringify(slots)}`);
  return slot;
};

test.each([
  ['whatsminer-v3', true],
  ['antminer-web', true],
  ['braiins-rest', true],
  ['epic', false],
])('a %s unit is read over its own protocol, with hashrate and its identity', async (protocol, hasSerial) => {
  const sample = await scrape(bySlot(protocol));
  expect(sample.protocol).toBe(protocol);
  expect(sample.hashrateThs).toBeGreaterThan(1);
  expect(sample.mode).toBe('hashing');
  expect(sample.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i);
  if (hasSerial) expect(typeof sample.serial).toBe('string');
  expect(sample.faults).toEqual([]);
}, 60_000);

test('the CGMiner unit of the same farm is still read on 4028', async () => {
  const cg = slots.find((s) => !s.protocol)!;
  const sample = await scrape(cg);
  expect(sample.protocol).toBe('cgminer');
  expect(sample.hashrateThs).toBeGreaterThan(1);
}, 60_000);

test("a PSU fault the Whatsminer reports as its own error code becomes PSU_FAULT, naming the firmware's code", async () => {
  const unit = bySlot('whatsminer-v3');
  const injected = await fetch(`${control}/miners/${encodeURIComponent(unit.id)}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'psuFault' }) });
  expect(injected.status).toBe(200);
  try {
    const sample = await scrape(unit);
    const faults = sample.faults as Array<{ code: string; message: string }>;
    expect(faults.map((f) => f.code)).toContain('PSU_FAULT');
    expect(faults.find((f) => f.code === 'PSU_FAULT')?.message).toMatch(/\b\d{3}\b/);
    expect(sample.firmwareErrors).toEqual(expect.arrayContaining([expect.objectContaining({ code: expect.anything() })]));
  } finally {
    await fetch(`${control}/miners/${encodeURIComponent(unit.id)}/faults`, { method: 'DELETE' });
  }
}, 60_000);
