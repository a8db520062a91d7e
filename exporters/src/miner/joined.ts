/**
 * Joined commands (QUIRKS §2): cgminer since API 3.1 answers `{"command":"summary+devs+pools"}` with one object
 * holding a one-element array per command, so a scrape costs one connection instead of one per command (a tenth of
 * the sockets and syscalls on a LuxOS unit). Only parameterless commands join. Stock S19 and btminer refuse the form;
 * like pyasic, any error of the joined reply (a refusal, a reply cut short, garbage) sends the commands again one per
 * connection, and a miner that refused is asked one command per connection until `retryAfterMs` has passed (a
 * firmware upgrade may bring the form).
 */
import type { JsonObject } from '@flymining/shared';
import type { Dialect } from './backends/types';
import { splitMultiReply } from './envelope';
import { MinerReplyError, parseMinerReply } from './json-repair';
import type { BadReplyEvent, CommandOutcome } from './scrape';

/** How long a miner that refused joined commands is asked one command per connection before it is tried again. */
export const JOINED_RETRY_AFTER_MS = 60 * 60_000;

/** The miners (by endpoint) that refused joined commands, and until when they are not asked that way. */
export class JoinedCommandRefusals {
  private readonly until = new Map<string, number>();

  constructor(private readonly retryAfterMs = JOINED_RETRY_AFTER_MS) {}

  allowed(endpoint: string, now: number): boolean {
    const until = this.until.get(endpoint);
    if (until === undefined) return true;
    if (now < until) return false;
    this.until.delete(endpoint);
    return true;
  }

  refused(endpoint: string, now: number): void {
    this.until.set(endpoint, now + this.retryAfterMs);
  }

  /** The miner may have changed (its dialect was forgotten): ask the joined way again. */
  forget(endpoint: string): void {
    this.until.delete(endpoint);
  }

  get size(): number {
    return this.until.size;
  }
}

/** The commands of `wanted` that can go in one joined request: those the dialect sends as a bare `{"command":name}`. */
export function joinableCommands(dialect: Dialect, wanted: readonly string[]): string[] {
  return wanted.filter((command) => {
    if (command.includes('+') || !/^[a-z0-9_]+$/.test(command)) return false;
    const request: JsonObject | undefined = dialect.requestFor?.(command);
    return request === undefined || (Object.keys(request).length === 1 && request.command === command);
  });
}

export type JoinedReading =
  /** One outcome per joined command, from its own section (a section's own STATUS E is that command's error). */
  | { ok: true; outcomes: Map<string, CommandOutcome> }
  /** No usable joined reply: send the commands one per connection; `refused` when the miner turned the form down. */
  | { ok: false; refused: boolean; problem: string };

/**
 * Reads the reply to a joined request. Never throws. A reply cut short is not used (which section lost its end is
 * not known, and a firmware whose buffer the joined reply overflows answers each command whole): the caller asks
 * again one command per connection, and remembers it like a refusal.
 */
export function readJoinedReply(raw: Buffer | string, endpoint: string, commands: readonly string[], onBadReply?: (event: BadReplyEvent) => void): JoinedReading {
  const request = commands.join('+');
  let value: JsonObject;
  try {
    const parsed = parseMinerReply(raw, `${endpoint} ${request}`);
    if (parsed.truncated) return { ok: false, refused: true, problem: 'joined reply cut short' };
    if (parsed.repairs.length > 0) onBadReply?.({ endpoint, command: request, problem: `repaired: ${parsed.repairs.join(', ')}` });
    value = parsed.value;
  } catch (err) {
    return { ok: false, refused: false, problem: err instanceof MinerReplyError ? err.message : String(err) };
  }
  const sections = splitMultiReply(request, value);
  const outcomes = new Map<string, CommandOutcome>();
  for (const command of commands) {
    const section = sections[command];
    // A section missing from the object means the firmware does not join (a top-level STATUS E, or it ignored `+`).
    if (!section || !(command in value)) return { ok: false, refused: true, problem: section && !section.ok ? section.error.message : `${command} missing from the joined reply` };
    outcomes.set(command, section.ok ? { ok: true, reply: section.reply, truncated: false } : { ok: false, error: section.error });
  }
  return { ok: true, outcomes };
}
