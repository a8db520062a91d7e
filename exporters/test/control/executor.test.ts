/**
 * The write path's common half against simulated miners over real sockets (issue 14): staggering per container
 * (writes in flight, spacing, containers in parallel) as the miners themselves saw the writes arrive, the rate limits
 * and their memory across a restart (the audit file), refusals before anything is sent, unreachable miners, dry
 * runs, and the audit in the file and in InfluxDB.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type InfluxStore } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs, type ProfileId, type SimMinerSpec } from '@flymining/simulator';
import { AuditFile, AuditPoints, auditLineSchema } from '../../src/miner/control/audit';
import { ControlExecutor, type ActionResult, type ControlTarget } from '../../src/miner/control/executor';
import { ActionHistory } from '../../src/miner/control/history';
import { scrapeMiner } from '../../src/miner/scrape';
import { freshStore } from '../e2e/helpers';

const PROFILE: ProfileId = 'antminer-s19kpro-luxos';

function specsFor(miners: number, containers: number, baseAddress: string, profile: ProfileId = PROFILE): SimMinerSpec[] {
  // 15 slots per container, so `containers` containers are filled in order.
  return generateFarmSpecs({ miners, containers, racksPerContainer: 1, shelvesPerRack: 3, slotsPerShelf: 5, baseAddress, seed: 11, profileMix: { [profile]: 1 } });
}

function targetOf(spec: SimMinerSpec): ControlTarget {
  const p = spec.position;
  return { id: spec.id, site: p.site, container: p.container, rack: p.rack, shelf: p.shelf, slot: p.slot, host: spec.host, port: spec.port };
}

function executorWith(auditFile: string, extra: Partial<ConstructorParameters<typeof ControlExecutor>[0]> = {}): { executor: ControlExecutor; history: ActionHistory; audit: AuditFile } {
  const history = new ActionHistory();
  const audit = new AuditFile(auditFile);
  audit.loadHistory(history);
  const executor = new ControlExecutor({ history, audit: [audit], confirm: { timeoutMs: 10_000, intervalMs: 200 }, ...extra });
  return { executor, history, audit };
}

const staff = { kind: 'staff' as const, name: 'ops@farm.example' };

describe('staggering across a container', () => {
  let farm: SimulatedFarm;
  let specs: SimMinerSpec[];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-control-'));

  beforeAll(async () => {
    specs = specsFor(30, 2, '127.61.0.1');
    farm = new SimulatedFarm({ specs, seed: 11 });
    await farm.start();
  });
  afterAll(async () => {
    await farm.stop();
  });

  test('a container gets at most N writes at once, starts spaced out as the miners see them; two containers run side by side', async () => {
    const { executor } = executorWith(path.join(dir, 'stagger.jsonl'), { stagger: { maxConcurrentPerContainer: 3, minSpacingMs: 100 } });
    const t0 = Date.now();
    const results = await executor.run({ targets: specs.map(targetOf), action: { kind: 'sleep' }, actor: staff, reason: 'stagger test' });
    const tookMs = Date.now() - t0;
    expect(results.map((r) => r.outcome)).toEqual(specs.map(() => 'confirmed'));
    expect(executor.peakConcurrency()).toBeLessThanOrEqual(3);

    const spans: Array<[number, number]> = [];
    for (const container of ['C01', 'C02']) {
      // When each miner of the container received its sleep, as the simulated firmware recorded it.
      const arrivals = specs
        .filter((s) => s.position.container === container)
        .map((s) => farm.miner(s.id)!.writes().find((w) => w.action === 'sleep')!.atMs)
        .sort((a, b) => a - b);
      expect(arrivals).toHaveLength(15);
      // Writes start 100 ms apart; a write may hold a login round trip before its command reaches the miner, so the
      // check is what matters electrically: no burst. In any 500 ms at most 5 starts plus the 3 in flight arrive.
      const burst = Math.max(...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 500).length));
      expect(burst).toBeLessThanOrEqual(8);
      // 14 spacings; each write lands after its own login round trip, which varies on a loaded machine.
      expect(arrivals[14]! - arrivals[0]!).toBeGreaterThanOrEqual(14 * 100 * 0.75);
      spans.push([arrivals[0]!, arrivals[14]!]);
    }
    // Side by side: each container's writes overlap the other's in time (not 30 in a row).
    const [c01, c02] = spans as [[number, number], [number, number]];
    expect(c02[0]).toBeLessThan(c01[1]);
    expect(c01[0]).toBeLessThan(c02[1]);
    expect(tookMs).toBeGreaterThanOrEqual(14 * 100);
    for (const s of specs) expect((await scrapeMiner({ host: s.host, port: s.port })).ok && (await scrapeMiner({ host: s.host, port: s.port }))).toMatchObject({ sample: { mode: 'sleeping' } });
  });
});

describe('limits, refusals and the audit', () => {
  let farm: SimulatedFarm;
  let luxos: SimMinerSpec[];
  let s9: SimMinerSpec;
  let store: InfluxStore;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-control-'));

  beforeAll(async () => {
    luxos = specsFor(4, 1, '127.61.1.1');
    s9 = { ...specsFor(1, 1, '127.61.2.1', 'antminer-s9')[0]!, id: 'S9-1' };
    farm = new SimulatedFarm({ specs: [...luxos, s9], seed: 11 });
    await farm.start();
    store = await freshStore('control_audit');
  });
  afterAll(async () => {
    await farm.stop();
    await store.close();
  });

  test('a miner past its hourly limit, or rebooted minutes ago, is rate-limited, also after a restart that reads the audit file', async () => {
    const file = path.join(dir, 'limits.jsonl');
    const miner = targetOf(luxos[0]!);
    const first = executorWith(file, { limits: { perMinerPerHour: 3 } });
    for (const on of [true, false]) expect((await first.executor.run({ targets: [miner], action: { kind: 'blink', on }, actor: staff }))[0]).toMatchObject({ outcome: 'sent' });

    // A new process (the exporter restarted, or another CLI run) reads the audit file: two writes this hour already.
    const second = executorWith(file, { limits: { perMinerPerHour: 3 } });
    const writesBefore = farm.miner(miner.id)!.writes().length;
    const third = await second.executor.run({ targets: [miner], action: { kind: 'blink', on: true }, actor: staff });
    expect(third[0]!.outcome).toBe('sent');
    const fourth = await second.executor.run({ targets: [miner], action: { kind: 'blink', on: false }, actor: staff });
    expect(fourth[0]).toMatchObject({ outcome: 'rate-limited', detail: `${miner.id} took 3 actions in the last hour (limit 3)` });
    expect(farm.miner(miner.id)!.writes().length).toBe(writesBefore + 1);

    // Reboots: at least 10 minutes apart, whoever asks.
    const other = targetOf(luxos[3]!);
    const noWait = executorWith(file, { confirm: { wait: false } });
    expect((await noWait.executor.run({ targets: [other], action: { kind: 'reboot' }, actor: staff, reason: 'hung' }))[0]).toMatchObject({ outcome: 'sent' });
    const again = await noWait.executor.run({ targets: [other], action: { kind: 'reboot' }, actor: { kind: 'policy', name: 'recovery' } });
    expect(again[0]).toMatchObject({ outcome: 'rate-limited', detail: expect.stringMatching(/rebooted \d+ s ago; the next reboot is allowed in \d+ s/) });
  });

  test('what the model cannot do is refused with the reason and nothing reaches the miner; a dead miner is unreachable; a dry run sends nothing', async () => {
    const { executor } = executorWith(path.join(dir, 'refusals.jsonl'));
    const [refused] = await executor.run({ targets: [targetOf(s9)], action: { kind: 'sleep' }, actor: staff });
    expect(refused).toMatchObject({ outcome: 'refused', detail: expect.stringContaining('sleep') });
    expect(farm.miner(s9.id)!.writes()).toEqual([]);

    farm.miner(luxos[2]!.id)!.applyFault({ fault: 'offline', on: true });
    const [dead] = await executor.run({ targets: [targetOf(luxos[2]!)], action: { kind: 'reboot' }, actor: staff });
    expect(dead).toMatchObject({ outcome: 'unreachable', detail: expect.stringContaining('cannot read the miner before acting') });
    farm.miner(luxos[2]!.id)!.applyFault({ fault: 'clear' });

    const writes = farm.miner(luxos[1]!.id)!.writes().length;
    const [planned] = await executor.run({ targets: [targetOf(luxos[1]!)], action: { kind: 'power', target: { watts: 2000 } }, actor: staff, dryRun: true });
    expect(planned).toMatchObject({ outcome: 'dry-run', detail: expect.stringMatching(/^would power 2000 W/) });
    expect(farm.miner(luxos[1]!.id)!.writes().length).toBe(writes);
  });

  test('every outcome is in the audit file and in InfluxDB (control_action) with who, what, why and the reply; no pool password', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const history = new ActionHistory();
    const results: ActionResult[] = [];
    const executor = new ControlExecutor({ history, audit: [new AuditFile(file), new AuditPoints(store), { record: (r) => void results.push(r) }], confirm: { timeoutMs: 10_000, intervalMs: 200 } });
    const target = targetOf(luxos[1]!);
    const pools = [{ url: 'stratum+tcp://pool.example:3333', user: 'acct.worker', password: 'hunter2-secret' }];
    await executor.run({ targets: [target], action: { kind: 'pools', pools }, actor: staff, reason: 'ticket 77' });
    await executor.run({ targets: [targetOf(s9)], action: { kind: 'power', target: { mode: 'low' } }, actor: { kind: 'policy', name: 'temperature' } });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('hunter2-secret');
    const lines = text.trim().split('\n').map((l) => auditLineSchema.parse(JSON.parse(l)));
    expect(lines).toEqual([
      expect.objectContaining({ actor: 'staff:ops@farm.example', miner: target.id, action: 'pools', outcome: 'confirmed', reason: 'ticket 77', description: 'pools stratum+tcp://pool.example:3333' }),
      expect.objectContaining({ actor: 'policy:temperature', miner: 'S9-1', action: 'power', outcome: 'refused' }),
    ]);
    expect(results[0]!.reply.length).toBeGreaterThan(0);
    await store.flush();
    const rows = await store.queryRows(`SELECT "actor", "detail", "reason", "outcome", "action" FROM "control_action" WHERE time > now() - 1h`);
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: 'ops@farm.example', action: 'pools', outcome: 'confirmed', reason: 'ticket 77' }),
        expect.objectContaining({ actor: 'temperature', action: 'power', outcome: 'refused' }),
      ]),
    );
    expect(JSON.stringify(rows)).not.toContain('hunter2-secret');
  });
});
