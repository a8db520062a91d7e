/**
 * Bad-line isolation: InfluxDB refuses a whole batch (400/413/422) for one bad line. Splitting the refused batch
 * until each refused part is a single line writes the good lines and names the bad ones. Re-sending lines that a
 * 1.x partial write already stored is harmless (same series, same time: overwritten).
 */

/** Statuses that mean "this data is wrong": retrying the same lines can never succeed. */
export const DATA_FAULT_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);
/** Most requests spent isolating bad lines of one batch; beyond it the rest of a failing half counts as failed. */
export const BISECT_REQUEST_BUDGET = 64;

/** What sending one part came to: written, refused as bad data (with InfluxDB's reason), or InfluxDB unavailable. */
export type PartOutcome = { kind: 'written' } | { kind: 'bad-data'; reason: string } | { kind: 'unavailable' };

export interface IsolationResult {
  written: number;
  rejected: number;
  /** Lines not sent because InfluxDB became unavailable meanwhile. */
  unsent: string[];
}

/**
 * Bisects `lines` (refused with `reason`): `send` posts one part, `onRejected` is told of each part counted as bad
 * (a single line, or what is left when the request budget is spent). Once InfluxDB is unavailable nothing more is
 * sent: the rest is returned as unsent.
 */
export async function isolateBadLines(
  lines: string[],
  reason: string,
  send: (part: string[]) => Promise<PartOutcome>,
  onRejected: (part: string[], reason: string) => void,
  budget = BISECT_REQUEST_BUDGET,
): Promise<IsolationResult> {
  const result: IsolationResult = { written: 0, rejected: 0, unsent: [] };
  let left = budget;
  const visit = async (part: string[], partReason: string): Promise<void> => {
    if (part.length === 1 || left <= 0) {
      result.rejected += part.length;
      onRejected(part, partReason);
      return;
    }
    const middle = part.length >> 1;
    for (const half of [part.slice(0, middle), part.slice(middle)]) {
      if (result.unsent.length > 0) {
        result.unsent.push(...half);
        continue;
      }
      left--;
      const outcome = await send(half);
      if (outcome.kind === 'written') result.written += half.length;
      else if (outcome.kind === 'bad-data') await visit(half, outcome.reason);
      else result.unsent.push(...half);
    }
  };
  await visit(lines, reason);
  return result;
}
