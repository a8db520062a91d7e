/**
 * Intrusion rules (issue 15, the virtual side): hashrate pointed at a pool or worker the inventory does not allow
 * (POOL_HIJACK), the firmware changed (FIRMWARE_CHANGED), another machine in the slot (MINER_SWAPPED). Each change of
 * pools, firmware or identity is also returned as a MinerChange for the miner's audit history (`miner_change`).
 */
import type { ExpectedPool, MinerSample, PoolSample } from '@flymining/shared';
import { escapeExcerpt } from '../json-repair';
import type { RuleContext } from './rules';
import { isDevfeePool } from './devfee';
import type { MinerChange, MinerIdentity, MinerHealthState } from './types';

/** FIRMWARE_CHANGED, and MINER_SWAPPED without a serial/MAC in the inventory, stay raised this long after the change. */
export const CHANGE_NOTICE_S = 24 * 3600;
/** Audit values are bounded: a hostile miner's 32 pools of 768 characters must not become one huge row. */
const MAX_CHANGE_TEXT = 2048;
/** Found text in fault messages: quoted, control characters escaped, cut. */
const MESSAGE_EXCERPT = 96;

export interface StratumEndpoint {
  host: string;
  port: number | undefined;
}

/**
 * Host and port of a pool URL as firmware reports it: `stratum+tcp://host:3333`, `stratum2+tcp://host:3336/KEY`,
 * `host:3333`, `[2001:db8::1]:3333`, with or without `user@`. Host lower-cased; port undefined when not given.
 */
export function parseStratumUrl(url: string): StratumEndpoint {
  let rest = url.trim().slice(0, 512).toLowerCase();
  rest = rest.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  rest = rest.split(/[/?#\s]/, 1)[0] ?? '';
  rest = rest.slice(rest.lastIndexOf('@') + 1);
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(rest);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && /^\d{1,5}$/.test(rest.slice(colon + 1)) && rest.indexOf(':') === colon) {
    return { host: rest.slice(0, colon), port: Number(rest.slice(colon + 1)) };
  }
  return { host: rest, port: undefined };
}

function workerMatches(pattern: string, worker: string): boolean {
  return pattern.endsWith('*') ? worker.startsWith(pattern.slice(0, -1)) : worker === pattern;
}

/** The expected entry this pool matches, if any. A URL without port matches on host (the operator's own pool). */
export function matchPool(pool: Pick<PoolSample, 'url' | 'user'>, expected: readonly ExpectedPool[]): ExpectedPool | undefined {
  const { host, port } = parseStratumUrl(pool.url);
  const worker = pool.user.trim();
  return expected.find((e) => e.host === host && (port === undefined || port === e.port) && workerMatches(e.worker, worker));
}

/** The pool the miner hashes on: the one flagged active and alive, else the alive one first in priority order. */
export function activePool(pools: readonly PoolSample[]): PoolSample | undefined {
  const alive = pools.filter((p) => p.status === 'alive');
  return alive.find((p) => p.active) ?? [...alive].sort((a, b) => a.index - b.index)[0];
}

function describeExpected(expected: readonly ExpectedPool[]): string {
  return expected.map((e) => `${e.host}:${e.port} as "${e.worker}"`).join(' or ');
}

function describeFound(pool: Pick<PoolSample, 'url' | 'user'>): string {
  return `${escapeExcerpt(pool.url, 0, MESSAGE_EXCERPT)} as worker ${escapeExcerpt(pool.user, 0, MESSAGE_EXCERPT)}`;
}

function bounded(text: string): string {
  return text.length > MAX_CHANGE_TEXT ? `${text.slice(0, MAX_CHANGE_TEXT)}…` : text;
}

/** The configured pools as one comparable text (for the audit history): `0 url user; 1 url user; ...`. */
export function poolSetText(pools: readonly PoolSample[]): string {
  return bounded(
    [...pools]
      .sort((a, b) => a.index - b.index)
      .map((p) => `${p.index} ${p.url.trim()} ${p.user.trim()}`)
      .join('; '),
  );
}

/**
 * POOL_HIJACK. Judged only when the pool list was read and the miner has an alive pool; a sleeping unit or one whose
 * pools are all dead keeps what it had (POOLS_DEAD speaks for the latter). Returns the devfee episode's start, when a
 * devfee switch is under way (kept in the state), and adds audit rows for a devfee switch's start.
 */
export function checkPoolHijack(
  { sample, spec, faults, now }: RuleContext,
  previous: MinerHealthState,
  changes: MinerChange[],
): MinerHealthState['devfee'] {
  const expectation = spec.expectedPools;
  if (!expectation) return undefined;
  const lost = sample.unreported?.includes('pools') || (sample.errors.length > 0 && sample.pools.length === 0);
  const active = lost || sample.mode === 'sleeping' ? undefined : activePool(sample.pools);
  if (!active) {
    faults.keep('POOL_HIJACK');
    return previous.devfee;
  }
  if (matchPool(active, expectation.pools)) return undefined;
  const expectedText = describeExpected(expectation.pools);
  const found = parseStratumUrl(active.url);
  if (isDevfeePool(sample.firmware, found.host, found.port, expectation.devfeePools)) {
    const since = previous.devfee?.since ?? now;
    if (previous.devfee === undefined) {
      changes.push({ kind: 'devfee', before: expectedText, after: bounded(`${active.url.trim()} ${active.user.trim()}`) });
    }
    const lastedS = (now - since) / 1000;
    if (lastedS <= expectation.devfeeMaxS) return { since };
    faults.raise(
      'POOL_HIJACK',
      '',
      `hashes on ${describeFound(active)}, a ${sample.firmware} devfee pool, for ${Math.round(lastedS / 60)} min ` +
        `(longer than the ${Math.round(expectation.devfeeMaxS / 60)} min a devfee switch may last); expected ${expectedText}`,
      { found: active.url.slice(0, 256), worker: active.user.slice(0, 256), expected: expectedText.slice(0, 512), devfee: 1 },
    );
    return { since };
  }
  const configured = sample.pools.filter((p) => p.status !== 'disabled');
  const allForeign = configured.every((p) => !matchPool(p, expectation.pools));
  const hashing = sample.mode === 'hashing' && (sample.hashrateThs === undefined || sample.hashrateThs > 0);
  const how = allForeign
    ? `all ${configured.length} configured pools are foreign${hashing ? ' and it is hashing' : ''}`
    : 'its active pool is foreign (its other pools are ours)';
  faults.raise(
    'POOL_HIJACK',
    '',
    `hashrate goes elsewhere: ${how}; it hashes on ${describeFound(active)}, expected ${expectedText}. ` +
      'Check who changed its pool settings, then restore them and change its password',
    { found: active.url.slice(0, 256), worker: active.user.slice(0, 256), expected: expectedText.slice(0, 512), allForeign: allForeign ? 1 : 0 },
  );
  return undefined;
}

function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** The identity this sample reports (undefined parts: not reported this time). */
export function identityOf(sample: MinerSample): MinerIdentity {
  const id: MinerIdentity = { firmware: sample.firmware };
  if (sample.firmwareVersion?.trim()) id.version = sample.firmwareVersion.trim().slice(0, 128);
  if (sample.serial?.trim()) id.serial = sample.serial.trim().slice(0, 100);
  if (sample.mac?.trim()) id.mac = normalizeMac(sample.mac).slice(0, 64);
  return id;
}

/**
 * FIRMWARE_CHANGED and MINER_SWAPPED, and the audit rows of every identity and pool-set change. A serial/MAC the
 * inventory states is the truth (the fault stays while the slot holds another machine); without one, the last seen
 * identity is compared and the fault stays CHANGE_NOTICE_S. Returns what to remember.
 */
export function checkIdentity(
  { sample, spec, faults, now }: RuleContext,
  previous: MinerHealthState,
  changes: MinerChange[],
): Pick<MinerHealthState, 'identity' | 'poolSet'> {
  const seen = identityOf(sample);
  const before = previous.identity;
  const remembered: MinerIdentity = { ...before, ...seen };
  const keepWhileFresh = (code: 'FIRMWARE_CHANGED' | 'MINER_SWAPPED'): void => {
    const active = faults.wasActive(code, '');
    if (active && now - active.since < CHANGE_NOTICE_S * 1000) faults.keep(code, '');
  };

  const firmwareBefore = before ? `${before.firmware}${before.version ? ` ${before.version}` : ''}` : undefined;
  const firmwareNow = `${seen.firmware}${seen.version ? ` ${seen.version}` : ''}`;
  const firmwareChanged =
    before !== undefined && (before.firmware !== seen.firmware || (before.version !== undefined && seen.version !== undefined && before.version !== seen.version));
  if (firmwareChanged && firmwareBefore !== undefined) {
    changes.push({ kind: 'firmware', before: firmwareBefore, after: firmwareNow });
    faults.raise(
      'FIRMWARE_CHANGED',
      '',
      `firmware changed from ${escapeExcerpt(firmwareBefore, 0, MESSAGE_EXCERPT)} to ${escapeExcerpt(firmwareNow, 0, MESSAGE_EXCERPT)}; ` +
        'if nobody upgraded it on a ticket, treat it as tampering',
      { before: firmwareBefore.slice(0, 256), after: firmwareNow.slice(0, 256) },
    );
  } else {
    keepWhileFresh('FIRMWARE_CHANGED');
  }

  const swaps: string[] = [];
  const details: Record<string, string> = {};
  let listedAny = false;
  let listedUnread = false;
  for (const key of ['serial', 'mac'] as const) {
    const current = seen[key];
    const last = before?.[key];
    if (current !== undefined && last !== undefined && last !== current) changes.push({ kind: key, before: last, after: current });
    const listed = key === 'mac' ? (spec.mac ? normalizeMac(spec.mac) : undefined) : spec.serial;
    if (listed !== undefined) {
      listedAny = true;
      if (current === undefined) listedUnread = true;
      else if (current !== listed) {
        swaps.push(`${key} ${escapeExcerpt(current, 0, MESSAGE_EXCERPT)} where the inventory lists ${listed}`);
        details[key] = current;
      }
    } else if (current !== undefined && last !== undefined && last !== current) {
      swaps.push(`${key} changed from ${last} to ${escapeExcerpt(current, 0, MESSAGE_EXCERPT)}`);
      details[key] = current;
    }
  }
  if (swaps.length > 0) {
    faults.raise('MINER_SWAPPED', '', `another machine in the slot: ${swaps.join(', ')}; update the inventory if the swap was planned`, details);
  } else if (!listedAny) {
    keepWhileFresh('MINER_SWAPPED');
  } else if (listedUnread) {
    faults.keep('MINER_SWAPPED', '');
  }
  // Listed and matching: the slot holds the machine the inventory says, so any earlier MINER_SWAPPED clears.

  const lost = sample.unreported?.includes('pools') || (sample.errors.length > 0 && sample.pools.length === 0);
  let poolSet = previous.poolSet;
  if (!lost) {
    const text = poolSetText(sample.pools);
    if (poolSet !== undefined && poolSet !== text) changes.push({ kind: 'pools', before: poolSet, after: text });
    poolSet = text;
  }
  return { identity: remembered, ...(poolSet !== undefined ? { poolSet } : {}) };
}
