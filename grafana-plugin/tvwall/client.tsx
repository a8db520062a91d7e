/** The kiosk page: fetches /api/farm, draws the rack map full screen, refreshes itself. */
import './jitless';
import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createTheme } from '@grafana/data';
import { buildFarm } from '../src/farm';
import { allowedNavigation, refusedLinkText } from '../src/links';
import { RackMapView } from '../src/RackMapView';
import { DEFAULT_OPTIONS, SLOT_METRICS, type FarmModel, type RackMapOptions, type SlotMetric } from '../src/types';
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

function TvWall() {
  const [farm, setFarm] = useState<FarmModel | undefined>();
  const [error, setError] = useState<string | undefined>();
  const { width, height } = useWindowSize();
  useEffect(() => {
    let timer: number | undefined;
    const load = async () => {
      try {
        const res = await fetch('/api/farm', { cache: 'no-store' });
        const body = (await res.json()) as FarmSnapshot | { error: string };
        if ('error' in body) throw new Error(body.error);
        const settings = { metric: options.metric, now: body.now, staleAfterMs: options.staleAfterSeconds * 1000, slotsPerShelf: options.slotsPerShelf };
        setFarm(buildFarm(body.readings, body.climates, settings, body.heartbeats));
        setError(undefined);
        document.body.dataset.updatedAt = String(Date.now());
      } catch (err) {
        // Keep the last farm on screen, marked, rather than a blank wall.
        setError(err instanceof Error ? err.message : String(err));
      }
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
      {farm ? (
        <RackMapView farm={farm} options={options} width={width} height={height - bannerPx - notePx} theme={theme} allowedLinkBases={linkBases} />
      ) : (
        <p style={{ fontSize: 32, padding: 24 }}>Loading the farm…</p>
      )}
    </>
  );
}

createRoot(document.getElementById('root')!).render(<TvWall />);
