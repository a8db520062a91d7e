import { isObject, type CommandError, type JsonObject, type JsonValue } from '@flymining/shared';
import { TEXT_LIMITS } from './limits';

/**
 * Reading the cgminer STATUS envelope (QUIRKS §4) and splitting multi-command replies (QUIRKS §2).
 */

export interface ReplyStatus {
  /** S, I, W, E, F, or RESTART/BYE as the firmware wrote it. */
  letter: string;
  code?: number;
  /** Usually text; Whatsminer API 2.x puts an object here (Code 131). */
  message?: JsonValue;
  description?: string;
}

export type EnvelopeResult =
  | { ok: true; command: string; status: ReplyStatus; reply: JsonObject }
  | { ok: false; command: string; status?: ReplyStatus; error: CommandError };

const SUCCESS_LETTERS = new Set(['S', 'I', 'W', 'RESTART', 'BYE']);
const ACCESS_DENIED_CODE = 45;

/** The status block: `"STATUS":[{...}]` (cgminer) or top-level `"STATUS":"S"` with Code/Msg beside it (Whatsminer API 2.x, restart). */
export function readStatus(reply: JsonObject): ReplyStatus | undefined {
  const status = reply.STATUS;
  if (Array.isArray(status)) {
    const first = status[0];
    if (!isObject(first)) return undefined;
    return statusFrom(first);
  }
  if (typeof status === 'string') return statusFrom({ ...reply, STATUS: status });
  // Antminer `new_api` replies (and the web CGI) write STATUS as one object (antminer-new-api/PROTOCOLS.md §2).
  if (isObject(status)) return statusFrom(status);
  return undefined;
}

/**
 * The STATUS Description, where firmware names itself ("BOSminer+ 0.2.0", "LUXminer 2024.1", "btminer"): the first
 * block of `"STATUS":[{...}]`, else the reply itself (Whatsminer API 2.x writes it beside a top-level STATUS).
 * '' when there is none. Read without judging the letter: an error reply names its firmware too.
 */
export function statusDescription(reply: JsonObject | undefined): string {
  const status = reply?.STATUS;
  const block = Array.isArray(status) ? status[0] : reply;
  return isObject(block) && typeof block.Description === 'string' ? block.Description : '';
}

function statusFrom(block: JsonObject): ReplyStatus | undefined {
  const letter = block.STATUS;
  if (typeof letter !== 'string') return undefined;
  const status: ReplyStatus = { letter: letter.trim().toUpperCase() };
  if (typeof block.Code === 'number') status.code = block.Code;
  if (block.Msg !== undefined) status.message = block.Msg;
  if (typeof block.Description === 'string') status.description = block.Description;
  return status;
}

/** The Msg as text for an error message and a log line, cut to TEXT_LIMITS.statusMessage. */
function messageText(status: ReplyStatus): string {
  const full = typeof status.message === 'string' ? status.message : status.message === undefined ? '' : JSON.stringify(status.message);
  return full.length <= TEXT_LIMITS.statusMessage ? full : `${full.slice(0, TEXT_LIMITS.statusMessage)}…`;
}

/**
 * Checks one command's reply. Success (S, I, W, RESTART/BYE) returns the reply itself, so a dialect reads
 * sections by name; E/F return a CommandError (code 45 and Whatsminer "can't access write cmd" as access-denied).
 */
export function checkEnvelope(command: string, reply: JsonObject): EnvelopeResult {
  const status = readStatus(reply);
  if (!status) {
    return { ok: false, command, error: { command, kind: 'malformed', message: `${command}: reply has no STATUS` } };
  }
  if (SUCCESS_LETTERS.has(status.letter)) return { ok: true, command, status, reply };
  const text = messageText(status);
  const denied = status.code === ACCESS_DENIED_CODE || /can't access write cmd|access denied/i.test(text);
  const codePart = status.code === undefined ? '' : ` code ${status.code}`;
  return {
    ok: false,
    command,
    status,
    error: {
      command,
      kind: denied ? 'access-denied' : 'status',
      message: `${command}: miner answered STATUS ${status.letter}${codePart}: ${text || '(no message)'}`,
    },
  };
}

/** Splits a request like "pools+summary+stats" into its commands (cgminer collapses duplicates). */
export function splitCommandList(request: string): string[] {
  const names = request.split('+').map((name) => name.trim()).filter((name) => name !== '');
  return [...new Set(names)];
}

/**
 * Splits a multi-command reply `{"summary":[{STATUS…,SUMMARY…}],"stats":[{…}],…}` into one checked reply per
 * command, looked up by key (sections may come in any order). A reply with a top-level STATUS instead (e.g.
 * Whatsminer "Missing JSON 'command'", or firmware without `+` support) is that error for every command.
 */
export function splitMultiReply(request: string, reply: JsonObject): Record<string, EnvelopeResult> {
  const results: Record<string, EnvelopeResult> = {};
  for (const command of splitCommandList(request)) {
    const section = reply[command];
    const inner = Array.isArray(section) ? section[0] : section;
    if (isObject(inner)) {
      results[command] = checkEnvelope(command, inner);
    } else if (reply.STATUS !== undefined) {
      const whole = checkEnvelope(command, reply);
      results[command] = whole.ok
        ? { ok: false, command, status: whole.status, error: { command, kind: 'malformed', message: `${command}: missing from the multi-command reply` } }
        : whole;
    } else {
      results[command] = { ok: false, command, error: { command, kind: 'malformed', message: `${command}: missing from the multi-command reply` } };
    }
  }
  return results;
}

const V3_CODES: Readonly<Record<number, string>> = {
  [-1]: 'fail',
  [-2]: 'invalid command',
  [-3]: 'invalid json item',
  [-4]: 'no permission',
  [-5]: 'out of memory',
};

/**
 * Whatsminer API v3 envelope (whatsminer-v3/PROTOCOLS.md §3): `{"code":0,"msg":{…}}` is success and the reply is
 * `msg`; any other code is an error, -4 (no permission) as access-denied.
 */
export function checkV3Envelope(command: string, reply: JsonObject): EnvelopeResult {
  const code = reply.code;
  if (typeof code !== 'number') return { ok: false, command, error: { command, kind: 'malformed', message: `${command}: v3 reply has no numeric code` } };
  const status: ReplyStatus = { letter: code === 0 ? 'S' : 'E', code, message: reply.msg };
  if (code === 0) {
    if (!isObject(reply.msg)) return { ok: false, command, status, error: { command, kind: 'malformed', message: `${command}: v3 reply msg is not an object` } };
    return { ok: true, command, status, reply: reply.msg };
  }
  const text = typeof reply.msg === 'string' ? reply.msg.slice(0, TEXT_LIMITS.statusMessage) : V3_CODES[code] ?? '';
  return {
    ok: false,
    command,
    status,
    error: { command, kind: code === -4 ? 'access-denied' : 'status', message: `${command}: miner answered code ${code}: ${text || '(no message)'}` },
  };
}

/**
 * HTTP JSON APIs carry their status in the HTTP status line (checked by the transport); ePIC alone may answer a GET
 * with `{"result": false, "error": …}` while it cannot produce the data yet (epic/PROTOCOLS.md §1).
 */
export function checkHttpEnvelope(command: string, reply: JsonObject): EnvelopeResult {
  if (reply.result === false && 'error' in reply) {
    const text = typeof reply.error === 'string' ? reply.error.slice(0, TEXT_LIMITS.statusMessage) : '(no message)';
    return { ok: false, command, error: { command, kind: 'status', message: `${command}: miner answered result false: ${text}` } };
  }
  return { ok: true, command, status: { letter: 'S' }, reply };
}

/** Key under which a JSON body that is not an object (Braiins pools: an array; a bare `false`) is handed to a backend. */
export const BODY_KEY = 'body';
