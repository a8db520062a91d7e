/**
 * Small builders for Grafana dashboard JSON (schemaVersion 39+), so every panel queries InfluxQL (or, for the
 * maintenance figures, SQL on PostgreSQL) the same way.
 */

export const DATASOURCE = { type: 'influxdb', uid: 'flymining-influxdb' } as const;
/** provisioning/grafana/datasources/postgres.yaml: the maintenance schema and the ledger, read-only. */
export const PG_DATASOURCE = { type: 'grafana-postgresql-datasource', uid: 'flymining-postgres' } as const;
export const RACKMAP_PANEL_TYPE = 'flymining-rackmap-panel';

export interface Target {
  refId: string;
  datasource: typeof DATASOURCE;
  rawQuery: true;
  query: string;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}

/** A raw SQL query (Grafana's SQL macros such as $__timeFilter(column) allowed). */
export interface SqlTarget {
  refId: string;
  datasource: typeof PG_DATASOURCE;
  editorMode: 'code';
  rawQuery: true;
  rawSql: string;
  format: 'time_series' | 'table';
}

export type AnyTarget = Target | SqlTarget;

/** T: the kind of query its panels hold (the farm dashboards: InfluxQL only). */
export interface Panel<T extends AnyTarget = Target> {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: T['datasource'];
  targets?: T[];
  options?: Record<string, unknown>;
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
}

export interface Variable {
  name: string;
  label: string;
  type: 'query';
  datasource: typeof DATASOURCE;
  query: string;
  includeAll: boolean;
  allValue?: string;
  multi: false;
  /** 1: when the dashboard loads; 2: on every time-range change (the tier follows the range). */
  refresh: 1 | 2;
  sort: 0 | 3;
  /** 2: not shown (the tier is chosen, not picked). */
  hide?: 2;
}

export interface Dashboard<T extends AnyTarget = Target> {
  uid: string;
  title: string;
  tags: string[];
  timezone: 'browser';
  schemaVersion: 39;
  version: 1;
  editable: true;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Variable[] };
  links: Array<{ title: string; type: 'dashboards'; tags: string[]; asDropdown: boolean }>;
  panels: Array<Panel<T>>;
}

export function dashboard<T extends AnyTarget = Target>(uid: string, title: string, panels: Array<Panel<T>>, variables: Variable[], extra: Partial<Pick<Dashboard, 'refresh' | 'time'>> = {}): Dashboard<T> {
  return {
    uid,
    title,
    tags: ['flymining'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: extra.refresh ?? '30s',
    time: extra.time ?? { from: 'now-6h', to: 'now' },
    templating: { list: variables },
    links: [{ title: 'FlyMining', type: 'dashboards', tags: ['flymining'], asDropdown: true }],
    panels: panels.map((p, i) => ({ ...p, id: i + 1 })),
  };
}

/** A `query` variable listing one tag's values; "All" matches everything through the regex `.*`. */
export function tagVariable(name: string, label: string, measurement: string, where = '', includeAll = true): Variable {
  const variable: Variable = {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: `SHOW TAG VALUES FROM "${measurement}" WITH KEY = "${name}"${where ? ` WHERE ${where}` : ''}`,
    includeAll,
    multi: false,
    refresh: 1,
    sort: 3,
  };
  if (includeAll) variable.allValue = '.*';
  return variable;
}

/**
 * `$tier`: the retention policy a panel reads for the dashboard's time range (raw up to 2 days, the 5-minute rollups
 * up to 35 days, the 1-hour rollups beyond), read from the tier table that ensureDatabase() writes
 * (shared/src/schema.ts, DASHBOARD_TIERS). Panels name their measurement `"$tier"."miner"` through tiered().
 */
export function tierVariable(query: string): Variable {
  return { name: 'tier', label: 'Tier', type: 'query', datasource: DATASOURCE, query, includeAll: false, multi: false, refresh: 2, sort: 0, hide: 2 };
}

/** A measurement read from the policy the dashboard's `$tier` names (its rolled-up fields keep the raw names). */
export const tiered = (measurement: string): string => `"$tier"."${measurement}"`;

export function influx(queries: string[] | Record<string, string>, resultFormat: Target['resultFormat'] = 'time_series'): Target[] {
  const entries = Array.isArray(queries) ? queries.map((q) => [undefined, q] as const) : Object.entries(queries);
  return entries.map(([alias, query], i) => {
    const target: Target = { refId: String.fromCharCode(65 + i), datasource: DATASOURCE, rawQuery: true, query, resultFormat };
    if (alias) target.alias = alias;
    return target;
  });
}

type Grid = Panel['gridPos'];

export function panel(type: string, title: string, gridPos: Grid, targets: Target[], options: Record<string, unknown> = {}, defaults: Record<string, unknown> = {}, description?: string): Panel {
  const p: Panel = { id: 0, type, title, gridPos, datasource: DATASOURCE, targets, options, fieldConfig: { defaults, overrides: [] } };
  if (description) p.description = description;
  return p;
}

export function sql(queries: string[], format: SqlTarget['format'] = 'time_series'): SqlTarget[] {
  return queries.map((rawSql, i) => ({ refId: String.fromCharCode(65 + i), datasource: PG_DATASOURCE, editorMode: 'code', rawQuery: true, rawSql, format }));
}

export function sqlPanel(type: string, title: string, gridPos: Grid, targets: SqlTarget[], options: Record<string, unknown> = {}, defaults: Record<string, unknown> = {}, description?: string, overrides: unknown[] = []): Panel<SqlTarget> {
  const p: Panel<SqlTarget> = { id: 0, type, title, gridPos, datasource: PG_DATASOURCE, targets, options, fieldConfig: { defaults, overrides } };
  if (description) p.description = description;
  return p;
}

export function textPanel(title: string, gridPos: Grid, markdown: string): Panel {
  return { id: 0, type: 'text', title, gridPos, options: { mode: 'markdown', content: markdown } };
}
