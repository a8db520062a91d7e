/**
 * Which backend reads a miner: from what answers, cheapest first, third-party firmware before stock.
 *
 * 1. The CGMiner-API port (4028): `version`, `summary`, `stats` name the dialect as before (QUIRKS §5). Stock
 *    Antminer is then read through its richer API where there is one: the web CGI when credentials are configured,
 *    else, for a hydro model (water temperatures), `stats` with `new_api` when it comes back in that shape; Whatsminer through API v3 on 4433 when it answers
 *    (firmware from 2024-11 on gives only pools and uptime over 4028); Braiins OS through REST when credentials are
 *    configured.
 * 2. 4028 answering but not in cgminer JSON (an HTTP error page): ePIC, confirmed with `GET /summary`.
 * 3. 4028 refused (the host is up, the port closed): Whatsminer v3 on 4433, then the web server on 80: VNish (`/api/v1/info` without login),
 *    Braiins OS (`/api/v1/…` asking for its token), Antminer stock (`/cgi-bin/…` with a Digest challenge).
 *
 * The inventory may pin `protocol` (only its backends are tried) or `backend` (no detection). Results are cached per
 * miner by the caller (ScrapeOptions.dialectCache).
 */
import { isObject, type MinerProtocol } from '@flymining/shared';
import { ANTMINER_CGI, antminerNewApi, antminerWeb, BACKENDS, braiinsRest, BRAIINS_REST, DIALECTS, epicV1, EPIC_PATHS, isNewApiStats, vnishV1, VNISH_PATHS, whatsminerV3, type Dialect, type Replies } from './backends';
import { protocolOf } from './backends/types';
import { credentialsFor } from './credentials';
import { httpExchange, parseDigestChallenge } from './transports/http-client';
import { DEFAULT_TRANSPORT } from './transports/cgminer-tcp';
import { portFor, runCommand, transportFor, type ScrapeFailure, type ScrapeOptions, type ScrapeTarget } from './scrape';

/**
 * Commands that identify a miner, sent in this order, one per connection, until detectDialect answers
 * (QUIRKS §5). `version` settles most firmware; Whatsminer is recognised by its `summary`; Vnish S17+ answers
 * `version` without Type, so its `stats` (Type "… (vnish 2.0.3)") decides.
 */
export const DETECTION_COMMANDS: readonly string[] = ['version', 'summary', 'stats'];

/** The dialect whose marks the replies carry, or undefined while they are not conclusive. */
export function detectDialect(probe: Replies): Dialect | undefined {
  return DIALECTS.find((dialect) => dialect.matches(probe));
}

export interface Detection {
  dialect?: Dialect;
  failure?: ScrapeFailure;
  /** Replies already read while probing (reused by the scrape). */
  probe: Replies;
  /** Probe commands whose replies were cut short. */
  truncated: Set<string>;
}

const empty = (): Pick<Detection, 'probe' | 'truncated'> => ({ probe: {}, truncated: new Set() });

async function detectCgminer(target: ScrapeTarget, options: ScrapeOptions): Promise<Detection & { answered: boolean }> {
  const probe: Replies = {};
  const truncated = new Set<string>();
  const transport = transportFor(target, 'cgminer', options);
  let lastFailure: ScrapeFailure | undefined;
  let answered = false;
  for (const command of DETECTION_COMMANDS) {
    const outcome = await runCommand(transport, command, undefined, options);
    if (outcome.ok) {
      answered = true;
      probe[command] = outcome.reply;
      if (outcome.truncated) truncated.add(command);
      let dialect: Dialect | undefined;
      try {
        dialect = detectDialect(probe);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return { failure: { kind: 'malformed', message: `${transport.endpoint} detection: ${message}` }, probe, truncated, answered };
      }
      if (dialect) return { dialect, probe, truncated, answered };
    } else {
      lastFailure = outcome.connection ? { kind: outcome.connection.kind, message: outcome.connection.message } : { kind: 'malformed', message: outcome.error.message };
      // A miner that refuses connections will refuse the next probe too: stop early.
      if (outcome.connection && !answered) return { failure: lastFailure, probe, truncated, answered };
    }
  }
  return {
    failure: answered
      ? { kind: 'unknown-firmware', message: `${transport.endpoint} answers the API but its firmware is not recognised` }
      : (lastFailure ?? { kind: 'unreachable', message: 'no reply' }),
    probe,
    truncated,
    answered,
  };
}

/** True when `backend`'s first required command answers: the cheapest proof it speaks to us. */
async function answers(target: ScrapeTarget, backend: Dialect, options: ScrapeOptions): Promise<{ ok: boolean; failure?: ScrapeFailure }> {
  // new_api is proven by the shape of `stats` (a firmware that ignores the flag answers the legacy shape, S).
  const command = backend === antminerNewApi ? 'stats' : (backend.requiredCommands[0] ?? backend.commands[0] ?? '');
  const outcome = await runCommand(transportFor(target, protocolOf(backend), options), command, backend.requestFor?.(command), options);
  if (outcome.ok) return { ok: backend !== antminerNewApi || isNewApiStats(outcome.reply) };
  return { ok: false, failure: outcome.connection ? { kind: outcome.connection.kind, message: outcome.connection.message } : { kind: 'malformed', message: outcome.error.message } };
}

/**
 * Whether the classic probe replies name a hydro model: their water temperatures come only with `new_api`. An air
 * unit stays on the classic `stats`, which also carries the sleep mode that `new_api` does not (a sleeping S19
 * read through `new_api` would look "not hashing" and page).
 */
function namesHydroModel(probe: Replies): boolean {
  return [probe.version, probe.stats].some((reply) => reply !== undefined && /"Type"\s*:\s*"[^"]*hyd/i.test(JSON.stringify(reply).slice(0, 65_536)));
}

/** A richer backend for a classic dialect, when the miner offers one. */
async function upgrade(target: ScrapeTarget, dialect: Dialect, probe: Replies, options: ScrapeOptions): Promise<Dialect> {
  if (target.protocol === 'cgminer') return dialect;
  const candidates: Dialect[] = [];
  if (dialect.family === 'whatsminer') candidates.push(whatsminerV3);
  if (dialect.family === 'antminer-stock') {
    if (credentialsFor(target.credentials, 'antminer-web')) candidates.push(antminerWeb);
    if (namesHydroModel(probe)) candidates.push(antminerNewApi);
  }
  if (dialect.family === 'braiins-os' && credentialsFor(target.credentials, 'braiins-rest')) candidates.push(braiinsRest);
  for (const candidate of candidates) {
    if ((await answers(target, candidate, options)).ok) return candidate;
  }
  return dialect;
}

/** What the web server on the HTTP port says about itself, without credentials. */
async function probeWebServer(target: ScrapeTarget, options: ScrapeOptions): Promise<Dialect | undefined> {
  const port = portFor(target, 'antminer-web');
  const transport = { ...(options.transport ?? DEFAULT_TRANSPORT) };
  try {
    const isJson = (reply: { headers: Record<string, string | string[] | undefined>; body: Buffer }): boolean =>
      /json/i.test(String(reply.headers['content-type'] ?? '')) || /^\s*\{/.test(reply.body.toString('utf8', 0, 64));
    const info = await httpExchange(target.host, port, { method: 'GET', path: VNISH_PATHS.info }, transport);
    if (info.status === 200 && isJson(info)) return vnishV1;
    // Braiins OS answers its REST paths in JSON, 401 without a token; a web page or a Digest challenge is not it.
    const bos = await httpExchange(target.host, port, { method: 'GET', path: BRAIINS_REST.details }, transport);
    if ((bos.status === 401 || bos.status === 403) && isJson(bos) && !parseDigestChallenge(bos.headers['www-authenticate'])) return braiinsRest;
    const cgi = await httpExchange(target.host, port, { method: 'GET', path: ANTMINER_CGI.systemInfo }, transport);
    const challenge = cgi.status === 401 ? parseDigestChallenge(cgi.headers['www-authenticate']) : undefined;
    if (challenge && /antminer/i.test(challenge.realm)) return antminerWeb;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Backends of one pinned protocol, tried in order until one answers. */
async function detectPinned(target: ScrapeTarget, protocol: MinerProtocol, options: ScrapeOptions): Promise<Detection> {
  const candidates = BACKENDS.filter((b) => protocolOf(b) === protocol && b !== antminerNewApi);
  if (candidates.length === 1) return { dialect: candidates[0], ...empty() };
  let failure: ScrapeFailure | undefined;
  for (const candidate of candidates) {
    const result = await answers(target, candidate, options);
    if (result.ok) return { dialect: candidate, ...empty() };
    failure = result.failure ?? failure;
  }
  return { failure: failure ?? { kind: 'unknown-firmware', message: `no ${protocol} backend answers` }, ...empty() };
}

export async function detectBackend(target: ScrapeTarget, options: ScrapeOptions): Promise<Detection> {
  if (target.protocol && target.protocol !== 'cgminer') return detectPinned(target, target.protocol, options);
  const classic = await detectCgminer(target, options);
  if (classic.dialect) {
    const better = await upgrade(target, classic.dialect, classic.probe, options);
    return better === classic.dialect ? classic : { dialect: better, ...empty() };
  }
  if (target.protocol === 'cgminer') return classic;
  const kind = classic.failure?.kind;
  // 4028 answered, but not in cgminer JSON: ePIC speaks HTTP there.
  if (kind === 'malformed' || kind === 'empty' || kind === 'reset' || kind === 'unknown-firmware') {
    const epic = await runCommand(transportFor(target, 'epic', options), EPIC_PATHS.summary, undefined, options);
    if (epic.ok && (isObject(epic.reply.Status) || typeof epic.reply.Software === 'string')) return { dialect: epicV1, probe: { [EPIC_PATHS.summary]: epic.reply }, truncated: new Set() };
    return classic;
  }
  // Only a host that refused 4028 is up and worth probing on other ports; a silent one is down (or cut off), and
  // probing 4433 and 80 as well would triple what a dead miner costs every sweep.
  if (kind !== 'refused') return classic;
  const v3 = await answers(target, whatsminerV3, options);
  if (v3.ok) return { dialect: whatsminerV3, ...empty() };
  const web = await probeWebServer(target, options);
  if (web) return { dialect: web, ...empty() };
  return classic;
}

