/**
 * The normalized miner sample: what every vendor dialect turns its replies into.
 * Everything downstream (InfluxDB writer, health checks, alerting, billing) reads only this shape.
 *
 * Conventions: hashrate in TH/s, temperatures in °C, power in W, times in ms since the Unix epoch.
 * A field is `undefined` when the firmware does not report it: never 0 as a stand-in for "unknown".
 */

export type Vendor = 'antminer' | 'braiins' | 'whatsminer' | 'avalon';

/** The firmware family decides how replies are read (one dialect module per family). */
export type FirmwareFamily =
  | 'antminer-stock'
  | 'hiveon'
  | 'vnish'
  | 'luxos'
  | 'braiins-os'
  | 'whatsminer'
  | 'avalon'
  | 'epic';

/**
 * The wire protocol a miner is read over (one transport each): the CGMiner-style JSON API on TCP 4028, Whatsminer
 * API v3 (length-prefixed JSON on TCP 4433), the Antminer web CGI (HTTP digest), Braiins OS REST (token), the ePIC
 * HTTP API on 4028, the VNish HTTP API (token).
 */
export const MINER_PROTOCOLS = ['cgminer', 'whatsminer-v3', 'antminer-web', 'braiins-rest', 'epic', 'vnish'] as const;
export type MinerProtocol = (typeof MINER_PROTOCOLS)[number];

/** The port each protocol listens on unless the inventory says otherwise. */
export const DEFAULT_PROTOCOL_PORTS: Readonly<Record<MinerProtocol, number>> = {
  cgminer: 4028,
  'whatsminer-v3': 4433,
  'antminer-web': 80,
  'braiins-rest': 80,
  epic: 4028,
  vnish: 80,
};

/** hashing: producing hashes. sleeping: curtailed on purpose. idle: not hashing, no reason known. booting: not yet up. */
export type MinerMode = 'hashing' | 'sleeping' | 'booting' | 'idle';

export interface BoardSample {
  /** Index as the firmware numbers the chain (0-, 1- or 6-based, see QUIRKS §8). */
  index: number;
  /** false when the firmware reports the slot but no board answers in it (chain_acn 0, empty chain rate). */
  present: boolean;
  hashrateThs?: number;
  /** Chips the firmware found on the chain. */
  chipsFound?: number;
  /** Chips reported healthy ('o'). */
  chipsOk?: number;
  /** Chips reported faulty ('x'); only trusted while the board hashes. */
  chipsBad?: number;
  boardTempC?: number;
  chipTempC?: number;
  /** Inlet/outlet water temperature on hydro units, where reported. */
  inletTempC?: number;
  outletTempC?: number;
  hwErrors?: number;
  frequencyMhz?: number;
  voltageV?: number;
  powerW?: number;
  /** The board's serial number (PCB / hashboard SN), as the firmware gives it. */
  serial?: string;
}

/** Power supply figures, where the firmware reports them (Whatsminer v3 `power`, Braiins `psu_info`, ePIC). */
export interface PsuSample {
  model?: string;
  serial?: string;
  firmwareVersion?: string;
  inputVoltageV?: number;
  outputVoltageV?: number;
  inputCurrentA?: number;
  outputCurrentA?: number;
  inputPowerW?: number;
  outputPowerW?: number;
  fanRpm?: number;
}

/** Water loop of a hydro unit, where the firmware reports it. */
export interface WaterSample {
  inletTempC?: number;
  outletTempC?: number;
  /** Litres per minute. */
  flowLpm?: number;
}

/**
 * One error the firmware reports about itself, kept as it gave it: `code` verbatim (a Whatsminer number, a Braiins
 * "V2", an Antminer status type), `text` its reason or message. Health maps known codes to stable faults; unknown
 * codes stay visible as FIRMWARE_ERROR.
 */
export interface FirmwareErrorSample {
  code: string;
  text: string;
  /** The part it concerns as the firmware names it ("hashboard 1", "fan 0", "psu"), when it does. */
  component?: string;
  /** 'warning' when the firmware says so (Antminer `w`); errors otherwise. */
  level?: 'error' | 'warning';
  /** ms since epoch the firmware logged it, when it gives a time. */
  time?: number;
}

export interface FanSample {
  index: number;
  rpm: number;
  /** Speed as a percentage of maximum, where reported. */
  percent?: number;
}

export type PoolStatus = 'alive' | 'dead' | 'disabled' | 'unknown';

export interface PoolSample {
  index: number;
  url: string;
  user: string;
  status: PoolStatus;
  /** True for the pool currently receiving work (stratum active / highest priority alive). */
  active: boolean;
  accepted?: number;
  rejected?: number;
  stale?: number;
  /** ms since epoch of the last accepted share, when the firmware gives a time. */
  lastShareTime?: number;
}

/** Why one command of a scrape failed; the rest of the scrape still counts. */
export interface CommandError {
  command: string;
  kind: 'status' | 'access-denied' | 'malformed' | 'timeout' | 'connection' | 'too-large';
  message: string;
}

export interface MinerSample {
  /** Scraper clock, ms since epoch (firmware `When` is not reliable, QUIRKS §4.6). */
  time: number;
  vendor: Vendor;
  firmware: FirmwareFamily;
  /** Free text firmware version, e.g. "BMMiner 2.0.0 / 16.8.1.3" or "20201202.22.REL". */
  firmwareVersion?: string;
  /** Model as the miner names it, e.g. "Antminer S19 Pro", "WhatsMiner M31S", "AvalonMiner 1047". */
  model?: string;
  mode: MinerMode;
  /** Short-window hashrate (5 s, or the shortest the firmware gives). */
  hashrateThs?: number;
  /** Average since start (lags, QUIRKS §10). */
  hashrateAvgThs?: number;
  /** Nominal/ideal hashrate the firmware reports (chain_rateideal, Factory GHS, Nominal MHS). */
  nominalThs?: number;
  boards: BoardSample[];
  fans: FanSample[];
  pools: PoolSample[];
  powerW?: number;
  /** J/TH, reported or derived from power and hashrate. */
  efficiencyJth?: number;
  uptimeS?: number;
  hwErrors?: number;
  /** Ambient/inlet air temperature the miner measures, where it does. */
  ambientTempC?: number;
  /** Protocol the sample was read over (absent in samples from before protocols were tracked: cgminer). */
  protocol?: MinerProtocol;
  /** The miner's serial number and MAC address as the firmware reports them. */
  serial?: string;
  mac?: string;
  /** Work mode as the firmware names it ("normal", "low", "sleep", "power-target"), where it has one. */
  workMode?: string;
  /** Power target the firmware tunes to, in W. */
  powerTargetW?: number;
  water?: WaterSample;
  psu?: PsuSample;
  /**
   * Sections the protocol does not report at all (VNish HTTP has no boards, fans or pools): their empty lists mean
   * "not read", so health judges nothing there, as for a section a failed command lost.
   */
  unreported?: Array<'boards' | 'fans' | 'pools'>;
  /** The firmware's own error codes, as given; absent when the API has none, [] when it reports none. */
  firmwareErrors?: FirmwareErrorSample[];
  /** Commands that failed; a non-empty list means a partial scrape, not zeros. */
  errors: CommandError[];
}

/** A reply the firmware gave for one command, after framing and JSON repair. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
