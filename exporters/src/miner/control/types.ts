/**
 * The write path (issue 14): one interface for acting on a miner, one module per firmware family beside its read
 * backend (backends/<family>/.../control.ts). A family module knows its firmware's requests and replies only; the
 * executor (executor.ts) does everything that is the same for every family: validation against the capabilities,
 * rate limits, staggering across a container, the audit, and confirming the result by the next read.
 */
import type { JsonObject, JsonValue, MinerProtocol, MinerSample } from '@flymining/shared';
import type { MinerCredentials } from '../transports/http-client';
import type { HttpMethod } from '../transports/http-client';

export const CONTROL_ACTION_KINDS = ['reboot', 'sleep', 'wake', 'power', 'pools', 'switch-pool', 'blink'] as const;
export type ControlActionKind = (typeof CONTROL_ACTION_KINDS)[number];

/** Work modes as staff name them; each family maps them onto its own (Antminer miner-mode 0/3, Whatsminer low/normal/high…). */
export const WORK_MODES = ['low', 'normal', 'high'] as const;
export type WorkMode = (typeof WORK_MODES)[number];

/** A power target: watts (Braiins OS power target, Whatsminer power limit, LuxOS `<n>W` profile) or a named work mode. */
export type PowerTarget = { watts: number } | { mode: WorkMode };

export interface PoolSetting {
  url: string;
  user: string;
  /** Stratum password (usually `x`); not a secret of ours, but still kept out of the audit's text. */
  password: string;
}

export type MinerAction =
  | { kind: 'reboot' }
  | { kind: 'sleep' }
  | { kind: 'wake' }
  | { kind: 'power'; target: PowerTarget }
  /** Replace the pool list (priority order, first is primary). */
  | { kind: 'pools'; pools: readonly PoolSetting[] }
  /** Make the pool at this 0-based index of the current list the active one. */
  | { kind: 'switch-pool'; index: number }
  | { kind: 'blink'; on: boolean };

/** What one family supports on one model; the executor refuses everything else with `unsupported`, naming why. */
export interface ControlCapabilities {
  reboot: boolean;
  /** Sleep and wake (or the firmware's idle / low-power stop), as a pair. */
  sleep: boolean;
  /** `watts`: any target in [minW, maxW]; `modes`: the named work modes it has; absent: no power control. */
  power?: { kind: 'watts'; minW: number; maxW: number } | { kind: 'modes'; modes: readonly WorkMode[] };
  /** Pool slots it accepts (0 = cannot set pools) and whether it can switch the active pool without a new list. */
  pools: { maxSlots: number; canSwitch: boolean };
  blink: boolean;
  /** Writes need a login (web/REST credentials, Whatsminer's admin password, LuxOS session). */
  needsCredentials: boolean;
  /** Why something is missing, shown with a refusal (e.g. "stock Antminer: power modes only on S19 and later"). */
  notes?: readonly string[];
}

/**
 * A write-capable link to one miner, opened by the executor with the miner's protocol, port and credentials. Family
 * modules send requests through it and never open sockets themselves.
 */
export interface ControlLink {
  readonly protocol: MinerProtocol;
  readonly endpoint: string;
  /** The credentials configured for the miner (undefined = none); families with their own login schemes use them. */
  readonly credentials: MinerCredentials | undefined;
  /** A CGMiner-API request over TCP (`{"command","parameter"}`), or a Whatsminer v3 frame (`{"cmd","param",…}`). */
  command(request: JsonObject): Promise<JsonObject>;
  /**
   * An HTTP request with the protocol's auth (digest, Braiins/VNish token); the parsed JSON body, or {} for none. The
   * body is any JSON value: Braiins' PUT /actions/locate takes a bare `true`.
   */
  http(method: HttpMethod, path: string, body?: JsonValue): Promise<JsonObject>;
}

/** What a family module answers for an accepted action: the firmware's words, shortened, for the audit. */
export interface ActionReply {
  /** e.g. `STATUS S: Restart` or `{"code":"M000"}`; bounded by the executor. */
  reply: string;
  /** Work the miner still has to do (a reboot): the confirmation waits at least this long before reading. */
  settleMs?: number;
}

/** How a family module fails: the executor audits it and decides whether a retry is worth it. */
export class ControlError extends Error {
  constructor(
    /** unsupported: the model/firmware has no such action; refused: the firmware said no (bad credentials, write API off);
     *  failed: the request did not complete (network, timeout, garbage). */
    readonly kind: 'unsupported' | 'refused' | 'failed',
    message: string,
    /** True when trying again later may work (timeouts, busy); false for refusals that will repeat. */
    readonly retryable = kind === 'failed',
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** One firmware family's write path. */
export interface ControlBackend {
  /** The read backends it acts for (ids as `backendId()` gives them: `antminer/web`, `luxos`, `whatsminer/v3`…). */
  readonly backends: readonly string[];
  /**
   * The protocol its writes go over, when it differs from the read backend's (an Antminer read over 4028 is written
   * through its web CGI on port 80). Absent: the read protocol and port.
   */
  readonly writeProtocol?: MinerProtocol;
  /** What this family supports on this model, judged from the newest sample (model, firmware version, work mode). */
  capabilities(sample: MinerSample): ControlCapabilities;
  /** Sends the action. Throws ControlError (or a transport error, which the executor treats as `failed`). */
  execute(action: MinerAction, link: ControlLink, sample: MinerSample): Promise<ActionReply>;
}

/** The mode a confirmed action leaves the miner in, for the actions that change it. */
export function expectedMode(action: MinerAction): MinerSample['mode'] | undefined {
  if (action.kind === 'sleep') return 'sleeping';
  if (action.kind === 'wake') return 'hashing';
  return undefined;
}

/** A short human description of an action ("power 2800 W", "pools (2)"), for tables and the audit. */
export function describeAction(action: MinerAction): string {
  switch (action.kind) {
    case 'power':
      return 'watts' in action.target ? `power ${action.target.watts} W` : `power mode ${action.target.mode}`;
    case 'pools':
      return `pools ${action.pools.map((p) => p.url).join(' ')}`;
    case 'switch-pool':
      return `switch to pool ${action.index}`;
    case 'blink':
      return action.on ? 'blink on' : 'blink off';
    default:
      return action.kind;
  }
}

/** Why the capabilities refuse an action, or undefined when it is allowed. */
export function refusalFor(action: MinerAction, caps: ControlCapabilities): string | undefined {
  const notes = caps.notes?.length ? ` (${caps.notes.join('; ')})` : '';
  switch (action.kind) {
    case 'reboot':
      return caps.reboot ? undefined : `cannot reboot this miner through its API${notes}`;
    case 'sleep':
    case 'wake':
      return caps.sleep ? undefined : `has no sleep mode its firmware lets us set${notes}`;
    case 'power': {
      const p = caps.power;
      if (!p) return `has no power target or work mode to set${notes}`;
      if ('watts' in action.target) {
        if (p.kind !== 'watts') return `takes work modes (${p.modes.join(', ')}), not a target in watts${notes}`;
        const w = action.target.watts;
        return w >= p.minW && w <= p.maxW ? undefined : `power target ${w} W is outside ${p.minW}-${p.maxW} W`;
      }
      if (p.kind === 'modes') return p.modes.includes(action.target.mode) ? undefined : `has no "${action.target.mode}" mode (it has ${p.modes.join(', ')})`;
      return `takes a target in watts (${p.minW}-${p.maxW} W), not a work mode${notes}`;
    }
    case 'pools':
      if (caps.pools.maxSlots === 0) return `cannot set pools through its API${notes}`;
      if (action.pools.length === 0) return 'a pool list needs at least one pool';
      return action.pools.length <= caps.pools.maxSlots ? undefined : `takes at most ${caps.pools.maxSlots} pools, ${action.pools.length} given`;
    case 'switch-pool':
      return caps.pools.canSwitch ? undefined : `cannot switch the active pool without a new list${notes}`;
    case 'blink':
      return caps.blink ? undefined : `has no locate LED its API can blink${notes}`;
  }
}
