/** The rack map's data model: what one miner slot reports, and what the panel draws from it. */
import type { EdgeHeartbeat } from '../../shared/src/edge';

export type SlotMetric = 'temperature' | 'hashrate' | 'health' | 'fan' | 'power';
export const SLOT_METRICS: readonly SlotMetric[] = ['temperature', 'hashrate', 'health', 'fan', 'power'];

export type FaultSeverity = 'critical' | 'warning' | 'info';

export interface ActiveFault {
  code: string;
  severity: FaultSeverity;
  part: string;
  message?: string;
  /** ms since epoch the fault was first seen in this episode (field since_ms), when the data has it. */
  since?: number;
}

/** The latest known values of one miner, keyed by its place in the farm (tags of docs/schema.md). */
export interface MinerReading {
  site: string;
  container: string;
  rack: string;
  shelf: string;
  slot: string;
  miner: string;
  /** ms since epoch of the newest point seen for this miner (any measurement). */
  time?: number;
  model?: string;
  mode?: string;
  /** From miner_up: false when the last scrape got no answer. */
  reachable?: boolean;
  tempMaxC?: number;
  hashrateThs?: number;
  nominalThs?: number;
  fanMinRpm?: number;
  powerW?: number;
  faults: ActiveFault[];
}

/** Container climate (measurement climate_container), when the climate exporter writes it. */
export interface ContainerClimate {
  container: string;
  intakeC?: number;
  exhaustC?: number;
}

/** The newest heartbeat of a container's edge (measurement edge_heartbeat, source miner): what silence is judged on. */
export type ContainerHeartbeat = Pick<EdgeHeartbeat, 'site' | 'container' | 'edge' | 'time' | 'intervalMs' | 'clockOffsetMs'>;

/** A container whose edge stopped sending heartbeats: nothing the map shows of it is current. */
export interface ContainerSilence {
  edge: string;
  /** Time of the newest heartbeat, on the center's clock when the edge measured its offset. */
  lastDataMs: number;
  /** now − lastDataMs. */
  silentForMs: number;
}

/**
 * What a slot shows. Every state that is not a live reading has its own colour and glyph, so a dead or silent
 * miner can never be mistaken for a healthy or a cool one.
 */
export type SlotState = 'ok' | 'warning' | 'fault' | 'sleeping' | 'stale' | 'unreachable' | 'no-data' | 'silent' | 'empty';

export interface SlotCell {
  slot: string;
  state: SlotState;
  /** The chosen metric's value (hashrate as % of nominal); undefined when the state is not a live reading. */
  value?: number;
  reading?: MinerReading;
}

export interface ShelfModel {
  name: string;
  slots: SlotCell[];
}

export interface RackModel {
  name: string;
  shelves: ShelfModel[];
}

export interface ContainerModel {
  name: string;
  racks: RackModel[];
  climate?: ContainerClimate;
  /** Set when the container's edge is silent: every slot of it is drawn silent, and it is one attention line. */
  silent?: ContainerSilence;
}

export interface FarmModel {
  sites: string[];
  containers: ContainerModel[];
  /** Slots drawn, empty ones included. */
  slotCount: number;
}

export type RackOrientation = 'vertical' | 'horizontal';
export type ColorSource = 'metric' | 'fieldConfig';

export interface RackMapOptions {
  metric: SlotMetric;
  /** 'metric': each metric's own scale; 'fieldConfig': the thresholds / colour scheme of the panel's field config. */
  colorSource: ColorSource;
  /** 0 = choose the count that gives the largest slots. */
  containersPerRow: number;
  rackOrientation: RackOrientation;
  showLabels: boolean;
  tvMode: boolean;
  /** A miner whose newest point is older than this is drawn as stale. */
  staleAfterSeconds: number;
  /** Slots per shelf to draw (missing ones are empty slots); 0 = the highest slot number seen on the shelf. */
  slotsPerShelf: number;
  /** Link of a slot, with {miner} {container} {rack} {shelf} {slot} {site} replaced; empty = no link. */
  detailUrl: string;
}

export const DEFAULT_OPTIONS: RackMapOptions = {
  metric: 'health',
  colorSource: 'metric',
  containersPerRow: 0,
  rackOrientation: 'vertical',
  showLabels: true,
  tvMode: false,
  staleAfterSeconds: 180,
  slotsPerShelf: 0,
  detailUrl: '/d/flymining-miner-detail/miner-detail?var-miner={miner}',
};
