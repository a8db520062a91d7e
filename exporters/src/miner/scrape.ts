/**
 * One scrape of one miner: identify its dialect (from the inventory or by probing), send the dialect's commands one
 * per connection, turn the replies into a MinerSample. Optional commands may fail (code 45, malformed) without
 * failing the scrape; the sample then lists them in `errors`.
 *
 * A hostile or broken miner cannot take the exporter down or blind it (issue #10): reading a reply throws nothing
 * but MinerReplyError (turned into a `malformed` command error or failure here, so the miner shows up as failing
 * rather than dropping out), values outside physical ranges are dropped and reported (limits.ts), and a reply cut
 * short is a partial scrape: the sections it may carry are left empty and the command is listed in `errors`, which
 * is how health knows a section was lost (it keeps that section's faults, raising and clearing none).
 */
import type { CommandError, FirmwareFamily, JsonObject, MinerSample } from '@flymining/shared';
import { DETECTION_COMMANDS, detectDialect } from './detect';
import { DIALECTS } from './backends';
import type { Dialect, ParsedMiner, Replies } from './backends/types';
import { checkEnvelope } from './envelope';
import { MinerReplyError, parseMinerReply } from './json-repair';
import { boundSample, type DroppedValues } from './limits';
import { DEFAULT_TRANSPORT, MinerConnectionError, sendCommand, type ConnectionFailureKind, type TransportOptions } from './transports/cgminer-tcp';

export type ScrapeFailureKind = ConnectionFailureKind | 'malformed' | 'unknown-firmware';

export interface ScrapeFailure {
  kind: ScrapeFailureKind;
  message: string;
}

export type ScrapeResult =
  | { ok: true; sample: MinerSample; dialect: Dialect; durationMs: number; dropped: DroppedValues }
  | { ok: false; failure: ScrapeFailure; durationMs: number; dialect?: Dialect };

export interface ScrapeTarget {
  host: string;
  port: number;
  /** Known firmware family (from the inventory); skips detection. */
  firmware?: FirmwareFamily;
}

export interface ScrapeOptions {
  transport?: TransportOptions;
  /** Remembers detected dialects per endpoint between sweeps (detection costs extra round trips). */
  dialectCache?: Map<string, Dialect>;
  /** Called for every reply that needed repair or was refused: bad input is counted and logged with its source. */
  onBadReply?: (event: BadReplyEvent) => void;
  /** Called when a sample had values outside physical ranges, which were dropped (also reported to onBadReply). */
  onDroppedValues?: (event: { endpoint: string; dropped: DroppedValues }) => void;
  now?: () => number;
}

export interface BadReplyEvent {
  endpoint: string;
  command: string;
  problem: string;
}

export type CommandOutcome =
  | { ok: true; reply: JsonObject; truncated: boolean }
  | { ok: false; error: CommandError; connection?: MinerConnectionError };

/** `err` as a reply error: a reply error as it is, anything else (a bug a reply found) named by its type. */
function asReplyError(err: unknown, source: string): MinerReplyError {
  if (err instanceof MinerReplyError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new MinerReplyError('malformed', source, `reply could not be read (${detail})`);
}

/**
 * One command's reply bytes, parsed and checked: the reply, or a `malformed`/`status` command error. Never throws,
 * whatever the bytes.
 */
export function readCommandReply(raw: Buffer | string, endpoint: string, command: string, onBadReply?: (event: BadReplyEvent) => void): CommandOutcome {
  try {
    const parsed = parseMinerReply(raw, `${endpoint} ${command}`);
    if (parsed.repairs.length > 0 || parsed.truncated) {
      onBadReply?.({
        endpoint,
        command,
        problem: `${parsed.truncated ? 'truncated; ' : ''}repaired: ${parsed.repairs.join(', ') || 'none'}`,
      });
    }
    const env = checkEnvelope(command, parsed.value);
    if (!env.ok) return { ok: false, error: env.error };
    return { ok: true, reply: env.reply, truncated: parsed.truncated };
  } catch (err) {
    const replyError = asReplyError(err, `${endpoint} ${command}`);
    onBadReply?.({ endpoint, command, problem: replyError.message });
    return { ok: false, error: { command, kind: 'malformed', message: replyError.message } };
  }
}

/** Commands that name the miner and carry no hardware readings: a cut one leaves the readings whole. */
const IDENTITY_COMMANDS: ReadonlySet<string> = new Set(['version', 'get_version']);

/** The error a cut-short reply adds to the sample: it makes the scrape partial for health. */
function truncatedError(command: string): CommandError {
  return { command, kind: 'malformed', message: `${command}: reply cut short; its readings are incomplete and were not judged` };
}

export interface SampleReading {
  sample: ParsedMiner;
  /** Values outside physical ranges that were removed. */
  dropped: DroppedValues;
  /** One error per cut-short command; they belong in the sample's `errors` whatever the mode. */
  truncatedErrors: CommandError[];
}

/**
 * The dialect's reading of the replies, bounded (boundSample) and with what cut-short replies may carry left empty:
 * `pools` for a cut `pools`, boards and fans for any other reading command (the dialects read fans and boards from
 * stats, summary, devs, fans and temps). Throws only MinerReplyError.
 */
export function readSample(dialect: Dialect, replies: Replies, truncated: ReadonlySet<string>): SampleReading {
  let parsed: ParsedMiner;
  try {
    parsed = dialect.parse(replies);
  } catch (err) {
    throw asReplyError(err, dialect.family);
  }
  const { sample, dropped } = boundSample(parsed);
  const truncatedErrors: CommandError[] = [];
  for (const command of truncated) {
    truncatedErrors.push(truncatedError(command));
    if (command === 'pools') sample.pools = [];
    else if (!IDENTITY_COMMANDS.has(command)) {
      sample.boards = [];
      sample.fans = [];
    }
  }
  return { sample, dropped, truncatedErrors };
}

async function runCommand(target: ScrapeTarget, command: string, options: ScrapeOptions): Promise<CommandOutcome> {
  const endpoint = `${target.host}:${target.port}`;
  let raw: Buffer;
  try {
    raw = await sendCommand(target.host, target.port, command, undefined, options.transport ?? DEFAULT_TRANSPORT);
  } catch (err) {
    if (err instanceof MinerConnectionError) {
      const kind = err.kind === 'timeout' ? 'timeout' : err.kind === 'too-large' ? 'too-large' : 'connection';
      if (err.kind === 'too-large') options.onBadReply?.({ endpoint, command, problem: err.message });
      return { ok: false, error: { command, kind, message: err.message }, connection: err };
    }
    throw err;
  }
  return readCommandReply(raw, endpoint, command, options.onBadReply);
}

function failureOf(outcome: Extract<CommandOutcome, { ok: false }>): ScrapeFailure {
  if (outcome.connection) return { kind: outcome.connection.kind, message: outcome.connection.message };
  return { kind: 'malformed', message: outcome.error.message };
}

interface Detection {
  dialect?: Dialect;
  failure?: ScrapeFailure;
  probe: Replies;
  /** Probe commands whose replies were cut short. */
  truncated: Set<string>;
}

async function detect(target: ScrapeTarget, options: ScrapeOptions): Promise<Detection> {
  const probe: Replies = {};
  const truncated = new Set<string>();
  let lastFailure: ScrapeFailure | undefined;
  let answered = false;
  for (const command of DETECTION_COMMANDS) {
    const outcome = await runCommand(target, command, options);
    if (outcome.ok) {
      answered = true;
      probe[command] = outcome.reply;
      if (outcome.truncated) truncated.add(command);
      let dialect: Dialect | undefined;
      try {
        dialect = detectDialect(probe);
      } catch (err) {
        return { failure: { kind: 'malformed', message: asReplyError(err, `${target.host}:${target.port} detection`).message }, probe, truncated };
      }
      if (dialect) return { dialect, probe, truncated };
    } else {
      lastFailure = failureOf(outcome);
      // A miner that refuses connections will refuse the next probe too: stop early.
      if (outcome.connection && !answered) return { failure: lastFailure, probe, truncated };
    }
  }
  return {
    failure: answered
      ? { kind: 'unknown-firmware', message: `${target.host}:${target.port} answers the API but its firmware is not recognised` }
      : (lastFailure ?? { kind: 'unreachable', message: 'no reply' }),
    probe,
    truncated,
  };
}

export async function scrapeMiner(target: ScrapeTarget, options: ScrapeOptions = {}): Promise<ScrapeResult> {
  const now = options.now ?? Date.now;
  const t0 = performance.now();
  const time = now();
  const endpoint = `${target.host}:${target.port}`;
  const elapsed = (): number => performance.now() - t0;

  let dialect = target.firmware ? DIALECTS.find((d) => d.family === target.firmware) : options.dialectCache?.get(endpoint);
  let probe: Replies = {};
  let probeTruncated = new Set<string>();
  if (!dialect) {
    const found = await detect(target, options);
    if (!found.dialect) return { ok: false, failure: found.failure as ScrapeFailure, durationMs: elapsed() };
    dialect = found.dialect;
    probe = found.probe;
    probeTruncated = found.truncated;
    options.dialectCache?.set(endpoint, dialect);
  }

  const outcomes: Array<[string, CommandOutcome]> = [];
  for (const command of dialect.commands) {
    const already = probe[command];
    const outcome: CommandOutcome = already ? { ok: true, reply: already, truncated: probeTruncated.has(command) } : await runCommand(target, command, options);
    outcomes.push([command, outcome]);
    // Without a required reply there is no sample: spare the miner the remaining commands.
    if (!outcome.ok && dialect.requiredCommands.includes(command)) break;
  }
  const verdict = sampleFromOutcomes(dialect, outcomes, time, endpoint, options);
  // A cached dialect may be stale (firmware changed): forget it so the next scrape detects again.
  if (!verdict.ok && verdict.forgetDialect) options.dialectCache?.delete(endpoint);
  return verdict.ok
    ? { ok: true, sample: verdict.sample, dialect, durationMs: elapsed(), dropped: verdict.dropped }
    : { ok: false, failure: verdict.failure, durationMs: elapsed(), dialect };
}

export type ScrapeVerdict =
  | { ok: true; sample: MinerSample; dropped: DroppedValues }
  | { ok: false; failure: ScrapeFailure; /** the replies do not fit the dialect: detect it again next time */ forgetDialect: boolean };

/**
 * What a scrape makes of its commands' outcomes, in the dialect's command order: the sample, or why there is none.
 * Pure and synchronous (the fuzz test and bench/miner-fuzz.ts run it on bytes); throws nothing, whatever the replies.
 */
export function sampleFromOutcomes(
  dialect: Dialect,
  outcomes: ReadonlyArray<readonly [string, CommandOutcome]>,
  time: number,
  endpoint: string,
  options: Pick<ScrapeOptions, 'onBadReply' | 'onDroppedValues'> = {},
): ScrapeVerdict {
  const replies: Replies = {};
  const truncated = new Set<string>();
  const errors: CommandError[] = [];
  let firstFailure: Extract<CommandOutcome, { ok: false }> | undefined;
  for (const [command, outcome] of outcomes) {
    if (outcome.ok) {
      replies[command] = outcome.reply;
      if (outcome.truncated) truncated.add(command);
      continue;
    }
    firstFailure ??= outcome;
    if (dialect.requiredCommands.includes(command)) return { ok: false, failure: failureOf(outcome), forgetDialect: !outcome.connection };
    errors.push(outcome.error);
  }
  if (Object.keys(replies).length === 0) {
    // Nothing answered: a down or garbage-spewing miner, whatever the dialect would have made of it.
    const first = firstFailure;
    return { ok: false, failure: first ? failureOf(first) : { kind: 'unreachable', message: `${endpoint}: no reply` }, forgetDialect: false };
  }
  try {
    const { sample, dropped, truncatedErrors } = readSample(dialect, replies, truncated);
    if (dropped.count > 0) {
      options.onDroppedValues?.({ endpoint, dropped });
      options.onBadReply?.({
        endpoint,
        command: dialect.family,
        problem: `dropped ${dropped.count} value(s) outside physical ranges: ${dropped.examples.join(', ')}`,
      });
    }
    // A sleeping miner's mining process refuses some commands by design (btminer: "Socket connect failed"):
    // those refusals are not a partial scrape. Transport problems and cut-short replies still count.
    const kept = sample.mode === 'sleeping' ? errors.filter((e) => e.kind !== 'malformed' && e.kind !== 'status') : errors;
    return { ok: true, sample: { ...sample, time, errors: [...kept, ...truncatedErrors] }, dropped };
  } catch (err) {
    const message = `${endpoint}: ${asReplyError(err, dialect.family).message}`;
    options.onBadReply?.({ endpoint, command: dialect.family, problem: message });
    return { ok: false, failure: { kind: 'malformed', message }, forgetDialect: true };
  }
}
