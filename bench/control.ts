/**
 * The write path at farm scale (issue 14), against simulated LuxOS units over real sockets (CGMiner API on 4028, no
 * login: the cheapest family to simulate by the thousand; the executor's work is the same for every family).
 *
 * 1. One container of 300 miners put to sleep and woken again through the executor with its default staggering
 *    (10 writes in flight, 200 ms apart): time until every miner is confirmed (sleeping; hashing again after its
 *    boards re-initialize, 30 s in the simulator), the executor's peak writes in flight, and the most writes the
 *    miners received in any one second (what a breaker sees). Baseline, same run: the same 300 sleeps sent at once
 *    (no staggering), confirmed the same way.
 * 2. Actions per second through the write path at 5,000 miners (17 containers): a blink on every miner (no read-back,
 *    so the figure is the write path itself: read, capability check, limits, turn, write, audit), containers in
 *    parallel, no spacing; once as the CLI acts (reading each miner first: a full scrape, 9 commands on LuxOS) and
 *    once as the policies act (on the sweep's reads). Baseline, same run: the family module's writes alone (link +
 *    blink), as many in flight.
 *
 *   npx tsx bench/control.ts [containerMiners] [farmMiners]
 */
import { SimulatedFarm, generateFarmSpecs, type SimMinerSpec } from '@flymining/simulator';
import { luxosControl } from '../exporters/src/miner/backends/luxos/control';
import { ControlExecutor, type ControlTarget, type KnownRead } from '../exporters/src/miner/control/executor';
import { ActionHistory } from '../exporters/src/miner/control/history';
import { openControlLink } from '../exporters/src/miner/control/link';
import { scrapeMiner } from '../exporters/src/miner/scrape';
import type { MinerSample } from '../shared/src';

const CONTAINER_MINERS = Number(process.argv[2] ?? 300);
const FARM_MINERS = Number(process.argv[3] ?? 5000);

function specs(miners: number, baseAddress: string, perContainer: number): SimMinerSpec[] {
  return generateFarmSpecs({ miners, racksPerContainer: Math.ceil(perContainer / 20), shelvesPerRack: 4, slotsPerShelf: 5, baseAddress, seed: 21, profileMix: { 'antminer-s19kpro-luxos': 1 } });
}

function targetOf(spec: SimMinerSpec): ControlTarget {
  const p = spec.position;
  return { id: spec.id, site: p.site, container: p.container, rack: p.rack, shelf: p.shelf, slot: p.slot, host: spec.host, port: spec.port, backend: 'luxos' };
}

/** The most writes of `kind` any one second saw, across the given miners (what the container's feed sees). */
function peakPerSecond(farm: SimulatedFarm, list: SimMinerSpec[], kind: string, sinceMs: number): number {
  const times = list.flatMap((s) => farm.miner(s.id)!.writes().filter((w) => w.action === kind && w.atMs >= sinceMs).map((w) => w.atMs)).sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

const quietAudit = { record: () => undefined };
const staff = { kind: 'staff' as const, name: 'bench' };

async function containerRun(): Promise<Record<string, unknown>> {
  const list = specs(CONTAINER_MINERS, '127.70.0.1', CONTAINER_MINERS);
  // The baseline's own container of as many miners (other addresses and ids).
  const baseList = specs(CONTAINER_MINERS, '127.71.0.1', CONTAINER_MINERS).map((s) => ({ ...s, id: `B${s.id}`, position: { ...s.position, container: 'B01' } }));
  const farm = new SimulatedFarm({ specs: [...list, ...baseList], seed: 21 });
  await farm.start();
  try {
    const staggered = new ControlExecutor({ history: new ActionHistory(), audit: [quietAudit], limits: { perContainerPer10Min: 100_000 }, confirm: { timeoutMs: 180_000, intervalMs: 1000 } });
    let t0 = Date.now();
    const slept = await staggered.run({ targets: list.map(targetOf), action: { kind: 'sleep' }, actor: staff });
    const sleepS = (Date.now() - t0) / 1000;
    const sleepPeak = staggered.peakConcurrency();
    const sleepPerSecond = peakPerSecond(farm, list, 'sleep', t0);
    t0 = Date.now();
    const woken = await staggered.run({ targets: list.map(targetOf), action: { kind: 'wake' }, actor: staff });
    const wakeS = (Date.now() - t0) / 1000;
    const wakePerSecond = peakPerSecond(farm, list, 'wake', t0);

    const unstaggered = new ControlExecutor({ history: new ActionHistory(), audit: [quietAudit], stagger: { maxConcurrentPerContainer: CONTAINER_MINERS, minSpacingMs: 0 }, limits: { perContainerPer10Min: 100_000 }, confirm: { timeoutMs: 180_000, intervalMs: 1000 } });
    t0 = Date.now();
    const baseSlept = await unstaggered.run({ targets: baseList.map(targetOf), action: { kind: 'sleep' }, actor: staff });
    const baseSleepS = (Date.now() - t0) / 1000;
    const count = (rs: Array<{ outcome: string }>): Record<string, number> => rs.reduce<Record<string, number>>((m, r) => ({ ...m, [r.outcome]: (m[r.outcome] ?? 0) + 1 }), {});
    return {
      miners: CONTAINER_MINERS,
      staggering: { maxConcurrentPerContainer: 10, minSpacingMs: 200 },
      sleep: { seconds: sleepS, outcomes: count(slept), peakInFlight: sleepPeak, peakWritesInOneSecond: sleepPerSecond },
      wake: { seconds: wakeS, outcomes: count(woken), peakInFlight: staggered.peakConcurrency(), peakWritesInOneSecond: wakePerSecond },
      baselineUnstaggeredSleep: { seconds: baseSleepS, outcomes: count(baseSlept), peakInFlight: unstaggered.peakConcurrency(), peakWritesInOneSecond: peakPerSecond(farm, baseList, 'sleep', t0) },
    };
  } finally {
    await farm.stop();
  }
}

async function farmRun(): Promise<Record<string, unknown>> {
  const list = specs(FARM_MINERS, '127.72.0.1', 300);
  const farm = new SimulatedFarm({ specs: list, seed: 21 });
  await farm.start();
  try {
    const containers = new Set(list.map((s) => s.position.container)).size;
    const executor = new ControlExecutor({ history: new ActionHistory(), audit: [quietAudit], stagger: { maxConcurrentPerContainer: 10, minSpacingMs: 0 }, limits: { perContainerPer10Min: 100_000 }, maxConcurrentReads: 10 * containers });
    let t0 = performance.now();
    const results = await executor.run({ targets: list.map(targetOf), action: { kind: 'blink', on: true }, actor: staff });
    const pathS = (performance.now() - t0) / 1000;
    const sent = results.filter((r) => r.outcome === 'sent').length;

    // As the policies act: on the reads of the sweep that just ran (taken here untimed, as the exporter would have).
    const knownReads = new Map<string, KnownRead>();
    let nextRead = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (nextRead < list.length) {
          const s = list[nextRead++]!;
          const r = await scrapeMiner({ host: s.host, port: s.port, backend: 'luxos' });
          if (r.ok) knownReads.set(s.id, { sample: r.sample, backendId: 'luxos', protocol: 'cgminer' });
        }
      }),
    );
    const policyExecutor = new ControlExecutor({ history: new ActionHistory(), audit: [quietAudit], stagger: { maxConcurrentPerContainer: 10, minSpacingMs: 0 }, limits: { perContainerPer10Min: 100_000 }, maxConcurrentReads: 10 * containers });
    t0 = performance.now();
    const policyResults = await policyExecutor.run({ targets: list.map(targetOf), action: { kind: 'blink', on: false }, actor: { kind: 'policy', name: 'bench' }, knownReads });
    const policyS = (performance.now() - t0) / 1000;
    const policySent = policyResults.filter((r) => r.outcome === 'sent').length;

    // Baseline: the family's write alone, as many in flight as the executor allowed (10 per container).
    const sample = { model: 'Antminer S19k Pro' } as MinerSample;
    const first = await scrapeMiner({ host: list[0]!.host, port: list[0]!.port, backend: 'luxos' });
    const realSample = first.ok ? first.sample : sample;
    let next = 0;
    let baseSent = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: 10 * containers }, async () => {
        while (next < list.length) {
          const s = list[next++]!;
          await luxosControl.execute({ kind: 'blink', on: false }, openControlLink('cgminer', s.host, s.port), realSample);
          baseSent++;
        }
      }),
    );
    const baseS = (performance.now() - t0) / 1000;
    return {
      miners: FARM_MINERS,
      containers,
      writePathReadingFirst: { seconds: pathS, sent, actionsPerSecond: sent / pathS, ratioToBaseline: sent / pathS / (baseSent / baseS) },
      writePathOnSweepReads: { seconds: policyS, sent: policySent, actionsPerSecond: policySent / policyS, ratioToBaseline: policySent / policyS / (baseSent / baseS) },
      baselineFamilyWritesOnly: { seconds: baseS, sent: baseSent, actionsPerSecond: baseSent / baseS },
    };
  } finally {
    await farm.stop();
  }
}

async function main(): Promise<void> {
  const container = await containerRun();
  const farm = await farmRun();
  process.stdout.write(JSON.stringify({ bench: 'control', container, farm }, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/control: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
