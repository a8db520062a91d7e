/** How a slot is painted: metric values through Grafana's display processor, every other state by a fixed code. */
import { FieldColorModeId, FieldType, getDisplayProcessor, ThresholdsMode, type FieldConfig, type GrafanaTheme2 } from '@grafana/data';
import { HEALTHY_FILL, STATE_PAINT, type SlotPaint } from './states';
import type { SlotCell, SlotMetric } from './types';

export { STATE_LABEL, STATE_PAINT, type SlotPaint } from './states';


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

/** A function giving each slot its paint for one metric and colour configuration. */
export function slotPainter(metric: SlotMetric, theme: GrafanaTheme2, fieldConfig?: FieldConfig): (cell: SlotCell) => SlotPaint {
  if (metric === 'health') {
    return (cell) => (cell.state === 'ok' ? { fill: HEALTHY_FILL } : STATE_PAINT[cell.state]);
  }
  const display = getDisplayProcessor({ field: { type: FieldType.number, config: fieldConfig ?? METRIC_FIELD_CONFIG[metric] }, theme });
  return (cell) => {
    if (cell.value === undefined || (cell.state !== 'ok' && cell.state !== 'warning' && cell.state !== 'fault')) {
      return STATE_PAINT[cell.state === 'ok' || cell.state === 'warning' || cell.state === 'fault' ? 'no-data' : cell.state];
    }
    const shown = display(cell.value);
    const paint: SlotPaint = { fill: shown.color ?? HEALTHY_FILL, text: shown.text };
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
