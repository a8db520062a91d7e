/**
 * Grafana's InfluxQL macros and template variables, expanded the way Grafana does before a query leaves it.
 * Used by the TV-wall server (which runs the dashboards' own queries without Grafana) and by the tests that run
 * every provisioned dashboard query against a real InfluxDB.
 */
export interface MacroValues {
  /** Replaces $timeFilter, e.g. `time > now() - 1h`. */
  timeFilter: string;
  /** Replaces $__interval and $interval, e.g. `1m`. */
  interval: string;
  /** Template variables by name; a value is inserted as is (regex-escaped by the caller where needed). */
  variables: Readonly<Record<string, string>>;
}

export function expandMacros(query: string, values: MacroValues): string {
  return query
    .replace(/\$timeFilter\b/g, values.timeFilter)
    .replace(/\$__interval\b|\$interval\b/g, values.interval)
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare)!;
      const value = values.variables[name];
      if (value === undefined) throw new Error(`query uses $${name}, which has no value: ${query}`);
      return value;
    });
}

/** A value usable inside /^...$/ the way Grafana's regex formatting inserts a single variable value. */
export function regexValue(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
