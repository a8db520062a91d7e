/**
 * The built dist/ as Grafana loads it: module.js is an AMD module whose dependencies are only modules Grafana
 * shares with plugins, and whose `plugin` export is a PanelPlugin that draws. scripts/test.sh builds dist/ first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { render } from '@testing-library/react';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as React from 'react';
import { STATE_PAINT } from '../../src/colors';
import { GRAFANA_EXTERNALS } from '../../externals';
import type { RecordingContext } from './setup';

const dist = path.join(__dirname, '../../dist');
const shared: Record<string, unknown> = { react: React, '@grafana/data': grafanaData, '@grafana/ui': grafanaUi, '@grafana/runtime': grafanaRuntime };

function loadAmd(file: string): { dependencies: string[]; exports: Record<string, unknown> } {
  let captured: { dependencies: string[]; factory: (...deps: unknown[]) => Record<string, unknown> } | undefined;
  const define = (dependencies: string[], factory: (...deps: unknown[]) => Record<string, unknown>) => {
    captured = { dependencies, factory };
  };
  // The same call Grafana's loader makes: evaluate the file with a global define().
  new Function('define', readFileSync(file, 'utf8'))(define);
  if (!captured) throw new Error(`${file} did not call define()`);
  const { dependencies, factory } = captured;
  return { dependencies, exports: factory(...dependencies.map((name) => shared[name])) };
}

/** What Grafana hands a panel: the query results of the last hour up to `now`, in the dashboard's time zone. */
function panelProps(series: grafanaData.DataFrame[], now: number, timeZone: string): grafanaData.PanelProps {
  const timeRange = { from: grafanaData.dateTime(now - 3_600_000), to: grafanaData.dateTime(now), raw: { from: 'now-1h', to: 'now' } };
  return {
    id: 1, data: { series, state: grafanaData.LoadingState.Done, timeRange }, timeRange, timeZone, options: { metric: 'health', colorSource: 'metric', containersPerRow: 0, rackOrientation: 'vertical', showLabels: true, tvMode: false, staleAfterSeconds: 180, slotsPerShelf: 0, detailUrl: '' },
    fieldConfig: { defaults: {}, overrides: [] }, transparent: false, width: 600, height: 300, renderCounter: 0, title: 'Racks', eventBus: new grafanaData.EventBusSrv(),
    onOptionsChange: () => {}, onFieldConfigChange: () => {}, replaceVariables: (s: string) => s, onChangeTimeRange: () => {},
  } as unknown as grafanaData.PanelProps;
}

describe('built panel bundle', () => {
  const { dependencies, exports } = loadAmd(path.join(dist, 'module.js'));

  test('is an AMD module depending only on modules Grafana provides', () => {
    expect(dependencies.length).toBeGreaterThan(0);
    for (const name of dependencies) expect(GRAFANA_EXTERNALS).toContain(name);
  });

  test('exports a PanelPlugin with the rack map options', () => {
    const plugin = exports.plugin;
    expect(plugin).toBeInstanceOf(grafanaData.PanelPlugin);
    const panelPlugin = plugin as grafanaData.PanelPlugin;
    // Grafana fills the editor registry at run time; a recording builder stands in for it.
    const paths: string[] = [];
    const builder: object = new Proxy({}, {
      get: (_target, method) => (config: { path: string }) => {
        if (String(method).startsWith('add')) paths.push(config.path);
        return builder;
      },
    });
    panelPlugin.getPanelOptionsSupplier()(builder as grafanaData.PanelOptionsEditorBuilder<unknown>, { data: [] });
    expect(paths).toEqual(
      expect.arrayContaining(['metric', 'colorSource', 'containersPerRow', 'rackOrientation', 'showLabels', 'tvMode', 'detailUrl']),
    );
  });

  test("the bundle's panel draws a miner from an InfluxQL table frame, in the fault colour when it has a critical fault", () => {
    const Panel = (exports.plugin as grafanaData.PanelPlugin).panel!;
    const now = Date.now();
    const frame = grafanaData.toDataFrame({
      fields: [
        { name: 'Time', type: grafanaData.FieldType.time, values: [now - 10_000, now - 10_000] },
        { name: 'site', type: grafanaData.FieldType.string, values: ['north-1', 'north-1'] },
        { name: 'container', type: grafanaData.FieldType.string, values: ['C01', 'C01'] },
        { name: 'rack', type: grafanaData.FieldType.string, values: ['R1', 'R1'] },
        { name: 'shelf', type: grafanaData.FieldType.string, values: ['S1', 'S1'] },
        { name: 'slot', type: grafanaData.FieldType.string, values: ['1', '2'] },
        { name: 'miner', type: grafanaData.FieldType.string, values: ['C01-R1-S1-1', 'C01-R1-S1-2'] },
        { name: 'reachable', type: grafanaData.FieldType.number, values: [1, 1] },
      ],
    });
    const faults = grafanaData.toDataFrame({
      fields: [
        { name: 'Time', type: grafanaData.FieldType.time, values: [0] },
        ...['site', 'container', 'rack', 'shelf', 'slot', 'miner', 'code', 'severity', 'part'].map((name, i) => ({
          name, type: grafanaData.FieldType.string, values: [['north-1', 'C01', 'R1', 'S1', '2', 'C01-R1-S1-2', 'FAN_STOPPED', 'critical', 'fan 1'][i]],
        })),
        { name: 'active', type: grafanaData.FieldType.number, values: [1] },
      ],
    });
    const { container } = render(<Panel {...panelProps([frame, faults], now, 'utc')} />);
    const ctx = container.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    const fills = ctx.fills.map((f) => f.fill);
    expect(fills).toContain(STATE_PAINT.fault.fill);
    expect(container.querySelector('[data-testid="rackmap"]')!.getAttribute('data-slots')).toBe('2');
  });

  test("the bundle's panel shows Grafana's PanelDataErrorView, with the tags it needs, for rows without them", () => {
    expect(dependencies).toContain('@grafana/runtime');
    const Panel = (exports.plugin as grafanaData.PanelPlugin).panel!;
    const now = Date.now();
    const untagged = grafanaData.toDataFrame({
      fields: [
        { name: 'Time', type: grafanaData.FieldType.time, values: [now - 10_000] },
        { name: 'hashrate_ths', type: grafanaData.FieldType.number, values: [110] },
      ],
    });
    const { container } = render(<Panel {...panelProps([untagged], now, 'utc')} />);
    expect(container.querySelector('[data-testid="rackmap"]')).toBeNull();
    // The runtime's own fallback view outside Grafana: "Unable to render data: <message>."
    expect(container.textContent).toContain('Unable to render data: No miners in the query results');
    expect(container.textContent).toContain('container, rack, shelf, slot and miner');
  });

  test("the bundle's panel draws a container whose edge heartbeat (an InfluxQL table frame) is 5 minutes old as silent, with the header in the dashboard's time zone", () => {
    const Panel = (exports.plugin as grafanaData.PanelPlugin).panel!;
    const now = Date.now();
    // One shelf of ten: a container wide enough for the whole header.
    const slots = Array.from({ length: 10 }, (_, i) => String(i + 1));
    const miners = grafanaData.toDataFrame({
      fields: [
        { name: 'Time', type: grafanaData.FieldType.time, values: slots.map(() => now - 300_000) },
        ...Object.entries({ site: 'north-1', container: 'C04', rack: 'R1', shelf: 'S1' }).map(([name, value]) => ({ name, type: grafanaData.FieldType.string, values: slots.map(() => value) })),
        { name: 'slot', type: grafanaData.FieldType.string, values: slots },
        { name: 'miner', type: grafanaData.FieldType.string, values: slots.map((n) => `C04-R1-S1-${n}`) },
        { name: 'reachable', type: grafanaData.FieldType.number, values: slots.map(() => 1) },
      ],
    });
    const heartbeats = grafanaData.toDataFrame({
      fields: [
        { name: 'Time', type: grafanaData.FieldType.time, values: [now - 300_000] },
        ...['site', 'container', 'edge', 'source'].map((name, i) => ({ name, type: grafanaData.FieldType.string, values: [['north-1', 'C04', 'edge-C04', 'miner'][i]] })),
        { name: 'seq', type: grafanaData.FieldType.number, values: [120] },
        { name: 'interval_ms', type: grafanaData.FieldType.number, values: [30_000] },
      ],
    });
    const { container } = render(<Panel {...panelProps([miners, heartbeats], now, 'Asia/Tokyo')} />);
    const ctx = container.querySelector('canvas')!.getContext('2d') as unknown as RecordingContext;
    expect(ctx.fills.map((f) => f.fill)).toContain(STATE_PAINT.silent.fill);
    expect(ctx.fills.map((f) => f.fill)).not.toContain(STATE_PAINT.stale.fill);
    const tokyo = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Asia/Tokyo' }).format(now - 300_000);
    expect(ctx.texts.map((t) => t.text)).toContain(`silent 5 min · last data ${tokyo}`);
  });
});
