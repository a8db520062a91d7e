/**
 * One simulated miner: its identity, a compact state that evolves with the clock, and the faults injected into it.
 * State advances lazily when someone looks (a scrape or the control API), so 5,000 idle miners cost no timers.
 */
import type { Location } from '@flymining/shared';
import { PROFILES, type ProfileId, type SimProfile } from './catalog';
import { randomBytes } from 'node:crypto';
import { FaultError, type ActiveFaults, type FaultRequest, faultRequestSchema } from './faults';
import { checkFirmwareErrorCode, checkHostileMode, psuFaultCode } from './next/firmware-errors';
import { DEFAULT_CREDENTIALS, type ApiAuthKind, type ApiCredential, type CredentialSet } from './next/credentials';
import { Prng, deriveSeed } from './prng';

export interface SimMinerSpec {
  id: string;
  /** An address in 127.0.0.0/8 (Linux routes all of it to lo). */
  host: string;
  port: number;
  /** The web API's port (Antminer CGI, Braiins OS REST, VNish), on units that have one. */
  httpPort?: number;
  /** Whatsminer API v3's port (4433), on units that have one. */
  v3Port?: number;
  profile: ProfileId;
  position: Location;
}

/** Where a miner's intake air (or cooling water, on hydro units) temperature comes from. */
export interface IntakeSource {
  intakeC(nowMs: number): number;
}

export const CONSTANT_INTAKE_25C: IntakeSource = { intakeC: () => 25 };

export type SimMode = 'hashing' | 'sleeping' | 'booting' | 'overheated' | 'no-work';

export interface BoardReading {
  present: boolean;
  /** Chips found on the chain. */
  chipsFound: number;
  /** Found chips that read 'x'. */
  chipsBad: number;
  rateGhs: number;
  idealGhs: number;
  boardTempC: number;
  chipTempC: number;
  /** Hydro units: water temperature at the board's inlet and outlet. */
  inletTempC: number;
  outletTempC: number;
  hwErrors: number;
  accepted: number;
  frequencyMhz: number;
  powerW: number;
}

export interface PoolReading {
  url: string;
  user: string;
  alive: boolean;
  active: boolean;
  accepted: number;
  rejected: number;
  stale: number;
  getworks: number;
  difficulty: number;
  /** Seconds since the last accepted share, when there was one. */
  lastShareAgoS: number | null;
}

/** Everything the reply builders need, computed at most once per second per miner. */
export interface MinerReading {
  nowMs: number;
  uptimeS: number;
  mode: SimMode;
  boards: BoardReading[];
  fansRpm: number[];
  fanPercent: number;
  intakeC: number;
  rateGhs: number;
  avgGhs: number;
  avg30mGhs: number;
  idealGhs: number;
  accepted: number;
  rejected: number;
  stale: number;
  hwErrors: number;
  powerW: number;
  /** Difficulty-weighted totals, as cgminer counts them. */
  difficultyAccepted: number;
  difficultyRejected: number;
  bestShare: number;
  pools: PoolReading[];
}

interface FaultState extends ActiveFaults {
  /** Until then the API refuses connections (reboot). */
  downUntilMs: number;
  /** When the PSU failed (the time its error code carries). */
  psuSinceMs: number;
}

/** The pools every simulated miner is configured with (the demo inventory expects these, issue 15). */
export const SIM_POOL_URLS = ['stratum+tcp://btc.pool.example:3333', 'stratum+tcp://btc.pool.example:443', 'stratum+tcp://backup.pool.example:3333'] as const;
/** Its worker name on them: account `flymining`, worker the miner id (inventory pattern `flymining.{miner}`). */
export const SIM_WORKER_PATTERN = 'flymining.{miner}';
export function simWorker(minerId: string): string {
  return SIM_WORKER_PATTERN.replace('{miner}', minerId);
}

const POOL_DIFFICULTY_SMALL = 65536;
const POOL_DIFFICULTY_LARGE = 524288;
/** Seconds over which "GHS 30m" averages. */
const AVG_WINDOW_S = 1800;
/** hw errors per board per second at nominal (S19 Pro capture: ~190 per chain in 14 h). */
const HW_ERROR_RATE = 0.0036;
/** Air an air-cooled miner moves at typical fan speed (about 300 CFM). */
const AIRFLOW_PER_MINER_KG_S = 0.17;
/** Share of a water-cooled miner's power that still ends up in the room air. */
const HYDRO_HEAT_TO_AIR = 0.03;
/** Reuse one reading for all commands of a scrape. */
const READING_TTL_MS = 1000;

/** Work modes the write path sets (issue 14) and the share of typical power each draws. */
export type SimWorkMode = 'low' | 'normal' | 'high';
export const WORK_MODE_POWER: Record<SimWorkMode, number> = { low: 0.7, normal: 1, high: 1.12 };
/** Lowest and highest power target a unit accepts, as shares of its typical power. */
export const POWER_TARGET_RANGE = { min: 0.5, max: 1.15 } as const;
/**
 * Hash rate follows power less than linearly (lower clocks run at better J/TH): rate share = power share ^ 0.8,
 * which gives about 25 % better efficiency at half power, the order tuned firmware reports.
 */
const RATE_EXPONENT = 0.8;
/** How long a commanded reboot keeps the API down and how long the unit then warms up before it hashes. */
export const COMMANDED_REBOOT = { downSeconds: 20, warmupSeconds: 40 } as const;
/** A unit woken from sleep re-initializes its boards before it hashes again. */
export const WAKE_WARMUP_SECONDS = 30;
/** The writes a unit remembers (newest last), so tests can check staggering and rate limits at the miner's side. */
const MAX_WRITE_LOG = 256;

/** What the write path has set on the unit: the state its APIs report back and its power, heat and rate follow. */
export interface CommandedState {
  sleeping: boolean;
  workMode: SimWorkMode;
  /** A power target in watts (Braiins OS, Whatsminer, LuxOS); null = the work mode decides. */
  powerTargetW: number | null;
  blinking: boolean;
  /** The configured pools when the write path replaced them; null = the farm's default list (SIM_POOL_URLS). */
  pools: { url: string; user: string }[] | null;
  /** Index of the pool it mines on. */
  activePool: number;
}

/** One write a unit accepted: when, over which API, what. */
export interface SimWrite {
  atMs: number;
  api: string;
  action: string;
}

export class SimMiner {
  readonly profile: SimProfile;
  private readonly rng: Prng;
  private bootMs: number;
  private warmupUntilMs = 0;
  private lastMs: number;
  private hashedGh: number;
  private avg30mGhs: number;
  private accepted: number;
  private rejected: number;
  private readonly boardHw: number[];
  private readonly boardAccepted: number[];
  /** Per-board offsets so boards of one unit do not read identical temperatures. */
  private readonly boardTempOffset: number[];
  private faults: FaultState | undefined;
  private cached: MinerReading | undefined;
  /** What the unit's newer APIs accept (the farm's configuration; an authChange fault overrides the password). */
  credentials: CredentialSet = DEFAULT_CREDENTIALS;
  /** Called when reachability changes (offline / reboot), so the server can close or reopen its listener. */
  onReachabilityChange: (() => void) | undefined;
  /** Set by write commands (issue 14); survives faults being cleared, as a configuration does. */
  private commanded: CommandedState = { sleeping: false, workMode: 'normal', powerTargetW: null, blinking: false, pools: null, activePool: 0 };
  private readonly writeLog: SimWrite[] = [];

  constructor(
    readonly spec: SimMinerSpec,
    seed: number,
    private readonly clock: () => number,
    private intake: IntakeSource = CONSTANT_INTAKE_25C,
  ) {
    this.profile = PROFILES[spec.profile];
    this.rng = new Prng(deriveSeed(seed, spec.id));
    const now = clock();
    // Start somewhere between 1 hour and 20 days of uptime, already averaging close to nominal.
    const uptimeS = this.rng.range(3600, 20 * 86400);
    this.bootMs = now - uptimeS * 1000;
    this.lastMs = now;
    const nominalGhs = this.profile.nominalThs * 1000;
    this.hashedGh = nominalGhs * this.rng.range(0.985, 1.01) * uptimeS;
    this.avg30mGhs = nominalGhs * this.rng.range(0.99, 1.01);
    const sharesPerS = this.sharesPerSecond(nominalGhs);
    this.accepted = Math.floor(sharesPerS * uptimeS);
    this.rejected = Math.floor(this.accepted * this.rng.range(0.0005, 0.003));
    this.boardHw = [];
    this.boardAccepted = [];
    this.boardTempOffset = [];
    for (let b = 0; b < this.profile.boards; b++) {
      this.boardHw.push(Math.floor(uptimeS * HW_ERROR_RATE * this.rng.range(0.3, 1.2)));
      this.boardAccepted.push(Math.floor(this.accepted / this.profile.boards));
      this.boardTempOffset.push(this.rng.range(-3, 4));
    }
  }

  get id(): string {
    return this.spec.id;
  }

  /** What serial numbers, MAC and DNA derive from: the id, changed by a `swap` fault (another machine in the slot). */
  get identityKey(): string {
    const swaps = this.faults?.swaps ?? 0;
    return swaps === 0 ? this.spec.id : `${this.spec.id}#${swaps}`;
  }

  /** The firmware version the unit reports: a `firmwareChange` fault's, else the profile's own (`stock`). */
  versionOr(stock: string): string {
    return this.faults?.firmwareVersion ?? stock;
  }

  /** The credential a client must present on one API right now. */
  credential(kind: ApiAuthKind): ApiCredential {
    const configured = this.credentials[kind];
    const changed = this.faults?.changedPassword;
    return changed ? { ...configured, password: changed } : configured;
  }

  /** Firmware error codes the unit reports now: injected ones, plus its PSU code while the PSU is failed. */
  firmwareErrors(): ActiveFaults['firmwareErrors'] {
    const f = this.faults;
    if (!f) return [];
    const list = [...f.firmwareErrors];
    const psuCode = f.psuFault ? psuFaultCode(this.profile) : undefined;
    if (psuCode && !list.some((e) => e.code === psuCode)) list.push({ code: psuCode, reason: undefined, subsystem: undefined, sinceMs: f.psuSinceMs });
    return list;
  }

  setIntake(source: IntakeSource): void {
    this.intake = source;
    this.cached = undefined;
  }

  /** False while the miner should refuse connections (offline fault, or the down phase of a reboot). */
  isReachable(nowMs = this.clock()): boolean {
    const f = this.faults;
    return !f || (!f.offline && nowMs >= f.downUntilMs);
  }

  /** Until when a reboot keeps the API down (0 when not rebooting). */
  downUntilMs(): number {
    return this.faults?.downUntilMs ?? 0;
  }

  activeFaults(): ActiveFaults {
    const f = this.faults;
    if (!f) return healthyFaults(this.profile.boards);
    const { downUntilMs: _down, psuSinceMs: _psu, ...active } = f;
    return {
      ...active,
      stoppedFans: [...f.stoppedFans],
      deadChips: [...f.deadChips],
      missingChips: [...f.missingChips],
      droppedBoards: [...f.droppedBoards],
      firmwareErrors: f.firmwareErrors.map((e) => ({ ...e })),
      poolHijack: f.poolHijack ? { ...f.poolHijack } : null,
    };
  }

  /** Validates and applies one fault request. Throws FaultError when it does not fit this miner. */
  applyFault(request: FaultRequest): void {
    const parsed = faultRequestSchema.safeParse(request);
    if (!parsed.success) throw new FaultError(`invalid fault request for miner ${this.id}: ${parsed.error.message}`);
    const req = parsed.data;
    const p = this.profile;
    const now = this.clock();
    this.advance(now);
    const wasReachable = this.isReachable(now);
    if (req.fault === 'clear') {
      this.faults = undefined;
    } else {
      const f = (this.faults ??= { ...healthyFaults(p.boards), downUntilMs: 0, psuSinceMs: 0 });
      switch (req.fault) {
        case 'stopFan':
          if (req.index >= p.fans) throw new FaultError(`miner ${this.id} (${p.model}) has ${p.fans} fan(s); no fan index ${req.index}`);
          if (!f.stoppedFans.includes(req.index)) f.stoppedFans.push(req.index);
          break;
        case 'killChips': {
          this.checkBoard(req.board);
          const alreadyGone = (f.deadChips[req.board] ?? 0) + (f.missingChips[req.board] ?? 0);
          const count = Math.min(req.count, p.chipsPerBoard - alreadyGone);
          const target = req.missing ? f.missingChips : f.deadChips;
          target[req.board] = (target[req.board] ?? 0) + count;
          break;
        }
        case 'dropBoard':
          this.checkBoard(req.board);
          if (!f.droppedBoards.includes(req.board)) f.droppedBoards.push(req.board);
          break;
        case 'sleep':
          if (req.on && !p.supportsSleep) throw new FaultError(`miner ${this.id}: ${p.model} on ${p.firmware} firmware has no sleep mode the simulator knows how to show`);
          f.sleep = req.on;
          break;
        case 'overheat':
        case 'offline':
        case 'hang':
        case 'poolsDead':
          f[req.fault] = req.on;
          break;
        case 'slow':
          f.slowMs = req.ms;
          break;
        case 'garbage':
          f.garbage = req.kind === 'off' ? null : req.kind;
          break;
        case 'reboot':
          this.reboot(now, req.downSeconds, req.warmupSeconds);
          f.downUntilMs = now + req.downSeconds * 1000;
          break;
        case 'firmwareError':
          checkFirmwareErrorCode(p, req.code, this.id);
          f.firmwareErrors = f.firmwareErrors.filter((e) => e.code !== req.code);
          if (req.on) f.firmwareErrors.push({ code: req.code, reason: req.reason, subsystem: req.subsystem, sinceMs: now });
          break;
        case 'psuFault':
          if (req.on && !f.psuFault) f.psuSinceMs = now;
          f.psuFault = req.on;
          break;
        case 'authChange':
          if (!p.api) throw new FaultError(`miner ${this.id} (${p.id}) speaks only the CGMiner API, which has no password`);
          // Random by default, so a test cannot guess it; it is reported by GET /miners for debugging.
          f.changedPassword = req.on ? (req.password ?? randomBytes(9).toString('base64url')) : null;
          break;
        case 'hostile':
          if (req.mode !== 'off') checkHostileMode(p, req.mode, this.id);
          f.hostile = req.mode === 'off' ? null : req.mode;
          break;
        case 'poolHijack':
          f.poolHijack = req.on
            ? { url: req.url ?? 'stratum+tcp://hashrate.thief.example:3333', worker: req.worker ?? `thief.${this.id}`, all: req.all }
            : null;
          break;
        case 'firmwareChange':
          f.firmwareVersion = req.version;
          break;
        case 'swap':
          f.swaps += 1;
          break;
      }
    }
    this.cached = undefined;
    if (wasReachable !== this.isReachable(now) || req.fault === 'reboot') this.onReachabilityChange?.();
  }

  // ---- The write path (issue 14): what each protocol's write commands do to the unit. The protocol servers check
  // authentication and the firmware's own refusals; these only change state, and record the write.

  /** The state the write path has set. */
  commandedState(): Readonly<CommandedState> {
    return { ...this.commanded, pools: this.commanded.pools?.map((p) => ({ ...p })) ?? null };
  }

  /** The writes this unit accepted, oldest first (at most the newest 256). */
  writes(): readonly SimWrite[] {
    return this.writeLog;
  }

  private recordWrite(api: string, action: string): void {
    const now = this.clock();
    this.advance(now);
    this.writeLog.push({ atMs: now, api, action });
    if (this.writeLog.length > MAX_WRITE_LOG) this.writeLog.shift();
    this.cached = undefined;
  }

  /** Sleep: boards stop, fans idle, about 15 W. A no-op when asleep already (the firmware answers success too). */
  commandSleep(api: string): void {
    this.recordWrite(api, 'sleep');
    this.commanded.sleeping = true;
  }

  /** Wake: the boards re-initialize (mode `booting`) for WAKE_WARMUP_SECONDS, then hash. */
  commandWake(api: string): void {
    this.recordWrite(api, 'wake');
    if (!this.commanded.sleeping) return;
    this.commanded.sleeping = false;
    this.warmupUntilMs = Math.max(this.warmupUntilMs, this.clock() + WAKE_WARMUP_SECONDS * 1000);
  }

  /** Reboot: the API goes away for a while, uptime restarts, then a warm-up. A sleeping unit wakes as it boots. */
  commandReboot(api: string): void {
    this.recordWrite(api, 'reboot');
    const now = this.clock();
    const wasReachable = this.isReachable(now);
    this.reboot(now, COMMANDED_REBOOT.downSeconds, COMMANDED_REBOOT.warmupSeconds);
    const f = (this.faults ??= { ...healthyFaults(this.profile.boards), downUntilMs: 0, psuSinceMs: 0 });
    f.downUntilMs = now + COMMANDED_REBOOT.downSeconds * 1000;
    // A hang is what a reboot cures; hardware faults stay.
    f.hang = false;
    this.commanded.sleeping = false;
    this.cached = undefined;
    if (wasReachable || !this.isReachable(now)) this.onReachabilityChange?.();
  }

  commandWorkMode(api: string, mode: SimWorkMode): void {
    this.recordWrite(api, `work mode ${mode}`);
    this.commanded.workMode = mode;
    this.commanded.powerTargetW = null;
  }

  /** A power target in watts, clamped by the caller's firmware rules; out of POWER_TARGET_RANGE is an error. */
  commandPowerTarget(api: string, watts: number): void {
    const { minW, maxW } = this.powerTargetLimits();
    if (!(watts >= minW && watts <= maxW)) throw new FaultError(`miner ${this.id}: power target ${watts} W outside ${minW}-${maxW} W`);
    this.recordWrite(api, `power target ${Math.round(watts)} W`);
    this.commanded.powerTargetW = Math.round(watts);
  }

  /** The power targets this unit accepts, in whole watts. */
  powerTargetLimits(): { minW: number; maxW: number } {
    const typical = this.profile.typicalPowerW;
    return { minW: Math.ceil(typical * POWER_TARGET_RANGE.min), maxW: Math.floor(typical * POWER_TARGET_RANGE.max) };
  }

  commandPools(api: string, pools: readonly { url: string; user: string }[]): void {
    if (pools.length === 0 || pools.length > 3) throw new FaultError(`miner ${this.id}: 1 to 3 pools, ${pools.length} given`);
    this.recordWrite(api, `pools ${pools.map((p) => p.url).join(' ')}`);
    this.commanded.pools = pools.map((p) => ({ url: p.url, user: p.user }));
    this.commanded.activePool = 0;
  }

  commandSwitchPool(api: string, index: number): void {
    const count = this.commanded.pools?.length ?? SIM_POOL_URLS.length;
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new FaultError(`miner ${this.id}: no pool ${index} (it has ${count})`);
    this.recordWrite(api, `switch pool ${index}`);
    this.commanded.activePool = index;
  }

  commandBlink(api: string, on: boolean): void {
    this.recordWrite(api, on ? 'blink on' : 'blink off');
    this.commanded.blinking = on;
  }

  /** Share of typical power the boards draw at full load under the commanded mode or target. */
  private powerShare(): number {
    const c = this.commanded;
    if (c.powerTargetW !== null) return clamp(c.powerTargetW / this.profile.typicalPowerW, POWER_TARGET_RANGE.min, POWER_TARGET_RANGE.max);
    return WORK_MODE_POWER[c.workMode];
  }

  private checkBoard(board: number): void {
    if (board >= this.profile.boards) {
      throw new FaultError(`miner ${this.id} (${this.profile.model}) has ${this.profile.boards} hashboards; no board index ${board}`);
    }
  }

  private reboot(now: number, downSeconds: number, warmupSeconds: number): void {
    this.bootMs = now + downSeconds * 1000;
    this.warmupUntilMs = this.bootMs + warmupSeconds * 1000;
    this.lastMs = now;
    this.hashedGh = 0;
    this.avg30mGhs = 0;
    this.accepted = 0;
    this.rejected = 0;
    this.boardHw.fill(0);
    this.boardAccepted.fill(0);
  }

  private sharesPerSecond(rateGhs: number): number {
    return (rateGhs * 1e9) / (this.poolDifficulty() * 2 ** 32);
  }

  private poolDifficulty(): number {
    return this.profile.nominalThs < 30 ? POOL_DIFFICULTY_SMALL : POOL_DIFFICULTY_LARGE;
  }

  /** The miner as its firmware would report it now. */
  read(nowMs = this.clock()): MinerReading {
    const cached = this.cached;
    if (cached && nowMs >= cached.nowMs && nowMs - cached.nowMs < READING_TTL_MS) return cached;
    const reading = this.advance(nowMs);
    this.cached = reading;
    return reading;
  }

  private modeAt(nowMs: number): SimMode {
    const f = this.faults;
    if (f?.sleep || this.commanded.sleeping) return 'sleeping';
    if (f?.overheat) return 'overheated';
    if (nowMs < this.warmupUntilMs) return 'booting';
    if (f?.poolsDead || f?.psuFault) return 'no-work';
    return 'hashing';
  }

  /** Integrates counters from the last look up to now and builds a fresh reading. */
  private advance(nowMs: number): MinerReading {
    const p = this.profile;
    const f = this.faults;
    const rng = this.rng;
    const dtS = Math.max(0, (nowMs - this.lastMs) / 1000);
    this.lastMs = Math.max(this.lastMs, nowMs);
    const mode = this.modeAt(nowMs);
    const hashing = mode === 'hashing';
    const intakeC = this.intake.intakeC(nowMs);
    const powerShare = this.powerShare();
    const idealGhs = ((p.nominalThs * 1000) / p.boards) * powerShare ** RATE_EXPONENT;

    const stoppedFans = f?.stoppedFans.length ?? 0;
    let fanPercent: number;
    if (p.fans === 0) fanPercent = 0;
    else if (mode === 'sleeping') fanPercent = 10;
    else if (mode === 'overheated' || stoppedFans > 0) fanPercent = 100;
    else fanPercent = clamp(35 + (intakeC - 10) * 2.2, 25, 100);

    const boards: BoardReading[] = [];
    let rateGhs = 0;
    let presentBoards = 0;
    for (let b = 0; b < p.boards; b++) {
      const present = !f?.droppedBoards.includes(b);
      const missing = f?.missingChips[b] ?? 0;
      const dead = f?.deadChips[b] ?? 0;
      const chipsFound = present ? p.chipsPerBoard - missing : 0;
      const healthyShare = (p.chipsPerBoard - missing - dead) / p.chipsPerBoard;
      const boardRate = present && hashing ? idealGhs * healthyShare * (1 + 0.012 * rng.gauss()) : 0;
      rateGhs += boardRate;
      if (present) presentBoards++;
      const load = boardRate / idealGhs;
      const offset = this.boardTempOffset[b] ?? 0;
      let boardTempC: number;
      let chipTempC: number;
      let inletTempC = 0;
      let outletTempC = 0;
      if (p.cooling === 'hydro') {
        inletTempC = intakeC + 0.3 * rng.gauss();
        // Heat follows the power the write path allows (a lower target or mode runs cooler).
        outletTempC = inletTempC + 9 * load * powerShare + 0.3 * rng.gauss();
        boardTempC = outletTempC + 4 * load + offset * 0.5;
        chipTempC = outletTempC + 14 * load + offset;
      } else {
        // Less airflow (lower fan duty, stopped fans) means a larger rise over intake.
        const airflow = Math.max(0.15, (fanPercent / 100) * (1 - stoppedFans / Math.max(1, p.fans)));
        const rise = 38 * load * powerShare * (1.3 - 0.5 * airflow) + 3;
        boardTempC = intakeC + rise + offset + 0.6 * rng.gauss();
        chipTempC = boardTempC + 5 + 6 * load + 0.6 * rng.gauss();
      }
      if (mode === 'overheated') {
        boardTempC = Math.max(boardTempC, 88 + offset + rng.gauss());
        chipTempC = boardTempC + 6;
      }
      if (!present) {
        boardTempC = 0;
        chipTempC = 0;
      }
      // Counters keep growing only while the board hashes; a board with dead chips throws more hw errors.
      const hwRate = HW_ERROR_RATE * (1 + dead * 2) * (0.5 + rng.next());
      if (boardRate > 0) this.boardHw[b] = (this.boardHw[b] ?? 0) + hwRate * dtS;
      const boardShares = this.sharesPerSecond(boardRate) * dtS;
      this.boardAccepted[b] = (this.boardAccepted[b] ?? 0) + boardShares;
      boards.push({
        present,
        chipsFound,
        chipsBad: present ? dead : 0,
        rateGhs: boardRate,
        idealGhs: present ? idealGhs : 0,
        boardTempC,
        chipTempC,
        inletTempC,
        outletTempC,
        hwErrors: Math.floor(this.boardHw[b] ?? 0),
        accepted: Math.floor(this.boardAccepted[b] ?? 0),
        frequencyMhz: present ? p.frequencyMhz : 0,
        powerW: present ? ((p.typicalPowerW * powerShare) / p.boards) * (0.08 + 0.92 * load) : 0,
      });
    }

    const fansRpm: number[] = [];
    for (let i = 0; i < p.fans; i++) {
      const stopped = f?.stoppedFans.includes(i) ?? false;
      // Real tachometers read in steps of 60 rpm (two pulses per turn over a 1 s window).
      fansRpm.push(stopped ? 0 : Math.round(((fanPercent / 100) * p.maxFanRpm * (1 + 0.015 * rng.gauss())) / 60) * 60);
    }

    this.hashedGh += rateGhs * dtS;
    const alpha = 1 - Math.exp(-dtS / AVG_WINDOW_S);
    this.avg30mGhs += alpha * (rateGhs - this.avg30mGhs);
    const newShares = this.sharesPerSecond(rateGhs) * dtS;
    this.accepted += newShares;
    if (rng.chance(Math.min(1, newShares * 0.002))) this.rejected += 1;

    const uptimeS = Math.max(0, Math.floor((nowMs - this.bootMs) / 1000));
    const avgGhs = uptimeS > 0 ? this.hashedGh / uptimeS : 0;
    const accepted = Math.floor(this.accepted);
    const rejected = Math.floor(this.rejected);
    const difficulty = this.poolDifficulty();
    const fanPowerW = p.fans * 30 * (fanPercent / 100);
    const powerW = f?.psuFault
      ? 0
      : presentBoards === 0 || mode === 'sleeping'
        ? 15 + fanPowerW
        : 60 + fanPowerW + boards.reduce((sum, b) => sum + b.powerW, 0);
    const sharesPerS = this.sharesPerSecond(rateGhs);
    const poolsDead = f?.poolsDead ?? false;
    const hijack = f?.poolHijack;
    const configured = this.commanded.pools ?? SIM_POOL_URLS.map((url) => ({ url, user: simWorker(this.id) }));
    const activeIndex = Math.min(this.commanded.activePool, configured.length - 1);
    const pools: PoolReading[] = configured.map((pool, i) => ({
      url: hijack && (i === activeIndex || hijack.all) ? hijack.url : pool.url,
      user: hijack && (i === activeIndex || hijack.all) ? hijack.worker : pool.user,
      alive: !poolsDead,
      active: i === activeIndex && !poolsDead,
      accepted: i === activeIndex ? accepted : 0,
      rejected: i === activeIndex ? rejected : 0,
      stale: 0,
      getworks: i === activeIndex ? Math.floor(uptimeS / 30) : 2,
      difficulty: i === activeIndex && !poolsDead ? difficulty : 0,
      lastShareAgoS: i === activeIndex && sharesPerS > 0 ? Math.floor(rng.range(0, Math.min(60, 1 / sharesPerS))) : null,
    }));

    return {
      nowMs,
      uptimeS,
      mode,
      boards,
      fansRpm,
      fanPercent,
      intakeC,
      rateGhs,
      avgGhs,
      avg30mGhs: Math.max(0, this.avg30mGhs),
      idealGhs: idealGhs * presentBoards,
      accepted,
      rejected,
      stale: 0,
      hwErrors: boards.reduce((sum, b) => sum + b.hwErrors, 0),
      powerW,
      difficultyAccepted: accepted * difficulty,
      difficultyRejected: rejected * difficulty,
      bestShare: accepted > 0 ? Math.floor(difficulty * 1000 * (1 + (this.spec.id.length % 7))) : 0,
      pools,
    };
  }

  /**
   * Heat this miner puts into the container air and the air its fans move, estimated from mode and faults without
   * advancing the state (the climate model asks for every miner once a second).
   */
  airLoad(nowMs = this.clock()): { airHeatW: number; airflowKgS: number } {
    const p = this.profile;
    const f = this.faults;
    const mode = this.modeAt(nowMs);
    const boardsUp = p.boards - (f?.droppedBoards.length ?? 0);
    const powerW = mode === 'hashing' ? (p.typicalPowerW * this.powerShare() * boardsUp) / p.boards : mode === 'sleeping' ? 15 : p.typicalPowerW * 0.08;
    if (p.cooling === 'hydro') return { airHeatW: powerW * HYDRO_HEAT_TO_AIR, airflowKgS: 0 };
    const fansRunning = p.fans - (f?.stoppedFans.length ?? 0);
    return { airHeatW: powerW, airflowKgS: (AIRFLOW_PER_MINER_KG_S * fansRunning) / Math.max(1, p.fans) };
  }

  /** Key state for the control API and logs. */
  describe(nowMs = this.clock()): MinerDescription {
    const r = this.read(nowMs);
    return {
      id: this.id,
      host: this.spec.host,
      port: this.spec.port,
      profile: this.profile.id,
      model: this.profile.model,
      position: this.spec.position,
      reachable: this.isReachable(nowMs),
      mode: r.mode,
      hashrateThs: round(r.rateGhs / 1000, 3),
      maxChipTempC: round(Math.max(0, ...r.boards.map((b) => b.chipTempC)), 1),
      fansRpm: r.fansRpm,
      uptimeS: r.uptimeS,
      powerW: Math.round(r.powerW),
      commanded: this.commandedState(),
      // The changed password itself stays inside the simulator; the API says only that there is one.
      faults: { ...this.activeFaults(), changedPassword: this.faults?.changedPassword ? '(changed)' : null },
    };
  }
}

export interface MinerDescription {
  id: string;
  host: string;
  port: number;
  profile: ProfileId;
  model: string;
  position: Location;
  reachable: boolean;
  mode: SimMode;
  hashrateThs: number;
  maxChipTempC: number;
  fansRpm: number[];
  uptimeS: number;
  powerW: number;
  commanded: CommandedState;
  faults: ActiveFaults;
}

function healthyFaults(boards: number): ActiveFaults {
  return {
    stoppedFans: [],
    deadChips: new Array<number>(boards).fill(0),
    missingChips: new Array<number>(boards).fill(0),
    droppedBoards: [],
    overheat: false,
    sleep: false,
    offline: false,
    hang: false,
    poolsDead: false,
    slowMs: 0,
    garbage: null,
    firmwareErrors: [],
    psuFault: false,
    changedPassword: null,
    hostile: null,
    poolHijack: null,
    firmwareVersion: null,
    swaps: 0,
  };
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export function round(value: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(value * m) / m;
}
