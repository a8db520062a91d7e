/** Median, 95th percentile and maximum of a benchmark's samples (the rack-map bench page and its driver both report these). */
export interface Timing {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export function summarize(samples: readonly number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { medianMs: at(0.5), p95Ms: at(0.95), maxMs: sorted[sorted.length - 1]! };
}
