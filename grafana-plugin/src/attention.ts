/**
 * The TV wall's attention list: what needs someone, so nobody has to hover. One line per miner with a fault or a
 * warning; one line per silent container; unreachable, stale and no-data slots collapsed to one line per container
 * (60 stale slots of a stopped exporter are one problem, and must not push a real warning off the screen).
 *
 * Order (on-call reads from the top and may see only the top): critical faults, silent containers, unreachable
 * miners, warnings, stale data, no data; within each, oldest first (unknown age last), then by name.
 */
import { naturalOrder } from './farm';
import { silenceText } from './silence';
import { STATE_LABEL } from './states';
import type { ContainerSilence, FarmModel, FaultSeverity, MinerReading, SlotCell, SlotState } from './types';

export type AttentionKind = Extract<SlotState, 'fault' | 'silent' | 'unreachable' | 'warning' | 'stale' | 'no-data'>;
export const ATTENTION_ORDER: readonly AttentionKind[] = ['fault', 'silent', 'unreachable', 'warning', 'stale', 'no-data'];
const RANK = new Map<SlotState, number>(ATTENTION_ORDER.map((kind, i) => [kind, i]));
/** One line per miner for these; the others are one line per container. */
const PER_MINER: ReadonlySet<AttentionKind> = new Set(['fault', 'warning']);

export interface AttentionLine {
  kind: AttentionKind;
  container: string;
  /** The slots this line stands for, in map order (none for a silent container whose readings aged out). */
  cells: SlotCell[];
  silence?: ContainerSilence;
  /** When the trouble began as far as the data tells (fault since, newest point of a stale slot, last heartbeat). */
  sinceMs?: number;
}

export function attentionLines(farm: FarmModel): AttentionLine[] {
  const lines: AttentionLine[] = [];
  for (const container of farm.containers) {
    if (container.silent) {
      const cells = container.racks.flatMap((r) => r.shelves.flatMap((s) => s.slots.filter((c) => c.reading)));
      lines.push({ kind: 'silent', container: container.name, cells, silence: container.silent, sinceMs: container.silent.lastDataMs });
      continue;
    }
    const grouped = new Map<AttentionKind, AttentionLine>();
    for (const rack of container.racks) {
      for (const shelf of rack.shelves) {
        for (const cell of shelf.slots) {
          const kind = cell.state as AttentionKind;
          if (!RANK.has(kind) || !cell.reading) continue;
          const sinceMs = sinceOf(kind, cell.reading);
          if (PER_MINER.has(kind)) {
            lines.push(withSince({ kind, container: container.name, cells: [cell] }, sinceMs));
            continue;
          }
          const group = grouped.get(kind);
          if (group) {
            group.cells.push(cell);
            if (sinceMs !== undefined && (group.sinceMs === undefined || sinceMs < group.sinceMs)) group.sinceMs = sinceMs;
          } else {
            const line = withSince({ kind, container: container.name, cells: [cell] }, sinceMs);
            grouped.set(kind, line);
            lines.push(line);
          }
        }
      }
    }
  }
  return lines.sort(
    (a, b) =>
      RANK.get(a.kind)! - RANK.get(b.kind)! ||
      (a.sinceMs ?? Infinity) - (b.sinceMs ?? Infinity) ||
      naturalOrder(a.cells.length === 1 && a.kind !== 'silent' ? a.cells[0]!.reading!.miner : a.container, b.cells.length === 1 && b.kind !== 'silent' ? b.cells[0]!.reading!.miner : b.container),
  );
}

function withSince(line: AttentionLine, sinceMs: number | undefined): AttentionLine {
  if (sinceMs !== undefined) line.sinceMs = sinceMs;
  return line;
}

const SEVERITY_OF: Partial<Record<AttentionKind, FaultSeverity>> = { fault: 'critical', warning: 'warning' };

function sinceOf(kind: AttentionKind, reading: MinerReading): number | undefined {
  if (kind === 'stale') return reading.time;
  const severity = SEVERITY_OF[kind];
  const relevant = reading.faults.filter((f) => (severity ? f.severity === severity : kind === 'unreachable' && f.code === 'MINER_UNREACHABLE'));
  const since = relevant.map((f) => f.since).filter((t): t is number => t !== undefined);
  return since.length ? Math.min(...since) : undefined;
}

/** What a line says: a title (who and what) and an optional detail (faults, silence, which miners). */
export function attentionText(line: AttentionLine, timeZone: string | undefined): { who: string; what: string; detail?: string } {
  const label = STATE_LABEL[line.kind];
  if (line.kind === 'silent') {
    const lastKnown = faultCodes(line.cells.flatMap((c) => c.reading!.faults));
    const detail = silenceText(line.silence!, timeZone) + (lastKnown ? ` · last known: ${lastKnown}` : '');
    return { who: line.container, what: label, detail };
  }
  if (line.cells.length === 1) {
    const reading = line.cells[0]!.reading!;
    const codes = faultCodes(reading.faults);
    return codes ? { who: reading.miner, what: label, detail: codes } : { who: reading.miner, what: label };
  }
  return { who: line.container, what: `${line.cells.length} ${label}`, detail: line.cells.map((c) => c.reading!.miner).join(', ') };
}

/** Non-info fault codes, repeats counted: "FAN_STOPPED, CHIPS_DEAD ×2". */
function faultCodes(faults: ReadonlyArray<{ code: string; severity: FaultSeverity }>): string {
  const counts = new Map<string, number>();
  for (const f of faults) if (f.severity !== 'info') counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
  return [...counts].map(([code, n]) => (n > 1 ? `${code} ×${n}` : code)).join(', ');
}

/** Line heights of the list in px for a font size: the view renders with exactly these, so what fits is known. */
export function attentionMetrics(fontPx: number) {
  return {
    padding: Math.round(fontPx / 2),
    heading: Math.ceil(fontPx * 1.1 * 1.25) + Math.round(fontPx / 2),
    title: Math.ceil(fontPx * 1.25),
    detailFont: Math.round(fontPx * 0.75),
    detail: Math.ceil(Math.round(fontPx * 0.75) * 1.25),
    gap: Math.round(fontPx * 0.4),
  };
}

/**
 * How many of the lines fit in a list of that height, leaving room for a "+N more" line when not all do: the
 * list never cuts silently, and since it is ordered, what is cut is the least urgent.
 */
export function linesThatFit(hasDetail: readonly boolean[], heightPx: number, fontPx: number): number {
  const m = attentionMetrics(fontPx);
  const heights = hasDetail.map((d) => m.title + (d ? m.detail : 0) + m.gap);
  const available = heightPx - 2 * m.padding - m.heading;
  if (heights.reduce((a, b) => a + b, 0) <= available) return heights.length;
  let used = m.title + m.detail; // the "+N more" line and what they are
  let shown = 0;
  while (shown < heights.length && used + heights[shown]! <= available) used += heights[shown++]!;
  return shown;
}

/** The "+N more" line: how many, then what they are ("2 warning, 3 stale data"). */
export function moreText(hidden: readonly AttentionLine[]): { count: string; kinds: string } {
  const byKind = ATTENTION_ORDER.map((kind) => [kind, hidden.filter((l) => l.kind === kind).length] as const).filter(([, n]) => n > 0);
  return { count: `+${hidden.length} more`, kinds: byKind.map(([kind, n]) => `${n} ${STATE_LABEL[kind]}`).join(', ') };
}

/**
 * Everything the list shows of its lines, as one string: two lists with equal keys render the same DOM, so the
 * view keeps the old lines (and React skips the list) when a refresh changed nothing on it.
 */
export function attentionKey(lines: readonly AttentionLine[], timeZone: string | undefined): string {
  return lines
    .map((line) => {
      const text = attentionText(line, timeZone);
      return [line.kind, line.container, line.cells.length, text.who, text.what, text.detail ?? ''].join('\u0001');
    })
    .join('\u0002');
}
