/**
 * Silent containers: an edge whose newest heartbeat is older than a few of its own sweep intervals lost power or
 * its uplink, so everything the map holds of its container is old. Judged per container from the heartbeats the
 * query returns; a farm without edges writes none, and then no container is ever silent.
 */
import type { ContainerHeartbeat, ContainerSilence } from './types';

/** Heartbeat intervals without one before a container is silent (alerting's ContainerSilent default too). */
export const SILENT_AFTER_INTERVALS = 3;

/** Newest heartbeat per container (an edge renamed or moved leaves an older series behind). */
export function newestHeartbeats(heartbeats: readonly ContainerHeartbeat[]): Map<string, ContainerHeartbeat> {
  const newest = new Map<string, ContainerHeartbeat>();
  for (const h of heartbeats) {
    const previous = newest.get(h.container);
    if (!previous || centerTime(h) > centerTime(previous)) newest.set(h.container, h);
  }
  return newest;
}

/** The heartbeat's time on the center's clock when the edge measured its offset (a skewed edge clock otherwise). */
const centerTime = (h: ContainerHeartbeat): number => h.time + (h.clockOffsetMs ?? 0);

export function containerSilences(heartbeats: readonly ContainerHeartbeat[], now: number): Map<string, ContainerSilence> {
  const silent = new Map<string, ContainerSilence>();
  for (const [container, h] of newestHeartbeats(heartbeats)) {
    const lastDataMs = centerTime(h);
    const silentForMs = now - lastDataMs;
    if (silentForMs > SILENT_AFTER_INTERVALS * h.intervalMs) silent.set(container, { edge: h.edge, lastDataMs, silentForMs });
  }
  return silent;
}

/** "40 s", "4 min", "2 h 5 min", "3 d 4 h": as precise as a glance at a wall needs. */
export function durationText(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Wall-clock time in the viewer's time zone: `timeZone` is Grafana's dashboard zone ('browser', 'utc' or an IANA
 * name); absent or 'browser' means the browser's own. With the date when it is a day or more ago.
 */
export function clockText(ms: number, timeZone: string | undefined, withDate = false): string {
  const zone = !timeZone || timeZone === 'browser' ? undefined : timeZone.toLowerCase() === 'utc' ? 'UTC' : timeZone;
  const key = `${zone ?? ''}|${withDate}`;
  let format = clockFormats.get(key);
  if (!format) {
    const fields: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(withDate ? { day: 'numeric', month: 'short' } : {}) };
    try {
      format = new Intl.DateTimeFormat('en-GB', { ...fields, timeZone: zone });
    } catch {
      // An unknown zone name: the browser's zone beats no header at all.
      format = new Intl.DateTimeFormat('en-GB', fields);
    }
    clockFormats.set(key, format);
  }
  return format.format(ms);
}

/** The header of a silent container: "silent 4 min · last data 09:12". */
export function silenceText(silence: ContainerSilence, timeZone: string | undefined): string {
  const withDate = silence.silentForMs >= 24 * 3_600_000;
  return `silent ${durationText(silence.silentForMs)} · last data ${clockText(silence.lastDataMs, timeZone, withDate)}`;
}
