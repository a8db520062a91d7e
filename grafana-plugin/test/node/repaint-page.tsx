/**
 * Page for rackmap-repaint.test.ts: renders the rack map for a sequence of refreshes (FarmBuilder patches, so
 * the map repaints only changed slots, straight over the old ones) and hashes its canvas.
 */
import '../../tvwall/jitless';
import React from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { createTheme } from '@grafana/data';
import { FarmBuilder } from '../../src/farm';
import { RackMapView } from '../../src/RackMapView';
import { DEFAULT_OPTIONS, type MinerReading } from '../../src/types';

const NOW = Date.parse('2026-11-24T20:00:00Z');

/** 5,000 miners; refresh f moves every temperature (all) or 1 % of them, with faults over 100 °C and unreachable ones. */
function readings(f: number, all: boolean): MinerReading[] {
  const out: MinerReading[] = [];
  for (let i = 0; i < 5000; i++) {
    const container = `C${String(Math.floor(i / 250) + 1).padStart(2, '0')}`;
    const rack = `R${Math.floor((i % 250) / 50) + 1}`;
    const shelf = `S${Math.floor((i % 50) / 10) + 1}`;
    const temp = 60 + ((i * 7 + (all || i % 100 === f % 100 ? f * 13 : 0)) % 45);
    out.push({
      site: 'north-1', container, rack, shelf, slot: String((i % 10) + 1), miner: `${container}-${rack}-${shelf}-${(i % 10) + 1}`, time: NOW, reachable: (i + (all ? f : 0)) % 97 !== 0,
      tempMaxC: temp, hashrateThs: 100, nominalThs: 110, fanMinRpm: 4000, powerW: 3200, faults: temp > 100 ? [{ code: 'CHIP_OVERHEAT', severity: 'critical', part: 'board 1' }] : [],
    });
  }
  return out;
}

function paintedHash(refreshes: Array<[frame: number, all: boolean]>): string {
  const theme = createTheme({ colors: { mode: 'dark' } });
  const options = { ...DEFAULT_OPTIONS, metric: 'temperature' as const, tvMode: true };
  const host = document.createElement('div');
  document.body.appendChild(host);
  const root = createRoot(host);
  const builder = new FarmBuilder();
  for (const [f, all] of refreshes) {
    const farm = builder.build(readings(f, all), [], { metric: 'temperature', now: NOW, staleAfterMs: 180_000, slotsPerShelf: 0 });
    flushSync(() => root.render(<RackMapView farm={farm} options={options} width={3840} height={2160} theme={theme} />));
  }
  const canvas = host.querySelector('canvas')!;
  const pixels = new Uint32Array(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
  let hash = 2166136261;
  for (const p of pixels) hash = Math.imul(hash ^ p, 16777619) >>> 0;
  root.unmount();
  host.remove();
  return `${canvas.width}x${canvas.height}:${hash.toString(16)}`;
}

(window as unknown as { paintedHash: typeof paintedHash }).paintedHash = paintedHash;
