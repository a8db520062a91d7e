/**
 * Turns one request into the reply bytes the simulated firmware would send: parses the JSON request, applies each
 * dialect's rules for unknown (code 14), privileged (code 45) and multi-commands, and calls the dialect's builder.
 */
import type { ReplyDialect } from '../catalog';
import type { SimMiner } from '../miner';
import { bmminerS9Writer, bmminerWriter, luxosWriter } from './antminer';
import { avalonWriter } from './avalon';
import { bosminerWriter } from './braiins';
import { errorReply, unixSeconds, type DialectWriter, type ReplyContext, type ReplyText } from './common';
import { btminerV3Writer, btminerWriter } from './whatsminer';

export type { ReplyText } from './common';
export { BTMINER_PROCESS_DOWN } from './whatsminer';

const WRITERS: Record<ReplyDialect, DialectWriter> = {
  bmminer: bmminerWriter,
  'bmminer-s9': bmminerS9Writer,
  luxos: luxosWriter,
  bosminer: bosminerWriter,
  btminer: btminerWriter,
  'btminer-v3': btminerV3Writer,
  avalon: avalonWriter,
};

/** cgminer's privileged commands: real firmware refuses them to a read-only client with code 45. */
const PRIVILEGED = new Set([
  'quit', 'restart', 'privileged', 'switchpool', 'addpool', 'enablepool', 'disablepool', 'removepool', 'poolpriority',
  'poolquota', 'save', 'zero', 'debug', 'setconfig', 'ascset', 'ascenable', 'ascdisable', 'pgaset', 'pgaenable',
  'pgadisable', 'hotplug', 'failover-only', 'lockstats', 'curtail', 'reboot', 'power_off', 'power_on', 'update_pools',
  'set_target_freq', 'set_low_power', 'set_power_pct', 'adjust_power_limit', 'get_token',
]);

/** btminer's API-2 commands, which it also accepts under the key "cmd". */
const API2_COMMANDS = new Set(['status', 'get_version']);

const reply = (text: string): ReplyText => ({ text, nul: true });

export function answerRequest(miner: SimMiner, request: string, nowMs: number): ReplyText {
  const writer = WRITERS[miner.profile.dialect];
  const reading = miner.read(nowMs);
  const when = writer.when ? writer.when(reading) : unixSeconds(reading);
  const description = writer.description(miner.profile);
  const fail = (code: number, msg: string): ReplyText => reply(errorReply(when, code, msg, description));

  const trimmed = request.replace(/[\s\0]+$/, '').replace(/^\s+/, '');
  if (!trimmed.startsWith('{')) {
    // cgminer answers non-JSON requests in its text format; we only speak the JSON form.
    return { text: `STATUS=E,When=${when},Code=14,Msg=Invalid command,Description=${description}|`, nul: true };
  }
  // bosminer reads one self-delimiting JSON value; a trailing NUL or anything else is "Invalid JSON" (QUIRKS §1.4).
  if (miner.profile.dialect === 'bosminer' && request.replace(/\s+$/, '') !== trimmed) return fail(23, 'Invalid JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return fail(23, 'Invalid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(23, 'Invalid JSON');
  const fields = parsed as Record<string, unknown>;
  let command = typeof fields.command === 'string' ? fields.command : undefined;
  if (command === undefined && miner.profile.dialect === 'btminer' && typeof fields.cmd === 'string' && API2_COMMANDS.has(fields.cmd)) {
    command = fields.cmd;
  }
  const ctx: ReplyContext = { miner, profile: miner.profile, reading, when, request: fields };
  const controlled = writer.control?.(ctx, command, fields);
  if (controlled) return controlled;
  if (command === undefined) return fail(24, "Missing JSON 'command'");

  if (command.includes('+')) {
    if (!miner.profile.multiCommand) return fail(14, 'Invalid command');
    return reply(multiCommand(ctx, writer, command, description));
  }
  return single(ctx, writer, command, description);
}

function single(ctx: ReplyContext, writer: DialectWriter, command: string, description: string): ReplyText {
  if (PRIVILEGED.has(command)) return reply(errorReply(ctx.when, 45, `Access denied to '${command}' command`, description));
  const build = ctx.profile.commands.includes(command) ? writer.commands[command] : undefined;
  if (!build) return reply(errorReply(ctx.when, 14, 'Invalid command', description));
  return writer.override?.(ctx, command) ?? reply(build(ctx));
}

/** `{"summary":[{...}],"stats":[{...}],"id":1}`: one single-element array per distinct sub-command (QUIRKS §2). */
function multiCommand(ctx: ReplyContext, writer: DialectWriter, command: string, description: string): string {
  const names = [...new Set(command.split('+').filter((c) => c.length > 0))];
  const sections = names.map((name) => `${JSON.stringify(name)}:[${single(ctx, writer, name, description).text}]`);
  return `{${sections.join(',')},"id":1}`;
}
