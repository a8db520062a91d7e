/** The alert model every stage of the pipeline shares. */
export type Labels = Record<string, string>;

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface Alert {
  /** Stable identity of one alert: rule + the labels that name its place. */
  fingerprint: string;
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState;
  /** ms: when the condition was first seen in this episode (pending starts here). */
  activeAt: number;
  /** ms: when it became firing. */
  firedAt?: number;
  /** ms: when the condition last went away while firing (keep_firing_for runs from here). */
  clearedAt?: number;
  resolvedAt?: number;
  /** Times the condition came back during keep_firing_for: a flapping sensor shows here, not in the inbox. */
  flaps: number;
  /** Last value of a query rule. */
  value?: number;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Compiled once for =~ and !~ (anchored like Alertmanager's; linear time, see regex.ts). */
  regex?: { test(value: string): boolean };
}

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];

/** "site north-1 / container C03 / rack R1 / …": where an alert is, in the words of its labels. */
export function placeOf(labels: Labels): string {
  return ['site', 'container', 'rack', 'shelf', 'slot', 'miner']
    .filter((k) => labels[k])
    .map((k) => `${k} ${labels[k]}`)
    .join(' / ');
}
