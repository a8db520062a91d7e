/** Draws a laid-out farm on a 2D canvas: one fill per colour group, so 5,000 slots cost a few thousand fillRects. */
import type { SlotPaint } from './colors';
import type { ContainerBox, FarmGeometry } from './geometry';
import { durationText, silenceText } from './silence';
import { STATE_PAINT } from './states';
import type { ContainerModel, SlotCell } from './types';

/** The part of CanvasRenderingContext2D used here (tests record calls on a stand-in). */
export interface Canvas2D {
  fillStyle: string | CanvasGradient | CanvasPattern;
  strokeStyle: string | CanvasGradient | CanvasPattern;
  lineWidth: number;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  clearRect(x: number, y: number, w: number, h: number): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
}

export interface PaintStyle {
  background: string;
  containerFill: string;
  containerBorder: string;
  text: string;
  dimText: string;
  showLabels: boolean;
  fontFamily: string;
  /** Time zone of clock times in headers (Grafana's dashboard zone); absent = the browser's. */
  timeZone?: string;
}

export function paintFarm(ctx: Canvas2D, geometry: FarmGeometry, paintOf: (cell: SlotCell) => SlotPaint, style: PaintStyle): void {
  paintScene(ctx, geometry, geometry.slots.map((box) => paintOf(box.cell)), style);
}

function paintScene(ctx: Canvas2D, geometry: FarmGeometry, paints: readonly SlotPaint[], style: PaintStyle): void {
  ctx.clearRect(0, 0, geometry.width, geometry.height);
  ctx.fillStyle = style.background;
  ctx.fillRect(0, 0, geometry.width, geometry.height);
  const font = geometry.fontPx;

  for (const box of geometry.containers) paintContainerBox(ctx, box, style, font);
  if (style.showLabels) {
    ctx.fillStyle = style.dimText;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.font = `${Math.round(font * 0.85)}px ${style.fontFamily}`;
    for (const rack of geometry.racks) ctx.fillText(rack.name, rack.x, rack.y);
  }

  paintSlots(ctx, geometry, paints.keys(), paints, style, valuesShown(geometry, style));
}

/** Values are drawn in slots when labels are on and a slot is big enough to read one. */
function valuesShown(geometry: FarmGeometry, style: PaintStyle): boolean {
  return style.showLabels && (geometry.slots[0]?.size ?? 0) >= 28;
}

/**
 * Slots as rectangles grouped by colour (changing fillStyle per slot costs more than the rectangles themselves):
 * first each outline (a fault's, or an empty slot's border) as a rectangle of its colour, then the fill inside it,
 * then glyphs and values where a slot is big enough to read them. Whole-pixel rectangles and no strokes: chromium's
 * software rasteriser replays them without anti-aliasing, and an opaque slot covers whatever it showed before.
 */
function paintSlots(ctx: Canvas2D, geometry: FarmGeometry, indexes: Iterable<number>, paints: ArrayLike<SlotPaint | undefined>, style: PaintStyle, showValues: boolean): void {
  const edges = new Map<string, number[]>();
  const fills = new Map<string, number[]>();
  const glyphs: number[] = [];
  const values: number[] = [];
  const add = (groups: Map<string, number[]>, colour: string, x: number, y: number, size: number) => {
    const group = groups.get(colour);
    if (group) group.push(x, y, size);
    else groups.set(colour, [x, y, size]);
  };
  for (const i of indexes) {
    const paint = paints[i]!;
    const box = geometry.slots[i]!;
    const empty = paint.fill === 'transparent';
    const edge = empty ? style.containerBorder : paint.outline;
    const inset = edge === undefined ? 0 : empty ? 1 : Math.max(2, Math.round(box.size / 8));
    if (edge !== undefined) add(edges, edge, box.x, box.y, box.size);
    if (box.size > 2 * inset) add(fills, empty ? style.containerFill : paint.fill, box.x + inset, box.y + inset, box.size - 2 * inset);
    if (box.size < 10) continue;
    if (paint.glyph) glyphs.push(i);
    else if (showValues && paint.text) values.push(i);
  }
  for (const groups of [edges, fills]) {
    for (const [colour, rects] of groups) {
      ctx.fillStyle = colour;
      for (let k = 0; k < rects.length; k += 3) ctx.fillRect(rects[k]!, rects[k + 1]!, rects[k + 2]!, rects[k + 2]!);
    }
  }
  if (!glyphs.length && !values.length) return;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#ffffff';
  // Setting ctx.font parses a CSS font string: once per pass, not once per slot.
  const slotPx = geometry.slots[0]!.size;
  for (const [pass, font] of [[values, `${Math.round(slotPx * 0.34)}px`], [glyphs, `bold ${Math.round(slotPx * 0.6)}px`]] as const) {
    if (!pass.length) continue;
    ctx.font = `${font} ${style.fontFamily}`;
    for (const i of pass) {
      const box = geometry.slots[i]!;
      ctx.fillText(pass === glyphs ? paints[i]!.glyph! : paints[i]!.text!, box.x + box.size / 2, box.y + box.size / 2);
    }
  }
}

/**
 * A container's box and header. A silent container is one state over its whole box: header band and border in
 * the silent colour, "silent 4 min · last data 09:12" where the climate would be (it is as old as the rest).
 */
function paintContainerBox(ctx: Canvas2D, box: ContainerBox, style: PaintStyle, font: number): void {
  const silent = box.container.silent !== undefined;
  ctx.fillStyle = style.containerFill;
  ctx.fillRect(box.x, box.y, box.w, box.h);
  if (silent) {
    ctx.fillStyle = STATE_PAINT.silent.fill;
    ctx.fillRect(box.x, box.y, box.w, box.headerH);
  }
  const border = silent ? Math.max(2, Math.round(font / 6)) : 1;
  ctx.strokeStyle = silent ? STATE_PAINT.silent.fill : style.containerBorder;
  ctx.lineWidth = border;
  ctx.strokeRect(box.x + border / 2, box.y + border / 2, box.w - border, box.h - border);
  ctx.fillStyle = silent ? '#ffffff' : style.text;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.font = `bold ${font}px ${style.fontFamily}`;
  ctx.fillText(box.container.name, box.x + font * 0.5, box.y + box.headerH / 2);
  const note = headerNote(box.container, style.timeZone);
  if (!note) return;
  // No measureText on every canvas we draw on: an average glyph is ~0.55 em. Shrink to fit, then shorten.
  const room = box.w - font * (1.5 + 0.6 * box.container.name.length);
  let text = note;
  let size = Math.min(font, room / (0.55 * text.length));
  if (size < font * 0.6 && box.container.silent) {
    text = `silent ${durationText(box.container.silent.silentForMs)}`;
    size = Math.min(font, room / (0.55 * text.length));
  }
  ctx.textAlign = 'right';
  ctx.font = `${Math.max(8, Math.floor(size))}px ${style.fontFamily}`;
  ctx.fillText(text, box.x + box.w - font * 0.5, box.y + box.headerH / 2);
}

/** What a container header says right of its name: its silence, else its climate. */
export function headerNote(container: ContainerModel, timeZone: string | undefined): string {
  if (container.silent) return silenceText(container.silent, timeZone);
  return climateText(container.climate?.intakeC, container.climate?.exhaustC);
}

export function climateText(intakeC: number | undefined, exhaustC: number | undefined): string {
  const parts: string[] = [];
  if (intakeC !== undefined) parts.push(`in ${intakeC.toFixed(1)} °C`);
  if (exhaustC !== undefined) parts.push(`out ${exhaustC.toFixed(1)} °C`);
  return parts.join('  ');
}

/** What the canvas holds after a paint: enough to repaint only the slots whose look changed. */
export interface PaintedFrame {
  /** Everything but the slots' own look: size, container headers, style. */
  sceneKey: string;
  /** The slot positions painted (the geometry's, shared while a farm keeps its shape). */
  positions: Float64Array;
  paints: SlotPaint[];
  /** The cells painted and the painter they were painted with: a cell object seen again looks as it did. */
  cells: SlotCell[];
  painter: (cell: SlotCell) => SlotPaint;
}

/** Whether two paints put the same pixels on a slot (the value counts only where values are drawn). */
const sameLook = (a: SlotPaint, b: SlotPaint, showValues: boolean) =>
  a === b || (a.fill === b.fill && a.glyph === b.glyph && a.outline === b.outline && (!showValues || a.text === b.text));

function sceneKeyOf(geometry: FarmGeometry, style: PaintStyle): string {
  const headers = geometry.containers.map((c) => `${c.container.name}:${c.x},${c.y},${c.w},${c.h}:${headerNote(c.container, style.timeZone)}`);
  const racks = geometry.racks.map((r) => `${r.name}:${r.x},${r.y}`);
  return JSON.stringify([geometry.width, geometry.height, geometry.fontPx, geometry.cellPx, style, headers, racks]);
}

function samePositions(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Paints the farm, redrawing only the slots whose look changed when the scene (size, positions, headers) is the
 * one already on the canvas: straight over the old slots, however many changed (a slot's rectangles cover all it
 * showed, and redrawing the headers and labels would only add text for the rasteriser to replay). A refresh of a
 * real farm changes a handful of slots, and re-rasterising a 4K canvas costs more than all the rest of an update.
 */
export function paintFarmIncremental(ctx: Canvas2D, geometry: FarmGeometry, paintOf: (cell: SlotCell) => SlotPaint, style: PaintStyle, previous: PaintedFrame | undefined): PaintedFrame {
  const showValues = valuesShown(geometry, style);
  const slots = geometry.slots;
  const cells: SlotCell[] = new Array<SlotCell>(slots.length);
  const paints: SlotPaint[] = new Array<SlotPaint>(slots.length);
  const sceneKey = sceneKeyOf(geometry, style);
  const sameScene = previous !== undefined && previous.sceneKey === sceneKey && samePositions(previous.positions, geometry.positions);
  // A cell object of the last paint (FarmBuilder keeps unchanged ones) under the same painter looks as it did.
  const reuse = sameScene && previous.painter === paintOf;
  const changed: number[] = [];
  for (let i = 0; i < slots.length; i++) {
    const cell = slots[i]!.cell;
    cells[i] = cell;
    if (reuse && cell === previous.cells[i]) {
      paints[i] = previous.paints[i]!;
      continue;
    }
    const paint = paintOf(cell);
    paints[i] = paint;
    if (sameScene && !sameLook(paint, previous.paints[i]!, showValues)) changed.push(i);
  }
  const painted: PaintedFrame = { sceneKey, positions: geometry.positions, paints, cells, painter: paintOf };
  if (!sameScene) {
    paintScene(ctx, geometry, paints, style);
    return painted;
  }
  // A slot's rectangles cover everything it showed before (fill, outline, value), so changed slots are painted
  // straight over the old ones.
  paintSlots(ctx, geometry, changed, paints, style, showValues);
  return painted;
}
