/** Config errors name the file, line and field; a good config loads with its defaults. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { refusalProblems } from '../../shared/test/problems';
import { ConfigError, loadConfig, parseConfig } from '../src/config';

function problemsOf(yaml: string): string[] {
  return refusalProblems(() => parseConfig(yaml, 'alerting.yaml'), ConfigError, 'the config');
}

const receivers = `receivers:
  - name: oncall
    email: { to: [oncall@farm.example], smarthost: 'smtp://127.0.0.1:2525' }
`;

describe('alerting config', () => {
  test('the example config of the demo loads', () => {
    const file = path.join(__dirname, '../../provisioning/alerting/alerting.yaml');
    // It keeps repair tickets in the center's PostgreSQL, named by the environment as in the demo and compose.
    expect(() => loadConfig(file, {})).toThrow(/maintenance\.pg_url: no PostgreSQL URL for the tickets: set pg_url here or FLYMINING_PG_URL/);
    const config = loadConfig(file, { FLYMINING_PG_URL: 'postgres://alerting@127.0.0.1:5432/flymining' });
    expect(config.rules.length).toBeGreaterThan(3);
    expect(config.receivers[0]!.email?.smarthost).toMatch(/^smtp:/);
    expect(config.receivers[0]!.oncall).toBeDefined();
    expect(readFileSync(file, 'utf8')).toContain('maintenance_windows');
  });

  test('an unknown fault code, a bad duration and a bad matcher are reported at their lines', () => {
    const problems = problemsOf(`${receivers}route: { receiver: oncall }
rules:
  - name: Fan
    faults: [FAN_STOPED]
  - name: Hot
    faults: [CHIP_OVERHEAT]
    for: 5 minutes
  - name: Miner
    faults: [MINER_UNREACHABLE]
    matchers: ['container = C3 or C4']
`);
    expect(problems).toEqual([
      expect.stringMatching(/^alerting\.yaml:7:14: rules\[0\]\.faults\[0\]: /),
      expect.stringMatching(/^alerting\.yaml:10:10: rules\[1\]\.for: "5 minutes" is not a duration/),
      expect.stringMatching(/^alerting\.yaml:13:16: rules\[2\]\.matchers\[0\]: "container = C3 or C4" is not a matcher/),
    ]);
  });

  test('hysteresis the wrong way round, a route to an unknown receiver and a bad time zone are refused', () => {
    const problems = problemsOf(`${receivers}influx: { url: 'http://127.0.0.1:8086' }
route:
  receiver: oncall
  routes:
    - receiver: pager
rules:
  - name: Low
    query: SELECT mean(hashrate_ths) AS value FROM miner GROUP BY container
    below: 0.9
    resolve_above: 0.8
`);
    const windowProblems = problemsOf(`${receivers}route: { receiver: oncall }
maintenance_windows:
  - name: C3 Tuesday
    matchers: ['container="C3"']
    schedule: { days: [tue], start: '02:00', end: '04:00', time_zone: Europe/Berln }
`);
    expect(windowProblems).toEqual([expect.stringMatching(/^alerting\.yaml:8:71: maintenance_windows\[0\]\.schedule\.time_zone: unknown time zone "Europe\/Berln"/)]);
    expect(problems).toEqual([
      expect.stringMatching(/^alerting\.yaml:13:20: rules\[0\]\.resolve_above: resolve_above \(0\.8\) must be at least below \(0\.9\)/),
      expect.stringMatching(/^alerting\.yaml:8:17: route\.routes\[0\]\.receiver: no receiver is named "pager"/),
    ]);
  });

  test('YAML syntax errors carry the line', () => {
    expect(problemsOf(`${receivers}route: { receiver: oncall\nrules: []\n`)[0]).toMatch(/^alerting\.yaml:\d+:\d+: YAML syntax/);
  });

  test('edges and watchdog sections: defaults, and bad values named at their lines', () => {
    const defaults = parseConfig(`${receivers}route: { receiver: oncall }\n`, 'alerting.yaml');
    expect(defaults.edges).toEqual({ silent_after_intervals: 3, clock_skew_tolerance: 600_000, lookback: 6 * 3_600_000 });
    expect(defaults.watchdog).toEqual({ interval: 60_000, timeout: 10_000 });
    // Without an inhibit rule of its own, a silent container mutes its other alerts.
    expect(defaults.inhibit_rules.map((r) => r.source_matchers.map((m) => `${m.name}${m.op}${m.value}`))).toEqual([['alertname=ContainerSilent']]);
    const problems = problemsOf(`${receivers}route: { receiver: oncall }
edges:
  silent_after_intervals: 0
  clock_skew_tolerance: ten minutes
watchdog: { url: 'ftp://dms.example/ping', interval: 30s }
rules:
  - name: ContainerSilent
    faults: [FAN_STOPPED]
`);
    expect(problems).toEqual([
      expect.stringMatching(/^alerting\.yaml:6:27: edges\.silent_after_intervals: /),
      expect.stringMatching(/^alerting\.yaml:7:25: edges\.clock_skew_tolerance: "ten minutes" is not a duration/),
      expect.stringMatching(/^alerting\.yaml:8:18: watchdog\.url: must be an http\(s\) URL/),
    ]);
    expect(problemsOf(`${receivers}route: { receiver: oncall }\nrules: [{ name: ContainerSilent, faults: [FAN_STOPPED] }]\n`)).toEqual([
      expect.stringMatching(/^alerting\.yaml:5:\d+: rules\[0\]\.name: "ContainerSilent" is a built-in alert/),
    ]);
  });

  test('the influx section goes through the shared loader: environment credentials apply, bad fields are located', () => {
    const loaded = parseConfig(`${receivers}route: { receiver: oncall }\ninflux: { url: 'http://127.0.0.1:8086', database: farm }\n`, 'alerting.yaml', {
      FLYMINING_INFLUX_USERNAME: 'center',
      FLYMINING_INFLUX_PASSWORD: 'from-env',
    });
    expect(loaded.influx).toMatchObject({ url: 'http://127.0.0.1:8086', database: 'farm', username: 'center', password: 'from-env' });
    expect(problemsOf(`${receivers}route: { receiver: oncall }\ninflux:\n  url: 'influx.local:8086'\n`)).toEqual([
      expect.stringMatching(/^alerting\.yaml:6:8: influx\.url: must be an http:\/\/ or https:\/\/ URL/),
    ]);
  });
});
