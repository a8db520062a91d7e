/**
 * The TV wall's band: farm hashrate vs nominal, miners hashing, open tickets by age, MTTR this week vs last, who
 * is on call. The farm half is worked out from the snapshot the wall already reads (/api/farm); the maintenance
 * half comes from /api/band (PostgreSQL). Pure and browser-safe: the page, the server and the tests share it.
 */
import { clockText, durationText } from '../src/silence';
import type { MinerReading } from '../src/types';

/** What /api/band answers. */
export type MaintenanceBand =
  | { configured: false }
  | {
      configured: true;
      /** Server time the figures were taken (ms). */
      now: number;
      tickets: { open: number; under1h: number; under4h: number; under24h: number; older: number; oldestS: number | null };
      mttr: { thisWeekS: number | null; lastWeekS: number | null };
      onCall: { name: string; until: number } | null;
      /** The rota's zone (else the server's setting): hand-over times are read in it. */
      timeZone: string;
    };

export interface FarmFigures {
  hashrateThs: number;
  nominalThs: number;
  hashing: number;
  total: number;
}

/**
 * Hashrate and hashing miners counted over miners answering now (reachable, not stale, mode hashing or no mode
 * with hashrate); nominal and the total over every miner of the snapshot, so a dead miner lowers the share.
 */
export function farmFigures(readings: readonly MinerReading[], now: number, staleAfterMs: number): FarmFigures {
  let hashrateThs = 0;
  let nominalThs = 0;
  let hashing = 0;
  for (const r of readings) {
    nominalThs += r.nominalThs ?? 0;
    const answering = r.reachable !== false && r.time !== undefined && now - r.time <= staleAfterMs;
    const isHashing = answering && (r.mode === undefined ? (r.hashrateThs ?? 0) > 0 : r.mode === 'hashing');
    if (!isHashing) continue;
    hashing += 1;
    hashrateThs += r.hashrateThs ?? 0;
  }
  return { hashrateThs, nominalThs, hashing, total: readings.length };
}

/** "1.23 / 1.40 PH/s" above 1000 TH/s of nominal, else "812.4 / 840.0 TH/s"; both in the same unit. */
export function hashrateText(hashrateThs: number, nominalThs: number): string {
  const peta = Math.max(hashrateThs, nominalThs) >= 1000;
  const f = (ths: number) => (peta ? (ths / 1000).toFixed(2) : ths.toFixed(1));
  return `${f(hashrateThs)} / ${f(nominalThs)} ${peta ? 'PH/s' : 'TH/s'}`;
}

export function shareText(hashrateThs: number, nominalThs: number): string {
  return nominalThs > 0 ? `${Math.round((hashrateThs / nominalThs) * 100)} %` : '– %';
}

export type Trend = 'better' | 'worse' | 'same';

/** Shorter repairs are better; no trend without both weeks. */
export function mttrTrend(thisWeekS: number | null, lastWeekS: number | null): Trend | undefined {
  if (thisWeekS === null || lastWeekS === null) return undefined;
  if (thisWeekS === lastWeekS) return 'same';
  return thisWeekS < lastWeekS ? 'better' : 'worse';
}

export const TREND_ARROW: Record<Trend, string> = { better: '▼', worse: '▲', same: '=' };

export function secondsText(seconds: number | null): string {
  return seconds === null ? '–' : durationText(seconds * 1000);
}

/** "until 08:00" today, else "until 30 Nov, 08:00" (in the rota's zone). */
export function untilText(until: number, now: number, timeZone: string): string {
  const sameDay = clockText(until, timeZone, true).slice(0, -5) === clockText(now, timeZone, true).slice(0, -5);
  return `until ${clockText(until, timeZone, !sameDay)}`;
}
