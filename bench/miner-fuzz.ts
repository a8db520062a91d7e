/**
 * Miner-reply fuzz benchmark (issue #10): a long run of the mutation fuzzer of exporters/test/fuzz over the whole
 * corpus, each input through parse → envelope → detection → every dialect → bounds → points → line protocol →
 * health. Figures: inputs/s and MB/s judged, the longest event-loop block of any input (p50/p99/max, with that
 * input's size), problems found (must be 0). Baseline, same run, same inputs: the native JSON.parse of the same
 * bytes alone, the least any reader must do.
 *
 *   npx tsx bench/miner-fuzz.ts [inputs] [seed]
 */
import type { Judgement } from '../exporters/test/fuzz/pipeline';
import { corpusInputs, fuzzRun, type FuzzRun } from '../exporters/test/fuzz/run';

const INPUTS = Number(process.argv[2] ?? 50_000);
const SEED = Number(process.argv[3] ?? Date.now() % 2 ** 31);

/** Baseline judge: JSON.parse of each reply, nothing else. */
function parseOnly(replies: ReadonlyArray<{ command: string; bytes: Buffer }>): Judgement {
  const t0 = performance.now();
  for (const { bytes } of replies) {
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch {
      // garbage is what the fuzzer makes
    }
  }
  return { problems: [], lines: [], longestBlockMs: performance.now() - t0, samples: 0, replyErrors: 0, droppedValues: 0 };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function rates(run: FuzzRun): { inputsPerSec: number; mbPerSec: number } {
  return {
    inputsPerSec: Math.round((run.inputs / run.judgeMs) * 1000),
    mbPerSec: Number((run.bytesTotal / 1e6 / (run.judgeMs / 1000)).toFixed(1)),
  };
}

function main(): void {
  const inputs = corpusInputs();
  const baseline = fuzzRun(inputs, SEED, INPUTS, { keepLines: false, judge: parseOnly });
  const heapBefore = process.memoryUsage().heapUsed;
  const run = fuzzRun(inputs, SEED, INPUTS, { keepLines: false });
  const result = {
    seed: SEED,
    inputs: run.inputs,
    corpusCaptures: inputs.corpus.length,
    mutatedMB: Number((run.bytesTotal / 1e6).toFixed(1)),
    largestInputBytes: run.bytesMax,
    pipeline: {
      ...rates(run),
      judgeSeconds: Number((run.judgeMs / 1000).toFixed(1)),
      blockMs: {
        p50: Number(percentile(run.blockMs, 50).toFixed(2)),
        p99: Number(percentile(run.blockMs, 99).toFixed(2)),
        max: Number(run.slowest.ms.toFixed(1)),
        maxInputBytes: run.slowest.bytes,
        maxInputMutations: run.slowest.applied,
      },
      samples: run.samples,
      replyErrors: run.replyErrors,
      droppedValues: run.droppedValues,
      problems: run.failures.length,
    },
    baselineJsonParse: { ...rates(baseline), judgeSeconds: Number((baseline.judgeMs / 1000).toFixed(1)) },
    /** Pipeline time per input over JSON.parse time per input. */
    pipelineVsJsonParse: Number((run.judgeMs / baseline.judgeMs).toFixed(1)),
    heapGrowthMB: Number(((process.memoryUsage().heapUsed - heapBefore) / 1e6).toFixed(1)),
    firstProblems: run.failures.slice(0, 5).map((f) => ({ input: f.index, capture: f.capture, command: f.command, bytes: f.bytes, mutations: f.applied, problems: f.problems.slice(0, 3) })),
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (run.failures.length > 0) throw new Error(`${run.failures.length} input(s) found problems (seed ${SEED})`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`miner-fuzz bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
