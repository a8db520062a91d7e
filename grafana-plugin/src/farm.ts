/** Miner readings → the site/container/rack/shelf/slot tree the panel draws, with each slot's state and value. */
import { containerSilences } from './silence';
import type {
  ContainerClimate,
  ContainerHeartbeat,
  ContainerModel,
  FarmModel,
  MinerReading,
  RackModel,
  ShelfModel,
  SlotCell,
  SlotMetric,
  SlotState,
} from './types';

export interface FarmBuildSettings {
  metric: SlotMetric;
  now: number;
  staleAfterMs: number;
  slotsPerShelf: number;
}

/** R2 before R10, slot 9 before slot 10. One shared collator: localeCompare with options builds one per call. */
const collator = new Intl.Collator('en', { numeric: true });
export const naturalOrder = (a: string, b: string): number => collator.compare(a, b);

/** health: 0 ok, 1 warning, 2 critical. */
export function metricValue(reading: MinerReading, metric: SlotMetric): number | undefined {
  switch (metric) {
    case 'temperature':
      return reading.tempMaxC;
    case 'hashrate':
      if (reading.hashrateThs === undefined || !reading.nominalThs) return undefined;
      return (reading.hashrateThs / reading.nominalThs) * 100;
    case 'fan':
      return reading.fanMinRpm;
    case 'power':
      return reading.powerW;
    case 'health':
      return worstSeverity(reading);
  }
}

function worstSeverity(reading: MinerReading): number {
  let worst = 0;
  for (const fault of reading.faults) {
    if (fault.severity === 'critical') return 2;
    if (fault.severity === 'warning') worst = 1;
  }
  return worst;
}

const isSleeping = (r: MinerReading) => r.mode === 'sleeping' || r.faults.some((f) => f.code === 'MINER_SLEEPING');

/**
 * Order matters: in a silent container nothing is current, whatever its last values said; a miner that stopped
 * answering is unreachable even though its last values still look fine.
 */
export function slotState(reading: MinerReading | undefined, metric: SlotMetric, settings: Pick<FarmBuildSettings, 'now' | 'staleAfterMs'>, containerSilent = false): SlotState {
  if (!reading) return 'empty';
  if (containerSilent) return 'silent';
  if (reading.reachable === false || reading.faults.some((f) => f.code === 'MINER_UNREACHABLE')) return 'unreachable';
  if (reading.time === undefined) return 'no-data';
  if (settings.now - reading.time > settings.staleAfterMs) return 'stale';
  if (isSleeping(reading)) return 'sleeping';
  if (metric !== 'health' && metricValue(reading, metric) === undefined) return 'no-data';
  const severity = worstSeverity(reading);
  return severity === 2 ? 'fault' : severity === 1 ? 'warning' : 'ok';
}

const LIVE_STATES: ReadonlySet<SlotState> = new Set(['ok', 'warning', 'fault']);

/** heartbeats: the newest edge_heartbeat per container and edge; none (a farm without edges) = no container is silent. */
export function buildFarm(
  readings: readonly MinerReading[],
  climates: readonly ContainerClimate[],
  settings: FarmBuildSettings,
  heartbeats: readonly ContainerHeartbeat[] = [],
): FarmModel {
  // container → rack → shelf → slot → reading
  const tree = new Map<string, Map<string, Map<string, Map<string, MinerReading>>>>();
  const sites = new Set<string>();
  const silences = containerSilences(heartbeats, settings.now);
  // A container silent for longer than the miner queries' window has no readings left: it still gets its box.
  for (const container of silences.keys()) getOrCreate(tree, container, () => new Map());
  for (const reading of readings) {
    sites.add(reading.site);
    const racks = getOrCreate(tree, reading.container, () => new Map());
    const shelves = getOrCreate(racks, reading.rack, () => new Map());
    const slots = getOrCreate(shelves, reading.shelf, () => new Map());
    const previous = slots.get(reading.slot);
    // Two miners claiming one slot (a move mid-window): the newer one is what stands there now.
    if (!previous || (reading.time ?? 0) >= (previous.time ?? 0)) slots.set(reading.slot, reading);
  }
  const climateByContainer = new Map(climates.map((c) => [c.container, c]));
  let slotCount = 0;
  const containers: ContainerModel[] = [...tree.keys()].sort(naturalOrder).map((containerName) => {
    const racks = tree.get(containerName)!;
    const silence = silences.get(containerName);
    const rackModels: RackModel[] = [...racks.keys()].sort(naturalOrder).map((rackName) => {
      const shelves = racks.get(rackName)!;
      const shelfModels: ShelfModel[] = [...shelves.keys()].sort(naturalOrder).map((shelfName) => {
        const cells = shelfCells(shelves.get(shelfName)!, settings, silence !== undefined);
        slotCount += cells.length;
        return { name: shelfName, slots: cells };
      });
      return { name: rackName, shelves: shelfModels };
    });
    const model: ContainerModel = { name: containerName, racks: rackModels };
    const climate = climateByContainer.get(containerName);
    if (climate) model.climate = climate;
    if (silence) model.silent = silence;
    return model;
  });
  return { sites: [...sites].sort(naturalOrder), containers, slotCount };
}

/** Numbered slots 1..N are laid out in place, gaps become empty slots; other slot names follow in order. */
function shelfCells(slots: Map<string, MinerReading>, settings: FarmBuildSettings, containerSilent: boolean): SlotCell[] {
  const numbered = [...slots.keys()].filter((s) => /^\d+$/.test(s)).map(Number);
  const highest = Math.max(settings.slotsPerShelf, ...numbered, 0);
  const names: string[] = [];
  for (let n = 1; n <= highest; n++) names.push(String(n));
  for (const name of [...slots.keys()].sort(naturalOrder)) if (!/^\d+$/.test(name) || Number(name) > highest || Number(name) < 1) names.push(name);
  return names.map((name) => {
    const reading = slots.get(name);
    const state = slotState(reading, settings.metric, settings, containerSilent);
    const cell: SlotCell = { slot: name, state };
    if (reading) cell.reading = reading;
    if (reading && LIVE_STATES.has(state)) {
      const value = metricValue(reading, settings.metric);
      if (value !== undefined) cell.value = value;
    }
    return cell;
  });
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/** The slot's link with its place filled in (values URL-encoded). */
export function slotLink(template: string, reading: MinerReading): string {
  if (!template) return '';
  return template.replace(/\{(miner|site|container|rack|shelf|slot)\}/g, (_, key: keyof MinerReading & string) =>
    encodeURIComponent(String(reading[key])),
  );
}
