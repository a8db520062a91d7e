/**
 * One scrape of one miner: identify its dialect (from the inventory or by probing), send the dialect's commands one
 * per connection, turn the replies into a MinerSample. Optional commands may fail (code 45, malformed) without
 * failing the scrape; the sample then lists them in `errors`.
 */
import type { CommandError, FirmwareFamily, JsonObject, MinerSample } from '@flymining/shared';
import { DETECTION_COMMANDS, detectDialect } from './detect';
import { DIALECTS } from './dialects';
import type { Dialect, Replies } from './dialects/types';
import { checkEnvelope } from './envelope';
import { MinerReplyError, parseMinerReply } from './json-repair';
import { DEFAULT_TRANSPORT, MinerConnectionError, sendCommand, type ConnectionFailureKind, type TransportOptions } from './tcp-client';

export type ScrapeFailureKind = ConnectionFailureKind | 'malformed' | 'unknown-firmware';

export interface ScrapeFailure {
  kind: ScrapeFailureKind;
  message: string;
}

export type ScrapeResult =
  | { ok: true; sample: MinerSample; dialect: Dialect; durationMs: number }
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
  onBadReply?: (event: { endpoint: string; command: string; problem: string }) => void;
  now?: () => number;
}

type CommandOutcome = { ok: true; reply: JsonObject } | { ok: false; error: CommandError; connection?: MinerConnectionError };

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
  try {
    const parsed = parseMinerReply(raw, `${endpoint} ${command}`);
    if (parsed.repairs.length > 0 || parsed.truncated) {
      options.onBadReply?.({
        endpoint,
        command,
        problem: `${parsed.truncated ? 'truncated; ' : ''}repaired: ${parsed.repairs.join(', ') || 'none'}`,
      });
    }
    const env = checkEnvelope(command, parsed.value);
    if (!env.ok) return { ok: false, error: env.error };
    return { ok: true, reply: env.reply };
  } catch (err) {
    if (err instanceof MinerReplyError) {
      options.onBadReply?.({ endpoint, command, problem: err.message });
      return { ok: false, error: { command, kind: 'malformed', message: err.message } };
    }
    throw err;
  }
}

function failureOf(outcome: Extract<CommandOutcome, { ok: false }>): ScrapeFailure {
  if (outcome.connection) return { kind: outcome.connection.kind, message: outcome.connection.message };
  return { kind: 'malformed', message: outcome.error.message };
}

async function detect(target: ScrapeTarget, options: ScrapeOptions): Promise<{ dialect?: Dialect; failure?: ScrapeFailure; probe: Replies }> {
  const probe: Replies = {};
  let lastFailure: ScrapeFailure | undefined;
  let answered = false;
  for (const command of DETECTION_COMMANDS) {
    const outcome = await runCommand(target, command, options);
    if (outcome.ok) {
      answered = true;
      probe[command] = outcome.reply;
      const dialect = detectDialect(probe);
      if (dialect) return { dialect, probe };
    } else {
      lastFailure = failureOf(outcome);
      // A miner that refuses connections will refuse the next probe too: stop early.
      if (outcome.connection && !answered) return { failure: lastFailure, probe };
    }
  }
  return {
    failure: answered
      ? { kind: 'unknown-firmware', message: `${target.host}:${target.port} answers the API but its firmware is not recognised` }
      : (lastFailure ?? { kind: 'unreachable', message: 'no reply' }),
    probe,
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
  if (!dialect) {
    const found = await detect(target, options);
    if (!found.dialect) return { ok: false, failure: found.failure as ScrapeFailure, durationMs: elapsed() };
    dialect = found.dialect;
    probe = found.probe;
    options.dialectCache?.set(endpoint, dialect);
  }

  const replies: Replies = {};
  const errors: CommandError[] = [];
  let firstFailure: Extract<CommandOutcome, { ok: false }> | undefined;
  for (const command of dialect.commands) {
    const already = probe[command];
    if (already) {
      replies[command] = already;
      continue;
    }
    const outcome = await runCommand(target, command, options);
    if (outcome.ok) {
      replies[command] = outcome.reply;
      continue;
    }
    firstFailure ??= outcome;
    if (dialect.requiredCommands.includes(command)) {
      // A cached dialect may be stale (firmware changed): forget it so the next scrape detects again.
      if (!outcome.connection) options.dialectCache?.delete(endpoint);
      return { ok: false, failure: failureOf(outcome), durationMs: elapsed(), dialect };
    }
    errors.push(outcome.error);
  }
  if (Object.keys(replies).length === 0) {
    // Nothing answered: a down or garbage-spewing miner, whatever the dialect would have made of it.
    const first = firstFailure;
    return { ok: false, failure: first ? failureOf(first) : { kind: 'unreachable', message: `${endpoint}: no reply` }, durationMs: elapsed(), dialect };
  }
  try {
    const parsed = dialect.parse(replies);
    // A sleeping miner's mining process refuses some commands by design (btminer: "Socket connect failed"):
    // those refusals are not a partial scrape. Transport problems still count.
    const kept = parsed.mode === 'sleeping' ? errors.filter((e) => e.kind !== 'malformed' && e.kind !== 'status') : errors;
    return { ok: true, sample: { ...parsed, time, errors: kept }, dialect, durationMs: elapsed() };
  } catch (err) {
    options.dialectCache?.delete(endpoint);
    const message = `${endpoint}: ${(err as Error).message}`;
    options.onBadReply?.({ endpoint, command: dialect.family, problem: message });
    return { ok: false, failure: { kind: 'malformed', message }, durationMs: elapsed(), dialect };
  }
}
