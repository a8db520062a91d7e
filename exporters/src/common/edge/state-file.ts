/**
 * The edge's health state on disk, so a restarted exporter re-asserts the same faults with the same `since` in its
 * first snapshot instead of clearing and raising them again (a flap the center would page). One small JSON file per
 * exporter in the state folder (--state-dir), written atomically (temp file + rename) after each sweep, read once at
 * start. A file that cannot be read or does not validate is reported (file and field) and ignored: the edge then
 * starts fresh, which costs at most one re-raise.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FAULT_CODES, formatIssues, type EdgeSource, type Fault, type FaultCode, type Logger } from '@flymining/shared';
import { z } from 'zod';

const FORMAT = 1;

const faultCode = z.enum(Object.keys(FAULT_CODES) as [FaultCode, ...FaultCode[]]);

/** A Fault as persisted (the same JSON shape). */
export const faultSchema: z.ZodType<Fault> = z.object({
  code: faultCode,
  severity: z.enum(['critical', 'warning', 'info']),
  minerId: z.string(),
  location: z.object({ site: z.string(), container: z.string(), rack: z.string(), shelf: z.string(), slot: z.string() }),
  part: z.string(),
  message: z.string(),
  since: z.number(),
  details: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});

/**
 * The miners' power per container as the miner exporter measured it in its last sweep, left in the edge's state
 * folder for the climate exporter beside it: heat share and airflow need it, and an edge account may only write,
 * so reading it back from the center over the uplink is not an option at an edge.
 */
export const minersPowerSchema = z.object({ containers: z.record(z.string(), z.number().nonnegative()) });
export type MinersPower = z.infer<typeof minersPowerSchema>;

export function minersPowerPath(stateDir: string): string {
  return path.join(stateDir, 'miners-power.json');
}

/**
 * Each container's newest climate readings, left by the climate exporter for the miner exporter's temperature loop
 * beside it (issue 14): the loop must keep working while the uplink is down. Each value comes with the time it
 * arrived, so the loop judges freshness itself (a dead climate exporter leaves old times, which freeze the loop).
 */
const reading = z.number().finite();
export const containerClimateSchema = z.object({
  container: z.string().max(64),
  writtenMs: reading,
  intakeC: reading.optional(),
  intakeAtMs: reading.optional(),
  exhaustC: reading.optional(),
  exhaustAtMs: reading.optional(),
  outsideC: reading.optional(),
  outsideAtMs: reading.optional(),
  dewPointMarginC: reading.optional(),
  dewPointAtMs: reading.optional(),
  damperPercent: reading.optional(),
  damperAtMs: reading.optional(),
});
export const containersClimateSchema = z.object({ containers: z.record(z.string(), containerClimateSchema) });
export type ContainersClimate = z.infer<typeof containersClimateSchema>;

export function containerClimatePath(stateDir: string): string {
  return path.join(stateDir, 'container-climate.json');
}

/** Where the state of one exporter lives in the edge's state folder. */
export function stateFilePath(stateDir: string, source: EdgeSource): string {
  return path.join(stateDir, `${source}-health.json`);
}

export class EdgeStateFile<T> {
  private saveFailing = false;

  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>,
    private readonly log: Logger,
  ) {}

  /** The saved state; undefined when there is none or it is unusable (then logged, naming the file and field). */
  load(): T | undefined {
    return this.loadWithTime()?.state;
  }

  /** The saved state with the time it was saved. */
  loadWithTime(): { state: T; savedAtMs: number } | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`cannot read edge state ${this.file} (${(err as Error).message}); starting fresh`);
      return undefined;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      this.log.warn(`edge state ${this.file} is not JSON (${(err as Error).message}); starting fresh`);
      return undefined;
    }
    const parsed = z.object({ format: z.literal(FORMAT), savedAtMs: z.number(), state: this.schema }).safeParse(raw);
    if (!parsed.success) {
      const problems = formatIssues(parsed.error, { whole: '(file)', limit: 5 });
      this.log.warn(`edge state ${this.file} refused (${problems.join('; ')}); starting fresh`);
      return undefined;
    }
    return { state: parsed.data.state, savedAtMs: parsed.data.savedAtMs };
  }

  /** Writes atomically: readers (and a crash) see the old file or the new one, never half of one. */
  save(state: T, now = Date.now()): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(temp, JSON.stringify({ format: FORMAT, savedAtMs: now, state }));
      renameSync(temp, this.file);
      if (this.saveFailing) this.log.info(`edge state saved again to ${this.file}`);
      this.saveFailing = false;
    } catch (err) {
      // Logged once per episode: a full or read-only disk must not fill the log every sweep.
      if (!this.saveFailing) this.log.error(`cannot save edge state to ${this.file} (${(err as Error).message}); a restart would re-raise active faults`);
      this.saveFailing = true;
    }
  }
}
