/** The Grafana panel: data frames → farm model → RackMapView, with Grafana's theme and variables. */
import React, { useMemo, useRef } from 'react';
import type { PanelProps } from '@grafana/data';
import { PanelDataErrorView } from '@grafana/runtime';
import { useTheme2 } from '@grafana/ui';
import { FarmBuilder } from './farm';
import { rowsFromFrames } from './frames';
import { RackMapView } from './RackMapView';
import { readingsFromRows } from './rows';
import type { RackMapOptions } from './types';

export const NO_MINERS_MESSAGE = 'No miners in the query results: the queries must return the tags container, rack, shelf, slot and miner';

export function RackMapPanel({ id, data, options, width, height, fieldConfig, replaceVariables, timeZone }: PanelProps<RackMapOptions>): React.JSX.Element {
  const theme = useTheme2();
  const now = data.timeRange.to.valueOf();
  // Kept across refreshes, so a refresh patches the slots that changed.
  const builder = useRef<FarmBuilder | undefined>(undefined);
  const farm = useMemo(() => {
    const { readings, climates, heartbeats } = readingsFromRows(rowsFromFrames(data.series));
    builder.current ??= new FarmBuilder();
    return builder.current.build(
      readings,
      climates,
      { metric: options.metric, now: Math.min(now, Date.now()), staleAfterMs: options.staleAfterSeconds * 1000, slotsPerShelf: options.slotsPerShelf },
      heartbeats,
    );
  }, [data.series, options.metric, options.staleAfterSeconds, options.slotsPerShelf, now]);
  if (farm.slotCount === 0) {
    // Grafana's own view: "No data" (or the panel's No value text) when the queries returned nothing, with the
    // editor's suggestions; our hint only when rows came back without the tags a slot is placed by.
    const hasRows = data.series.some((frame) => frame.length > 0);
    return <PanelDataErrorView panelId={id} data={data} fieldConfig={fieldConfig} message={hasRows ? NO_MINERS_MESSAGE : undefined} />;
  }
  return (
    <RackMapView farm={farm} options={options} width={width} height={height} theme={theme} fieldConfig={fieldConfig.defaults} resolveLink={(url) => replaceVariables(url)} timeZone={timeZone} />
  );
}
