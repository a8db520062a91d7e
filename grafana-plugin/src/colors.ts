/** How a slot is painted: metric values through Grafana's display processor, every other state by a fixed code. */
import { FieldColorModeId, FieldType, getActiveThreshold, getDisplayProcessor, ThresholdsMode, type FieldConfig, type GrafanaTheme2 } from '@grafana/data';
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
  const config = fieldConfig ?? METRIC_FIELD_CONFIG[metric];
  const colorOf = valueColorer(config, theme);
  const decimals = config.decimals ?? 0;
  return (cell) => {
    if (cell.value === undefined || (cell.state !== 'ok' && cell.state !== 'warning' && cell.state !== 'fault')) {
      return STATE_PAINT[cell.state === 'ok' || cell.state === 'warning' || cell.state === 'fault' ? 'no-data' : cell.state];
    }
    const paint: SlotPaint = { fill: colorOf(cell.value), text: cell.value.toFixed(decimals) };
    if (cell.state === 'fault') {
      paint.outline = STATE_PAINT.fault.fill;
      paint.glyph = '!';
    }
    return paint;
  };
}

/**
 * Colour of a value under a field config. Absolute thresholds take a fast path (the active step's colour,
 * resolved once per step): Grafana's display processor formats text too, which costs more than the whole paint
 * at 5,000 slots. Other modes (continuous schemes, percentage thresholds) go through the display processor.
 */
function valueColorer(config: FieldConfig, theme: GrafanaTheme2): (value: number) => string {
  const steps = config.thresholds?.steps;
  const mode = config.color?.mode ?? FieldColorModeId.Thresholds;
  if (mode === FieldColorModeId.Thresholds && steps?.length && config.thresholds?.mode !== ThresholdsMode.Percentage) {
    const resolved = new Map<string, string>();
    return (value) => {
      const name = getActiveThreshold(value, steps).color;
      let color = resolved.get(name);
      if (color === undefined) {
        color = theme.visualization.getColorByName(name);
        resolved.set(name, color);
      }
      return color;
    };
  }
  const display = getDisplayProcessor({ field: { type: FieldType.number, config }, theme });
  return (value) => display(value).color ?? HEALTHY_FILL;
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
