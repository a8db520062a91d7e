/**
 * Stage 1, evaluate: turns what is true now (active faults, query results) into conditions, and conditions into
 * the alert lifecycle pending → firing → resolved, honouring `for` (wait before firing) and `keep_firing_for`
 * (hold a firing alert through short clears, so a flapping sensor stays one alert).
 */
import { createHash } from 'node:crypto';
import { FAULT_CODES, faultKey, type Fault } from '@flymining/shared';
import { isQueryRule, type FaultRule, type QueryRule, type Rule } from '../config';
import { matchesAll } from '../matchers';
import { placeOf, type Alert, type Labels } from '../types';

/** One thing that is wrong right now, with the timing of the rule that noticed it. */
export interface Condition {
  labels: Labels;
  annotations: Record<string, string>;
  since: number;
  forMs: number;
  keepFiringForMs: number;
  value?: number;
}

export function fingerprint(labels: Labels): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

export function faultLabels(f: Fault): Labels {
  const labels: Labels = {
    site: f.location.site,
    container: f.location.container,
    rack: f.location.rack,
    shelf: f.location.shelf,
    slot: f.location.slot,
    miner: f.minerId,
    fault: f.code,
    severity: f.severity,
  };
  if (f.part) labels.part = f.part;
  // Tells a refused connection (miner up, API down) from a timeout (power or network) in routing and notices.
  const reason = f.details?.reason;
  if (typeof reason === 'string' && reason) labels.reason = reason;
  return labels;
}

const byCodeOf = new WeakMap<readonly Rule[], Map<string, FaultRule[]>>();

/** The fault rules of a rule set by the fault codes they cover (computed once per rule set). */
function rulesByCode(rules: readonly Rule[]): Map<string, FaultRule[]> {
  let byCode = byCodeOf.get(rules);
  if (!byCode) {
    byCode = new Map();
    for (const r of rules) if (!isQueryRule(r)) for (const code of r.faults) byCode.set(code, [...(byCode.get(code) ?? []), r]);
    byCodeOf.set(rules, byCode);
  }
  return byCode;
}

/** A condition of a fault, named by its fingerprint (rule + fault episode key). */
type FaultCondition = Condition & { fingerprint: string };

/**
 * A fault with room for its conditions under a rule set: the active-fault entries keep them from cycle to cycle
 * (a field, not a WeakMap: 50,000 weak entries cost the garbage collector on every collection), so an unchanged
 * fault costs nothing next cycle.
 */
export interface FaultEntry {
  fault: Fault;
  rules?: readonly Rule[];
  derived?: FaultCondition | FaultCondition[];
}

export function faultConditions(faults: readonly Fault[], rules: readonly Rule[], into = new Map<string, Condition>()): Map<string, Condition> {
  return faultEntryConditions(
    faults.map((fault) => ({ fault })),
    rules,
    into,
  );
}

/** The conditions of every fault entry, derived once per entry and rule set. */
export function faultEntryConditions(entries: Iterable<FaultEntry>, rules: readonly Rule[], into = new Map<string, Condition>()): Map<string, Condition> {
  const byCode = rulesByCode(rules);
  for (const entry of entries) {
    if (entry.rules !== rules) {
      entry.derived = derive(entry.fault, byCode.get(entry.fault.code));
      entry.rules = rules;
    }
    const derived = entry.derived;
    if (derived === undefined) continue;
    if (Array.isArray(derived)) for (const c of derived) into.set(c.fingerprint, c);
    else into.set(derived.fingerprint, derived);
  }
  return into;
}

function derive(f: Fault, rulesOfCode: readonly FaultRule[] | undefined): FaultCondition | FaultCondition[] | undefined {
  if (!rulesOfCode) return undefined;
  const out: FaultCondition[] = [];
  const base = faultLabels(f);
  for (const r of rulesOfCode) {
    if (!matchesAll(r.matchers, base)) continue;
    // The one rule of a fault without extra labels (the usual case) completes the fault's labels in place.
    const labels: Labels = rulesOfCode.length === 1 && !hasEntries(r.labels) ? base : { ...base, ...r.labels };
    labels.alertname = r.name;
    labels.severity = r.severity ?? base.severity!;
    out.push(conditionOf(f, r, labels));
  }
  // The usual fault has one condition: kept without an array around it.
  return out.length === 1 ? out[0] : out;
}

/** A fault alert is named by its rule and its fault episode key: cheaper than hashing labels, and readable. */
function conditionOf(f: Fault, r: FaultRule, labels: Labels): FaultCondition {
  return {
    fingerprint: [r.name, faultKey(f)].join('|'),
    labels,
    annotations: staleNote(f, { summary: r.summary ?? FAULT_CODES[f.code].summary, message: f.message }),
    since: f.since,
    forMs: r.for,
    keepFiringForMs: r.keep_firing_for,
  };
}

/** Whether an object has an own key (without listing them all, as Object.keys would once per fault). */
function hasEntries(o: Readonly<Record<string, string>>): boolean {
  for (const _ in o) return true;
  return false;
}

/** A stale fault (its edge is silent) says so: it is what the edge last reported, not what holds now. */
function staleNote(f: Fault, annotations: Record<string, string>): Record<string, string> {
  if (!f.stale) return annotations;
  return { ...annotations, stale: `as last reported at ${new Date(f.stale.lastReportMs).toISOString()}; the edge is silent since ${new Date(f.stale.sinceMs).toISOString()}` };
}

function sameAnnotations(a: Record<string, string>, b: Record<string, string>): boolean {
  if (a === b) return true; // the usual steady case: the alert holds its cached condition's annotations
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Is this query result a problem? Once firing, the resolve threshold decides (hysteresis). */
export function breaches(rule: QueryRule, value: number, firing: boolean): boolean {
  if (rule.below !== undefined) return firing ? value < (rule.resolve_above ?? rule.below) : value < rule.below;
  return firing ? value > (rule.resolve_below ?? rule.above!) : value > rule.above!;
}

/** Rows of a query rule (tags of its GROUP BY plus a `value` column) → conditions. */
export function queryConditions(
  rule: QueryRule,
  rows: ReadonlyArray<Record<string, unknown>>,
  current: ReadonlyMap<string, Alert>,
  now: number,
  into = new Map<string, Condition>(),
): Map<string, Condition> {
  for (const row of rows) {
    const value = row.value;
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const tags: Labels = {};
    for (const [k, v] of Object.entries(row)) if (k !== 'time' && k !== 'value' && typeof v === 'string') tags[k] = v;
    const labels: Labels = { ...tags, ...rule.labels, alertname: rule.name, severity: rule.severity ?? 'warning' };
    const fp = fingerprint(labels);
    const existing = current.get(fp);
    const firing = existing?.state === 'firing' || existing?.state === 'pending';
    if (!breaches(rule, value, firing)) continue;
    const threshold = rule.below !== undefined ? `below ${rule.below}` : `above ${rule.above}`;
    into.set(fp, {
      labels,
      annotations: { summary: rule.summary ?? `${rule.name} ${threshold}`, message: `${rule.name}: value ${round(value)} (${threshold}) for ${placeOf(labels)}` },
      since: existing && existing.state !== 'resolved' ? existing.activeAt : now,
      forMs: rule.for,
      keepFiringForMs: rule.keep_firing_for,
      value,
    });
  }
  return into;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export interface EvaluationResult {
  alerts: Map<string, Alert>;
  changed: Alert[];
  deleted: string[];
}

/**
 * Advances every alert one step. `conditions` is everything true now; alerts without a condition clear (after
 * keep_firing_for) or, if only pending, vanish. Resolved alerts are kept `resolvedRetentionMs` for the record.
 */
export function advance(
  previous: ReadonlyMap<string, Alert>,
  conditions: ReadonlyMap<string, Condition>,
  now: number,
  resolvedRetentionMs: number,
  keepFiringFor: (a: Alert) => number,
  /** Annotations an alert gets as it resolves (e.g. how long a container was dark), by fingerprint. */
  resolvedNotes: ReadonlyMap<string, Record<string, string>> = new Map(),
): EvaluationResult {
  const alerts = new Map<string, Alert>();
  const changed: Alert[] = [];
  const deleted: string[] = [];
  for (const [fp, c] of conditions) {
    const old = previous.get(fp);
    let next: Alert;
    if (!old || old.state === 'resolved') {
      const activeAt = Math.min(c.since, now);
      // One literal each, with firedAt in it: no property added to 50,000 new objects afterwards.
      next =
        now - activeAt >= c.forMs
          ? { fingerprint: fp, labels: c.labels, annotations: c.annotations, state: 'firing', activeAt, firedAt: now, flaps: 0, value: c.value }
          : { fingerprint: fp, labels: c.labels, annotations: c.annotations, state: 'pending', activeAt, flaps: 0, value: c.value };
    } else if (old.state === 'pending') {
      const fires = now - old.activeAt >= c.forMs;
      next = fires ? { ...old, state: 'firing', firedAt: now, value: c.value, annotations: c.annotations } : old;
      if (!fires && c.value !== old.value) next = { ...old, value: c.value };
    } else if (old.clearedAt !== undefined) {
      // Back within keep_firing_for: the same alert continues, counted as a flap.
      next = { ...old, clearedAt: undefined, flaps: old.flaps + 1, value: c.value, annotations: c.annotations };
      delete next.clearedAt;
    } else {
      // Annotations follow the condition (a fault turning stale and fresh again shows in the API and notices).
      next = c.value !== old.value || !sameAnnotations(c.annotations, old.annotations) ? { ...old, value: c.value, annotations: c.annotations } : old;
    }
    alerts.set(fp, next);
    if (next !== old) changed.push(next);
  }
  for (const [fp, old] of previous) {
    if (conditions.has(fp)) continue;
    if (old.state === 'pending') {
      deleted.push(fp);
      continue;
    }
    if (old.state === 'resolved') {
      if (now - (old.resolvedAt ?? now) > resolvedRetentionMs) deleted.push(fp);
      else alerts.set(fp, old);
      continue;
    }
    const clearedAt = old.clearedAt ?? now;
    const next: Alert =
      now - clearedAt >= keepFiringFor(old)
        ? { ...old, state: 'resolved', resolvedAt: now, annotations: { ...old.annotations, ...resolvedNotes.get(fp) } }
        : old.clearedAt === undefined
          ? { ...old, clearedAt }
          : old;
    alerts.set(fp, next);
    if (next !== old) changed.push(next);
  }
  return { alerts, changed, deleted };
}
