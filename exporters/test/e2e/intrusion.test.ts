/**
 * Issue 15, virtual intrusion, end to end over real connections: simulated miners whose pool, worker, firmware or
 * machine is changed at run time → exporter → real InfluxDB (fault history, edge snapshot, `miner_change` audit rows);
 * and a scheduled discovery of a container subnet finding a miner the inventory does not list.
 */
import { InventoryHolder, type InfluxStore } from '@flymining/shared';
import { PROFILES, SimulatedFarm, inventoryYaml, type SimMinerSpec } from '@flymining/simulator';
import { describeSnapshots, freshStore, latestSnapshots, mixedFarmSpecs, tempDir, writeInventory } from './helpers';
import { MinerExporter } from '../../src/miner/exporter';
import { createLogger } from '@flymining/shared';
import { runCli } from '../../../shared/test/cli';

const EDGE = 'e2e-intrusion';
const DEVFEE_HOST = 'devfee.vendor.example';

describe('virtual intrusion: pool hijack, devfee, firmware change, swap, unknown device', () => {
  // Every CGMiner-style profile, and a Whatsminer API v3 unit (its API reports serial and MAC).
  const listed = mixedFarmSpecs('127.49.0.1', 1).map((spec, i, all) => (i === all.length - 1 ? { ...spec, profile: 'whatsminer-m60s' as const, v3Port: 4433 } : spec));
  const first = listed[0]!;
  // A miner plugged in on the container's subnet that nobody listed.
  const rogue: SimMinerSpec = { ...first, id: 'ROGUE', host: '127.49.0.201', position: { ...first.position, slot: '99' } };
  const farm = new SimulatedFarm({ specs: [...listed, rogue], seed: 7 });
  const stateDir = tempDir('intrusion-state');
  let store: InfluxStore;
  let inventory: InventoryHolder;

  const exporter = (): MinerExporter =>
    new MinerExporter(
      inventory,
      store,
      {
        name: EDGE,
        intervalMs: 30_000,
        jitterMs: 0,
        concurrency: 64,
        transport: { connectTimeoutMs: 1000, readTimeoutMs: 1500, maxBytes: 1024 * 1024 },
        stateDir,
        discoverRatePerS: 50,
      },
      createLogger('e2e', 'silent'),
    );

  beforeAll(async () => {
    await farm.start();
    store = await freshStore('e2e_intrusion');
    const devfeeFirmware = PROFILES[listed[1]!.profile].firmware;
    const yaml =
      inventoryYaml(listed, { detectFirmware: false, subnets: { [first.position.container]: '127.49.0.192/27' } }) +
      `devfee: { maxMinutes: 10, pools: [{ firmware: ${devfeeFirmware}, host: ${DEVFEE_HOST} }] }\n`;
    inventory = new InventoryHolder(writeInventory(yaml));
  });

  afterAll(async () => {
    await farm.stop();
    await store.close();
  });

  test('changes at run time raise their faults within one sweep, a devfee switch is recorded not raised, all audited', async () => {
    const edge = exporter();
    await edge.sweep(0);
    await store.flush();
    expect(edge.allActiveFaults().filter((f) => ['POOL_HIJACK', 'FIRMWARE_CHANGED', 'MINER_SWAPPED'].includes(f.code))).toEqual([]);

    // Targets: miners whose firmware reports what each check reads.
    const identity = await store.queryRows('SELECT last(firmware_version) AS version, last(serial) AS serial, last(mac) AS mac FROM miner GROUP BY miner');
    const withVersion = identity.filter((r) => typeof r.version === 'string').map((r) => String(r.miner));
    const withSerial = identity.filter((r) => typeof r.serial === 'string' || typeof r.mac === 'string').map((r) => String(r.miner));
    const allForeign = listed[0]!.id;
    const devfee = listed[1]!.id;
    const workerOnly = listed[2]!.id;
    const flashed = withVersion.find((id) => ![allForeign, devfee, workerOnly].includes(id));
    const swapped = withSerial.find((id) => ![allForeign, devfee, workerOnly, flashed].includes(id));
    expect(flashed).toBeDefined();
    expect(swapped).toBeDefined();

    farm.miner(allForeign)!.applyFault({ fault: 'poolHijack', url: 'stratum+tcp://evil.example:3333', worker: 'thief.1', all: true });
    farm.miner(workerOnly)!.applyFault({ fault: 'poolHijack', url: 'stratum+tcp://btc.pool.example:3333', worker: 'someone.else' });
    farm.miner(devfee)!.applyFault({ fault: 'poolHijack', url: `stratum+tcp://${DEVFEE_HOST}:3333`, worker: 'vendor.fee' });
    farm.miner(flashed!)!.applyFault({ fault: 'firmwareChange', version: 'evil-build-6.6.6' });
    farm.miner(swapped!)!.applyFault({ fault: 'swap' });

    const sweep = await edge.sweep(0);
    await store.flush();
    const faults = edge.allActiveFaults().filter((f) => ['POOL_HIJACK', 'FIRMWARE_CHANGED', 'MINER_SWAPPED'].includes(f.code));
    expect(faults.map((f) => `${f.code} ${f.minerId}`).sort()).toEqual(
      [`POOL_HIJACK ${allForeign}`, `POOL_HIJACK ${workerOnly}`, `FIRMWARE_CHANGED ${flashed}`, `MINER_SWAPPED ${swapped}`].sort(),
    );
    const hijack = faults.find((f) => f.minerId === allForeign)!;
    expect(hijack.severity).toBe('critical');
    expect(hijack.message).toContain('all 3 configured pools are foreign');
    expect(hijack.message).toContain('"stratum+tcp://evil.example:3333" as worker "thief.1"');
    expect(hijack.message).toContain(`btc.pool.example:3333 as "flymining.${allForeign}"`);
    expect(faults.find((f) => f.minerId === workerOnly)!.message).toContain('worker "someone.else"');
    expect(faults.find((f) => f.code === 'FIRMWARE_CHANGED')!.message).toContain('evil-build-6.6.6');

    // What the center reads: the snapshot of this sweep and the fault history.
    const snap = describeSnapshots(await latestSnapshots(store, EDGE, 'miner', sweep.startedAt));
    expect(snap.faults).toEqual(expect.arrayContaining([`POOL_HIJACK ${allForeign}`, `POOL_HIJACK ${workerOnly}`, `FIRMWARE_CHANGED ${flashed}`, `MINER_SWAPPED ${swapped}`]));
    expect(snap.faults.some((f) => f.includes(devfee))).toBe(false);

    // The audit history: one row per change, with before/after.
    const rows = await store.queryRows('SELECT "before", "after", kind, miner FROM miner_change');
    const kinds = rows.map((r) => `${r.kind} ${r.miner}`);
    expect(kinds).toEqual(expect.arrayContaining([`pools ${allForeign}`, `pools ${workerOnly}`, `devfee ${devfee}`, `pools ${devfee}`, `firmware ${flashed}`]));
    expect(kinds.some((k) => k === `serial ${swapped}` || k === `mac ${swapped}`)).toBe(true);
    const poolsRow = rows.find((r) => r.kind === 'pools' && r.miner === allForeign)!;
    expect(String(poolsRow.before)).toContain(`btc.pool.example:3333 flymining.${allForeign}`);
    expect(String(poolsRow.after)).toContain('evil.example:3333 thief.1');
    expect(String(rows.find((r) => r.kind === 'firmware')!.after)).toContain('evil-build-6.6.6');

    // As staff read it: `flymining miner changes MINER --since 1h`.
    const env = { FLYMINING_INFLUX_URL: process.env.FLYMINING_INFLUX_URL, FLYMINING_INFLUX_DB: process.env.FLYMINING_INFLUX_DB };
    process.env.FLYMINING_INFLUX_URL = process.env.FLYMINING_TEST_INFLUX_URL;
    process.env.FLYMINING_INFLUX_DB = 'e2e_intrusion';
    try {
      const cli = await runCli(['miner', 'changes', allForeign, '--since', '1h', '--json']);
      expect([cli.code, cli.stderr]).toEqual([0, '']);
      const listedRows = JSON.parse(cli.stdout) as Array<{ kind: string; before: string; after: string }>;
      expect(listedRows.map((r) => r.kind)).toEqual(['pools']);
      expect(listedRows[0]!.after).toContain('evil.example:3333 thief.1');
      const text = await runCli(['miner', 'changes', flashed!, '--since', '1h']);
      expect(text.stdout).toMatch(/firmware .*\n\s+before: .*\n\s+after: .*evil-build-6\.6\.6/);
      const bad = await runCli(['miner', 'changes', 'x"; DROP', '--since', '1h']);
      expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('is not a miner id')]);
      expect((await runCli(['miner', 'changes', allForeign, '--since', '10y'])).stderr).toContain('--since');
    } finally {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    await edge.stop();

    // A restart on the same state folder neither re-raises nor forgets: no new fault rows, same since.
    const restarted = exporter();
    const before = await store.queryRows('SELECT count(active) AS n FROM fault');
    await restarted.sweep(0);
    await store.flush();
    const after = await store.queryRows('SELECT count(active) AS n FROM fault');
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(restarted.allActiveFaults().find((f) => f.minerId === allForeign && f.code === 'POOL_HIJACK')?.since).toBe(hijack.since);
    const changes = await store.queryRows('SELECT count("after") AS n FROM miner_change');
    expect(changes[0]?.n).toBe(rows.length);

    // Restoring the pools clears the hijack.
    farm.miner(allForeign)!.applyFault({ fault: 'poolHijack', on: false });
    await restarted.sweep(0);
    expect(restarted.allActiveFaults().some((f) => f.minerId === allForeign && f.code === 'POOL_HIJACK')).toBe(false);
    await restarted.stop();
  });

  test('hostile pool URLs and workers (huge, control characters) are bounded in the fault and the audit row', async () => {
    const edge = exporter();
    const target = listed[3]!.id;
    await edge.sweep(0);
    const url = `stratum+tcp://${'x'.repeat(1800)}.example:3333/\u0007\u001b[2J`;
    const worker = `w\u0000\n${'y'.repeat(1500)}`;
    farm.miner(target)!.applyFault({ fault: 'poolHijack', url, worker, all: true });
    await edge.sweep(0);
    await store.flush();
    const fault = edge.allActiveFaults().find((f) => f.minerId === target && f.code === 'POOL_HIJACK');
    expect(fault).toBeDefined();
    expect(fault!.message.length).toBeLessThan(800);
    expect(fault!.message).not.toMatch(/[\x00-\x1f\x7f]/);
    for (const v of Object.values(fault!.details ?? {})) expect(String(v).length).toBeLessThanOrEqual(512);
    const rows = await store.queryRows(`SELECT "after" FROM miner_change WHERE miner = '${target}' AND kind = 'pools'`);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(String(r.after).length).toBeLessThanOrEqual(2049);
      expect(String(r.after)).not.toMatch(/[\x00-\x1f\x7f]/);
    }
    farm.miner(target)!.applyFault({ fault: 'poolHijack', on: false });
    await edge.stop();
  });

  test('a scheduled discovery of the container subnet finds the unlisted miner: UNKNOWN_DEVICE once, audited, cleared when gone', async () => {
    const edge = exporter();
    const events = await edge.discoverUnknown();
    expect(events.map((e) => `${e.type} ${e.fault.code} ${e.fault.minerId} ${e.fault.part}`)).toEqual([
      `raised UNKNOWN_DEVICE ${first.position.container} ${rogue.host}:4028`,
    ]);
    const fault = events[0]!.fault;
    expect(fault.severity).toBe('warning');
    expect(fault.message).toContain(`${rogue.host}:4028 on 127.49.0.192/27, which the inventory does not list`);
    expect(await edge.discoverUnknown()).toEqual([]);
    await edge.sweep(0);
    await store.flush();
    const snap = describeSnapshots(await latestSnapshots(store, EDGE, 'miner'));
    expect(snap.faults).toContain(`UNKNOWN_DEVICE ${first.position.container} ${rogue.host}:4028`);
    const audit = await store.queryRows(`SELECT "after" FROM miner_change WHERE kind = 'unknown_device'`);
    expect(audit).toHaveLength(1);

    farm.miner('ROGUE')!.applyFault({ fault: 'offline' });
    const gone = await edge.discoverUnknown();
    expect(gone.map((e) => `${e.type} ${e.fault.code}`)).toEqual(['cleared UNKNOWN_DEVICE']);
    await edge.stop();
  });
});
