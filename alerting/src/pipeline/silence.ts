/**
 * Stage 4, silence: one-off silences (matchers, start, end) and recurring maintenance windows ("container C3,
 * Tuesdays 02:00-04:00 Europe/Berlin"). A window whose end is before its start runs across midnight and belongs
 * to the day it starts on.
 */
import { WEEKDAYS, type WindowSchedule } from '../config';
import { matchesAll, matchesValue, storedMatcher } from '../matchers';
import type { Alert, Matcher } from '../types';

export interface Silence {
  id: string;
  /** Matchers as text (name="value"), parsed when used: what is stored is what the user wrote. */
  matchers: string[];
  comment: string;
  createdBy: string;
  createdAt: number;
  /** Who expired it through the API, if anyone. */
  expiredBy?: string;
  /** One-off silences: active from startsAt to endsAt (ms). */
  startsAt: number;
  endsAt: number;
  /** Recurring windows: active during the schedule, between startsAt and endsAt. */
  schedule?: WindowSchedule;
}

const MINUTES_PER_DAY = 24 * 60;

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday (0 = Sunday) and minute of the day of `at` in `timeZone`. */
export function localTime(at: number, timeZone: string): { day: number; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  let weekday = '';
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(at)) {
    if (p.type === 'weekday') weekday = p.value.toLowerCase().slice(0, 3);
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { day: WEEKDAYS.indexOf(weekday as (typeof WEEKDAYS)[number]), minute: hour * 60 + minute };
}

export function inWindow(schedule: WindowSchedule, at: number): boolean {
  const { day, minute } = localTime(at, schedule.time_zone);
  const start = minutesOf(schedule.start);
  const end = minutesOf(schedule.end);
  const days = new Set(schedule.days.map((d) => WEEKDAYS.indexOf(d)));
  if (start < end) return days.has(day) && minute >= start && minute < end;
  // Across midnight: the evening part on a listed day, or the early-morning part the day after one.
  if (minute >= start) return days.has(day);
  return minute < end && days.has((day + 6) % 7);
}

export function silenceActive(s: Silence, at: number): boolean {
  if (at < s.startsAt || at >= s.endsAt) return false;
  return s.schedule ? inWindow(s.schedule, at) : true;
}

/** Silences in force now, with their matchers parsed once for the whole cycle. */
export function activeSilences(silences: readonly Silence[], at: number): Array<{ silence: Silence; matchers: Matcher[] }> {
  const out: Array<{ silence: Silence; matchers: Matcher[] }> = [];
  for (const silence of silences) {
    if (!silenceActive(silence, at)) continue;
    const matchers = silence.matchers.map(storedMatcher);
    // A matcher this version refuses (saved before its rules existed) mutes nothing.
    if (matchers.every((m): m is Matcher => m !== undefined)) out.push({ silence, matchers });
  }
  return out;
}

/**
 * Fingerprints of alerts muted now, each with the id of the first silence that mutes it. Silences with an equality
 * matcher are looked up by that label's value, so a thousand silences cost each alert a few map lookups rather
 * than a thousand checks. The others (regex matchers only) test their first matcher once per distinct value of
 * its label, not once per alert: 50,000 alerts have a few thousand distinct miner ids.
 */
export function silencedFingerprints(alerts: Iterable<Alert>, silences: readonly Silence[], at: number): Map<string, string> {
  const active = activeSilences(silences, at);
  const muted = new Map<string, string>();
  if (active.length === 0) return muted;
  const all = [...alerts];
  const byLabel = new Map<string, Map<string, number[]>>(); // label name → value → indexes into active, ascending
  const unindexed: number[] = [];
  active.forEach((s, i) => {
    const key = s.matchers.find((m) => m.op === '=');
    if (!key) return void unindexed.push(i);
    let byValue = byLabel.get(key.name);
    if (!byValue) byLabel.set(key.name, (byValue = new Map()));
    const list = byValue.get(key.value);
    if (list) list.push(i);
    else byValue.set(key.value, [i]);
  });
  /** Index into active of the first silence muting each alert (by position in `all`). */
  const first = new Array<number>(all.length).fill(Infinity);
  all.forEach((a, n) => {
    for (const [name, byValue] of byLabel) {
      for (const i of byValue.get(a.labels[name] ?? '') ?? []) {
        if (i >= first[n]!) break;
        if (matchesAll(active[i]!.matchers, a.labels)) {
          first[n] = i;
          break;
        }
      }
    }
  });
  const alertsByValue = new Map<string, Map<string, number[]>>(); // label name → value → positions in `all`
  const valuesOf = (name: string): Map<string, number[]> => {
    let byValue = alertsByValue.get(name);
    if (byValue) return byValue;
    alertsByValue.set(name, (byValue = new Map()));
    all.forEach((a, n) => {
      const value = a.labels[name] ?? '';
      const list = byValue!.get(value);
      if (list) list.push(n);
      else byValue!.set(value, [n]);
    });
    return byValue;
  };
  for (const i of unindexed) {
    const [lead, ...rest] = active[i]!.matchers;
    for (const [value, positions] of valuesOf(lead!.name)) {
      if (!matchesValue(lead!, value)) continue;
      for (const n of positions) if (i < first[n]! && matchesAll(rest, all[n]!.labels)) first[n] = i;
    }
  }
  all.forEach((a, n) => {
    if (first[n] !== Infinity) muted.set(a.fingerprint, active[first[n]!]!.silence.id);
  });
  return muted;
}
