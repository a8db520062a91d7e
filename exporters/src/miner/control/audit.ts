/**
 * Where every action's outcome is kept (issue 14: "audited: who or which policy, when, what, the reply"):
 *  - an append-only JSON-lines file (the edge's state folder, or the CLI's), fsynced per entry, rotated at 20 MB;
 *    it also seeds the rate limits after a restart (loadHistory);
 *  - `control_action` points through the exporter's InfluxDB store, i.e. over the uplink, so Grafana shows them;
 *  - a log line.
 * Pool passwords and credentials never reach any of them: the action is described, not dumped.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { encodePoints, type Logger, type SchemaPoint } from '@flymining/shared';
import { z } from 'zod';
import type { ActionResult, AuditSink } from './executor';
import { ActionHistory } from './history';
import { describeAction } from './types';

const ROTATE_BYTES = 20 * 1024 * 1024;

/** One audit line as written (and read back for the history). */
export const auditLineSchema = z.object({
  time: z.number(),
  actor: z.string(),
  reason: z.string(),
  miner: z.string(),
  site: z.string(),
  container: z.string(),
  host: z.string(),
  action: z.string(),
  description: z.string(),
  outcome: z.string(),
  detail: z.string(),
  reply: z.string(),
  durationMs: z.number(),
  confirmMs: z.number().optional(),
});
export type AuditLine = z.infer<typeof auditLineSchema>;

export function auditLine(r: ActionResult): AuditLine {
  return {
    time: r.time,
    actor: `${r.actor.kind}:${r.actor.name}`,
    reason: r.reason,
    miner: r.target.id,
    site: r.target.site,
    container: r.target.container,
    host: `${r.target.host}:${r.target.port}`,
    action: r.action.kind,
    description: describeAction(r.action),
    outcome: r.outcome,
    detail: r.detail,
    reply: r.reply,
    durationMs: Math.round(r.durationMs),
    ...(r.confirmMs === undefined ? {} : { confirmMs: Math.round(r.confirmMs) }),
  };
}

/** Outcomes that reached the miner: these count against rate limits when the history is rebuilt from the file. */
const WRITES: ReadonlySet<string> = new Set(['confirmed', 'sent', 'unconfirmed', 'failed']);

export class AuditFile implements AuditSink {
  constructor(
    readonly file: string,
    private readonly log?: Logger,
  ) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }

  record(result: ActionResult): void {
    const text = JSON.stringify(auditLine(result)) + '\n';
    try {
      if (existsSync(this.file) && statSync(this.file).size > ROTATE_BYTES) renameSync(this.file, `${this.file}.1`);
      const fd = openSync(this.file, 'a', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      this.log?.error({ file: this.file, err: (err as Error).message }, 'control audit: cannot append to the audit file');
    }
  }

  /** The last day's writes from the file (and its rotated predecessor), for the rate limits; bad lines are skipped and counted. */
  loadHistory(history: ActionHistory, now = Date.now()): { loaded: number; skipped: number } {
    let loaded = 0;
    let skipped = 0;
    for (const file of [`${this.file}.1`, this.file]) {
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        let parsed: AuditLine;
        try {
          const result = auditLineSchema.safeParse(JSON.parse(line));
          if (!result.success) throw new Error('shape');
          parsed = result.data;
        } catch {
          skipped++;
          continue;
        }
        if (now - parsed.time > 24 * 3600_000 || !WRITES.has(parsed.outcome)) continue;
        history.record({ time: parsed.time, minerId: parsed.miner, container: parsed.container, action: parsed.action, actor: parsed.actor });
        loaded++;
      }
    }
    if (skipped > 0) this.log?.warn({ file: this.file, skipped }, 'control audit: lines that are not audit entries were skipped');
    return { loaded, skipped };
  }
}

/** The audit as `control_action` points (SchemaPoint), for the exporter's InfluxDB store. */
export function actionPoint(r: ActionResult): SchemaPoint<'control_action'> {
  const t = r.target;
  return {
    measurement: 'control_action',
    tags: {
      site: t.site,
      container: t.container || '-',
      rack: t.rack ?? '-',
      shelf: t.shelf ?? '-',
      slot: t.slot ?? '-',
      miner: t.id,
      action: r.action.kind,
      outcome: r.outcome,
      actor_kind: r.actor.kind,
    },
    fields: {
      actor: r.actor.name,
      detail: `${describeAction(r.action)}: ${r.detail}`,
      reply: r.reply,
      reason: r.reason,
      duration_ms: r.durationMs,
      ...(r.confirmMs === undefined ? {} : { confirm_ms: r.confirmMs }),
    },
    time: r.time,
  };
}

/** Sends each outcome as a line-protocol point to a store (the exporter's InfluxStore: batched, spooled, uplinked). */
export class AuditPoints implements AuditSink {
  constructor(private readonly store: { write(lines: readonly string[]): void }) {}

  record(result: ActionResult): void {
    this.store.write(encodePoints([actionPoint(result)]));
  }
}

/** One log line per outcome: info for what worked, warn for the rest. */
export class AuditLog implements AuditSink {
  constructor(private readonly log: Logger) {}

  record(r: ActionResult): void {
    const line = auditLine(r);
    const ok = r.outcome === 'confirmed' || r.outcome === 'sent' || r.outcome === 'dry-run';
    if (ok) this.log.info(line, `control: ${line.description} on ${line.miner}: ${r.outcome}`);
    else this.log.warn(line, `control: ${line.description} on ${line.miner}: ${r.outcome}: ${r.detail}`);
  }
}
