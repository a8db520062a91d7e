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
  return names.map((name) => slotCell(name, slots.get(name), settings, containerSilent));
}

function slotCell(name: string, reading: MinerReading | undefined, settings: FarmBuildSettings, containerSilent: boolean): SlotCell {
  const state = slotState(reading, settings.metric, settings, containerSilent);
  const cell: SlotCell = { slot: name, state };
  if (reading) cell.reading = reading;
  if (reading && LIVE_STATES.has(state)) {
    const value = metricValue(reading, settings.metric);
    if (value !== undefined) cell.value = value;
  }
  return cell;
}

/** Where a reading's cell is in the farm: indexes of container, rack, shelf and slot. */
type CellPlace = readonly [number, number, number, number];

interface BuiltFarm {
  farm: FarmModel;
  readings: readonly MinerReading[];
  /** The cell of each reading, by index; undefined when some reading has none (two miners claimed one slot). */
  places: CellPlace[] | undefined;
  settingsKey: string;
  /** Climates and silences: the parts of a farm besides its slots. */
  contextKey: string;
}

/**
 * Builds farms one refresh after the other, keeping the last. When the new readings have the last ones' shape (the
 * same miners in the same places in the same order, the same climates and silences), the last farm is patched: each
 * slot's state is judged again (staleness moves with the clock), and only cells whose reading or state changed are
 * new objects, in new shelves, racks and containers; everything else is the last farm's own. A wall refresh
 * changes a few slots of thousands, and the paint and the attention list can tell unchanged cells by identity.
 */
export class FarmBuilder {
  private last: BuiltFarm | undefined;

  build(readings: readonly MinerReading[], climates: readonly ContainerClimate[], settings: FarmBuildSettings, heartbeats: readonly ContainerHeartbeat[] = []): FarmModel {
    const settingsKey = `${settings.metric}|${settings.staleAfterMs}|${settings.slotsPerShelf}`;
    const contextKey = JSON.stringify([[...containerSilences(heartbeats, settings.now)], climates]);
    const last = this.last;
    if (last?.places && last.settingsKey === settingsKey && last.contextKey === contextKey && samePlaces(last.readings, readings)) {
      const farm = patchFarm(last.farm, last.readings, readings, last.places, settings);
      this.last = { ...last, farm, readings };
      return farm;
    }
    const farm = buildFarm(readings, climates, settings, heartbeats);
    this.last = { farm, readings, places: placesOf(farm, readings), settingsKey, contextKey };
    return farm;
  }
}

function samePlaces(a: readonly MinerReading[], b: readonly MinerReading[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.slot !== y.slot || x.shelf !== y.shelf || x.rack !== y.rack || x.container !== y.container || x.site !== y.site) return false;
  }
  return true;
}

function placesOf(farm: FarmModel, readings: readonly MinerReading[]): CellPlace[] | undefined {
  const placeOf = new Map<MinerReading, CellPlace>();
  farm.containers.forEach((c, ci) => c.racks.forEach((r, ri) => r.shelves.forEach((s, si) => s.slots.forEach((cell, k) => cell.reading && placeOf.set(cell.reading, [ci, ri, si, k])))));
  const places: CellPlace[] = [];
  for (const reading of readings) {
    const place = placeOf.get(reading);
    if (!place) return undefined;
    places.push(place);
  }
  return places;
}

/** The fields sameReading compares (the place is compared by samePlaces); the check below fails to compile when MinerReading gains one. */
type ComparedField = 'site' | 'container' | 'rack' | 'shelf' | 'slot' | 'miner' | 'time' | 'model' | 'mode' | 'reachable' | 'tempMaxC' | 'hashrateThs' | 'nominalThs' | 'fanMinRpm' | 'powerW' | 'faults';
const everyFieldCompared: [Exclude<keyof MinerReading, ComparedField>] extends [never] ? true : never = true;
void everyFieldCompared;

/** Field by field (written out: a loop over key names is several times slower here), and each fault's fields. */
function sameReading(a: MinerReading, b: MinerReading): boolean {
  if (a === b) return true;
  if (a.miner !== b.miner || a.time !== b.time || a.reachable !== b.reachable || a.tempMaxC !== b.tempMaxC || a.hashrateThs !== b.hashrateThs) return false;
  if (a.nominalThs !== b.nominalThs || a.fanMinRpm !== b.fanMinRpm || a.powerW !== b.powerW || a.model !== b.model || a.mode !== b.mode) return false;
  if (a.faults.length !== b.faults.length) return false;
  for (let i = 0; i < a.faults.length; i++) {
    const f = a.faults[i]!;
    const g = b.faults[i]!;
    if (f.code !== g.code || f.severity !== g.severity || f.part !== g.part || f.message !== g.message || f.since !== g.since) return false;
  }
  return true;
}

function patchFarm(farm: FarmModel, previous: readonly MinerReading[], readings: readonly MinerReading[], places: readonly CellPlace[], settings: FarmBuildSettings): FarmModel {
  let containers: ContainerModel[] | undefined;
  for (let i = 0; i < readings.length; i++) {
    const [ci, ri, si, k] = places[i]!;
    const container = farm.containers[ci]!;
    const old = container.racks[ri]!.shelves[si]!.slots[k]!;
    const reading = readings[i]!;
    if (sameReading(previous[i]!, reading) && slotState(reading, settings.metric, settings, container.silent !== undefined) === old.state) continue;
    const cell = slotCell(old.slot, reading, settings, container.silent !== undefined);
    // Copy the path from the farm down to this cell, once per refresh for each container, rack and shelf (a part
    // that is still the last farm's own object has not been copied yet).
    containers ??= farm.containers.slice();
    if (containers[ci] === container) containers[ci] = { ...container, racks: container.racks.slice() };
    const racks = containers[ci]!.racks;
    if (racks[ri] === container.racks[ri]) racks[ri] = { ...racks[ri]!, shelves: racks[ri]!.shelves.slice() };
    const shelves = racks[ri]!.shelves;
    if (shelves[si] === container.racks[ri]!.shelves[si]) shelves[si] = { ...shelves[si]!, slots: shelves[si]!.slots.slice() };
    shelves[si]!.slots[k] = cell;
  }
  return containers ? { ...farm, containers } : farm;
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
