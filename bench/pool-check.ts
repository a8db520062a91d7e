/**
 * Pool-hijack check cost (issue 15) at 5,000 miners. A whole sweep over TCP varies by more than this check costs on
 * 2 shared cores, so the health evaluation is called directly, over 5,000 realistic samples: real replies of every
 * simulated CGMiner-style profile, scraped once over TCP and parsed by the exporter, copied to 5,000 miners with
 * their own worker names (2 % hijacked, 1 % on a devfee switch). Specs come from the simulator's demo inventory
 * (expected pools stated) through the real inventory loader.
 *
 * Figures: one sweep's evaluations with the check (expected pools) against the same evaluations without it (the
 * same specs minus `expectedPools`, so the pool rule returns at once), interleaved, same run, a forced GC before each
 * timed pass when available (the difference is smaller than one minor GC); best and median of the rounds. And the
 * pool rule alone (checkPoolHijack over the 5,000 samples), which is the steadier figure of its cost.
 *
 *   node --expose-gc -r tsx/cjs bench/pool-check.ts [miners] [rounds]
 */
import { parseInventory, type MinerSample, type MinerSpec } from '@flymining/shared';
import { PROFILE_IDS, SimulatedFarm, generateFarmSpecs, inventoryYaml } from '@flymining/simulator';
import { evaluateMinerHealth, emptyHealthState, type MinerHealthState } from '../exporters/src/miner/health';
import { FaultCollector } from '../exporters/src/miner/health/collector';
import { checkPoolHijack } from '../exporters/src/miner/health/intrusion';
import { scrapeMiner } from '../exporters/src/miner/scrape';

const MINERS = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 40);
const gc = (globalThis as { gc?: () => void }).gc;

async function realSamples(): Promise<MinerSample[]> {
  const specs = generateFarmSpecs({ miners: PROFILE_IDS.length, containers: 1, baseAddress: '127.51.0.1', seed: 3 }).map((s, i) => ({ ...s, profile: PROFILE_IDS[i]! }));
  const farm = new SimulatedFarm({ specs, seed: 3 });
  await farm.start();
  try {
    const samples: MinerSample[] = [];
    for (const s of specs) {
      const r = await scrapeMiner({ host: s.host, port: s.port }, {});
      if (!r.ok) throw new Error(`cannot read simulated ${s.profile}: ${r.failure.message}`);
      samples.push(r.sample);
    }
    return samples;
  } finally {
    await farm.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const base = await realSamples();
  const farmSpecs = generateFarmSpecs({ miners: MINERS, baseAddress: '127.51.100.1', seed: 5 });
  const inventory = parseInventory(inventoryYaml(farmSpecs, { detectFirmware: true }), 'bench.yaml');
  const withCheck: MinerSpec[] = [...inventory.miners.values()];
  const withoutCheck: MinerSpec[] = withCheck.map(({ expectedPools: _pools, ...rest }) => rest);
  const samples: MinerSample[] = withCheck.map((spec, i) => {
    const sample = base[i % base.length]!;
    const hijacked = i % 50 === 7;
    const devfee = i % 100 === 13;
    return {
      ...sample,
      pools: sample.pools.map((p, k) => ({
        ...p,
        url: hijacked ? 'stratum+tcp://evil.example:3333' : devfee && k === 0 ? 'stratum+tcp://stratum.braiins.com:3333' : p.url,
        user: hijacked ? 'thief.x' : `flymining.${spec.id}`,
      })),
      ...(devfee ? { firmware: 'braiins-os' as const } : {}),
    };
  });

  const sweep = (specs: MinerSpec[], states: Array<MinerHealthState | undefined>, now: number): number => {
    gc?.();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < specs.length; i++) states[i] = evaluateMinerHealth(samples[i]!, specs[i]!, states[i], now).state;
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const statesWith: Array<MinerHealthState | undefined> = new Array(MINERS).fill(undefined);
  const statesWithout: Array<MinerHealthState | undefined> = new Array(MINERS).fill(undefined);
  // Warm-up (JIT, first identities remembered), not counted.
  for (let w = 0; w < 3; w++) {
    sweep(withCheck, statesWith, Date.now());
    sweep(withoutCheck, statesWithout, Date.now());
  }
  const withMs: number[] = [];
  const withoutMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const now = Date.now();
    // Alternate the order so neither always runs on a warmer cache.
    if (r % 2 === 0) {
      withMs.push(sweep(withCheck, statesWith, now));
      withoutMs.push(sweep(withoutCheck, statesWithout, now));
    } else {
      withoutMs.push(sweep(withoutCheck, statesWithout, now));
      withMs.push(sweep(withCheck, statesWith, now));
    }
  }
  // The rule alone, as evaluate calls it (a fresh collector per miner, no previous devfee episode).
  const ruleMs: number[] = [];
  const empty = emptyHealthState();
  for (let r = 0; r < ROUNDS; r++) {
    gc?.();
    const now = Date.now();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < MINERS; i++) {
      const spec = withCheck[i]!;
      checkPoolHijack({ sample: samples[i]!, spec, faults: new FaultCollector(spec, empty.active, now), now }, empty, []);
    }
    ruleMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const hijacks = statesWith.filter((s) => Object.values(s?.active ?? {}).some((f) => f.code === 'POOL_HIJACK')).length;
  const w = median(withMs);
  const wo = median(withoutMs);
  const bestW = Math.min(...withMs);
  const bestWo = Math.min(...withoutMs);
  const rule = median(ruleMs);
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'pool-check',
        method: 'health evaluation called directly over realistic samples (not a whole TCP sweep: too noisy for this cost)',
        miners: MINERS,
        rounds: ROUNDS,
        profilesSampled: base.length,
        hijackedMiners: hijacks,
        gcForced: gc !== undefined,
        evaluationWithCheckMs: { median: Number(w.toFixed(2)), best: Number(bestW.toFixed(2)) },
        evaluationWithoutCheckMs: { median: Number(wo.toFixed(2)), best: Number(bestWo.toFixed(2)) },
        ratio: { median: Number((w / wo).toFixed(3)), best: Number((bestW / bestWo).toFixed(3)) },
        poolRuleAloneMsPerSweep: Number(rule.toFixed(2)),
        poolRuleAloneUsPerMiner: Number(((rule * 1000) / MINERS).toFixed(2)),
        poolRuleShareOfEvaluation: Number((rule / wo).toFixed(3)),
        cpus: (await import('node:os')).cpus().length,
        load1: Number((await import('node:os')).loadavg()[0]?.toFixed(2)),
      },
      null,
      0,
    )}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
