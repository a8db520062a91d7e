/**
 * The provisioned dashboards against a real InfluxDB filled by the simulator through the exporter: every panel
 * query and every variable query, with Grafana's macros expanded, must return rows, so no panel opens on
 * "No data". Container climate points are written here the way the climate exporter writes them
 * (docs/schema.md, climate_container), since this test runs no climate sensors, and edge heartbeats the way an
 * edge writes them (shared/src/edge.ts), since the exporter here runs without one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { encodePoints, heartbeatPoint, upPoint, type InfluxStore } from '@flymining/shared';
import { SimulatedFarm, generateFarmSpecs } from '@flymining/simulator';
import { parse } from 'yaml';
import { exporterFor, freshStore, inventoryFor } from '../../../exporters/test/e2e/helpers';
import { DASHBOARDS, tier } from '../../dashboards/dashboards';
import { actionPoint } from '../../../exporters/src/miner/control/audit';
import { decisionPoint } from '../../../exporters/src/control/types';
import { DASHBOARD_DIR, dashboardFileText } from '../../dashboards/generate';
import { DATASOURCE, RACKMAP_PANEL_TYPE, type Dashboard } from '../../dashboards/model';
import { buildFarm } from '../../src/farm';
import { expandMacros, regexValue } from '../../src/macros';
import { RACKMAP_QUERIES } from '../../src/queries';
import { readingsFromRows } from '../../src/rows';

const layout = { containers: 2, racksPerContainer: 2, shelvesPerRack: 1, slotsPerShelf: 5, baseAddress: '127.47.0.1', seed: 4 };
const specs = generateFarmSpecs({ miners: 20, ...layout });
/** C03's miners: not simulated, only their scrape attempts up to the moment C03's edge went quiet (10 minutes ago). */
const c03Specs = generateFarmSpecs({ miners: 30, ...layout, containers: 3 }).filter((s) => s.position.container === 'C03');
/** The miner the miner-detail dashboard is opened on: one whose model reports power (not every model does). */
let FAULTED = '';

interface NamedQuery {
  where: string;
  query: string;
}

function queriesOf(d: Dashboard): NamedQuery[] {
  const fromPanels = d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.title} / ${p.title || p.type} / ${t.refId}`, query: t.query })));
  const fromVariables = d.templating.list.map((v) => ({ where: `${d.title} / variable ${v.name}`, query: v.query }));
  return [...fromPanels, ...fromVariables];
}

describe('provisioned Grafana dashboards', () => {
  const farm = new SimulatedFarm({ specs, seed: 4 });
  let store: InfluxStore;
  let site: string;

  beforeAll(async () => {
    await farm.start();
    store = await freshStore('grafana_dashboards');
    const exporter = exporterFor(inventoryFor(specs, false), store);
    await exporter.sweep(0);
    await store.flush();
    const powered = await store.queryRows('SELECT last("power_w") AS "p" FROM "miner" GROUP BY "miner"');
    FAULTED = String(powered[0]!.miner);
    farm.miner(FAULTED)!.applyFault({ fault: 'stopFan', index: 0 });
    // A reflash, so the miner detail's "Changes" panel (miner_change, issue 15) has a row.
    farm.miner(FAULTED)!.applyFault({ fault: 'firmwareChange', version: 'reflashed-1.0' });
    await exporter.sweep(0);
    await store.flush();
    const [first] = await store.queryRows('SHOW TAG VALUES FROM "miner_up" WITH KEY = "site"');
    site = String(first!.value);
    const now = Date.now();
    store.write(
      ['C01', 'C02'].map((c, i) => `climate_container,site=${site},container=${c} intake_c=${24 + i},exhaust_c=${39 + i},condensation_margin_c=8.5,delta_t_c=15 ${now}`),
    );
    // The exporter reports C01 and C02 each sweep as edge "e2e". Left behind: the heartbeats of C02's previous edge,
    // 10 minutes old, and those of C03, whose edge went quiet 10 minutes ago (its miners are not in this farm).
    const beat = { site, source: 'miner' as const, intervalMs: 30_000, miners: 10, reachable: 10, activeFaults: 0, spoolLines: 0, spoolBytes: 0, spoolOldestMs: 0, pointsDropped: 0, uplink: 'ok' as const };
    store.write(encodePoints([
      heartbeatPoint({ ...beat, container: 'C02', edge: 'edge-C02-old', time: now - 600_000, seq: 7 }),
      heartbeatPoint({ ...beat, container: 'C03', edge: 'edge-C03', time: now - 630_000, seq: 1 }),
      heartbeatPoint({ ...beat, container: 'C03', edge: 'edge-C03', time: now - 600_000, seq: 2 }),
      ...[...inventoryFor(c03Specs, false).current.miners.values()].flatMap((m) => [upPoint(m, now - 630_000, 120, true, ''), upPoint(m, now - 600_000, 120, true, '')]),
    ]));
    // Control (issue 14): one staff action and one decision of each policy, built as the executor and agent build them.
    const target = { id: FAULTED, site, container: 'C01', rack: 'R01', shelf: 'S01', slot: '1', host: '127.0.0.1', port: 4028 };
    const keep = { target, actor: { kind: 'staff' as const, name: 'ops' }, reason: 'ticket 12', reply: 'OK', durationMs: 120 };
    const none = { actions: [] };
    store.write(encodePoints([
      actionPoint({ ...keep, time: now - 60_000, action: { kind: 'sleep' }, outcome: 'confirmed', detail: 'now sleeping', confirmMs: 2000 }),
      decisionPoint(site, { ...none, policy: 'temperature', container: 'C01', decision: 'hold', reason: 'intake in band', intakeC: 24, bandLowC: 5, bandHighC: 35 }, now - 50_000),
      decisionPoint(site, { ...none, policy: 'curtailment', container: 'C01', decision: 'curtail', reason: 'price above strike', powerW: 250_000, targetW: 100_000 }, now - 40_000),
      decisionPoint(site, { ...none, policy: 'recovery', container: 'C02', decision: 'reboot', reason: 'not hashing for 16 min' }, now - 30_000),
    ]));
    await store.flush();
  });

  afterAll(async () => {
    await farm.stop();
    await store?.close();
  });

  test('the JSON files are what dashboards.ts generates', () => {
    for (const name of Object.keys(DASHBOARDS)) {
      expect({ name, text: readFileSync(path.join(DASHBOARD_DIR, name), 'utf8') }).toEqual({ name, text: dashboardFileText(name) });
    }
  });

  test('every panel uses the provisioned InfluxDB data source, and the farm views use the rack map panel', () => {
    const provisioned = parse(readFileSync(path.join(__dirname, '../../../provisioning/grafana/datasources/influxdb.yaml'), 'utf8')) as { datasources: Array<{ uid: string; type: string }> };
    expect(provisioned.datasources).toEqual([expect.objectContaining({ uid: DATASOURCE.uid, type: DATASOURCE.type })]);
    for (const d of Object.values(DASHBOARDS)) for (const p of d.panels) if (p.targets) expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: DATASOURCE.uid });
    const uids = new Set(Object.values(DASHBOARDS).map((d) => d.uid));
    expect(uids.size).toBe(Object.keys(DASHBOARDS).length);
    expect(DASHBOARDS['tv-wall.json']!.panels[0]).toMatchObject({ type: RACKMAP_PANEL_TYPE, options: { tvMode: true } });
    // Silent containers need the heartbeat query on every rack map, the TV wall's and the farm overview's first.
    for (const name of ['tv-wall.json', 'farm-overview.json']) {
      const queries = DASHBOARDS[name]!.panels.find((p) => p.type === RACKMAP_PANEL_TYPE)!.targets!.map((t) => t.query);
      expect({ name, queries }).toEqual({ name, queries: expect.arrayContaining([RACKMAP_QUERIES.heartbeats]) });
    }
    // The rack map links each slot to the miner dashboard: that dashboard must exist with a miner variable.
    const link = String(DASHBOARDS['farm-overview.json']!.panels.find((p) => p.type === RACKMAP_PANEL_TYPE)!.options!.detailUrl);
    expect(link).toContain(`/d/${DASHBOARDS['miner-detail.json']!.uid}/`);
    expect(DASHBOARDS['miner-detail.json']!.templating.list.map((v) => v.name)).toContain('miner');
  });

  test.each(Object.keys(DASHBOARDS))('%s: every query returns data from the simulated farm', async (name) => {
    const now = Date.now();
    const values = {
      timeFilter: 'time > now() - 1h',
      interval: '1m',
      // $tier as its variable picks it for the last hour (the raw policy, where the exporter writes).
      variables: { site: regexValue(site), container: '.*', miner: FAULTED, tier: 'raw', __from: String(now - 3_600_000), __to: String(now) },
    };
    const empty: string[] = [];
    for (const { where, query } of queriesOf(DASHBOARDS[name]!)) {
      const rows = await store.queryRows(expandMacros(query, values));
      if (rows.length === 0) empty.push(where);
    }
    expect(empty).toEqual([]);
  });

  test('the tier variable reads raw up to 2 days, the 5-minute rollups up to 35 days and the 1-hour rollups beyond', async () => {
    const to = Date.now();
    const tierFor = async (spanMs: number) => {
      const q = expandMacros(tier.query, { timeFilter: '', interval: '', variables: { __from: String(to - spanMs), __to: String(to) } });
      return (await store.queryRows(q)).map((r) => r.rp);
    };
    const day = 86_400_000;
    expect(await tierFor(3_600_000)).toEqual(['raw']);
    expect(await tierFor(2 * day)).toEqual(['raw']);
    expect(await tierFor(2 * day + 1)).toEqual(['rollup']);
    expect(await tierFor(30 * day)).toEqual(['rollup']);
    expect(await tierFor(365 * day)).toEqual(['rollup_1h']);
    // Every dashboard with a tiered query has the variable, hidden and refreshed with the time range.
    for (const [name, d] of Object.entries(DASHBOARDS)) {
      const usesTier = d.panels.some((p) => (p.targets ?? []).some((t) => t.query.includes('$tier')));
      expect({ name, variable: d.templating.list.find((v) => v.name === 'tier') }).toEqual({ name, variable: usesTier ? expect.objectContaining({ refresh: 2, hide: 2 }) : undefined });
    }
  });

  test("the rack map's queries place every simulated miner and carry the injected fault and each container's newest heartbeat", async () => {
    const rackMap = DASHBOARDS['farm-overview.json']!.panels.find((p) => p.type === RACKMAP_PANEL_TYPE)!;
    const values = { timeFilter: 'time > now() - 1h', interval: '1m', variables: { site: '.*', __to: String(Date.now()) } };
    const rows = (await Promise.all(rackMap.targets!.map((t) => store.queryRows(expandMacros(t.query, values))))).flat();
    const { readings, climates, heartbeats } = readingsFromRows(rows);
    const now = Date.now();
    // The newest heartbeat of each edge series with its own time (not the query window's start).
    const age = (time: number) => (now - time < 120_000 ? 'this run' : `${Math.round((now - time) / 60_000)} min`);
    expect(heartbeats.map((h) => [h.container, h.edge, h.intervalMs, age(h.time)]).sort()).toEqual([
      ['C01', 'e2e', 30_000, 'this run'],
      ['C02', 'e2e', 30_000, 'this run'],
      ['C02', 'edge-C02-old', 30_000, '10 min'],
      ['C03', 'edge-C03', 30_000, '10 min'],
    ]);
    // The newest heartbeat of a container decides: C02 reports through its new edge; C03 is silent.
    const model = buildFarm(readings, climates, { metric: 'health', now, staleAfterMs: 180_000, slotsPerShelf: 0 }, heartbeats);
    expect(model.containers.map((c) => [c.name, c.silent !== undefined])).toEqual([['C01', false], ['C02', false], ['C03', true]]);
    // C03's miners, with no values in the values' window, are placed by their newest scrape attempt, with its time.
    expect(readings.map((r) => r.miner).sort()).toEqual([...specs, ...c03Specs].map((s) => s.id).sort());
    expect(readings.filter((r) => r.container === 'C03').map((r) => age(r.time!))).toEqual(c03Specs.map(() => '10 min'));
    expect(readings.filter((r) => r.container !== 'C03').map((r) => age(r.time!))).toEqual(specs.map(() => 'this run'));
    expect(model.containers.find((c) => c.name === 'C03')!.racks.flatMap((r) => r.shelves.flatMap((s) => s.slots.map((c) => c.state)))).toEqual(c03Specs.map(() => 'silent'));
    // Firmware that lists only spinning fans reports the stopped one as missing.
    expect(readings.find((r) => r.miner === FAULTED)!.faults.map((f) => f.code)).toEqual(expect.arrayContaining([expect.stringMatching(/^FAN_(STOPPED|MISSING)$/)]));
    expect(climates.map((c) => c.container).sort()).toEqual(['C01', 'C02']);
  });
});
