/** How a slot is painted: metric values through Grafana's display processor, every other state by a fixed code. */
import { FieldColorModeId, FieldType, getDisplayProcessor, ThresholdsMode, type FieldConfig, type GrafanaTheme2 } from '@grafana/data';
import type { SlotCell, SlotMetric, SlotState } from './types';

export interface SlotPaint {
  fill: string;
  /** One character drawn on the slot, so states read without colour vision and from across the room. */
  glyph?: string;
  /** Thick outline: a fault on a metric other than health still shows. */
  outline?: string;
  /** Formatted value, drawn when the slot is large enough. */
  text?: string;
}

/** Each metric's default scale (Grafana-style thresholds and unit), used unless the panel takes its field config. */
function thresholdScale(unit: string, min: number, max: number, steps: Array<[value: number, color: string]>): FieldConfig {
  return {
    unit,
    min,
    max,
    decimals: 0,
    color: { mode: FieldColorModeId.Thresholds },
    thresholds: { mode: ThresholdsMode.Absolute, steps: steps.map(([value, color]) => ({ value, color })) },
  };
}

export const METRIC_FIELD_CONFIG: Record<Exclude<SlotMetric, 'health'>, FieldConfig> = {
  temperature: thresholdScale('celsius', 30, 100, [[-Infinity, 'green'], [75, 'yellow'], [85, 'orange'], [95, 'red']]),
  hashrate: thresholdScale('percent', 0, 110, [[-Infinity, 'red'], [80, 'orange'], [95, 'green']]),
  fan: thresholdScale('rotrpm', 0, 7000, [[-Infinity, 'red'], [300, 'green'], [6000, 'orange']]),
  power: { unit: 'watt', min: 0, max: 6000, decimals: 0, color: { mode: FieldColorModeId.ContinuousBlYlRd } },
};

/** Fixed colours of the states that are not a live value; none of them is on any metric's scale. */
export const STATE_PAINT: Record<Exclude<SlotState, 'ok'>, SlotPaint> = {
  fault: { fill: '#ff1a1a', glyph: '!' },
  warning: { fill: '#ff9830', glyph: '!' },
  unreachable: { fill: '#b31aff', glyph: '×' },
  stale: { fill: '#5c5c66', glyph: '~' },
  'no-data': { fill: '#26262b', glyph: '?' },
  sleeping: { fill: '#1f4e8c', glyph: 'z' },
  empty: { fill: 'transparent' },
};
const HEALTHY = '#1fbf4a';

export const STATE_LABEL: Record<SlotState, string> = {
  ok: 'healthy',
  warning: 'warning',
  fault: 'fault',
  unreachable: 'unreachable',
  stale: 'stale data',
  'no-data': 'no data',
  sleeping: 'sleeping',
  empty: 'empty slot',
};

/** A function giving each slot its paint for one metric and colour configuration. */
export function slotPainter(metric: SlotMetric, theme: GrafanaTheme2, fieldConfig?: FieldConfig): (cell: SlotCell) => SlotPaint {
  if (metric === 'health') {
    return (cell) => (cell.state === 'ok' ? { fill: HEALTHY } : STATE_PAINT[cell.state]);
  }
  const display = getDisplayProcessor({ field: { type: FieldType.number, config: fieldConfig ?? METRIC_FIELD_CONFIG[metric] }, theme });
  return (cell) => {
    if (cell.value === undefined || (cell.state !== 'ok' && cell.state !== 'warning' && cell.state !== 'fault')) {
      return STATE_PAINT[cell.state === 'ok' || cell.state === 'warning' || cell.state === 'fault' ? 'no-data' : cell.state];
    }
    const shown = display(cell.value);
    const paint: SlotPaint = { fill: shown.color ?? HEALTHY, text: shown.text };
    if (cell.state === 'fault') {
      paint.outline = STATE_PAINT.fault.fill;
      paint.glyph = '!';
    }
    return paint;
  };
}

/** The metric's value as the panel writes it (unit included). */
export function valueFormatter(metric: SlotMetric, theme: GrafanaTheme2): (value: number) => string {
  if (metric === 'health') return (v) => (v >= 2 ? 'critical' : v >= 1 ? 'warning' : 'ok');
  const display = getDisplayProcessor({ field: { type: FieldType.number, config: METRIC_FIELD_CONFIG[metric] }, theme });
  return (v) => {
    const shown = display(v);
    return `${shown.prefix ?? ''}${shown.text}${shown.suffix ?? ''}`;
  };
}
