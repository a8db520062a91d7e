import type { FirmwareFamily, MinerProtocol, Vendor } from '../sample';
import type { Location } from '../faults';
import type { PoolExpectation } from './pools';

export type Cooling = 'air' | 'hydro' | 'immersion';

/** Limits a miner is judged by; per-model defaults come from the model catalog, the inventory may override. */
export interface MinerThresholds {
  /** Chip temperature at or above which CHIP_OVERHEAT fires. */
  chipOverheatC: number;
  /** Board (PCB) temperature at or above which BOARD_OVERHEAT fires. */
  boardOverheatC: number;
  /** HASHRATE_LOW when the 5 s hashrate stays below this share of nominal ... */
  lowHashrateShare: number;
  /** ... for this many consecutive scrapes. */
  lowHashrateScrapes: number;
  /** A fan below this RPM while the miner hashes counts as stopped. */
  fanStoppedRpm: number;
}

/** One miner as the inventory describes it: what it is, where it stands, what it should report. */
export interface MinerSpec {
  /** Stable id, unique in the farm; default `<container>-<rack>-<shelf>-<slot>`. */
  id: string;
  host: string;
  port: number;
  /** Expected vendor/firmware; when absent the scraper detects it from the replies. */
  vendor?: Vendor;
  firmware?: FirmwareFamily;
  /** The machine's serial number and MAC, when staff list them: its repair history follows them across slots. */
  serial?: string;
  mac?: string;
  /** Pinned protocol and backend (`whatsminer/v3` …); `port` is the protocol's port. Detected when absent. */
  protocol?: MinerProtocol;
  backend?: string;
  /** Name of the credentials entry for its web/REST API (site, model or slot level); the secret lives elsewhere. */
  credentials?: string;
  /** The pools and workers it may hash on (site, container or slot level); none stated: pools are not judged. */
  expectedPools?: PoolExpectation;
  model: string;
  nominalThs: number;
  /** Fans the unit really has (0 for hydro/immersion). */
  fans: number;
  hashboards: number;
  chipsPerBoard: number;
  cooling: Cooling;
  thresholds: MinerThresholds;
  location: Location;
}

export const CLIMATE_POSITIONS = ['intake', 'exhaust', 'outside', 'damper', 'power', 'other'] as const;
/**
 * Security sensors (issue 15): a door/window contact, a motion detector (PIR), a vibration/tamper sensor, a smoke
 * detector, a water-leak sensor. The position says which condition the sensor's state means.
 */
export const SECURITY_POSITIONS = ['door', 'motion', 'tamper', 'smoke', 'leak'] as const;
export type SecurityPosition = (typeof SECURITY_POSITIONS)[number];
export type SensorPosition = (typeof CLIMATE_POSITIONS)[number] | SecurityPosition;

export function isSecurityPosition(p: string): p is SecurityPosition {
  return (SECURITY_POSITIONS as readonly string[]).includes(p);
}

/** A container sensor (climate or security); protocol details are read by the climate exporter. */
export interface SensorSpec {
  id: string;
  position: SensorPosition;
  protocol: 'mqtt' | 'http' | 'modbus';
  /** Protocol-specific settings (topic, url, register map ...), validated by the climate exporter. */
  settings: Record<string, unknown>;
}

export interface ContainerSpec {
  name: string;
  site: string;
  sensors: SensorSpec[];
  /** IPv4 range of its miners, scanned by scheduled discovery for devices the inventory does not list. */
  subnet?: string;
  /** Slots in this container, including empty ones (miner undefined). */
  slots: Array<{ location: Location; miner?: MinerSpec }>;
}

export interface Inventory {
  site: string;
  containers: ContainerSpec[];
  /** All miners, by id. */
  miners: Map<string, MinerSpec>;
  /** Where the inventory came from (file path), for messages. */
  source: string;
}
