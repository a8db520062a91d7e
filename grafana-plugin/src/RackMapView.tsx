/**
 * The rack map itself, free of Grafana's runtime: the Grafana panel and the TV-wall page both render this.
 * Slots are painted on one canvas (DOM nodes for 5,000 slots would not update within a frame); the tooltip and
 * the attention list are DOM, because they hold text people read.
 */
import React, { useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { FieldConfig, GrafanaTheme2 } from '@grafana/data';
import { attentionKey, attentionLines, attentionMetrics, attentionText, linesThatFit, moreText, type AttentionLine } from './attention';
import { slotPainter, STATE_LABEL, STATE_PAINT, valueFormatter } from './colors';
import { slotLink } from './farm';
import { layoutFarm, slotAt, type FarmGeometry, type SlotBox } from './geometry';
import { allowedNavigation, refusedLinkText } from './links';
import { paintFarmIncremental, type PaintedFrame, type PaintStyle } from './paint';
import { silenceText } from './silence';
import type { ContainerSilence, FarmModel, MinerReading, RackMapOptions } from './types';

export interface RackMapViewProps {
  farm: FarmModel;
  options: RackMapOptions;
  width: number;
  height: number;
  theme: GrafanaTheme2;
  /** The panel's field config when options.colorSource is 'fieldConfig'. */
  fieldConfig?: FieldConfig;
  /** Turns a slot link template into a URL (Grafana: dashboard variables). */
  resolveLink?: (url: string) => string;
  /** Base URLs (besides the page's own origin) that slot links may open, e.g. the farm's Grafana. */
  allowedLinkBases?: readonly string[];
  /** Zone of clock times shown (Grafana's dashboard time zone); absent = the browser's. */
  timeZone?: string;
}

const FONT = 'Inter, "Helvetica Neue", Arial, sans-serif';

/**
 * Opaque: the map paints its own background, and the display compositor draws an opaque canvas without blending
 * (a third less of its time per update, bench/rackmap-render.ts). Not desynchronized: drawing into the bitmap on
 * screen saved nothing measurable in the page (chromium still copies the canvas into each frame in software mode),
 * and would let the map show a refresh a frame before the attention list beside it.
 */
const CANVAS_ATTRIBUTES: CanvasRenderingContext2DSettings = { alpha: false };

/** Refused links already reported, so hovering does not flood the console. */
const reportedLinks = new Set<string>();

export function RackMapView({ farm, options, width, height, theme, fieldConfig, resolveLink, allowedLinkBases = [], timeZone }: RackMapViewProps): React.JSX.Element {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const paintedRef = useRef<PaintedFrame | undefined>(undefined);
  const [hovered, setHovered] = useState<SlotBox | undefined>();
  const attention = useStableLines(useMemo(() => attentionLines(farm), [farm]), timeZone);
  // TV mode keeps a column for the attention list, so nobody needs to hover to see what is wrong.
  const listWidth = options.tvMode ? Math.round(Math.min(width * 0.22, 520)) : 0;
  const mapWidth = Math.max(1, width - listWidth);
  // The last geometry: a refresh of a farm of the same shape keeps its places (no layout, unchanged boxes kept).
  const geometryRef = useRef<FarmGeometry | undefined>(undefined);
  const geometry = useMemo(() => (geometryRef.current = layoutFarm(farm, options, mapWidth, height, geometryRef.current)), [farm, options, mapWidth, height]);
  const paintOf = useMemo(
    () => slotPainter(options.metric, theme, options.colorSource === 'fieldConfig' ? fieldConfig : undefined),
    [options.metric, options.colorSource, theme, fieldConfig],
  );
  const style: PaintStyle = options.tvMode
    ? { background: '#000000', containerFill: '#0b0b0d', containerBorder: '#8a8a99', text: '#ffffff', dimText: '#d0d0d8', showLabels: options.showLabels, fontFamily: FONT, timeZone }
    : {
        background: theme.colors.background.primary,
        containerFill: theme.colors.background.secondary,
        containerBorder: theme.colors.border.medium,
        text: theme.colors.text.primary,
        dimText: theme.colors.text.secondary,
        showLabels: options.showLabels,
        fontFamily: FONT,
        timeZone,
      };

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d', CANVAS_ATTRIBUTES);
    if (!canvas || !ctx) return;
    const ratio = window.devicePixelRatio || 1;
    const pixelWidth = Math.round(mapWidth * ratio);
    const pixelHeight = Math.round(height * ratio);
    // Resizing reallocates the bitmap (tens of ms at 4K): only when the size really changed.
    if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) {
      canvas.width = pixelWidth;
      canvas.height = pixelHeight;
      paintedRef.current = undefined; // a resized canvas is blank
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    paintedRef.current = paintFarmIncremental(ctx, geometry, paintOf, style, paintedRef.current);
  });

  const linkOf = (reading: MinerReading | undefined) => {
    if (!reading || !options.detailUrl) return '';
    const template = slotLink(options.detailUrl, reading);
    const url = resolveLink ? resolveLink(template) : template;
    const allowed = allowedNavigation(url, { pageUrl: window.location.href, allowedBases: allowedLinkBases });
    if (allowed === undefined && !reportedLinks.has(url)) {
      reportedLinks.add(url);
      console.warn(`rack map: ${refusedLinkText(url, allowedLinkBases)}`);
    }
    return allowed ?? '';
  };
  const pointerSlot = (event: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    return slotAt(geometry, event.clientX - rect.left, event.clientY - rect.top);
  };
  const hoveredLink = linkOf(hovered?.cell.reading);
  // The canvas headers as text, for screen readers (and for reading the wall without pixels).
  const silentNotes = farm.containers.filter((c) => c.silent).map((c) => `${c.name}: ${silenceText(c.silent!, timeZone)}`);
  const silenceOf = (container: string) => farm.containers.find((c) => c.name === container)?.silent;

  return (
    <div
      data-testid="rackmap"
      data-slots={geometry.slots.length}
      style={{ position: 'relative', width, height, display: 'flex', overflow: 'hidden', background: style.background }}
    >
      <canvas
        ref={canvasRef}
        role="img"
        aria-label={`Rack map of ${farm.slotCount} slots, ${attention.length} needing attention`}
        aria-describedby={silentNotes.length ? 'rackmap-silent-containers' : undefined}
        style={{ width: mapWidth, height, cursor: hoveredLink ? 'pointer' : 'default' }}
        onMouseMove={(e) => setHovered(pointerSlot(e))}
        onMouseLeave={() => setHovered(undefined)}
        onClick={(e) => {
          const url = linkOf(pointerSlot(e)?.cell.reading);
          if (url) window.location.assign(url);
        }}
      />
      {silentNotes.length > 0 && (
        <ul id="rackmap-silent-containers" data-testid="silent-containers" style={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clipPath: 'inset(50%)', margin: 0, padding: 0 }}>
          {silentNotes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      {options.tvMode && <AttentionList lines={attention} width={listWidth} height={height} fontPx={geometry.fontPx} timeZone={timeZone} />}
      {hovered && hovered.cell.state !== 'empty' && (
        <SlotTooltip box={hovered} options={options} theme={theme} mapWidth={mapWidth} link={hoveredLink} silence={silenceOf(hovered.container)} timeZone={timeZone} />
      )}
    </div>
  );
}

/** The last lines while they say the same (see attentionKey): an unchanged list is then the same array. */
function useStableLines(lines: AttentionLine[], timeZone: string | undefined): AttentionLine[] {
  const kept = useRef<{ key: string; lines: AttentionLine[] } | undefined>(undefined);
  const key = useMemo(() => attentionKey(lines, timeZone), [lines, timeZone]);
  if (kept.current?.key !== key) kept.current = { key, lines };
  return kept.current.lines;
}

// Memoised: a refresh that leaves the list as it was re-renders none of its DOM.
const AttentionList = React.memo(function AttentionList({ lines, width, height, fontPx, timeZone }: { lines: AttentionLine[]; width: number; height: number; fontPx: number; timeZone: string | undefined }) {
  const m = attentionMetrics(fontPx);
  // Texts only for the lines that could fit (more than that many lines overflow the list whatever they say).
  const texts = lines.slice(0, Math.floor(height / (m.title + m.gap)) + 1).map((line) => attentionText(line, timeZone));
  const shownCount = linesThatFit(texts.map((t) => t.detail !== undefined), height, fontPx);
  // One line each, cut with an ellipsis: their heights must be what linesThatFit counted.
  const oneLine: React.CSSProperties = { whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' };
  return (
    <section
      data-testid="attention-list"
      style={{ width, height, boxSizing: 'border-box', padding: m.padding, color: '#fff', fontFamily: FONT, fontSize: fontPx, overflow: 'hidden', borderLeft: '2px solid #444' }}
    >
      <h2 style={{ fontSize: fontPx * 1.1, lineHeight: `${m.heading - Math.round(fontPx / 2)}px`, margin: `0 0 ${Math.round(fontPx / 2)}px`, ...oneLine }}>
        {lines.length === 0 ? 'All miners OK' : `${lines.length} need attention`}
      </h2>
      <ul style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {lines.slice(0, shownCount).map((line, i) => {
          const text = texts[i]!;
          const single = line.cells.length === 1 && line.kind !== 'silent' ? line.cells[0]!.reading!.miner : undefined;
          return (
            <li
              // By position: when other miners move into the list, React rewrites the lines' text in place instead
              // of replacing their elements (the lines hold no state); bench/rackmap-render.ts, all changed.
              key={i}
              data-state={line.kind}
              data-container={line.container}
              data-miner={single}
              data-count={line.cells.length}
              style={{ margin: `0 0 ${m.gap}px`, lineHeight: `${m.title}px` }}
            >
              <div style={oneLine}>
                <span aria-hidden style={{ display: 'inline-block', width: fontPx * 0.7, height: fontPx * 0.7, marginRight: fontPx * 0.3, background: STATE_PAINT[line.kind].fill }} />
                <strong>{text.who}</strong> {text.what}
              </div>
              {text.detail !== undefined && <div style={{ ...oneLine, fontSize: m.detailFont, lineHeight: `${m.detail}px`, color: '#ddd' }}>{text.detail}</div>}
            </li>
          );
        })}
        {shownCount < lines.length && <MoreLine {...moreText(lines.slice(shownCount))} metrics={m} oneLine={oneLine} />}
      </ul>
    </section>
  );
});

function MoreLine({ count, kinds, metrics, oneLine }: { count: string; kinds: string; metrics: ReturnType<typeof attentionMetrics>; oneLine: React.CSSProperties }) {
  return (
    <li data-testid="attention-more" style={{ lineHeight: `${metrics.title}px`, color: '#ddd' }}>
      <div style={{ ...oneLine, fontWeight: 700 }}>{count}</div>
      <div style={{ ...oneLine, fontSize: metrics.detailFont, lineHeight: `${metrics.detail}px` }}>{kinds}</div>
    </li>
  );
}

interface SlotTooltipProps {
  box: SlotBox;
  options: RackMapOptions;
  theme: GrafanaTheme2;
  mapWidth: number;
  link: string;
  silence: ContainerSilence | undefined;
  timeZone: string | undefined;
}

function SlotTooltip({ box, options, theme, mapWidth, link, silence, timeZone }: SlotTooltipProps) {
  const r = box.cell.reading;
  const fmt = (metric: 'temperature' | 'fan' | 'power', v: number | undefined) => (v === undefined ? '–' : valueFormatter(metric, theme)(v));
  const share = r?.hashrateThs !== undefined && r.nominalThs ? ` (${Math.round((r.hashrateThs / r.nominalThs) * 100)} %)` : '';
  const left = box.x + box.size + 8 > mapWidth - 260 ? Math.max(0, box.x - 268) : box.x + box.size + 8;
  return (
    <div
      data-testid="slot-tooltip"
      style={{ position: 'absolute', left, top: box.y, width: 260, padding: 8, background: theme.colors.background.secondary, color: theme.colors.text.primary, border: `1px solid ${theme.colors.border.medium}`, borderRadius: 4, fontFamily: FONT, fontSize: options.tvMode ? 18 : 12, pointerEvents: 'none', zIndex: 10 }}
    >
      <div style={{ fontWeight: 700 }}>{r?.miner ?? `${box.container} ${box.rack} ${box.shelf} slot ${box.cell.slot}`}</div>
      <div>{[box.container, box.rack, box.shelf, `slot ${box.cell.slot}`].join(' · ')}{r?.model ? ` · ${r.model}` : ''}</div>
      <div>State: {STATE_LABEL[box.cell.state]}</div>
      {silence && <div>Edge {silence.edge} {silenceText(silence, timeZone)}: the values below are from then</div>}
      {r && (
        <>
          <div>Hashrate: {r.hashrateThs === undefined ? '–' : `${r.hashrateThs.toFixed(1)} TH/s${share}`}</div>
          <div>Hottest chip: {fmt('temperature', r.tempMaxC)} · Slowest fan: {fmt('fan', r.fanMinRpm)}</div>
          <div>Power: {fmt('power', r.powerW)}</div>
          {r.faults.length > 0 && (
            <ul style={{ margin: '4px 0 0', paddingLeft: 16 }}>
              {r.faults.map((f) => (
                <li key={`${f.code}|${f.part}`}>{f.code} ({f.severity}, {f.part})</li>
              ))}
            </ul>
          )}
          {link && <div style={{ opacity: 0.7 }}>Click for the miner's dashboard</div>}
        </>
      )}
    </div>
  );
}
