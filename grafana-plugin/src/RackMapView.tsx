/**
 * The rack map itself, free of Grafana's runtime: the Grafana panel and the TV-wall page both render this.
 * Slots are painted on one canvas (DOM nodes for 5,000 slots would not update within a frame); the tooltip and
 * the attention list are DOM, because they hold text people read.
 */
import React, { useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { FieldConfig, GrafanaTheme2 } from '@grafana/data';
import { slotPainter, STATE_LABEL, valueFormatter } from './colors';
import { attentionList, slotLink } from './farm';
import { layoutFarm, slotAt, type SlotBox } from './geometry';
import { paintFarmIncremental, type PaintedFrame, type PaintStyle } from './paint';
import type { FarmModel, MinerReading, RackMapOptions, SlotCell } from './types';

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
}

const FONT = 'Inter, "Helvetica Neue", Arial, sans-serif';

export function RackMapView({ farm, options, width, height, theme, fieldConfig, resolveLink }: RackMapViewProps): React.JSX.Element {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const paintedRef = useRef<PaintedFrame | undefined>(undefined);
  const [hovered, setHovered] = useState<SlotBox | undefined>();
  const attention = useMemo(() => attentionList(farm), [farm]);
  // TV mode keeps a column for the attention list, so nobody needs to hover to see what is wrong.
  const listWidth = options.tvMode ? Math.round(Math.min(width * 0.22, 520)) : 0;
  const mapWidth = Math.max(1, width - listWidth);
  const geometry = useMemo(() => layoutFarm(farm, options, mapWidth, height), [farm, options, mapWidth, height]);
  const paintOf = useMemo(
    () => slotPainter(options.metric, theme, options.colorSource === 'fieldConfig' ? fieldConfig : undefined),
    [options.metric, options.colorSource, theme, fieldConfig],
  );
  const style: PaintStyle = options.tvMode
    ? { background: '#000000', containerFill: '#0b0b0d', containerBorder: '#8a8a99', text: '#ffffff', dimText: '#d0d0d8', showLabels: options.showLabels, fontFamily: FONT }
    : {
        background: theme.colors.background.primary,
        containerFill: theme.colors.background.secondary,
        containerBorder: theme.colors.border.medium,
        text: theme.colors.text.primary,
        dimText: theme.colors.text.secondary,
        showLabels: options.showLabels,
        fontFamily: FONT,
      };

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
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
    const url = slotLink(options.detailUrl, reading);
    return resolveLink ? resolveLink(url) : url;
  };
  const pointerSlot = (event: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    return slotAt(geometry, event.clientX - rect.left, event.clientY - rect.top);
  };
  const hoveredLink = linkOf(hovered?.cell.reading);

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
        style={{ width: mapWidth, height, cursor: hoveredLink ? 'pointer' : 'default' }}
        onMouseMove={(e) => setHovered(pointerSlot(e))}
        onMouseLeave={() => setHovered(undefined)}
        onClick={(e) => {
          const url = linkOf(pointerSlot(e)?.cell.reading);
          if (url) window.location.assign(url);
        }}
      />
      {options.tvMode && <AttentionList cells={attention} width={listWidth} fontPx={geometry.fontPx} />}
      {hovered && hovered.cell.state !== 'empty' && (
        <SlotTooltip box={hovered} options={options} theme={theme} mapWidth={mapWidth} link={hoveredLink} />
      )}
    </div>
  );
}

function AttentionList({ cells, width, fontPx }: { cells: SlotCell[]; width: number; fontPx: number }) {
  const shown = cells.slice(0, 40);
  return (
    <section data-testid="attention-list" style={{ width, padding: fontPx / 2, color: '#fff', fontFamily: FONT, fontSize: fontPx, overflow: 'hidden', borderLeft: '2px solid #444' }}>
      <h2 style={{ fontSize: fontPx * 1.1, margin: `0 0 ${fontPx / 2}px` }}>{cells.length === 0 ? 'All miners OK' : `${cells.length} need attention`}</h2>
      <ul style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {shown.map((cell) => {
          const r = cell.reading!;
          const faults = r.faults.filter((f) => f.severity !== 'info').map((f) => f.code);
          return (
            <li key={r.miner} data-state={cell.state} data-miner={r.miner} style={{ margin: `0 0 ${fontPx * 0.4}px` }}>
              <strong>{r.miner}</strong> {STATE_LABEL[cell.state]}
              {faults.length > 0 && <div style={{ fontSize: fontPx * 0.75, color: '#ddd' }}>{faults.join(', ')}</div>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function SlotTooltip({ box, options, theme, mapWidth, link }: { box: SlotBox; options: RackMapOptions; theme: GrafanaTheme2; mapWidth: number; link: string }) {
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
