/**
 * An exporter's own metrics declared from a table: one row per metric (name, help, label names, buckets), each
 * registered in the instance's registry in table order (the order /metrics lists them in).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerStoreGauges, type StoreCounters } from './store-metrics';

/** One row of a metric table: declares its metric in the registry it is given. */
export type MetricRow<M> = (registry: Registry) => M;

/** Label names only when the row has some (prom-client's own default otherwise). */
const labelled = <L extends string>(labelNames: readonly L[] | undefined): { labelNames?: readonly L[] } => (labelNames ? { labelNames } : {});

export const counter =
  <L extends string = string>(name: string, help: string, labelNames?: readonly L[]): MetricRow<Counter<L>> =>
  (registry) =>
    new Counter<L>({ name, help, ...labelled(labelNames), registers: [registry] });

export const gauge =
  <L extends string = string>(name: string, help: string, labelNames?: readonly L[]): MetricRow<Gauge<L>> =>
  (registry) =>
    new Gauge<L>({ name, help, ...labelled(labelNames), registers: [registry] });

export const histogram =
  <L extends string = string>(name: string, help: string, labelNames: readonly L[] | undefined, buckets: number[]): MetricRow<Histogram<L>> =>
  (registry) =>
    new Histogram<L>({ name, help, ...labelled(labelNames), buckets, registers: [registry] });

export type MetricTable = Record<string, MetricRow<unknown>>;

/** The metrics of a table, by the table's keys. */
export type DeclaredMetrics<T extends MetricTable> = { readonly [K in keyof T]: ReturnType<T[K]> };

/** Declares every metric of `table` in `registry`, in table order. */
export function declareMetrics<T extends MetricTable>(registry: Registry, table: T): DeclaredMetrics<T> {
  return Object.fromEntries(Object.entries(table).map(([key, row]) => [key, row(registry)])) as DeclaredMetrics<T>;
}

/** An exporter's health metrics: its registry, the table's metrics by key, then Node's defaults and the store's gauges. */
export type ExporterHealth<T extends MetricTable> = { readonly registry: Registry } & DeclaredMetrics<T>;

/**
 * The class of an exporter's health metrics (one registry per instance): `new (store)` declares the table's metrics,
 * then Node's default metrics under `defaultPrefix`, then the storage layer's gauges (the order of /metrics).
 */
export function exporterHealthClass<T extends MetricTable>(table: T, defaultPrefix: string): new (store: () => StoreCounters) => ExporterHealth<T> {
  return class {
    readonly registry = new Registry();

    constructor(store: () => StoreCounters) {
      Object.assign(this, declareMetrics(this.registry, table));
      collectDefaultMetrics({ register: this.registry, prefix: defaultPrefix });
      registerStoreGauges(this.registry, store);
    }
  } as new (store: () => StoreCounters) => ExporterHealth<T>;
}
