/**
 * The band across the top of the wall, read from across a staff room: type sized from the viewport (vw, bounded by
 * vh for unusually wide screens), white on near-black, one line per row that never wraps. Trends carry a word
 * besides the arrow and colour, so they read without colour too.
 */
import React from 'react';
import { durationText } from '../src/silence';
import { hashrateText, mttrTrend, secondsText, shareText, TREND_ARROW, untilText, type FarmFigures, type MaintenanceBand } from './band-figures';

const LABEL: React.CSSProperties = { fontSize: 'clamp(14px, 1.15vw, 3.2vh)', color: '#d6dbe0', fontWeight: 600, letterSpacing: '0.02em' };
const VALUE: React.CSSProperties = { fontSize: 'clamp(18px, 1.85vw, 5vh)', color: '#ffffff', fontWeight: 700, lineHeight: 1.15 };
const DETAIL: React.CSSProperties = { fontSize: 'clamp(14px, 1.1vw, 3vh)', color: '#e8ecef' };
const LINE: React.CSSProperties = { whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' };
const TREND_COLOUR = { better: '#5ee08a', worse: '#ff7a6b', same: '#e8ecef' } as const;

function Cell({ id, label, value, detail }: { id: string; label: string; value: React.ReactNode; detail?: React.ReactNode }) {
  return (
    <section data-band={id} style={{ minWidth: 0, padding: '0.45vw 0.9vw', borderLeft: '2px solid #3a3f47' }}>
      <div data-band-label style={{ ...LABEL, ...LINE }}>{label}</div>
      <div data-band-value style={{ ...VALUE, ...LINE }}>{value}</div>
      <div data-band-detail style={{ ...DETAIL, ...LINE }}>{detail ?? '\u00a0'}</div>
    </section>
  );
}

export interface BandProps {
  farm?: FarmFigures;
  maintenance?: MaintenanceBand;
  /** Why the maintenance figures are missing (the database did not answer). */
  maintenanceError?: string;
}

export const Band = React.forwardRef<HTMLDivElement, BandProps>(function Band({ farm, maintenance, maintenanceError }, ref) {
  const m = maintenance?.configured ? maintenance : undefined;
  const missing = maintenanceError ? 'tickets: unavailable' : maintenance && !maintenance.configured ? 'tickets: not configured' : '–';
  const trend = m ? mttrTrend(m.mttr.thisWeekS, m.mttr.lastWeekS) : undefined;
  const t = m?.tickets;
  return (
    <div
      ref={ref}
      data-testid="band"
      title={maintenanceError}
      style={{
        display: 'grid',
        gridTemplateColumns: 'minmax(0, 1.15fr) minmax(0, 0.75fr) minmax(0, 1.5fr) minmax(0, 1.2fr) minmax(0, 1fr)',
        background: '#101216',
        borderBottom: '2px solid #3a3f47',
        fontFamily: 'Inter, "Helvetica Neue", Arial, sans-serif',
      }}
    >
      <Cell
        id="hashrate"
        label="Hashrate"
        value={farm ? hashrateText(farm.hashrateThs, farm.nominalThs) : '–'}
        detail={farm ? `${shareText(farm.hashrateThs, farm.nominalThs)} of nominal` : undefined}
      />
      <Cell id="miners" label="Miners hashing" value={farm ? `${farm.hashing} / ${farm.total}` : '–'} detail={farm ? `${farm.total - farm.hashing} not hashing` : undefined} />
      <Cell
        id="tickets"
        label="Open tickets"
        value={t ? `${t.open}${t.oldestS !== null ? ` · oldest ${durationText(t.oldestS * 1000)}` : ''}` : missing}
        detail={
          t ? (
            <>
              <span data-age="under1h">&lt;1 h {t.under1h}</span> · <span data-age="under4h">1–4 h {t.under4h}</span> ·{' '}
              <span data-age="under24h">4–24 h {t.under24h}</span> · <span data-age="older">older {t.older}</span>
            </>
          ) : undefined
        }
      />
      <Cell
        id="mttr"
        label="MTTR this week"
        value={
          m ? (
            <>
              {secondsText(m.mttr.thisWeekS)}
              {trend && (
                // Smaller than the figure so "1 h 45 min ▼ better" fits its column whatever sans-serif the wall's browser has.
                <span data-trend={trend} style={{ color: TREND_COLOUR[trend], fontSize: '0.72em' }}>
                  {' '}
                  {TREND_ARROW[trend]} {trend}
                </span>
              )}
            </>
          ) : (
            missing
          )
        }
        detail={m ? `last week ${secondsText(m.mttr.lastWeekS)}` : undefined}
      />
      <Cell
        id="oncall"
        label="On call"
        value={m ? (m.onCall?.name ?? 'nobody on the rota') : missing}
        detail={m?.onCall ? untilText(m.onCall.until, m.now, m.timeZone) : undefined}
      />
    </div>
  );
});
