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
import { DEFAULT_PROTOCOL_PORTS, type CommandError, type FirmwareFamily, type JsonObject, type MinerProtocol, type MinerSample } from '@flymining/shared';
import { AuthBackoff } from './auth-backoff';
import { BACKENDS, backendById, DIALECTS } from './backends';
import { protocolOf, type Dialect, type ParsedMiner, type Replies } from './backends/types';
import { detectBackend } from './detect';
import { BODY_KEY, checkEnvelope, checkHttpEnvelope, checkV3Envelope } from './envelope';
import { MinerReplyError, parseMinerReply } from './json-repair';
import { joinableCommands, readJoinedReply, type JoinedCommandRefusals } from './joined';
import { boundSample, type DroppedValues } from './limits';
import { openTransport, type MinerTransport } from './transports';
import { DEFAULT_TRANSPORT, MinerConnectionError, type ConnectionFailureKind, type TransportOptions } from './transports/cgminer-tcp';
import { credentialsFor, type CredentialSource } from './credentials';

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
  /** The port of `protocol` when it is pinned, else the CGMiner-API port (4028, also ePIC's HTTP port). */
  port: number;
  /** Known firmware family (from the inventory); skips detection of the CGMiner-API dialect. */
  firmware?: FirmwareFamily;
  /** Pinned protocol (inventory `protocol`, `flymining scrape --protocol`): only its backends are tried. */
  protocol?: MinerProtocol;
  /** Pinned backend id (`whatsminer/v3`, `braiins/v25_07`, or a CGMiner-API family): no detection at all. */
  backend?: string;
  /** Login for the web/REST APIs (fixed, or per protocol); never logged. */
  credentials?: CredentialSource;
  /** Ports of the other protocols when they are not the defaults (DEFAULT_PROTOCOL_PORTS). */
  ports?: Partial<Record<MinerProtocol, number>>;
}

/** The port `protocol` is reached on for this target. */
export function portFor(target: ScrapeTarget, protocol: MinerProtocol): number {
  if (protocol === target.protocol || protocol === 'cgminer') return target.port;
  // ePIC answers HTTP on the CGMiner-API port itself.
  if (protocol === 'epic' && target.ports?.epic === undefined) return target.port;
  return target.ports?.[protocol] ?? DEFAULT_PROTOCOL_PORTS[protocol];
}

export interface ScrapeOptions {
  transport?: TransportOptions;
  /** Remembers detected dialects per endpoint between sweeps (detection costs extra round trips). */
  dialectCache?: Map<string, Dialect>;
  /** HTTP session tokens by endpoint, kept between sweeps (Braiins tokens live while used). */
  sessions?: Map<string, string>;
  /** Refused logins back off per miner: one MINER_AUTH_FAILED, not a login attempt per sweep. */
  authBackoff?: AuthBackoff;
  /**
   * Joined commands (joined.ts): miners that refused the form, remembered between sweeps. Absent: joined commands are
   * tried on every scrape (a refusing miner costs one more connection); false: one command per connection.
   */
  joined?: JoinedCommandRefusals | false;
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
export function readCommandReply(
  raw: Buffer | string,
  endpoint: string,
  command: string,
  onBadReply?: (event: BadReplyEvent) => void,
  protocol: MinerProtocol = 'cgminer',
): CommandOutcome {
  try {
    const parsed = parseMinerReply(isHttp(protocol) ? asObjectText(raw) : raw, `${endpoint} ${command}`);
    if (parsed.repairs.length > 0 || parsed.truncated) {
      onBadReply?.({
        endpoint,
        command,
        problem: `${parsed.truncated ? 'truncated; ' : ''}repaired: ${parsed.repairs.join(', ') || 'none'}`,
      });
    }
    const env =
      protocol === 'cgminer' ? checkEnvelope(command, parsed.value) : protocol === 'whatsminer-v3' ? checkV3Envelope(command, parsed.value) : checkHttpEnvelope(command, parsed.value);
    if (!env.ok) return { ok: false, error: env.error };
    return { ok: true, reply: env.reply, truncated: parsed.truncated };
  } catch (err) {
    const replyError = asReplyError(err, `${endpoint} ${command}`);
    onBadReply?.({ endpoint, command, problem: replyError.message });
    return { ok: false, error: { command, kind: 'malformed', message: replyError.message } };
  }
}

function isHttp(protocol: MinerProtocol): boolean {
  return protocol !== 'cgminer' && protocol !== 'whatsminer-v3';
}

/**
 * HTTP APIs may answer a JSON array (Braiins pools, ePIC temps) or a bare value (`false`): handed to the backend as
 * `{"body": …}` so every reply stays an object and goes through the same repair and bounds.
 */
function asObjectText(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  return first === '{' || first === undefined ? text : `{"${BODY_KEY}":${text}}`;
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

/** A command that got no reply: the command error its connection failure stands for. */
function connectionOutcome(err: MinerConnectionError, endpoint: string, command: string, options: Pick<ScrapeOptions, 'onBadReply'>): CommandOutcome {
  const kind = err.kind === 'timeout' ? 'timeout' : err.kind === 'too-large' ? 'too-large' : err.kind === 'auth' ? 'access-denied' : err.kind === 'protocol' ? 'status' : 'connection';
  if (err.kind === 'too-large' || err.kind === 'protocol') options.onBadReply?.({ endpoint, command, problem: err.message });
  return { ok: false, error: { command, kind, message: err.message }, connection: err };
}

/** One backend command over its transport: the checked reply, or why there is none. Never throws on miner input. */
export async function runCommand(transport: MinerTransport, command: string, request: JsonObject | undefined, options: Pick<ScrapeOptions, 'onBadReply'>): Promise<CommandOutcome> {
  const endpoint = transport.endpoint;
  let raw: Buffer;
  try {
    raw = await transport.send(command, request);
  } catch (err) {
    if (err instanceof MinerConnectionError) return connectionOutcome(err, endpoint, command, options);
    throw err;
  }
  return readCommandReply(raw, endpoint, command, options.onBadReply, transport.protocol);
}

/** The transport a backend is read over for this target. */
export function transportFor(target: ScrapeTarget, protocol: MinerProtocol, options: ScrapeOptions): MinerTransport {
  return openTransport(protocol, target.host, portFor(target, protocol), {
    options: options.transport ?? DEFAULT_TRANSPORT,
    credentials: credentialsFor(target.credentials, protocol),
    sessions: options.sessions,
    onTrailingBytes: (command, count) =>
      options.onBadReply?.({ endpoint: `${target.host}:${portFor(target, protocol)}`, command, problem: `${count} byte(s) after the reply frame ignored` }),
  });
}

function failureOf(outcome: Extract<CommandOutcome, { ok: false }>): ScrapeFailure {
  if (outcome.connection) return { kind: outcome.connection.kind, message: outcome.connection.message };
  return { kind: 'malformed', message: outcome.error.message };
}

/** Protocols that log in: a refused login backs off (AuthBackoff) instead of retrying every sweep. */
function logsIn(protocol: MinerProtocol, target: ScrapeTarget): boolean {
  return protocol === 'antminer-web' || protocol === 'braiins-rest' || (protocol === 'vnish' && target.credentials !== undefined);
}

/** Connection failures after which the commands are not sent again one by one: the miner is down or not answering. */
const DOWN_KINDS: ReadonlySet<string> = new Set(['refused', 'unreachable', 'timeout', 'auth']);

/**
 * The commands of `wanted` that can be joined, sent in one request (joined.ts): their outcomes, or none when the
 * miner must be asked one command per connection (it refused the joined form, or fewer than two commands join).
 */
async function runJoined(transport: MinerTransport, dialect: Dialect, wanted: readonly string[], now: number, options: ScrapeOptions): Promise<Map<string, CommandOutcome>> {
  const commands = joinableCommands(dialect, wanted);
  const endpoint = transport.endpoint;
  const refusals = options.joined || undefined;
  if (commands.length < 2 || (refusals && !refusals.allowed(endpoint, now))) return new Map();
  const request = commands.join('+');
  let raw: Buffer;
  try {
    raw = await transport.send(request, { command: request });
  } catch (err) {
    if (!(err instanceof MinerConnectionError)) throw err;
    // Down is down: every command would fail the same way, so each gets this failure.
    if (DOWN_KINDS.has(err.kind)) return new Map(commands.map((command) => [command, connectionOutcome(err, endpoint, command, options)]));
    if (err.kind === 'too-large') refusals?.refused(endpoint, now);
    return new Map();
  }
  const reading = readJoinedReply(raw, endpoint, commands, options.onBadReply);
  if (reading.ok) return reading.outcomes;
  if (reading.refused) refusals?.refused(endpoint, now);
  return new Map();
}

export async function scrapeMiner(target: ScrapeTarget, options: ScrapeOptions = {}): Promise<ScrapeResult> {
  const now = options.now ?? Date.now;
  const t0 = performance.now();
  const time = now();
  const endpoint = `${target.host}:${target.port}`;
  const elapsed = (): number => performance.now() - t0;

  const blocked = options.authBackoff?.blocked(endpoint, time);
  if (blocked) return { ok: false, failure: { kind: 'auth', message: blocked }, durationMs: elapsed() };

  let dialect: Dialect | undefined;
  if (target.backend) {
    dialect = backendById(target.backend);
    if (!dialect) return { ok: false, failure: { kind: 'unknown-firmware', message: `no backend "${target.backend}"` }, durationMs: elapsed() };
  } else if (target.firmware && (target.protocol === undefined || target.protocol === 'cgminer')) {
    // A family with no CGMiner-API dialect (ePIC) has exactly one backend: the family names it.
    const ofFamily = BACKENDS.filter((d) => d.family === target.firmware);
    dialect = DIALECTS.find((d) => d.family === target.firmware) ?? (target.protocol === undefined && ofFamily.length === 1 ? ofFamily[0] : undefined);
  }
  dialect ??= options.dialectCache?.get(endpoint);
  let probe: Replies = {};
  let probeTruncated = new Set<string>();
  if (!dialect) {
    const found = await detectBackend(target, options);
    if (!found.dialect) {
      if (found.failure?.kind === 'auth') options.authBackoff?.failed(endpoint, time, found.failure.message);
      return { ok: false, failure: found.failure ?? { kind: 'unreachable', message: `${endpoint}: no reply` }, durationMs: elapsed() };
    }
    dialect = found.dialect;
    probe = found.probe;
    probeTruncated = found.truncated;
    options.dialectCache?.set(endpoint, dialect);
  }

  const protocol = protocolOf(dialect);
  const transport = transportFor(target, protocol, options);
  const loggedIn = credentialsFor(target.credentials, protocol) !== undefined;
  const wanted = dialect.commands.filter((command) => loggedIn || !dialect.credentialedCommands?.includes(command));
  const known = new Map<string, CommandOutcome>();
  for (const command of wanted) {
    const already = probe[command];
    if (already) known.set(command, { ok: true, reply: already, truncated: probeTruncated.has(command) });
  }
  if (protocol === 'cgminer' && options.joined !== false) {
    const joined = await runJoined(transport, dialect, wanted.filter((c) => !known.has(c)), time, options);
    for (const [command, outcome] of joined) known.set(command, outcome);
  }
  const outcomes: Array<[string, CommandOutcome]> = [];
  for (const command of wanted) {
    const outcome = known.get(command) ?? (await runCommand(transport, command, dialect.requestFor?.(command), options));
    outcomes.push([command, outcome]);
    if (!outcome.ok && outcome.connection?.kind === 'auth') {
      // One refused login is enough to know: spare the miner (and its lockout counter) the other commands.
      if (logsIn(protocol, target)) options.authBackoff?.failed(endpoint, time, outcome.connection.message);
      return { ok: false, failure: { kind: 'auth', message: outcome.connection.message }, durationMs: elapsed(), dialect };
    }
    // Without a required reply there is no sample: spare the miner the remaining commands.
    if (!outcome.ok && dialect.requiredCommands.includes(command)) break;
  }
  const verdict = sampleFromOutcomes(dialect, outcomes, time, endpoint, options);
  if (verdict.ok) options.authBackoff?.succeeded(endpoint);
  // A cached dialect may be stale (firmware changed): forget it so the next scrape detects again, joined form too.
  if (!verdict.ok && verdict.forgetDialect) {
    options.dialectCache?.delete(endpoint);
    if (options.joined) options.joined.forget(transport.endpoint);
  }
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
