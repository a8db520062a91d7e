/** One fuzz run: N mutated corpus replies through judgeReplies, with totals. Used by the fuzz test and bench/miner-fuzz.ts. */
import type { MinerSpec } from '@flymining/shared';
import { MAX_INPUT_BYTES, mutate, seededRandom } from './mutator';
import { fuzzSpec, judgeReplies, loadCorpus, type CorpusCapture, type Judgement } from './pipeline';

export interface FuzzFailure {
  index: number;
  capture: string;
  command: string;
  bytes: number;
  applied: string[];
  problems: string[];
}

export interface FuzzRun {
  seed: number;
  inputs: number;
  bytesTotal: number;
  bytesMax: number;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
  /** Time spent judging inputs (the run less making them), ms. */
  judgeMs: number;
  /** Longest synchronous stretch of each input, ms, in input order. */
  blockMs: number[];
  /** Longest synchronous stretch of any input and the input's size. */
  slowest: { ms: number; bytes: number; applied: string[] };
  samples: number;
  replyErrors: number;
  droppedValues: number;
  failures: FuzzFailure[];
  /** Distinct line-protocol lines produced (all inputs share one timestamp, so repeats collapse). */
  lines: Set<string>;
}

export interface FuzzInputs {
  corpus: CorpusCapture[];
  spec: MinerSpec;
}

export function corpusInputs(): FuzzInputs {
  return { corpus: loadCorpus(), spec: fuzzSpec() };
}

/** Keeps at most this many distinct lines (the test writes them all to InfluxDB). */
const MAX_KEPT_LINES = 200_000;

export interface FuzzOptions {
  /** Keep the distinct lines produced (default true). */
  keepLines?: boolean;
  /** What judges one input (default judgeReplies: the whole pipeline); bench/miner-fuzz.ts swaps in its baseline. */
  judge?: (replies: ReadonlyArray<{ command: string; bytes: Buffer }>, spec: MinerSpec) => Judgement;
}

export function fuzzRun({ corpus, spec }: FuzzInputs, seed: number, count: number, options: FuzzOptions = {}): FuzzRun {
  const judge = options.judge ?? judgeReplies;
  const random = seededRandom(seed);
  const run: FuzzRun = {
    seed,
    inputs: 0,
    bytesTotal: 0,
    bytesMax: 0,
    elapsedMs: 0,
    judgeMs: 0,
    blockMs: [],
    slowest: { ms: 0, bytes: 0, applied: [] },
    samples: 0,
    replyErrors: 0,
    droppedValues: 0,
    failures: [],
    lines: new Set(),
  };
  const t0 = performance.now();
  for (let index = 0; index < count; index++) {
    const capture = corpus[Math.floor(random() * corpus.length)] as CorpusCapture;
    const target = capture.replies[Math.floor(random() * capture.replies.length)];
    if (!target) continue;
    const { text, applied } = mutate(target.bytes.toString('utf8'), random);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > MAX_INPUT_BYTES) continue;
    const replies = capture.replies.map((r) => (r === target ? { command: r.command, bytes } : r));
    const judgeStart = performance.now();
    const judgement = judge(replies, spec);
    run.judgeMs += performance.now() - judgeStart;
    run.blockMs.push(judgement.longestBlockMs);
    run.inputs++;
    run.bytesTotal += bytes.length;
    run.bytesMax = Math.max(run.bytesMax, bytes.length);
    run.samples += judgement.samples;
    run.replyErrors += judgement.replyErrors;
    run.droppedValues += judgement.droppedValues;
    if (judgement.longestBlockMs > run.slowest.ms) run.slowest = { ms: judgement.longestBlockMs, bytes: bytes.length, applied };
    if (judgement.problems.length > 0) {
      run.failures.push({ index, capture: capture.name, command: target.command, bytes: bytes.length, applied, problems: judgement.problems });
    }
    if (options.keepLines !== false) {
      for (const line of judgement.lines) if (run.lines.size < MAX_KEPT_LINES) run.lines.add(line);
    }
  }
  run.elapsedMs = performance.now() - t0;
  return run;
}
