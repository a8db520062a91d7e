/**
 * Farm model + panel size → where every container, rack and slot goes. All containers get boxes of one size
 * (the largest container's), in a grid whose column count is chosen to give the largest slots that fit: the
 * whole farm is always on screen, which is what a wall display needs.
 */
import type { ContainerModel, FarmModel, RackOrientation, SlotCell } from './types';

export interface LayoutSettings {
  containersPerRow: number;
  rackOrientation: RackOrientation;
  showLabels: boolean;
  tvMode: boolean;
}

export interface SlotBox {
  x: number;
  y: number;
  size: number;
  cell: SlotCell;
  container: string;
  rack: string;
  shelf: string;
}

export interface RackBox {
  x: number;
  y: number;
  w: number;
  h: number;
  name: string;
}

export interface ContainerBox {
  x: number;
  y: number;
  w: number;
  h: number;
  headerH: number;
  container: ContainerModel;
}

export interface FarmGeometry {
  width: number;
  height: number;
  /** Pitch of one slot (slot + gap), px. */
  cellPx: number;
  fontPx: number;
  columns: number;
  containers: ContainerBox[];
  racks: RackBox[];
  slots: SlotBox[];
  /** Each slot's x and y, in slot order: shared by the geometries of a farm whose shape stayed (see layoutFarm). */
  positions: Float64Array;
  /** What the layout was made for besides the farm's shape: a later farm of that shape keeps its places. */
  layoutKey: string;
}

/** Gap between slots and between racks, in slots. */
const SLOT_GAP = 0.15;
const RACK_GAP = 0.8;
const PAD = 0.5;

/**
 * previous: the geometry of the last farm shown. When the new farm has its shape (the same containers, racks,
 * shelves and slots in the same order, as FarmBuilder's patched farms have), every box stays where it was and only
 * boxes whose cell or container changed are new objects: a refresh then costs no layout.
 */
export function layoutFarm(farm: FarmModel, settings: LayoutSettings, width: number, height: number, previous?: FarmGeometry): FarmGeometry {
  const layoutKey = `${width}|${height}|${settings.containersPerRow}|${settings.rackOrientation}|${settings.showLabels}|${settings.tvMode}`;
  if (previous?.layoutKey === layoutKey) {
    const kept = keepPlaces(previous, farm);
    if (kept) return kept;
  }
  const fontPx = settings.tvMode ? Math.max(18, Math.round(Math.min(width, height) / 40)) : 12;
  const empty: FarmGeometry = { width, height, cellPx: 0, fontPx, columns: 0, containers: [], racks: [], slots: [], positions: new Float64Array(0), layoutKey };
  const count = farm.containers.length;
  if (count === 0) return empty;

  const racksMax = Math.max(...farm.containers.map((c) => c.racks.length), 1);
  const shelvesMax = Math.max(...farm.containers.flatMap((c) => c.racks.map((r) => r.shelves.length)), 1);
  const slotsMax = Math.max(...farm.containers.flatMap((c) => c.racks.flatMap((r) => r.shelves.map((s) => s.slots.length))), 1);
  const vertical = settings.rackOrientation === 'vertical';
  // Vertical racks: shelves are rows, slots run across; horizontal racks: shelves are columns, slots run down.
  const rackCols = vertical ? slotsMax : shelvesMax;
  const rackRows = vertical ? shelvesMax : slotsMax;
  const racksAcross = vertical ? racksMax : 1;
  const racksDown = vertical ? 1 : racksMax;
  const unitsW = racksAcross * rackCols + (racksAcross - 1) * RACK_GAP + 2 * PAD;
  const unitsH = racksDown * rackRows + (racksDown - 1) * RACK_GAP + 2 * PAD;
  const headerH = Math.round(fontPx * 1.7);
  const rackLabelH = settings.showLabels ? Math.round(fontPx * 1.3) : 0;
  const gapPx = settings.tvMode ? 16 : 8;
  const fixedH = headerH + racksDown * rackLabelH;
  const maxCell = settings.tvMode ? 160 : 48;

  const cellFor = (columns: number) => {
    const rows = Math.ceil(count / columns);
    const byWidth = (width - (columns - 1) * gapPx) / (columns * unitsW);
    const byHeight = (height - (rows - 1) * gapPx - rows * fixedH) / (rows * unitsH);
    return Math.min(byWidth, byHeight, maxCell);
  };
  let columns = Math.min(Math.max(1, Math.round(settings.containersPerRow)), count);
  if (settings.containersPerRow <= 0) {
    columns = 1;
    for (let c = 2; c <= count; c++) if (cellFor(c) > cellFor(columns)) columns = c;
  }
  const cellPx = Math.max(1, Math.floor(cellFor(columns) * 10) / 10);
  // Slots on whole pixels, all of one size, at least a pixel apart where the cell allows: the canvas fills them
  // without anti-aliased edges (crisper on the wall, and cheaper for chromium's software rasteriser to replay).
  const slotPx = Math.max(1, Math.min(Math.round(cellPx * (1 - SLOT_GAP)), Math.floor(cellPx) - (cellPx >= 2 ? 1 : 0)));
  const boxW = unitsW * cellPx;
  const boxH = unitsH * cellPx + fixedH;

  const geometry: FarmGeometry = { ...empty, cellPx, columns };
  farm.containers.forEach((container, index) => {
    const x0 = (index % columns) * (boxW + gapPx);
    const y0 = Math.floor(index / columns) * (boxH + gapPx);
    geometry.containers.push({ x: x0, y: y0, w: boxW, h: boxH, headerH, container });
    container.racks.forEach((rack, r) => {
      const rx = x0 + PAD * cellPx + (vertical ? r * (rackCols + RACK_GAP) * cellPx : 0);
      const ry = y0 + headerH + PAD * cellPx + (vertical ? 0 : r * (rackRows + RACK_GAP) * cellPx + r * rackLabelH) + rackLabelH;
      geometry.racks.push({ x: rx, y: ry - rackLabelH, w: rackCols * cellPx, h: rackRows * cellPx + rackLabelH, name: rack.name });
      rack.shelves.forEach((shelf, s) => {
        shelf.slots.forEach((cell, i) => {
          const col = vertical ? i : s;
          const row = vertical ? s : i;
          geometry.slots.push({ x: Math.round(rx + col * cellPx), y: Math.round(ry + row * cellPx), size: slotPx, cell, container: container.name, rack: rack.name, shelf: shelf.name });
        });
      });
    });
  });
  geometry.positions = new Float64Array(geometry.slots.length * 2);
  geometry.slots.forEach((box, i) => {
    geometry.positions[2 * i] = box.x;
    geometry.positions[2 * i + 1] = box.y;
  });
  return geometry;
}

/** The previous geometry with the farm's cells and containers in its boxes, or undefined when the shape differs. */
function keepPlaces(previous: FarmGeometry, farm: FarmModel): FarmGeometry | undefined {
  if (farm.containers.length !== previous.containers.length) return undefined;
  const slots = previous.slots.slice();
  let i = 0;
  let r = 0;
  for (const [c, container] of farm.containers.entries()) {
    if (previous.containers[c]!.container.name !== container.name) return undefined;
    for (const rack of container.racks) {
      if (previous.racks[r++]?.name !== rack.name) return undefined;
      for (const shelf of rack.shelves) {
        for (const cell of shelf.slots) {
          const box = slots[i];
          if (!box || box.cell.slot !== cell.slot || box.shelf !== shelf.name || box.rack !== rack.name || box.container !== container.name) return undefined;
          if (box.cell !== cell) slots[i] = { ...box, cell };
          i++;
        }
      }
    }
  }
  if (i !== slots.length || r !== previous.racks.length) return undefined;
  const containers = previous.containers.map((box, c) => (box.container === farm.containers[c] ? box : { ...box, container: farm.containers[c]! }));
  return { ...previous, containers, slots };
}

/** The slot under a point, if any (a linear scan: 5,000 slots take microseconds, and it runs on pointer moves only). */
export function slotAt(geometry: FarmGeometry, x: number, y: number): SlotBox | undefined {
  for (const box of geometry.slots) {
    if (x >= box.x && x < box.x + box.size && y >= box.y && y < box.y + box.size) return box;
  }
  return undefined;
}
