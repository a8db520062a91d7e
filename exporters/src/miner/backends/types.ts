import type { FirmwareFamily, JsonObject, MinerProtocol, MinerSample, Vendor } from '@flymining/shared';
import { MinerReplyError } from '../json-repair';

/** Replies of one scrape keyed by command name; a command that failed is absent (its error is recorded elsewhere). */
export type Replies = Partial<Record<string, JsonObject>>;

/** What a dialect derives from replies; the scraper adds `time` and `errors`. */
export type ParsedMiner = Omit<MinerSample, 'time' | 'errors'>;

/**
 * One firmware family's way of speaking the CGMiner-style API. Adding a firmware = adding one module
 * that implements this and listing it in dialects/index.ts.
 */
export interface Dialect {
  readonly family: FirmwareFamily;
  readonly vendor: Vendor;
  /**
   * `<family>/<version>` as in backends/<family>/<version>/ (e.g. `whatsminer/v3`); what the inventory's `backend`
   * pins. Absent on the CGMiner-API backends, which are named by their family.
   */
  readonly id?: string;
  /** The transport it is read over; absent = `cgminer`. */
  readonly protocol?: MinerProtocol;
  /**
   * The request sent for one of `commands` when the command name alone is not it: a cgminer request with a
   * top-level flag (`new_api`), a v3 `{"cmd","param"}`. HTTP backends' commands are the paths they GET.
   */
  requestFor?(command: string): JsonObject;
  /** Commands sent only when credentials are configured (VNish `/settings`); the others are readable without. */
  readonly credentialedCommands?: readonly string[];
  /** Commands sent for one scrape, one TCP connection each (no `+` multi-commands: stock S19 and btminer refuse them). */
  readonly commands: readonly string[];
  /** Without a reply to each of these the scrape is a failure; the others are optional (e.g. refused with code 45). */
  readonly requiredCommands: readonly string[];
  /** True when the detection replies (see DETECTION_COMMANDS) come from this family. */
  matches(probe: Replies): boolean;
  /** Turns replies into the normalized sample. Throws DialectError when a required section is unusable. */
  parse(replies: Replies): ParsedMiner;
}

/**
 * A reply that parses but cannot be read as this dialect. A MinerReplyError like the parser's own, so one error type
 * is all that can leave reading a reply (the scraper turns it into a `malformed` failure).
 */
export class DialectError extends MinerReplyError {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super('malformed', command, message);
    this.name = 'DialectError';
  }
}

/** The backend's id: its own, else its family (the CGMiner-API backends). */
export function backendId(dialect: Dialect): string {
  return dialect.id ?? dialect.family;
}

/** The protocol a backend is read over. */
export function protocolOf(dialect: Dialect): MinerProtocol {
  return dialect.protocol ?? 'cgminer';
}
