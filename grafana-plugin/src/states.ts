/** Paint of the slot states (no Grafana imports: the TV-wall server and its tests use these too). */
import type { SlotState } from './types';

export interface SlotPaint {
  fill: string;
  /** One character drawn on the slot, so states read without colour vision and from across the room. */
  glyph?: string;
  /** Thick outline: a fault on a metric other than health still shows. */
  outline?: string;
  /** Formatted value, drawn when the slot is large enough. */
  text?: string;
}

/** Fixed colours of the states that are not a live value; none of them is on any metric's scale. */
export const STATE_PAINT: Record<Exclude<SlotState, 'ok'>, SlotPaint> = {
  fault: { fill: '#ff1a1a', glyph: '!' },
  warning: { fill: '#ff9830', glyph: '!' },
  unreachable: { fill: '#b31aff', glyph: '×' },
  stale: { fill: '#5c5c66', glyph: '~' },
  'no-data': { fill: '#26262b', glyph: '?' },
  sleeping: { fill: '#1f4e8c', glyph: 'z' },
  // The container's edge went quiet: one look over the whole container (its header band too), unlike per-slot stale.
  silent: { fill: '#0e7c86', glyph: '…' },
  empty: { fill: 'transparent' },
};
/** Health metric, no fault. */
export const HEALTHY_FILL = '#1fbf4a';

export const STATE_LABEL: Record<SlotState, string> = {
  ok: 'healthy',
  warning: 'warning',
  fault: 'fault',
  unreachable: 'unreachable',
  stale: 'stale data',
  'no-data': 'no data',
  sleeping: 'sleeping',
  silent: 'silent',
  empty: 'empty slot',
};

