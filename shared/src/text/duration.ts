/**
 * Durations as people write them in config and InfluxQL: one or more number+unit parts, summed.
 *
 * Accepted (the union of what the alerting config and the InfluxDB retention settings took before they shared this):
 * - units ms, s, m, h, d, w (w = 7 days);
 * - parts concatenated: 1h30m, 2d12h;
 * - decimal numbers: 1.5h (the result is rounded to whole ms);
 * - '0' alone (no unit) for zero;
 * - 'INF' (any case) for Infinity, only when `infinite: true` is passed (retention policies; elsewhere it is refused).
 * Surrounding blanks are ignored. Anything else throws, naming `what` when given.
 */
const DURATION_TEXT = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

export interface DurationOptions {
  /** Accept 'INF' as Infinity (InfluxQL retention). */
  infinite?: boolean;
  /** Prefix of the error message: the setting being read. */
  what?: string;
}

export function parseDuration(text: string, options: DurationOptions = {}): number {
  const trimmed = text.trim();
  if (options.infinite && trimmed.toUpperCase() === 'INF') return Infinity;
  if (trimmed === '0') return 0;
  if (!DURATION_TEXT.test(trimmed)) {
    const examples = options.infinite ? '40d, 12h or INF' : '30s, 5m, 1h30m, 2d';
    throw new Error(`${options.what ? `${options.what}: ` : ''}"${text}" is not a duration (e.g. ${examples})`);
  }
  let total = 0;
  for (const [, n, unit] of trimmed.matchAll(DURATION_PART)) total += Number(n) * (UNIT_MS[unit as string] as number);
  return Math.round(total);
}
