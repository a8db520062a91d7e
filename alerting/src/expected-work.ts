/**
 * Changes that are expected while someone works on site: an open container door (DOOR_OPEN) while a technician
 * holds a repair ticket on that container, a reflashed firmware (FIRMWARE_CHANGED) or a miner swapped in its slot
 * (MINER_SWAPPED) while a technician holds a repair ticket on that very miner (maintenance.tickets state in_repair
 * with taken_by), or any of them inside a maintenance window that covers the alert. Then the alert is lowered to
 * severity info, with the annotation `expected` saying why ("maintenance window C03 weekly filter change", "ticket
 * #12 in repair by Ana"), before routing: the `severity="info"` route keeps it off the pager. Anywhere else it pages.
 *
 * Judged once, when the alert starts (an alert keeps its labels for its episode); the ticket lookup waits at most
 * LOOKUP_WAIT_MS and, failing that, the alert pages: a database outage must not hide an intrusion.
 */
import type { Logger } from '@flymining/shared';
import type { TicketStore } from '@flymining/maintenance';
import { matchesAll } from './matchers';
import type { Condition } from './pipeline/evaluate';
import { activeSilences, type Silence } from './pipeline/silence';
import type { Alert } from './types';

const LOOKUP_WAIT_MS = 2000;
export const DOOR_FAULT = 'DOOR_OPEN';
/** The faults that work on site explains, and what a ticket must be on: the container, or the miner itself. */
const EXPECTED_DURING_WORK: Readonly<Record<string, 'container' | 'miner'>> = { [DOOR_FAULT]: 'container', FIRMWARE_CHANGED: 'miner', MINER_SWAPPED: 'miner' };

export interface WorkContext {
  /** Maintenance windows: the config's and recurring silences made through the API. */
  windows: readonly Silence[];
  /** The maintenance database's tickets; undefined without a maintenance section. */
  tickets?: Pick<TicketStore, 'list'>;
  logger: Logger;
}

/** Why this alert is expected now, or undefined when it is not (it pages). */
async function expectedBecause(c: Condition, scope: 'container' | 'miner', ctx: WorkContext, now: number): Promise<string | undefined> {
  const windows = activeSilences(ctx.windows.filter((w) => w.schedule), now);
  const window = windows.find((w) => matchesAll(w.matchers, c.labels));
  if (window) return `maintenance window ${window.silence.comment || window.silence.id}`;
  const container = c.labels.container;
  if (!ctx.tickets || !container) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const lookup = ctx.tickets.list({ state: 'in_repair', container });
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${LOOKUP_WAIT_MS} ms`)), LOOKUP_WAIT_MS)));
    const held = (await Promise.race([lookup, late])).find(
      (t) => t.takenBy && (!c.labels.site || t.site === c.labels.site) && (scope === 'container' || t.miner === c.labels.miner),
    );
    return held ? `ticket #${held.id} in repair by ${held.takenBy}` : undefined;
  } catch (e) {
    ctx.logger.warn({ container, fault: c.labels.fault, err: (e as Error).message }, 'cannot read repair tickets to judge whether work on site explains this alert: it pages');
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Lowers expected conditions to info (in place in `conditions`); cached conditions are copied, not changed. */
export async function lowerExpectedDuringWork(conditions: Map<string, Condition>, previous: ReadonlyMap<string, Alert>, ctx: WorkContext, now: number): Promise<void> {
  for (const [fp, c] of conditions) {
    const scope = EXPECTED_DURING_WORK[c.labels.fault ?? ''];
    if (!scope) continue;
    const old = previous.get(fp);
    let expected: string | undefined;
    if (old && old.state !== 'resolved') expected = old.labels.severity === 'info' ? old.annotations.expected : undefined;
    else expected = await expectedBecause(c, scope, ctx, now);
    if (!expected) continue;
    conditions.set(fp, { ...c, labels: { ...c.labels, severity: 'info' }, annotations: { ...c.annotations, expected } });
  }
}
