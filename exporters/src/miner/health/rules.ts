/**
 * The fault rules, one function per concern. Each reads the sample and the inventory spec and tells the collector
 * what is observed now; see README.md in this folder for the exact semantics and QUIRKS.md §7–§10 for the why.
 */
import type { BoardSample, FaultCode, FirmwareFamily, MinerSample, MinerSpec } from '@flymining/shared';
import { classifyFirmwareError } from '../backends/error-codes';
import type { FaultCollector } from './collector';

/** MINER_REBOOTED stays active until the miner has been up this long. */
export const REBOOT_SETTLE_S = 600;
/** A miner still `booting` after this much uptime is stuck: MINER_NOT_HASHING. */
export const STUCK_BOOT_S = 600;
/** An overheat clears only below limit − margin, so a reading hovering at the limit does not flap. */
export const OVERHEAT_CLEAR_MARGIN_C = 2;
/** Readings outside this range are sensor faults, whatever the mode (pyasic data shows -273, captures show -83). */
const MIN_PLAUSIBLE_TEMP_C = -40;
const MAX_PLAUSIBLE_TEMP_C = 150;
/** Firmware that marks healthy chips 'x' while hashing (Hiveon S19x88, QUIRKS §8): only chips found count there. */
const FIRMWARE_WITH_UNRELIABLE_BAD_CHIPS: ReadonlySet<FirmwareFamily> = new Set(['hiveon']);

const BOARD_FAULT_CODES: readonly FaultCode[] = [
  'BOARD_MISSING',
  'CHIPS_DEAD',
  'BOARD_OVERHEAT',
  'CHIP_OVERHEAT',
  'TEMP_SENSOR_FAULT',
];

export function boardPart(index: number): string {
  return `board ${index}`;
}

export function fanPart(index: number): string {
  return `fan ${index}`;
}

export interface RuleContext {
  sample: MinerSample;
  spec: MinerSpec;
  faults: FaultCollector;
  now: number;
}

/** Hashing as far as we can tell: mode says so and the 5 s rate is not 0 (an unknown rate does not veto). */
function minerHashes(sample: MinerSample): boolean {
  return sample.mode === 'hashing' && (sample.hashrateThs === undefined || sample.hashrateThs > 0);
}

function boardHashes(sample: MinerSample, board: BoardSample): boolean {
  return minerHashes(sample) && board.present && (board.hashrateThs === undefined || board.hashrateThs > 0);
}

/** A partial scrape that lost a whole section (e.g. `stats` failed: no boards) says nothing about that section. */
function sectionLost(sample: MinerSample, name: 'boards' | 'fans' | 'pools'): boolean {
  // A protocol that does not report the section at all (VNish HTTP: no boards) says nothing about it either.
  if (sample.unreported?.includes(name)) return true;
  return sample.errors.length > 0 && sample[name].length === 0;
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

export function checkScrapeErrors({ sample, faults }: RuleContext): void {
  if (sample.errors.length === 0) return;
  const failed = sample.errors.map((e) => `${e.command} (${e.kind})`).join(', ');
  faults.raise('SCRAPE_PARTIAL', '', `API commands failed: ${failed}; the other readings are current`, {
    commands: sample.errors.map((e) => e.command).join(','),
  });
}

export function checkMode({ sample, faults }: RuleContext): void {
  if (sample.mode === 'sleeping') {
    faults.raise(
      'MINER_SLEEPING',
      '',
      'sleeping (curtailed on purpose); fans, chips, boards and hashrate are not judged until it wakes',
    );
    return;
  }
  const notHashing = (why: string, details: Record<string, number | string>): void =>
    faults.raise('MINER_NOT_HASHING', '', `reachable but not hashing (${why}); check pools, boards and PSU`, details);
  if (sample.mode === 'idle') {
    notHashing('mode idle', { mode: sample.mode });
  } else if (sample.mode === 'booting') {
    if (sample.uptimeS !== undefined && sample.uptimeS >= STUCK_BOOT_S) {
      notHashing(`still booting after ${formatDuration(sample.uptimeS)}`, { mode: sample.mode, uptimeS: sample.uptimeS });
    }
  } else if (sample.hashrateThs === undefined) {
    faults.keep('MINER_NOT_HASHING');
  } else if (sample.hashrateThs <= 0) {
    notHashing('5 s hashrate 0 TH/s', { mode: sample.mode, hashrateThs: sample.hashrateThs });
  }
}

export function checkReboot({ sample, faults, now }: RuleContext, lastUptimeS: number | undefined): void {
  const uptimeS = sample.uptimeS;
  if (uptimeS !== undefined && lastUptimeS !== undefined && uptimeS < lastUptimeS) {
    faults.raise(
      'MINER_REBOOTED',
      '',
      `restarted: up ${formatDuration(uptimeS)}, was up ${formatDuration(lastUptimeS)} at the previous scrape ` +
        `(flag clears once up ${formatDuration(REBOOT_SETTLE_S)})`,
      { uptimeS, previousUptimeS: lastUptimeS },
    );
    return;
  }
  const active = faults.wasActive('MINER_REBOOTED', '');
  if (!active) return;
  // Without an uptime reading, fall back to wall-clock time since the reboot was seen.
  const settled = uptimeS !== undefined ? uptimeS >= REBOOT_SETTLE_S : now - active.since >= REBOOT_SETTLE_S * 1000;
  if (!settled) faults.keep('MINER_REBOOTED', '');
}

export function checkFans({ sample, spec, faults }: RuleContext): void {
  // Hydro/immersion units report phantom fans at 0 rpm; sleeping and idle units stop their fans on purpose.
  if (spec.cooling !== 'air' || spec.fans <= 0) return;
  if (sample.mode !== 'hashing' && sample.mode !== 'booting') return;
  if (sectionLost(sample, 'fans')) {
    faults.keep('FAN_STOPPED');
    faults.keep('FAN_MISSING');
    return;
  }
  const limit = spec.thresholds.fanStoppedRpm;
  const reported = sample.fans.length;
  if (reported < spec.fans) {
    // Firmware that lists only spinning fans (S9 line, bosminer, Avalon) shows a stopped fan this way too.
    faults.raise('FAN_MISSING', '', `reports ${reported} of ${spec.fans} fans: a fan has stopped or is disconnected; check the fans and their cables`, {
      expected: spec.fans,
      reported,
    });
  }
  const stopped = sample.fans.filter((fan) => fan.rpm < limit);
  if (reported <= spec.fans) {
    for (const fan of stopped) {
      faults.raise(
        'FAN_STOPPED',
        fanPart(fan.index),
        `fan ${fan.index} stopped: ${fan.rpm} rpm while ${sample.mode} (limit ${limit} rpm); replace or reseat it`,
        { rpm: fan.rpm, limitRpm: limit },
      );
    }
    return;
  }
  // More slots than fans (unused slots read 0, QUIRKS §7): which slot is a real fan is unknown, so judge the count.
  const turning = reported - stopped.length;
  if (turning < spec.fans) {
    const slots = stopped.map((fan) => fan.index).join(', ');
    faults.raise(
      'FAN_STOPPED',
      'fans',
      `only ${turning} of ${spec.fans} fans turn (slots ${slots} read below ${limit} rpm); find the stopped fan`,
      { turning, expected: spec.fans, limitRpm: limit },
    );
  }
}

export function checkBoards(context: RuleContext): void {
  const { sample, faults } = context;
  if (sectionLost(sample, 'boards')) {
    for (const code of BOARD_FAULT_CODES) faults.keep(code);
    return;
  }
  checkMissingBoards(context);
  for (const board of sample.boards) {
    if (!board.present) continue;
    checkChips(context, board);
    checkTemperatures(context, board);
  }
}

function checkMissingBoards({ sample, spec, faults }: RuleContext): void {
  // Sleeping units report 0 chips on every chain; booting units have not enumerated their chains yet.
  if (sample.mode === 'sleeping' || sample.mode === 'booting') return;
  const present = sample.boards.filter((b) => b.present);
  const shortfall = spec.hashboards - present.length;
  if (shortfall <= 0) return;
  const absent = sample.boards.filter((b) => !b.present);
  if (absent.length <= shortfall) {
    for (const board of absent) {
      faults.raise(
        'BOARD_MISSING',
        boardPart(board.index),
        `board ${board.index} does not answer (no chips found); reseat its data and power cables or swap the board`,
        { expected: spec.hashboards, present: present.length },
      );
    }
    if (absent.length === shortfall) return;
  }
  // Boards dropped from the list (Whatsminer edevs), or padding slots make the empty one ambiguous (QUIRKS §8).
  const answering = present.map((b) => b.index).join(', ') || 'none';
  faults.raise(
    'BOARD_MISSING',
    'boards',
    `only ${present.length} of ${spec.hashboards} hashboards answer (answering: ${answering}); find the dead board`,
    { expected: spec.hashboards, present: present.length },
  );
}

function checkChips({ sample, spec, faults }: RuleContext, board: BoardSample): void {
  // All chips read 'x' while the unit does not hash (QUIRKS §8).
  if (!boardHashes(sample, board) || spec.chipsPerBoard <= 0) return;
  const expected = spec.chipsPerBoard;
  const trustBad = !FIRMWARE_WITH_UNRELIABLE_BAD_CHIPS.has(sample.firmware);
  const notFound = board.chipsFound === undefined ? 0 : expected - board.chipsFound;
  const notOk = trustBad && board.chipsOk !== undefined ? expected - board.chipsOk : 0;
  const bad = trustBad ? board.chipsBad ?? 0 : 0;
  const dead = Math.max(notFound, notOk, bad);
  if (dead <= 0) return;
  const counts: Record<string, number> = { expected, dead };
  const seen: string[] = [];
  if (board.chipsFound !== undefined) {
    counts.found = board.chipsFound;
    seen.push(`${board.chipsFound} found`);
  }
  if (trustBad && board.chipsOk !== undefined) {
    counts.ok = board.chipsOk;
    seen.push(`${board.chipsOk} ok`);
  }
  if (trustBad && board.chipsBad !== undefined) {
    counts.bad = board.chipsBad;
    seen.push(`${board.chipsBad} bad`);
  }
  faults.raise(
    'CHIPS_DEAD',
    boardPart(board.index),
    `board ${board.index} has ${dead} of ${expected} chips dead (${seen.join(', ')}) while hashing; plan a board repair`,
    counts,
  );
}

type TempReading = { kind: 'plausible'; value: number } | { kind: 'impossible'; value: number } | { kind: 'none' };

function readTemp(value: number | undefined, hashing: boolean): TempReading {
  if (value === undefined) return { kind: 'none' };
  if (!Number.isFinite(value) || value < MIN_PLAUSIBLE_TEMP_C || value > MAX_PLAUSIBLE_TEMP_C) {
    return { kind: 'impossible', value };
  }
  // A hashing board cannot be at or below freezing; an idle board reading exactly 0 is the "not measured" filler.
  if (hashing && value <= 0) return { kind: 'impossible', value };
  if (!hashing && value === 0) return { kind: 'none' };
  return { kind: 'plausible', value };
}

function checkTemperatures({ sample, spec, faults }: RuleContext, board: BoardSample): void {
  const hashing = boardHashes(sample, board);
  const part = boardPart(board.index);
  const boardTemp = readTemp(board.boardTempC, hashing);
  const chipTemp = readTemp(board.chipTempC, hashing);
  const remedy =
    spec.cooling === 'air' ? 'check intake air, fans and filters' : 'check coolant flow and coolant temperature';
  const judge = (code: FaultCode, what: string, reading: TempReading, limitC: number): void => {
    // An impossible or absent reading neither raises nor clears an overheat.
    if (reading.kind !== 'plausible') {
      faults.keep(code, part);
    } else if (reading.value >= limitC) {
      faults.raise(code, part, `board ${board.index} ${what} at ${reading.value} °C (limit ${limitC} °C); ${remedy}`, {
        tempC: reading.value,
        limitC,
      });
    } else if (reading.value > limitC - OVERHEAT_CLEAR_MARGIN_C) {
      faults.keep(code, part);
    }
  };
  judge('BOARD_OVERHEAT', 'PCB', boardTemp, spec.thresholds.boardOverheatC);
  judge('CHIP_OVERHEAT', 'chips', chipTemp, spec.thresholds.chipOverheatC);

  if (!hashing) return;
  const impossible: string[] = [];
  const details: Record<string, number> = {};
  if (boardTemp.kind === 'impossible') {
    impossible.push(`PCB ${boardTemp.value} °C`);
    details.boardTempC = boardTemp.value;
  }
  if (chipTemp.kind === 'impossible') {
    impossible.push(`chips ${chipTemp.value} °C`);
    details.chipTempC = chipTemp.value;
  }
  if (impossible.length === 0) return;
  faults.raise(
    'TEMP_SENSOR_FAULT',
    part,
    `board ${board.index} temperature sensor reads nonsense while hashing (${impossible.join(', ')}); ` +
      'overheat protection is blind on this board, check the sensor cable',
    details,
  );
}

/** Returns the new count of consecutive low scrapes. */
export function checkHashrate({ sample, spec, faults }: RuleContext, lowScrapesBefore: number): number {
  if (sample.mode !== 'hashing') return 0;
  const rate = sample.hashrateThs;
  if (rate === undefined) {
    faults.keep('HASHRATE_LOW');
    return lowScrapesBefore;
  }
  const nominal = spec.nominalThs > 0 ? spec.nominalThs : sample.nominalThs;
  // Zero is MINER_NOT_HASHING's business; without a nominal there is nothing to compare with.
  if (rate <= 0 || nominal === undefined || nominal <= 0) return 0;
  const { lowHashrateShare, lowHashrateScrapes } = spec.thresholds;
  if (rate >= lowHashrateShare * nominal) return 0;
  const count = lowScrapesBefore + 1;
  if (count >= lowHashrateScrapes) {
    const percent = Math.round((rate / nominal) * 100);
    faults.raise(
      'HASHRATE_LOW',
      '',
      `hashes ${rate.toFixed(1)} TH/s, ${percent} % of nominal ${nominal} TH/s, for ${count} scrapes in a row ` +
        `(limit ${Math.round(lowHashrateShare * 100)} %); look for dead chips, hot boards or tuning`,
      { hashrateThs: rate, nominalThs: nominal, percentOfNominal: percent, scrapes: count },
    );
  }
  return count;
}

export function checkPools({ sample, faults }: RuleContext): void {
  // A curtailed unit needs no pool; judge again when it wakes.
  if (sample.mode === 'sleeping') return;
  if (sectionLost(sample, 'pools')) {
    faults.keep('POOLS_DEAD');
    return;
  }
  const configured = sample.pools.filter((p) => p.status !== 'disabled');
  if (configured.length === 0 || configured.some((p) => p.status === 'alive')) return;
  if (configured.every((p) => p.status === 'unknown')) {
    faults.keep('POOLS_DEAD');
    return;
  }
  const urls = configured.map((p) => p.url).join(', ');
  faults.raise(
    'POOLS_DEAD',
    '',
    `none of ${configured.length} configured pools is alive (${urls}); check uplink, DNS, firewall and pool URLs`,
    { pools: configured.length },
  );
}

/** Every fault a firmware error code can raise (kept whole while the firmware's error list was not read). */
export const FIRMWARE_FAULT_CODES: readonly FaultCode[] = [
  'PSU_FAULT',
  'FAN_FAULT',
  'BOARD_READ_ERROR',
  'HASHBOARD_FAULT',
  'TEMP_PROTECTION',
  'NETWORK_FAULT',
  'CONTROL_BOARD_FAULT',
  'FIRMWARE_ERROR',
];

/**
 * A firmware code that says what a measured rule already found (the firmware's "fan lost" beside our FAN_STOPPED
 * from its 0 rpm): not a second page, but the code goes into the measured fault's details, so staff still see it.
 */
const MEASURED_BY: Partial<Record<FaultCode, readonly FaultCode[]>> = {
  FAN_FAULT: ['FAN_STOPPED', 'FAN_MISSING'],
  HASHBOARD_FAULT: ['BOARD_MISSING', 'CHIPS_DEAD'],
  TEMP_PROTECTION: ['CHIP_OVERHEAT', 'BOARD_OVERHEAT'],
};

/** Error times before this are a clock not yet set by NTP (Braiins logs 2015-01-01 after boot): time unknown. */
const EARLIEST_TRUSTED_MS = Date.UTC(2020, 0, 1);
/** Slack between the miner's and our clock when deciding whether an error is from before the current boot. */
const BOOT_SLACK_MS = 5 * 60_000;

/**
 * The firmware's own error codes as faults: each known code under its stable fault (per-family tables,
 * backends/error-codes.ts), each unknown one as FIRMWARE_ERROR; the message names the code and text as given.
 * Errors timed before the current boot are history (Braiins keeps a log), not faults. An API that was not read
 * (`firmwareErrors` undefined) keeps what was active.
 */
export function checkFirmwareErrors({ sample, faults, now }: RuleContext): void {
  if (sample.firmwareErrors === undefined) {
    for (const code of FIRMWARE_FAULT_CODES) faults.keep(code);
    return;
  }
  const bootMs = sample.uptimeS === undefined ? undefined : now - sample.uptimeS * 1000 - BOOT_SLACK_MS;
  for (const error of sample.firmwareErrors) {
    if (error.time !== undefined && error.time >= EARLIEST_TRUSTED_MS && bootMs !== undefined && error.time < bootMs) continue;
    const known = classifyFirmwareError(sample.firmware, error);
    const code = known?.code ?? 'FIRMWARE_ERROR';
    const where = known?.part || error.component || '';
    // One fault per code as given: two codes on one board are two things to fix.
    const part = [where, `code ${error.code}`].filter(Boolean).join(' ');
    const said = `${sample.firmware} error code ${error.code}${error.text ? ` "${error.text}"` : ''}${error.component ? ` (${error.component})` : ''}`;
    if (faults.annotate(MEASURED_BY[code] ?? [], { firmwareCode: error.code, ...(error.text ? { firmwareText: error.text } : {}) }) > 0) continue;
    const problem = known ? `firmware reports ${said}` : `firmware reports ${said}, a code not in our tables: look it up in the vendor's list`;
    faults.raise(code, part, problem, { firmwareCode: error.code, ...(error.text ? { firmwareText: error.text } : {}) });
  }
}
