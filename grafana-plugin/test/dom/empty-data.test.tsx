/**
 * The panel with nothing to draw hands over to Grafana's PanelDataErrorView (the view every core panel shows:
 * "No data" or the panel's No value text, and the editor's suggestions), with our hint only when rows came back
 * without the location tags.
 */
import { render, screen } from '@testing-library/react';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import type { PanelDataErrorViewProps } from '@grafana/runtime';
import React from 'react';
import { NO_MINERS_MESSAGE, RackMapPanel } from '../../src/RackMapPanel';
import { DEFAULT_OPTIONS, type RackMapOptions } from '../../src/types';

/**
 * Grafana installs its real view at start-up with setPanelDataErrorView, which @grafana/runtime keeps out of its
 * public exports; the test installs a recording one the same way, through the module the public export reads.
 */
const errorViewModule = require(require.resolve('@grafana/runtime').replace(/index\.cjs$/, 'components/PanelDataErrorView.cjs')) as {
  setPanelDataErrorView(renderer: React.ComponentType<PanelDataErrorViewProps>): void;
};

function panelProps(series: grafanaData.DataFrame[], fieldConfig: grafanaData.FieldConfigSource = { defaults: {}, overrides: [] }): grafanaData.PanelProps<RackMapOptions> {
  const now = Date.now();
  const timeRange = { from: grafanaData.dateTime(now - 3_600_000), to: grafanaData.dateTime(now), raw: { from: 'now-1h', to: 'now' } };
  return {
    id: 7, data: { series, state: grafanaData.LoadingState.Done, timeRange }, timeRange, timeZone: 'utc', options: DEFAULT_OPTIONS,
    fieldConfig, transparent: false, width: 600, height: 300, renderCounter: 0, title: 'Racks', eventBus: new grafanaData.EventBusSrv(),
    onOptionsChange: () => {}, onFieldConfigChange: () => {}, replaceVariables: (s: string) => s, onChangeTimeRange: () => {},
  } as unknown as grafanaData.PanelProps<RackMapOptions>;
}

/** Rows with values but none of the tags container/rack/shelf/slot/miner (e.g. a query grouped by host). */
const untaggedRows = grafanaData.toDataFrame({
  fields: [
    { name: 'Time', type: grafanaData.FieldType.time, values: [Date.now() - 10_000] },
    { name: 'host', type: grafanaData.FieldType.string, values: ['edge-c01'] },
    { name: 'hashrate_ths', type: grafanaData.FieldType.number, values: [110] },
  ],
});

describe("Grafana's view when there is nothing to draw", () => {
  const shown: PanelDataErrorViewProps[] = [];
  const defaultView = grafanaRuntime.PanelDataErrorView;
  beforeAll(() => {
    errorViewModule.setPanelDataErrorView((props) => {
      shown.push(props);
      return <div data-testid="grafana-error-view">{props.message ?? props.fieldConfig?.defaults.noValue ?? 'No data'}</div>;
    });
  });
  afterAll(() => errorViewModule.setPanelDataErrorView(defaultView));
  beforeEach(() => {
    shown.length = 0;
  });

  test('no rows at all: Grafana says "No data" (or the No value text), with the panel id, data and field config to suggest from', () => {
    const fieldConfig = { defaults: { noValue: 'Farm offline?' }, overrides: [] };
    const props = panelProps([grafanaData.toDataFrame({ fields: [] })], fieldConfig);
    render(<RackMapPanel {...props} />);
    expect(screen.getByTestId('grafana-error-view').textContent).toBe('Farm offline?');
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ panelId: 7, message: undefined, fieldConfig });
    expect(shown[0]!.data).toBe(props.data);
    expect(screen.queryByTestId('rackmap')).toBeNull();
  });

  test('rows without the location tags: the view says which tags the queries must return', () => {
    render(<RackMapPanel {...panelProps([untaggedRows])} />);
    expect(screen.getByTestId('grafana-error-view').textContent).toBe(NO_MINERS_MESSAGE);
    expect(NO_MINERS_MESSAGE).toMatch(/container, rack, shelf, slot and miner/);
    expect(shown.map((p) => p.message)).toEqual([NO_MINERS_MESSAGE]);
  });

  test('a miner in the data: the rack map, not the error view', () => {
    const frame = grafanaData.toDataFrame({
      fields: [
        { name: 'Time', type: grafanaData.FieldType.time, values: [Date.now() - 10_000] },
        ...Object.entries({ site: 'north-1', container: 'C01', rack: 'R1', shelf: 'S1', slot: '1', miner: 'C01-R1-S1-1' }).map(([name, value]) => ({ name, type: grafanaData.FieldType.string, values: [value] })),
        { name: 'reachable', type: grafanaData.FieldType.number, values: [1] },
      ],
    });
    render(<RackMapPanel {...panelProps([frame])} />);
    expect(screen.getByTestId('rackmap').getAttribute('data-slots')).toBe('1');
    expect(shown).toEqual([]);
  });
});

test('outside Grafana (the runtime’s fallback view) the hint is still shown', () => {
  render(<RackMapPanel {...panelProps([untaggedRows])} />);
  expect(screen.getByText((text) => text.includes(NO_MINERS_MESSAGE))).toBeTruthy();
});
