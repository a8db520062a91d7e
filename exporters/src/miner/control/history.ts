/**
 * What the write path has done recently, by miner and container: the memory behind the rate limits and the recovery
 * policy's daily cap. Filled by the executor as it acts and, at start, from the audit file, so a restarted exporter
 * or a second CLI run still sees this morning's reboots. Entries older than a day are dropped.
 */
export interface HistoryEntry {
  time: number;
  minerId: string;
  container: string;
  action: string;
  /** `staff:<name>` or `policy:<name>`. */
  actor: string;
}

const KEEP_MS = 24 * 3600_000;

export class ActionHistory {
  private entries: HistoryEntry[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  record(entry: HistoryEntry): void {
    this.entries.push(entry);
    if (this.entries.length % 256 === 0) this.prune();
  }

  /** Entries matching every given field, newer than `sinceMs`. */
  count(filter: { minerId?: string; container?: string; action?: string; actor?: string; sinceMs: number }): number {
    let n = 0;
    for (const e of this.entries) if (e.time >= filter.sinceMs && matches(e, filter)) n++;
    return n;
  }

  /** The newest matching entry. */
  last(filter: { minerId?: string; container?: string; action?: string; actor?: string }): HistoryEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as HistoryEntry;
      if (matches(e, filter)) return e;
    }
    return undefined;
  }

  private prune(): void {
    const cutoff = this.now() - KEEP_MS;
    this.entries = this.entries.filter((e) => e.time >= cutoff);
  }
}

function matches(e: HistoryEntry, f: { minerId?: string; container?: string; action?: string; actor?: string }): boolean {
  return (f.minerId === undefined || e.minerId === f.minerId) && (f.container === undefined || e.container === f.container) && (f.action === undefined || e.action === f.action) && (f.actor === undefined || e.actor === f.actor);
}
