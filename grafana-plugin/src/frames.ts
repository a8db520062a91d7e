/** Grafana data frames → query rows (rows.ts), for table-format and for labelled time-series results. */
import { FieldType, type DataFrame } from '@grafana/data';
import type { QueryRow } from './rows';

const TAGS = new Set(['site', 'container', 'rack', 'shelf', 'slot', 'miner', 'code', 'severity', 'part', 'model']);

export function rowsFromFrames(frames: readonly DataFrame[]): QueryRow[] {
  const rows: QueryRow[] = [];
  for (const frame of frames) {
    const timeField = frame.fields.find((f) => f.type === FieldType.time);
    const isTable = frame.fields.some((f) => TAGS.has(f.name) && f.type === FieldType.string);
    if (isTable) {
      for (let i = 0; i < frame.length; i++) {
        const row: Record<string, unknown> = {};
        for (const field of frame.fields) row[field === timeField ? 'time' : field.name] = field.values[i];
        rows.push(row);
      }
      continue;
    }
    // Time series: one value field per series, tags as labels; the value is the newest non-null point.
    for (const field of frame.fields) {
      if (field === timeField || !field.labels) continue;
      let last = -1;
      for (let i = field.values.length - 1; i >= 0; i--) {
        if (field.values[i] !== null && field.values[i] !== undefined) {
          last = i;
          break;
        }
      }
      if (last < 0) continue;
      rows.push({ ...field.labels, [valueName(frame, field.name, field.config.displayNameFromDS)]: field.values[last], time: timeField?.values[last] });
    }
  }
  return rows;
}

/** Grafana's InfluxQL source names a series' value field "Value" and the frame "measurement.alias". */
function valueName(frame: DataFrame, fieldName: string, displayName: string | undefined): string {
  const name = fieldName !== 'Value' ? fieldName : (displayName ?? frame.name ?? fieldName);
  const plain = name.split(' ')[0] ?? name;
  return plain.includes('.') ? plain.slice(plain.lastIndexOf('.') + 1) : plain;
}
