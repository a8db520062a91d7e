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

  // Group by fill colour: changing fillStyle per slot costs more than the rectangles themselves.
  const byFill = new Map<string, number[]>();
  paints.forEach((paint, i) => {
    const group = byFill.get(paint.fill);
    if (group) group.push(i);
    else byFill.set(paint.fill, [i]);
  });
  for (const [fill, indexes] of byFill) {
    if (fill === 'transparent') continue;
    ctx.fillStyle = fill;
    for (const i of indexes) {
      const box = geometry.slots[i]!;
      ctx.fillRect(box.x, box.y, box.size, box.size);
    }
  }
  ctx.strokeStyle = style.containerBorder;
  ctx.lineWidth = 1;
  paints.forEach((paint, i) => {
    if (paint.fill !== 'transparent') return;
    const box = geometry.slots[i]!;
    ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.size - 1, box.size - 1);
  });
  paints.forEach((paint, i) => {
    if (!paint.outline) return;
    const box = geometry.slots[i]!;
    const width = Math.max(2, box.size / 8);
    ctx.strokeStyle = paint.outline;
    ctx.lineWidth = width;
    ctx.strokeRect(box.x + width / 2, box.y + width / 2, box.size - width, box.size - width);
  });

  // Glyphs and values only where a slot is big enough to read them.
  const slotPx = geometry.slots[0]?.size ?? 0;
  if (slotPx < 10) return;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#ffffff';
  // Setting ctx.font parses a CSS font string: once per pass, not once per slot.
  if (style.showLabels && slotPx >= 28) {
    ctx.font = `${Math.round(slotPx * 0.34)}px ${style.fontFamily}`;
    paints.forEach((paint, i) => {
      if (paint.glyph || !paint.text) return;
      const box = geometry.slots[i]!;
      ctx.fillText(paint.text, box.x + box.size / 2, box.y + box.size / 2);
    });
  }
  ctx.font = `bold ${Math.round(slotPx * 0.6)}px ${style.fontFamily}`;
  paints.forEach((paint, i) => {
    if (!paint.glyph) return;
    const box = geometry.slots[i]!;
    ctx.fillText(paint.glyph, box.x + box.size / 2, box.y + box.size / 2);
  });
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
  /** Everything but the slots' own look: size, slot positions, container headers, style. */
  sceneKey: string;
  positions: Float64Array;
  looks: string[];
  /** The cells painted and the painter they were painted with: a cell object seen again looks as it did. */
  cells: SlotCell[];
  painter: (cell: SlotCell) => SlotPaint;
}

const lookOf = (p: SlotPaint, showValues: boolean) => `${p.fill}|${p.glyph ?? ''}|${p.outline ?? ''}|${showValues ? (p.text ?? '') : ''}`;

function sceneKeyOf(geometry: FarmGeometry, style: PaintStyle): string {
  const headers = geometry.containers.map((c) => `${c.container.name}:${c.x},${c.y},${c.w},${c.h}:${headerNote(c.container, style.timeZone)}`);
  const racks = geometry.racks.map((r) => `${r.name}:${r.x},${r.y}`);
  return JSON.stringify([geometry.width, geometry.height, geometry.fontPx, geometry.cellPx, style, headers, racks]);
}

/**
 * Paints the farm, redrawing only the slots whose look changed when the scene (size, positions, headers) is the
 * one already on the canvas. A refresh of a real farm changes a handful of slots, and re-rasterising a 4K
 * canvas costs more than all the rest of an update.
 */
export function paintFarmIncremental(ctx: Canvas2D, geometry: FarmGeometry, paintOf: (cell: SlotCell) => SlotPaint, style: PaintStyle, previous: PaintedFrame | undefined): PaintedFrame {
  const slotPx = geometry.slots[0]?.size ?? 0;
  const showValues = style.showLabels && slotPx >= 28;
  const cells = geometry.slots.map((box) => box.cell);
  const positions = new Float64Array(geometry.slots.length * 2);
  geometry.slots.forEach((box, i) => {
    positions[2 * i] = box.x;
    positions[2 * i + 1] = box.y;
  });
  const sceneKey = sceneKeyOf(geometry, style);
  const samePositions = previous !== undefined && previous.positions.length === positions.length && previous.positions.every((v, i) => v === positions[i]);
  const sameScene = previous !== undefined && samePositions && previous.sceneKey === sceneKey;
  // A cell object of the last paint (FarmBuilder keeps unchanged ones) under the same painter looks as it did.
  const reuse = sameScene && previous.painter === paintOf;
  const paints: Array<SlotPaint | undefined> = cells.map((cell, i) => (reuse && cell === previous.cells[i] ? undefined : paintOf(cell)));
  const looks = paints.map((p, i) => (p ? lookOf(p, showValues) : previous!.looks[i]!));
  const changed: number[] = [];
  if (sameScene) for (let i = 0; i < looks.length; i++) if (looks[i] !== previous.looks[i]) changed.push(i);
  // Past a quarter of the slots a full paint is cheaper: chromium's rasteriser starts a canvas that is cleared and
  // filled whole from nothing, while slots drawn over the old bitmap cost it about twice as much (bench/rackmap-render.ts).
  if (!sameScene || changed.length > looks.length / 4) {
    paintScene(ctx, geometry, paints.map((p, i) => p ?? paintOf(cells[i]!)), style);
    return { sceneKey, positions, looks, cells, painter: paintOf };
  }
  // An opaque fill covers everything the slot showed before (fill, outline, value), so those slots are painted
  // straight over, grouped by colour like a full paint; only a slot turning transparent needs its box cleared.
  const byFill = new Map<string, number[]>();
  const decorated: number[] = [];
  const cleared: number[] = [];
  for (const i of changed) {
    const paint = paints[i]!; // changed looks were computed from a paint
    if (paint.fill === 'transparent') {
      cleared.push(i);
      continue;
    }
    const group = byFill.get(paint.fill);
    if (group) group.push(i);
    else byFill.set(paint.fill, [i]);
    if (paint.outline || paint.glyph || (showValues && paint.text)) decorated.push(i);
  }
  for (const [fill, indexes] of byFill) {
    ctx.fillStyle = fill;
    for (const i of indexes) {
      const box = geometry.slots[i]!;
      ctx.fillRect(box.x, box.y, box.size, box.size);
    }
  }
  for (const i of decorated) drawDecoration(ctx, geometry.slots[i]!, paints[i]!, style, showValues);
  for (const i of cleared) {
    const box = geometry.slots[i]!;
    ctx.fillStyle = style.containerFill;
    ctx.fillRect(box.x, box.y, box.size, box.size);
    drawDecoration(ctx, box, paints[i]!, style, showValues);
  }
  return { sceneKey, positions, looks, cells, painter: paintOf };
}

/** What goes on top of a slot's fill (or, for a transparent slot, on its cleared box): border, outline, label. */
function drawDecoration(ctx: Canvas2D, box: FarmGeometry['slots'][number], paint: SlotPaint, style: PaintStyle, showValues: boolean): void {
  if (paint.fill === 'transparent') {
    ctx.strokeStyle = style.containerBorder;
    ctx.lineWidth = 1;
    ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.size - 1, box.size - 1);
  }
  if (paint.outline) {
    const width = Math.max(2, box.size / 8);
    ctx.strokeStyle = paint.outline;
    ctx.lineWidth = width;
    ctx.strokeRect(box.x + width / 2, box.y + width / 2, box.size - width, box.size - width);
  }
  const label = paint.glyph ?? (showValues ? paint.text : undefined);
  if (!label || box.size < 10) return;
  ctx.fillStyle = '#ffffff';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = paint.glyph ? `bold ${Math.round(box.size * 0.6)}px ${style.fontFamily}` : `${Math.round(box.size * 0.34)}px ${style.fontFamily}`;
  ctx.fillText(label, box.x + box.size / 2, box.y + box.size / 2);
}
