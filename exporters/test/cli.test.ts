/** `flymining scrape` and `flymining discover`, run as staff run them: the real bin, a child process, real TCP. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PROFILES, SimulatedFarm, generateFarmSpecs, inventoryYaml } from '@flymining/simulator';
import { writeInventory } from './e2e/helpers';

const BIN = path.resolve(__dirname, '../../bin/flymining.js');

function flymining(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('flymining CLI', () => {
  const specs = generateFarmSpecs({ miners: 12, containers: 1, baseAddress: '127.35.0.1', seed: 4 });
  const farm = new SimulatedFarm({ specs, seed: 4 });
  beforeAll(() => farm.start());
  afterAll(() => farm.stop());

  test('scrape --json prints exactly one JSON object with the sample and its faults', async () => {
    const s19 = specs.find((s) => s.profile === 'antminer-s19pro') ?? specs[0]!;
    farm.miner(s19.id)!.applyFault({ fault: 'stopFan', index: 1 });
    const { code, stdout } = await flymining('scrape', `${s19.host}:${s19.port}`, '--json');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as Record<string, unknown>;
    const profile = PROFILES[s19.profile];
    expect(out).toMatchObject({ mode: 'hashing', firmware: profile.firmware, model: profile.model });
    expect(out.hashrateThs as number).toBeGreaterThan(profile.nominalThs * 0.8);
    expect(out.boards).toHaveLength(profile.boards);
    expect((out.fans as unknown[]).length).toBe(profile.fans);
    expect((out.pools as unknown[]).length).toBeGreaterThan(0);
    expect(out.faults).toEqual([expect.objectContaining({ code: 'FAN_STOPPED' })]);
    farm.miner(s19.id)!.applyFault({ fault: 'clear' });
  });

  test('scrape prints a readable summary, and fails clearly on a miner that cannot be read', async () => {
    const any = specs[0]!;
    const human = await flymining('scrape', any.host);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/hashrate\s+\d+\.\d+ TH\/s/);
    expect(human.stdout).toMatch(/faults\s+none/);

    const dead = await flymining('scrape', '127.35.9.9', '--timeout', '1000');
    expect(dead.code).toBe(2);
    expect(dead.stderr).toMatch(/cannot read miner 127\.35\.9\.9:4028: refused/);
    const deadJson = await flymining('scrape', '127.35.9.9', '--json');
    expect(deadJson.code).toBe(2);
    expect(JSON.parse(deadJson.stdout)).toMatchObject({ ok: false, error: { kind: 'refused' } });
    const bad = await flymining('scrape', 'not a host:99999');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/is not HOST or HOST:PORT/);
  });

  test('discover finds the miners of a range and compares them with the inventory', async () => {
    // The inventory lists all but the last miner, plus one miner that is not there.
    const listed = specs.slice(0, -1);
    const ghost = { ...listed[0]!, id: 'ghost', host: '127.35.0.200', position: { ...listed[0]!.position, slot: '99' } };
    const inventory = writeInventory(inventoryYaml([...listed, ghost]));
    const { code, stdout } = await flymining('discover', '127.35.0.0/24', '--inventory', inventory, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { scanned: number; found: Array<{ host: string; family: string }>; unknown: Array<{ host: string }>; missing: Array<{ id: string }> };
    expect(report.scanned).toBe(254);
    expect(report.found.map((f) => f.host).sort()).toEqual(specs.map((s) => s.host).sort());
    for (const s of specs) expect(report.found.find((f) => f.host === s.host)?.family).toBe(PROFILES[s.profile].firmware);
    expect(report.unknown.map((u) => u.host)).toEqual([specs.at(-1)!.host]);
    expect(report.missing.map((m) => m.id)).toEqual(['ghost']);
  });
});
