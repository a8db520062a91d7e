import { parseDuration } from '@flymining/shared';
import { z } from 'zod';

/** How the alerting messages write a duration back (parsing is shared/src/text parseDuration). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** A config duration field: `30s`, `5m`, or a number of milliseconds; a bad one is an issue at the field. */
export const durationField = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(String(v));
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
