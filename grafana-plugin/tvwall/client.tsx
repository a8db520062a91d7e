/**
 * The kiosk page: fetches /api/farm and /api/band, draws the band (hashrate, miners, tickets, MTTR, on call) across
 * the top and the rack map below it, refreshes itself.
 */
import './jitless';
import React, { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createTheme } from '@grafana/data';
import { FarmBuilder } from '../src/farm';
import { allowedNavigation, refusedLinkText } from '../src/links';
import { RackMapView } from '../src/RackMapView';
import { DEFAULT_OPTIONS, SLOT_METRICS, type FarmModel, type RackMapOptions, type SlotMetric } from '../src/types';
import { farmFigures, type FarmFigures, type MaintenanceBand } from './band-figures';
import { Band } from './BandView';
import type { FarmSnapshot } from './farm-source';

const theme = createTheme({ colors: { mode: 'dark' } });
const params = new URLSearchParams(window.location.search);
/** The farm's Grafana base URLs the server allows links to (besides this site). */
const linkBases = (document.body.dataset.linkBases ?? '').split(' ').filter(Boolean);
const linkParam = params.get('link') ?? '';
// Checked once with sample values in the placeholders; every click is checked again on the real URL.
const linkAllowed = !linkParam || allowedNavigation(linkParam.replace(/\{\w+\}/g, 'x'), { pageUrl: window.location.href, allowedBases: linkBases }) !== undefined;
const linkNote = linkAllowed ? undefined : refusedLinkText(linkParam, linkBases);
if (linkNote) console.warn(`TV wall: ${linkNote}`);
const metricParam = params.get('metric') as SlotMetric | null;
const options: RackMapOptions = {
  ...DEFAULT_OPTIONS,
  metric: metricParam && SLOT_METRICS.includes(metricParam) ? metricParam : 'health',
  tvMode: params.get('tv') !== '0',
  showLabels: params.get('labels') !== '0',
  containersPerRow: Number(params.get('columns') ?? 0),
  rackOrientation: params.get('racks') === 'horizontal' ? 'horizontal' : 'vertical',
  detailUrl: linkAllowed ? linkParam : '',
};
/** Keeps the last farm, so a refresh patches the slots that changed (the page shows one farm for its lifetime). */
const farmBuilder = new FarmBuilder();
const refreshSeconds = Number(document.body.dataset.refreshSeconds ?? 15) || 15;

function useWindowSize() {
  const [size, setSize] = useState({ width: window.innerWidth, height: window.innerHeight });
  useEffect(() => {
    const onResize = () => setSize({ width: window.innerWidth, height: window.innerHeight });
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);
  return size;
}

/** The band's maintenance figures; a failure marks the band only, the rack map keeps updating. */
async function loadMaintenance(): Promise<{ band?: MaintenanceBand; error?: string }> {
  try {
    const res = await fetch('/api/band', { cache: 'no-store' });
    const body = (await res.json()) as MaintenanceBand | { error: string };
    if ('error' in body) return { error: body.error };
    return { band: body };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** The band's rendered height, so the map fills what is left (the band's type scales with the viewport). */
function useHeight(ref: React.RefObject<HTMLElement | null>): number {
  const [height, setHeight] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setHeight(Math.ceil(el.getBoundingClientRect().height));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return height;
}

function TvWall() {
  const [farm, setFarm] = useState<FarmModel | undefined>();
  const [figures, setFigures] = useState<FarmFigures | undefined>();
  const [maintenance, setMaintenance] = useState<{ band?: MaintenanceBand; error?: string }>({});
  const [error, setError] = useState<string | undefined>();
  const { width, height } = useWindowSize();
  const bandRef = useRef<HTMLDivElement>(null);
  const bandPx = useHeight(bandRef);
  useEffect(() => {
    let timer: number | undefined;
    const load = async () => {
      const maintenanceLoad = loadMaintenance();
      try {
        const res = await fetch('/api/farm', { cache: 'no-store' });
        const body = (await res.json()) as FarmSnapshot | { error: string };
        if ('error' in body) throw new Error(body.error);
        const settings = { metric: options.metric, now: body.now, staleAfterMs: options.staleAfterSeconds * 1000, slotsPerShelf: options.slotsPerShelf };
        setFarm(farmBuilder.build(body.readings, body.climates, settings, body.heartbeats));
        setFigures(farmFigures(body.readings, body.now, settings.staleAfterMs));
        setError(undefined);
      } catch (err) {
        // Keep the last farm on screen, marked, rather than a blank wall.
        setError(err instanceof Error ? err.message : String(err));
      }
      const m = await maintenanceLoad;
      // Keep the last figures when the database blips; the error shows in the band.
      setMaintenance((previous) => (m.band ? m : { band: previous.band, error: m.error }));
      document.body.dataset.updatedAt = String(Date.now());
      timer = window.setTimeout(load, refreshSeconds * 1000);
    };
    void load();
    return () => window.clearTimeout(timer);
  }, []);
  const bannerPx = error ? 40 : 0;
  const notePx = linkNote ? 28 : 0;
  return (
    <>
      {error && <div role="alert" style={{ height: bannerPx, background: '#b31aff', color: '#fff', fontSize: 24, padding: '4px 12px' }}>Data not updating: {error}</div>}
      {linkNote && (
        <div data-testid="link-note" style={{ height: notePx, boxSizing: 'border-box', background: '#333', color: '#fff', fontSize: 16, padding: '4px 12px', overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis' }}>
          {linkNote}
        </div>
      )}
      <Band ref={bandRef} farm={figures} maintenance={maintenance.band} maintenanceError={maintenance.error} />
      {farm ? (
        <RackMapView farm={farm} options={options} width={width} height={Math.max(1, height - bannerPx - notePx - bandPx)} theme={theme} allowedLinkBases={linkBases} />
      ) : (
        <p style={{ fontSize: 32, padding: 24 }}>Loading the farm…</p>
      )}
    </>
  );
}

createRoot(document.getElementById('root')!).render(<TvWall />);
