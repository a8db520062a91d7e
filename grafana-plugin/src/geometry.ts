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
}

/** Gap between slots and between racks, in slots. */
const SLOT_GAP = 0.15;
const RACK_GAP = 0.8;
const PAD = 0.5;

export function layoutFarm(farm: FarmModel, settings: LayoutSettings, width: number, height: number): FarmGeometry {
  const fontPx = settings.tvMode ? Math.max(18, Math.round(Math.min(width, height) / 40)) : 12;
  const empty: FarmGeometry = { width, height, cellPx: 0, fontPx, columns: 0, containers: [], racks: [], slots: [] };
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
  const slotPx = Math.max(1, cellPx * (1 - SLOT_GAP));
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
          geometry.slots.push({ x: rx + col * cellPx, y: ry + row * cellPx, size: slotPx, cell, container: container.name, rack: rack.name, shelf: shelf.name });
        });
      });
    });
  });
  return geometry;
}

/** The slot under a point, if any (a linear scan: 5,000 slots take microseconds, and it runs on pointer moves only). */
export function slotAt(geometry: FarmGeometry, x: number, y: number): SlotBox | undefined {
  for (const box of geometry.slots) {
    if (x >= box.x && x < box.x + box.size && y >= box.y && y < box.y + box.size) return box;
  }
  return undefined;
}
