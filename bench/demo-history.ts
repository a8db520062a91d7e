/**
 * The demo's start-up history (issue 16): the demo farm (240 miners, 4 containers, seed 1) written for 21 days and
 * today into a throwaway InfluxDB through simulator/src/history.ts (SimMiner reads, line protocol, InfluxStore
 * batches of 20,000 with one in flight), at the demo's 20-minute step (or the step given). Baseline, same run, same server: the very
 * lines it wrote, pre-formatted in memory, POSTed again to a fresh database in the same batches, one after another
 * (InfluxDB's ingest alone). Also the model alone (no writes).
 * Prints JSON. Run: npx tsx bench/demo-history.ts [stepMinutes, default 20]
 */
import { InfluxStore } from '@flymining/shared';
import { DEMO_PROFILE_MIX, DEMO_REQUIRED_PROFILES, generateFarmSpecs } from '../simulator/src/farm';
import { computeHistory, demoOutages, historyDays, writeHistory } from '../simulator/src/history';
import { runBench, type ChildProcesses } from './lib/children';

const STEP_MIN = Number(process.argv[2] ?? 20);

async function main(children: ChildProcesses): Promise<void> {
  const specs = generateFarmSpecs({ miners: 240, containers: 4, racksPerContainer: 3, profileMix: DEMO_PROFILE_MIX, ensureProfiles: DEMO_REQUIRED_PROFILES, seed: 1 });
  const untilMs = Date.now();
  const days = historyDays(new Date(untilMs).toISOString().slice(0, 10), 21);
  const options = { specs, seed: 1, days, untilMs, stepMs: STEP_MIN * 60_000, outages: demoOutages(specs, days) };
  // Owned by the bench's children: stopped on every way out (a signal, a crash) as well as at the end.
  const server = await children.influx();
  {
    const open = async (database: string): Promise<InfluxStore> => {
      const store = new InfluxStore({ url: server.url, database, batchSize: 20_000, maxBufferLines: 2_000_000, maxRetries: 1 }, { spool: false });
      await store.query(`CREATE DATABASE "${database}"`);
      await store.query(`CREATE RETENTION POLICY "raw" ON "${database}" DURATION 40d REPLICATION 1 DEFAULT`);
      return store;
    };

    let t = performance.now();
    const lines: string[] = [];
    await computeHistory(options, (step) => void lines.push(...step));
    const modelS = (performance.now() - t) / 1000;

    const history = await open('bench_history');
    t = performance.now();
    const { points } = await writeHistory(history, options);
    const historyS = (performance.now() - t) / 1000;
    await history.close();

    const plain = await open('bench_plain');
    t = performance.now();
    for (let i = 0; i < lines.length; i += 20_000) {
      plain.write(lines.slice(i, i + 20_000));
      await plain.flush();
    }
    const plainS = (performance.now() - t) / 1000;
    const written = plain.stats().written;
    await plain.close();

    console.log(
      JSON.stringify(
        {
          miners: specs.length,
          days: days.length - 1,
          stepMinutes: STEP_MIN,
          points,
          historySeconds: Number(historyS.toFixed(2)),
          pointsPerSecond: Math.round(points / historyS),
          modelOnlySeconds: Number(modelS.toFixed(2)),
          baseline: { what: 'the same lines POSTed again in 20,000-line batches', written, seconds: Number(plainS.toFixed(2)) },
          ratioToBaseline: Number((historyS / plainS).toFixed(2)),
        },
        null,
        2,
      ),
    );
  }
}

runBench(main);
