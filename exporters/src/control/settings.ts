/**
 * control.yaml: which policies run where, and their limits (issue 14). Every policy is off unless `enabled: true`.
 * `defaults` apply to every container; `containers.<name>` overrides them field by field. Errors name the file, line
 * and field. Example: provisioning/control/control.yaml.
 */
import { readFileSync } from 'node:fs';
import { formatIssues, parseDuration, YamlLocator } from '@flymining/shared';
import { parse } from 'yaml';
import { z } from 'zod';

const duration = (what: string) =>
  z.string().transform((text, ctx) => {
    try {
      return parseDuration(text, { what });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const minerIds = z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'a miner id')).max(10_000);

export const recoverySchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** A miner not hashing (hung, no work, unreachable) this long is rebooted. */
  notHashingFor: duration('notHashingFor').prefault('15m'),
  /** Reboots per miner in a rolling 24 h; past it the miner gets a RECOVERY_EXHAUSTED fault (a ticket) instead. */
  maxRebootsPerDay: z.number().int().min(1).max(10).default(3),
  /** At most this many miners of one container rebooted by the policy per evaluation (the rest wait their turn). */
  maxPerEvaluation: z.number().int().min(1).max(100).default(5),
  optOut: minerIds.default([]),
});

export const temperatureSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Intake air band in °C: below the low edge the loop warms (wakes, raises power), above the high edge it cools. */
    intakeBandC: z.tuple([z.number().min(-40).max(60), z.number().min(-40).max(60)]).default([5, 35]),
    /** Hottest chip allowed: above it the loop steps that miner down even with intake in band. */
    chipMaxC: z.number().min(40).max(110).default(85),
    /** Least intake-minus-dew-point margin; below it the loop warms the container (condensation risk). */
    dewPointMarginMinC: z.number().min(0).max(20).default(3),
    /** The loop acts only this far outside the band, and stops acting this far inside it. */
    hysteresisC: z.number().min(0).max(10).default(1.5),
    /** Least time between two steps in one container, and between two changes of one miner. */
    dwell: duration('dwell').prefault('5m'),
    /** Miners changed per step. */
    stepMiners: z.number().int().min(1).max(100).default(5),
    /** A power step, as a share of the miner's power range. */
    powerStepShare: z.number().min(0.02).max(0.5).default(0.15),
    /** A reading older than this freezes the loop (no actions) and raises CONTROL_SENSOR_STALE. */
    staleAfter: duration('staleAfter').prefault('3m'),
    /** The damper's fully open position as its sensor reads it: below it, a cold container gets a recommendation to recirculate more. */
    damperMaxPercent: z.number().min(1).max(100).default(100),
    optOut: minerIds.default([]),
  })
  .refine((t) => t.intakeBandC[0] < t.intakeBandC[1], { message: 'intakeBandC: the low edge must be below the high edge', path: ['intakeBandC'] });

const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (24 h)');

export const curtailmentSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** The power the container may draw while curtailed, kW (0 = everything that can sleep sleeps). */
  targetKw: z.number().min(0).max(10_000).default(0),
  /** How long curtailing (and restoring) is spread over. */
  ramp: duration('ramp').prefault('10m'),
  /** Time zone of the schedule (the farm's). */
  timezone: z.string().default('UTC'),
  /** Windows in which to curtail. */
  schedule: z.array(z.strictObject({ days: z.array(weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), from: clock, to: clock })).default([]),
  /** A power price signal: curtail while the price is above the strike price. */
  price: z
    .strictObject({
      /** A JSON file or an http(s) URL answering {"price": number, "currency": "USD", "unit": "MWh", "time": ISO} (see docs/control.md). */
      source: z.string().min(1),
      strikePerMwh: z.number().min(-10_000).max(100_000),
      /** A price older than this is not acted on (the last decision holds). */
      staleAfter: duration('price.staleAfter').prefault('30m'),
      pollEvery: duration('price.pollEvery').prefault('1m'),
    })
    .optional(),
  optOut: minerIds.default([]),
});

const policiesSchema = z.strictObject({
  recovery: recoverySchema.optional(),
  temperature: temperatureSchema.optional(),
  curtailment: curtailmentSchema.optional(),
});

/** The file before defaults are merged: each section as written (merged per container by settingsFor). */
const fileSchema = z.strictObject({
  defaults: z.record(z.string(), z.unknown()).optional(),
  containers: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a container name'), z.record(z.string(), z.unknown())).optional(),
});

export type RecoverySettings = z.output<typeof recoverySchema>;
export type TemperatureSettings = z.output<typeof temperatureSchema>;
export type CurtailmentSettings = z.output<typeof curtailmentSchema>;

/** The settings of one container, every policy present (disabled where not configured). */
export interface ContainerControlSettings {
  recovery: RecoverySettings;
  temperature: TemperatureSettings;
  curtailment: CurtailmentSettings;
}

export class ControlSettingsError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid control settings ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'ControlSettingsError';
  }
}

export interface ControlSettings {
  source: string;
  /** The settings of a container (defaults for one the file does not name). */
  forContainer(container: string): ContainerControlSettings;
  /** Containers the file names (a name the inventory lacks is reported by the agent). */
  readonly namedContainers: readonly string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field-by-field merge of a container's sections over the defaults (arrays replace). */
function mergeSections(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isRecord(value) && isRecord(base[key]) ? mergeSections(base[key] as Record<string, unknown>, value) : value;
  return out;
}

export function parseControlSettings(text: string, source: string): ControlSettings {
  const locator = new YamlLocator(text, source);
  let data: unknown;
  try {
    data = parse(text, { uniqueKeys: true, maxAliasCount: 100 }) ?? {};
  } catch {
    const errors = locator.syntaxErrors();
    throw new ControlSettingsError(source, errors.length > 0 ? errors : ['YAML could not be read']);
  }
  const file = fileSchema.safeParse(data);
  if (!file.success) throw new ControlSettingsError(source, formatIssues(file.error, { locate: (path) => locator.where(path) }));
  const defaults = file.data.defaults ?? {};
  const containers = file.data.containers ?? {};
  const resolved = new Map<string, ContainerControlSettings>();
  const problems: string[] = [];
  const resolve = (raw: Record<string, unknown>, path: Array<string | number>): ContainerControlSettings | undefined => {
    const parsed = policiesSchema.safeParse(raw);
    if (!parsed.success) {
      // Report each problem where it is written: in the container's section when it overrides it, else in defaults.
      problems.push(
        ...formatIssues(parsed.error, {
          locate: (p) => {
            const inContainer = path.length > 0 && locator.document.getIn([...path, ...p.filter((x): x is string | number => typeof x !== 'symbol')], true) !== undefined;
            return locator.where(inContainer ? [...path, ...p] : ['defaults', ...p]);
          },
        }),
      );
      return undefined;
    }
    return {
      recovery: parsed.data.recovery ?? recoverySchema.parse({}),
      temperature: parsed.data.temperature ?? temperatureSchema.parse({}),
      curtailment: parsed.data.curtailment ?? curtailmentSchema.parse({}),
    };
  };
  const base = resolve(defaults, []);
  for (const [name, over] of Object.entries(containers)) {
    const settings = resolve(mergeSections(defaults, over), ['containers', name]);
    if (settings) resolved.set(name, settings);
  }
  if (problems.length > 0 || !base) throw new ControlSettingsError(source, [...new Set(problems)]);
  return {
    source,
    namedContainers: Object.keys(containers),
    forContainer: (container) => resolved.get(container) ?? base,
  };
}

export function loadControlSettings(file: string): ControlSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ControlSettingsError(file, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseControlSettings(text, file);
}

/** Settings with every policy off: what an exporter without --control runs. */
export const ALL_OFF: ContainerControlSettings = {
  recovery: recoverySchema.parse({}),
  temperature: temperatureSchema.parse({}),
  curtailment: curtailmentSchema.parse({}),
};
