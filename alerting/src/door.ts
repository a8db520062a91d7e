/**
 * An open container door is expected while someone works there: inside a maintenance window that covers the door's
 * alert, or while a technician holds a repair ticket on that container (maintenance.tickets state in_repair with
 * taken_by). Then DOOR_OPEN is lowered to severity info, with the annotation `expected` saying why ("maintenance
 * window C03 weekly filter change", "ticket #12 in repair by Ana"), before routing: the `severity="info"` route
 * keeps it off the pager. Anywhere else it stays critical and pages.
 *
 * Judged once, when the door's alert starts (an alert keeps its labels for its episode); the ticket lookup waits at
 * most LOOKUP_WAIT_MS and, failing that, the door pages: a database outage must not hide an intrusion.
 */
import type { Logger } from '@flymining/shared';
import type { TicketStore } from '@flymining/maintenance';
import { matchesAll } from './matchers';
import type { Condition } from './pipeline/evaluate';
import { activeSilences, type Silence } from './pipeline/silence';
import type { Alert } from './types';

const LOOKUP_WAIT_MS = 2000;
export const DOOR_FAULT = 'DOOR_OPEN';

export interface DoorContext {
  /** Maintenance windows: the config's and recurring silences made through the API. */
  windows: readonly Silence[];
  /** The maintenance database's tickets; undefined without a maintenance section. */
  tickets?: Pick<TicketStore, 'list'>;
  logger: Logger;
}

/** Why a door open now is expected, or undefined when it is not (it pages). */
async function expectedBecause(c: Condition, ctx: DoorContext, now: number): Promise<string | undefined> {
  const windows = activeSilences(ctx.windows.filter((w) => w.schedule), now);
  const window = windows.find((w) => matchesAll(w.matchers, c.labels));
  if (window) return `maintenance window ${window.silence.comment || window.silence.id}`;
  const container = c.labels.container;
  if (!ctx.tickets || !container) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const lookup = ctx.tickets.list({ state: 'in_repair', container });
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${LOOKUP_WAIT_MS} ms`)), LOOKUP_WAIT_MS)));
    const held = (await Promise.race([lookup, late])).find((t) => t.takenBy && (!c.labels.site || t.site === c.labels.site));
    return held ? `ticket #${held.id} in repair by ${held.takenBy}` : undefined;
  } catch (e) {
    ctx.logger.warn({ container, err: (e as Error).message }, 'cannot read repair tickets for an open door: it pages');
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Lowers expected DOOR_OPEN conditions to info (in place in `conditions`); cached conditions are copied, not changed. */
export async function lowerExpectedDoors(conditions: Map<string, Condition>, previous: ReadonlyMap<string, Alert>, ctx: DoorContext, now: number): Promise<void> {
  for (const [fp, c] of conditions) {
    if (c.labels.fault !== DOOR_FAULT) continue;
    const old = previous.get(fp);
    let expected: string | undefined;
    if (old && old.state !== 'resolved') expected = old.labels.severity === 'info' ? old.annotations.expected : undefined;
    else expected = await expectedBecause(c, ctx, now);
    if (!expected) continue;
    conditions.set(fp, { ...c, labels: { ...c.labels, severity: 'info' }, annotations: { ...c.annotations, expected } });
  }
}
