/**
 * Grafana's PostgreSQL macros and template variables, expanded as Grafana does before a panel's SQL reaches the
 * database, so tests can run the provisioned panels' SQL themselves. An unknown $__ macro is an error here rather
 * than SQL that fails later.
 */
export interface SqlMacroValues {
  from: Date;
  to: Date;
  /** Template variables by name. `${name:raw}` inserts the value as is; `$name` as a quoted SQL string. */
  variables: Readonly<Record<string, string>>;
}

/** Grafana writes the range as RFC 3339 UTC with whole seconds. */
const rfc3339 = (d: Date) => `'${d.toISOString().replace(/\.\d{3}Z$/, 'Z')}'`;
const quoted = (v: string) => `'${v.replace(/'/g, "''")}'`;

export function expandSqlMacros(sql: string, values: SqlMacroValues): string {
  const expanded = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, column: string) => `${column.trim()} BETWEEN ${rfc3339(values.from)} AND ${rfc3339(values.to)}`)
    .replace(/\$__timeFrom\(\)/g, rfc3339(values.from))
    .replace(/\$__timeTo\(\)/g, rfc3339(values.to))
    .replace(/\$__time\(([^)]+)\)/g, (_, column: string) => `${column.trim()} AS "time"`);
  const unknown = /\$__\w+/.exec(expanded);
  if (unknown) throw new Error(`SQL uses ${unknown[0]}, which this helper does not expand: ${sql}`);
  return expanded.replace(/\$\{(\w+)(?::(\w+))?\}|\$([A-Za-z_]\w*)/g, (_, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = values.variables[name];
    if (value === undefined) throw new Error(`SQL uses $${name}, which has no value: ${sql}`);
    if (format === 'raw') return value;
    if (format !== undefined) throw new Error(`SQL uses \${${name}:${format}}: only :raw is expanded here`);
    return quoted(value);
  });
}
