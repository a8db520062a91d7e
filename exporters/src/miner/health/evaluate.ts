import type { FaultCode, MinerSpec } from '@flymining/shared';
import { FaultCollector } from './collector';
import { checkIdentity, checkPoolHijack } from './intrusion';
import { checkBoards, checkFans, checkFirmwareErrors, checkHashrate, checkMode, checkPools, checkReboot, checkScrapeErrors } from './rules';
import {
  emptyHealthState,
  isScrapeFailure,
  type HealthEvaluation,
  type HealthInput,
  type HealthScrapeFailure,
  type MinerHealthState,
  type HealthFailureKind,
  type MinerChange,
} from './types';

const UNREACHABLE_REASONS: Record<HealthFailureKind, string> = {
  refused: 'connection refused (miner software down or powered off)',
  timeout: 'no answer within the timeout (network/uplink or hung controller)',
  unreachable: 'no route to the host (network/uplink or switch down, or powered off)',
  reset: 'connection reset mid-reply (controller restarting or overloaded)',
  malformed: 'answered garbage (reply could not be parsed)',
  'too-large': 'answered garbage (reply larger than the size limit)',
  empty: 'answered garbage (empty reply)',
  'unknown-firmware': 'answered, but in no firmware dialect we know (another device on this address?)',
  auth: 'refused our credentials',
  protocol: 'answered, but not in the protocol expected (bad frame or HTTP error)',
};

/** Faults that describe the last scrape itself, so a failed scrape replaces rather than keeps them. */
const SCRAPE_FAULTS: ReadonlySet<FaultCode> = new Set<FaultCode>(['SCRAPE_PARTIAL', 'MINER_UNREACHABLE', 'MINER_AUTH_FAILED']);

/**
 * Judges one scrape of one miner against its inventory spec. Pure: the same inputs give the same output, and the
 * returned state is the only thing to pass to the next call for this miner (undefined for the first call).
 *
 * On a scrape failure nothing about the hardware is known, so every fault of the last good sample is kept as it was
 * (same message, same since): neither raised anew nor cleared. Only MINER_UNREACHABLE is added.
 */
export function evaluateMinerHealth(
  input: HealthInput,
  spec: MinerSpec,
  previousState: MinerHealthState | undefined,
  now: number,
): HealthEvaluation {
  const previous = previousState ?? emptyHealthState();
  const faults = new FaultCollector(spec, previous.active, now);
  if (isScrapeFailure(input)) {
    faults.keepAllExcept(SCRAPE_FAULTS);
    raiseUnreachable(faults, input);
    return finish(faults, { ...previous }, []);
  }
  const context = { sample: input, spec, faults, now };
  checkScrapeErrors(context);
  checkMode(context);
  checkReboot(context, previous.lastUptimeS);
  checkFans(context);
  checkBoards(context);
  const lowHashrateScrapes = checkHashrate(context, previous.lowHashrateScrapes);
  checkPools(context);
  checkFirmwareErrors(context);
  const changes: MinerChange[] = [];
  const devfee = checkPoolHijack(context, previous, changes);
  const remembered = checkIdentity(context, previous, changes);
  const state: MinerHealthState = { lowHashrateScrapes, active: {}, ...remembered };
  if (devfee) state.devfee = devfee;
  const lastUptimeS = input.uptimeS ?? previous.lastUptimeS;
  if (lastUptimeS !== undefined) state.lastUptimeS = lastUptimeS;
  return finish(faults, state, changes);
}

function raiseUnreachable(faults: FaultCollector, failure: HealthScrapeFailure): void {
  if (failure.kind === 'auth') {
    // The miner is there and answers: what it needs is the right password in the credentials file, not a visit.
    faults.raise('MINER_AUTH_FAILED', '', `login refused: ${failure.message}; check the credentials configured for this miner`, { reason: 'auth' });
    return;
  }
  faults.raise('MINER_UNREACHABLE', '', `unreachable: ${UNREACHABLE_REASONS[failure.kind]}`, {
    reason: failure.kind,
    error: failure.message,
  });
}

function finish(faults: FaultCollector, state: MinerHealthState, changes: MinerChange[]): HealthEvaluation {
  const active = faults.result();
  return { faults: Object.values(active), state: { ...state, active }, changes };
}
