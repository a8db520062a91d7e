/** The pipeline stages on their own: routing, grouping, inhibition, root cause, lifecycle, dedup, windows. */
import type { Fault } from '@flymining/shared';
import fc from 'fast-check';
import { matches, parseMatcher } from '../src/matchers';
import { decideNotices } from '../src/pipeline/dedup';
import { advance, faultConditions, queryConditions, type Condition } from '../src/pipeline/evaluate';
import { groupAlerts } from '../src/pipeline/group';
import { inhibitedFingerprints } from '../src/pipeline/inhibit';
import { rootCauseConditions } from '../src/pipeline/root-cause';
import { buildRoute, routesFor } from '../src/pipeline/route';
import { inWindow, silencedFingerprints, type Silence } from '../src/pipeline/silence';
import type { QueryRule } from '../src/config';
import type { Alert } from '../src/types';
import type { Acknowledgement } from '../src/state';
import { config } from './helpers';

const base = `
receivers: [{ name: oncall, email: { to: [a@b.example], smarthost: 'smtp://127.0.0.1:25' } }, { name: hydro, slack: { webhook_url: 'http://127.0.0.1:1/x' } }, { name: log, slack: { webhook_url: 'http://127.0.0.1:1/y' } }]
`;

function fault(miner: string, code: Fault['code'], container = 'C3', extra: Partial<Fault> = {}): Fault {
  const [, rack = 'R1', shelf = 'S1', slot = '1'] = miner.split('-');
  return {
    code,
    severity: code === 'HASHRATE_LOW' ? 'warning' : 'critical',
    minerId: miner,
    location: { site: 'north-1', container, rack, shelf, slot },
    part: '',
    message: `${code} at ${miner}`,
    since: 1000,
    ...extra,
  };
}

function firingFrom(conditions: Map<string, Condition>, now = 10_000): Alert[] {
  return [...advance(new Map(), conditions, now, 3_600_000, () => 0).alerts.values()];
}

describe('routing tree', () => {
  const cfg = config(`${base}
route:
  receiver: oncall
  group_by: [container]
  routes:
    - matchers: ['severity="info"']
      receiver: log
    - matchers: ['container=~"H.*"']
      receiver: hydro
      continue: true
      group_wait: 5s
    - matchers: ['fault="FAN_STOPPED"']
      receiver: oncall
      group_by: [container, rack]
`);
  const tree = buildRoute(cfg.route);
  const receivers = (labels: Record<string, string>) => routesFor(tree, labels).map((r) => `${r.receiver}@${r.id}`);

  test('first matching child wins; continue lets later siblings match too; no match stays at the top', () => {
    expect(receivers({ severity: 'info', container: 'H1', fault: 'FAN_STOPPED' })).toEqual(['log@0.0']);
    expect(receivers({ severity: 'critical', container: 'H1', fault: 'FAN_STOPPED' })).toEqual(['hydro@0.1', 'oncall@0.2']);
    expect(receivers({ severity: 'critical', container: 'C3', fault: 'BOARD_MISSING' })).toEqual(['oncall@0']);
  });

  test('children inherit timings and group_by they do not set', () => {
    const [hydro] = routesFor(tree, { container: 'H1' });
    expect(hydro).toMatchObject({ groupWaitMs: 5000, groupBy: ['container'], repeatIntervalMs: 4 * 3_600_000 });
  });

  test('grouping by container, rack: one group per rack, a separate one per route', () => {
    const rules = config(`${base}
rules: [{ name: Fan, faults: [FAN_STOPPED] }]
route: { receiver: oncall }`).rules;
    const alerts = firingFrom(faultConditions([fault('C3-R1-S1-1', 'FAN_STOPPED', 'H1'), fault('C3-R1-S2-1', 'FAN_STOPPED', 'H1'), fault('C3-R2-S1-1', 'FAN_STOPPED', 'H1')], rules));
    const groups = [...groupAlerts(alerts, tree).values()].map((g) => `${g.route.receiver} ${JSON.stringify(g.groupLabels)} ${g.alerts.length}`).sort();
    expect(groups).toEqual(['hydro {"container":"H1"} 3', 'oncall {"container":"H1","rack":"R1"} 2', 'oncall {"container":"H1","rack":"R2"} 1']);
  });
});

describe('root cause and inhibition', () => {
  const cfg = config(`${base}
rules: [{ name: Unreachable, faults: [MINER_UNREACHABLE] }]
root_causes: [{ name: ContainerUnreachable, fault: MINER_UNREACHABLE, min_miners: 3, min_share: 0.5 }]
inhibit_rules:
  - source_matchers: ['alertname="ContainerUnreachable"']
    target_matchers: ['fault="MINER_UNREACHABLE"']
    equal: [site, container]
route: { receiver: oncall, group_by: [container] }
`);
  const sizes = new Map([
    ['north-1/C3', 10],
    ['north-1/C4', 10],
  ]);

  test('most miners of C3 unreachable: one container alert, and its miners inhibited; C4 with two down pages per miner', () => {
    const down = [...Array(8).keys()].map((i) => fault(`C3-R1-S1-${i}`, 'MINER_UNREACHABLE', 'C3', { details: { reason: 'timeout' } }));
    const c4 = [fault('C4-R1-S1-1', 'MINER_UNREACHABLE', 'C4'), fault('C4-R1-S1-2', 'MINER_UNREACHABLE', 'C4')];
    const faults = [...down, ...c4];
    const conditions = rootCauseConditions(faults, cfg.root_causes, sizes, faultConditions(faults, cfg.rules));
    const alerts = firingFrom(conditions);
    const muted = inhibitedFingerprints(alerts, cfg.inhibit_rules);
    const paged = alerts.filter((a) => !muted.has(a.fingerprint));
    expect(paged.map((a) => `${a.labels.alertname} ${a.labels.container} ${a.labels.miner ?? ''}`).sort()).toEqual([
      'ContainerUnreachable C3 ',
      'Unreachable C4 C4-R1-S1-1',
      'Unreachable C4 C4-R1-S1-2',
    ]);
    const root = paged.find((a) => a.labels.alertname === 'ContainerUnreachable')!;
    expect(root.annotations.message).toContain('8 of 10 miners');
    expect(root.annotations.message).toContain('timeout 8');
  });

  test('below the share (4 of 10) there is no root cause', () => {
    const faults = [...Array(4).keys()].map((i) => fault(`C3-R1-S1-${i}`, 'MINER_UNREACHABLE'));
    expect(rootCauseConditions(faults, cfg.root_causes, sizes, new Map()).size).toBe(0);
  });

  test('a pending root cause inhibits nothing', () => {
    const alerts = firingFrom(rootCauseConditions([...Array(5).keys()].map((i) => fault(`C3-R1-S1-${i}`, 'MINER_UNREACHABLE')), cfg.root_causes, sizes, new Map()));
    const pending = alerts.map((a) => ({ ...a, state: 'pending' as const }));
    const target = { ...alerts[0]!, fingerprint: 'x', labels: { site: 'north-1', container: 'C3', fault: 'MINER_UNREACHABLE', alertname: 'Unreachable' } };
    expect(inhibitedFingerprints([...pending, target], cfg.inhibit_rules).size).toBe(0);
    expect(inhibitedFingerprints([...alerts, target], cfg.inhibit_rules)).toEqual(new Set(['x']));
  });
});

describe('lifecycle: for, keep_firing_for, hysteresis', () => {
  const cfg = config(`${base}
influx: { url: 'http://127.0.0.1:8086' }
rules:
  - name: Fan
    faults: [FAN_STOPPED]
    for: 1m
    keep_firing_for: 2m
  - name: ContainerHashrateLow
    query: SELECT mean(hashrate_ths) / mean(nominal_ths) AS value FROM miner WHERE time > now() - 15m GROUP BY container
    below: 0.9
    resolve_above: 0.95
route: { receiver: oncall }
`);
  const fan = faultConditions([fault('C3-R1-S1-1', 'FAN_STOPPED', 'C3', { since: 0 })], cfg.rules);

  test('pending for `for`, firing after, held for keep_firing_for, then resolved', () => {
    let state = advance(new Map(), fan, 30_000, 3_600_000, () => 120_000);
    expect([...state.alerts.values()].map((a) => a.state)).toEqual(['pending']);
    state = advance(state.alerts, fan, 60_000, 3_600_000, () => 120_000);
    expect([...state.alerts.values()].map((a) => a.state)).toEqual(['firing']);
    state = advance(state.alerts, new Map(), 70_000, 3_600_000, () => 120_000);
    expect([...state.alerts.values()].map((a) => a.state)).toEqual(['firing']);
    state = advance(state.alerts, fan, 80_000, 3_600_000, () => 120_000);
    expect([...state.alerts.values()][0]).toMatchObject({ state: 'firing', flaps: 1 });
    state = advance(state.alerts, new Map(), 90_000, 3_600_000, () => 120_000);
    state = advance(state.alerts, new Map(), 209_000, 3_600_000, () => 120_000);
    expect([...state.alerts.values()].map((a) => a.state)).toEqual(['firing']);
    state = advance(state.alerts, new Map(), 210_000, 3_600_000, () => 120_000);
    expect([...state.alerts.values()][0]).toMatchObject({ state: 'resolved', resolvedAt: 210_000 });
  });

  test('a pending alert that clears vanishes without a word', () => {
    const state = advance(advance(new Map(), fan, 30_000, 3_600_000, () => 0).alerts, new Map(), 40_000, 3_600_000, () => 0);
    expect(state.alerts.size).toBe(0);
    expect(state.deleted).toHaveLength(1);
  });

  test('hysteresis: fires below 0.9, stays firing at 0.92, resolves only above 0.95', () => {
    const rule = cfg.rules[1] as QueryRule;
    const step = (alerts: Map<string, Alert>, value: number, now: number) =>
      advance(alerts, queryConditions(rule, [{ time: now, container: 'C3', value }], alerts, now), now, 3_600_000, () => 0).alerts;
    let alerts = step(new Map(), 0.93, 1000);
    expect(alerts.size).toBe(0);
    alerts = step(alerts, 0.85, 2000);
    expect([...alerts.values()][0]).toMatchObject({ state: 'firing', labels: { container: 'C3', alertname: 'ContainerHashrateLow' } });
    alerts = step(alerts, 0.92, 3000);
    expect([...alerts.values()][0]!.state).toBe('firing');
    alerts = step(alerts, 0.96, 4000);
    expect([...alerts.values()][0]!.state).toBe('resolved');
  });
});

describe('dedup: group_wait, group_interval, repeat_interval, acknowledgement, retry', () => {
  const cfg = config(`${base}
rules: [{ name: Fan, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [container], group_wait: 30s, group_interval: 5m, repeat_interval: 4h }
`);
  const tree = buildRoute(cfg.route);
  const receivers = new Map(cfg.receivers.map((r) => [r.name, r]));
  const alertsAt = (miners: string[], now: number) => firingFrom(faultConditions(miners.map((m) => fault(m, 'FAN_STOPPED')), cfg.rules), now);
  const decide = (alerts: Alert[], now: number, log = new Map(), acks = new Map<string, Acknowledgement>(), retries = new Map()) =>
    decideNotices({ groups: groupAlerts(alerts, tree), receivers, log, retries, acks, now }).notices;

  test('waits group_wait, then one notice for the group; a new alert waits group_interval; repeats after repeat_interval unless acknowledged', () => {
    const first = alertsAt(['C3-R1-S1-1', 'C3-R1-S1-2'], 0);
    expect(decide(first, 29_000)).toHaveLength(0);
    const [notice] = decide(first, 30_000);
    expect(notice!.firing).toHaveLength(2);
    const log = new Map([[notice!.logKey, { firing: notice!.firing.map((a) => a.fingerprint), sentAt: 30_000 }]]);
    expect(decide(first, 60_000, log)).toHaveLength(0);
    const more = [...first, ...alertsAt(['C3-R1-S1-3'], 60_000)];
    expect(decide(more, 300_000, log)).toHaveLength(0);
    expect(decide(more, 330_000, log)[0]!.firing).toHaveLength(3);
    expect(decide(first, 30_000 + 4 * 3_600_000, log)[0]!.repeat).toBe(true);
    const acks = new Map([[notice!.group.id, { firingHash: notice!.firingHash, by: 'oncall@farm.example', at: 31_000 }]]);
    expect(decide(first, 30_000 + 4 * 3_600_000, log, acks)).toHaveLength(0);
  });

  test('a resolved alert is told at once, not after group_interval; a receiver in back-off waits', () => {
    const first = alertsAt(['C3-R1-S1-1', 'C3-R1-S1-2'], 0);
    const log = new Map([[`oncall/email|${[...groupAlerts(first, tree).keys()][0]}`, { firing: first.map((a) => a.fingerprint), sentAt: 30_000 }]]);
    const resolved = [first[0]!, { ...first[1]!, state: 'resolved' as const, resolvedAt: 31_000 }];
    const [notice] = decide(resolved, 31_000, log);
    expect(notice).toMatchObject({ firing: [first[0]], resolved: [resolved[1]] });
    const retries = new Map([[notice!.logKey, { failures: 2, retryAt: 40_000, lastError: 'x' }]]);
    expect(decide(resolved, 35_000, log, new Map(), retries)).toHaveLength(0);
    expect(decide(resolved, 40_000, log, new Map(), retries)).toHaveLength(1);
  });

  test('held (stale) alerts keep what was told: no log entry forgotten, no re-page when they return, a partial group keeps them', () => {
    const first = alertsAt(['C3-R1-S1-1', 'C3-R1-S1-2'], 0);
    const groupKey = [...groupAlerts(first, tree).keys()][0]!;
    const log = new Map([[`oncall/email|${groupKey}`, { firing: first.map((a) => a.fingerprint), sentAt: 30_000 }]]);
    // Edge silent: both alerts held. Without `held` the entry would be forgotten and the alerts re-paged later.
    const whileSilent = decideNotices({ groups: new Map(), held: groupAlerts(first, tree), receivers, log, retries: new Map(), acks: new Map(), now: 60_000 });
    expect(whileSilent).toEqual({ notices: [], forget: [] });
    expect(decideNotices({ groups: new Map(), receivers, log, retries: new Map(), acks: new Map(), now: 60_000 }).forget).toEqual([`oncall/email|${groupKey}`]);
    // Data back, both still firing: nothing to send.
    expect(decide(first, 61_000, log)).toHaveLength(0);
    // One fresh, one still held: the quiet log update keeps the held one as told.
    const partial = decideNotices({ groups: groupAlerts([first[0]!], tree), held: groupAlerts([first[1]!], tree), receivers, log, retries: new Map(), acks: new Map(), now: 62_000 });
    expect(partial.notices).toHaveLength(0);
  });
});

describe('silences and maintenance windows', () => {
  const at = (iso: string) => Date.parse(iso);
  const tuesdayNight = { days: ['tue' as const], start: '02:00', end: '04:00', time_zone: 'Europe/Berlin' };

  test('"C3, Tuesdays 02:00-04:00 Europe/Berlin" follows Berlin time, summer and winter', () => {
    expect(inWindow(tuesdayNight, at('2026-07-07T00:30:00Z'))).toBe(true); // 02:30 CEST, a Tuesday
    expect(inWindow(tuesdayNight, at('2026-07-07T02:00:00Z'))).toBe(false); // 04:00 CEST: ended
    expect(inWindow(tuesdayNight, at('2026-01-06T01:30:00Z'))).toBe(true); // 02:30 CET
    expect(inWindow(tuesdayNight, at('2026-01-06T00:30:00Z'))).toBe(false); // 01:30 CET
    expect(inWindow(tuesdayNight, at('2026-01-07T01:30:00Z'))).toBe(false); // a Wednesday
  });

  test('a window across midnight belongs to the day it starts on', () => {
    const saturdayNight = { days: ['sat' as const], start: '22:00', end: '03:00', time_zone: 'America/New_York' };
    expect(inWindow(saturdayNight, at('2026-03-08T03:30:00Z'))).toBe(true); // Sat 22:30 EST
    expect(inWindow(saturdayNight, at('2026-03-08T06:30:00Z'))).toBe(true); // Sun 01:30 EST
    // Clocks jump 02:00 EST → 03:00 EDT that night: 07:30Z is already 03:30 local, after the window.
    expect(inWindow(saturdayNight, at('2026-03-08T07:30:00Z'))).toBe(false);
    expect(inWindow(saturdayNight, at('2026-03-09T05:30:00Z'))).toBe(false); // Mon 01:30: Sunday is not listed
    expect(inWindow(saturdayNight, at('2026-03-07T05:30:00Z'))).toBe(false); // Sat 00:30: Friday is not listed
  });

  test('silences match by labels and only between start and end', () => {
    const alerts = firingFrom(faultConditions([fault('C3-R1-S1-1', 'FAN_STOPPED'), fault('C4-R1-S1-1', 'FAN_STOPPED', 'C4')], config(`${base}
rules: [{ name: Fan, faults: [FAN_STOPPED] }]
route: { receiver: oncall }`).rules));
    const silence: Silence = { id: 's1', matchers: ['container="C3"'], comment: '', createdBy: 't', createdAt: 0, startsAt: 1000, endsAt: 2000 };
    const window: Silence = { ...silence, id: 'w1', matchers: ['container=~"C[34]"'], startsAt: 0, endsAt: Number.MAX_SAFE_INTEGER, schedule: tuesdayNight };
    const miner = (fps: Map<string, string>) => [...fps].map(([fp, id]) => `${alerts.find((a) => a.fingerprint === fp)!.labels.container}:${id}`).sort();
    expect(miner(silencedFingerprints(alerts, [silence], 1500))).toEqual(['C3:s1']);
    expect(miner(silencedFingerprints(alerts, [silence], 2000))).toEqual([]);
    expect(miner(silencedFingerprints(alerts, [window], at('2026-07-07T00:30:00Z')))).toEqual(['C3:w1', 'C4:w1']);
  });

  test('looked up by their equality matchers, silences mute exactly the alerts, with exactly the first silence, that trying each in order does', () => {
    const value = fc.constantFrom('C1', 'C2', 'C3', '');
    const matcher = fc.tuple(fc.constantFrom('container', 'rack', 'alertname'), fc.constantFrom('=', '!=', '=~', '!~'), value).map(([n, op, v]) => `${n}${op}"${op.includes('~') ? `${v}.*` : v}"`);
    const silence = fc.array(matcher, { minLength: 1, maxLength: 3 });
    const labels = fc.record({ container: value, rack: value, alertname: value });
    fc.assert(
      fc.property(fc.array(labels, { maxLength: 20 }), fc.array(silence, { maxLength: 12 }), (labelSets, matcherSets) => {
        const alerts = labelSets.map((l, i): Alert => ({ fingerprint: String(i), labels: l, annotations: {}, state: 'firing', activeAt: 0, flaps: 0 }));
        const silences = matcherSets.map((matchers, i): Silence => ({ id: `s${i}`, matchers, comment: '', createdBy: 't', createdAt: 0, startsAt: 0, endsAt: 10 }));
        const expected = new Map<string, string>();
        for (const a of alerts) {
          const hit = silences.find((s) => s.matchers.map((m) => parseMatcher(m)).every((m) => matches(m, a.labels)));
          if (hit) expected.set(a.fingerprint, hit.id);
        }
        expect(silencedFingerprints(alerts, silences, 5)).toEqual(expected);
      }),
      { numRuns: 500, seed: 10 },
    );
  });
});
