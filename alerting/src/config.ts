/**
 * The alerting configuration (YAML): rules, root causes, inhibition, the routing tree, receivers and maintenance
 * windows. Validated at start; every error names the file, line and field, because on-call staff edit it by hand.
 */
import { readFileSync } from 'node:fs';
import {
  FAULT_CODES,
  InfluxConfigError,
  SecretFileError,
  YamlLocator,
  formatIssues,
  loadInfluxConfig,
  parseDuration,
  readSecretFile,
  redisAddressSetting,
  type FaultCode,
  type InfluxConfig,
} from '@flymining/shared';
import { parse } from 'yaml';
import { z } from 'zod';
import { AckLinkSigner } from './ack-links';
import { parseMatcher } from './matchers';
import { receiverSections } from './notify/registry';
import { SEVERITIES, type Matcher } from './types';

const duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    try {
      return parseDuration(String(v));
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

const matcher = z.string().transform((v, ctx): Matcher => {
  try {
    return parseMatcher(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'label names are letters, digits and _');
const labels = z.record(labelName, z.string());
const faultCode = z.enum(Object.keys(FAULT_CODES) as [FaultCode, ...FaultCode[]]);
const severity = z.enum(SEVERITIES);
const ruleName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'rule names are letters, digits and _ (e.g. FanStopped)');

const common = {
  name: ruleName,
  for: duration.default(0),
  keep_firing_for: duration.default(0),
  severity: severity.optional(),
  labels: labels.default({}),
  summary: z.string().max(300).optional(),
};

const faultRule = z.strictObject({
  ...common,
  faults: z.array(faultCode).min(1),
  matchers: z.array(matcher).default([]),
});

/**
 * A query rule fires when `value` (one per series of the GROUP BY) crosses `below`/`above`, and resolves only
 * once it crosses `resolve_below`/`resolve_above` back: the gap between the two is the hysteresis.
 */
const queryRule = z
  .strictObject({
    ...common,
    query: z.string().min(10).max(4000),
    interval: duration.default(60_000),
    below: z.number().optional(),
    above: z.number().optional(),
    resolve_above: z.number().optional(),
    resolve_below: z.number().optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.below === undefined) === (r.above === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of below or above', path: ['below'] });
    if (r.below !== undefined && r.resolve_below !== undefined) ctx.addIssue({ code: 'custom', message: 'with below, the resolve threshold is resolve_above', path: ['resolve_below'] });
    if (r.above !== undefined && r.resolve_above !== undefined) ctx.addIssue({ code: 'custom', message: 'with above, the resolve threshold is resolve_below', path: ['resolve_above'] });
    if (r.below !== undefined && r.resolve_above !== undefined && r.resolve_above < r.below)
      ctx.addIssue({ code: 'custom', message: `resolve_above (${r.resolve_above}) must be at least below (${r.below})`, path: ['resolve_above'] });
    if (r.above !== undefined && r.resolve_below !== undefined && r.resolve_below > r.above)
      ctx.addIssue({ code: 'custom', message: `resolve_below (${r.resolve_below}) must be at most above (${r.above})`, path: ['resolve_below'] });
    if (!/^\s*select\b/i.test(r.query)) ctx.addIssue({ code: 'custom', message: 'only SELECT queries are allowed', path: ['query'] });
  });

/** "Most miners of a container MINER_UNREACHABLE at once" becomes one alert about the container. */
const rootCause = z.strictObject({
  name: ruleName,
  fault: faultCode,
  by: z.enum(['container', 'rack']).default('container'),
  min_miners: z.number().int().min(1).default(3),
  /** Share of the container's miners (from the inventory); without an inventory only min_miners counts. */
  min_share: z.number().gt(0).max(1).default(0.5),
  severity: severity.default('critical'),
  summary: z.string().max(300).optional(),
});

const inhibitRule = z.strictObject({
  source_matchers: z.array(matcher).min(1),
  target_matchers: z.array(matcher).min(1),
  equal: z.array(labelName).default([]),
});

const timings = {
  group_by: z.array(z.union([labelName, z.literal('...')])).optional(),
  group_wait: duration.optional(),
  group_interval: duration.optional(),
  repeat_interval: duration.optional(),
};

export interface RouteConfig {
  receiver?: string;
  matchers: Matcher[];
  continue: boolean;
  group_by?: string[];
  group_wait?: number;
  group_interval?: number;
  repeat_interval?: number;
  routes: RouteConfig[];
}

const route: z.ZodType<RouteConfig, unknown> = z.lazy(() =>
  z.strictObject({
    receiver: z.string().optional(),
    matchers: z.array(matcher).default([]),
    continue: z.boolean().default(false),
    ...timings,
    routes: z.array(route).default([]),
  }),
);

/**
 * `oncall:` addresses the receiver's notices to whoever the rota (maintenance database) has on call, and sends a
 * page nobody acknowledged to the next person after escalate_after (default: the rota's own escalate_after).
 */
const oncallSection = z.strictObject({
  escalate_after: duration.refine((ms) => ms >= 1000, 'escalate_after must be at least 1s').optional(),
});

/** A receiver: a name and a section per integration it uses (notify/registry.ts lists them). */
const receiver = z.strictObject({
  name: z.string().min(1).max(64),
  ...receiverSections(),
  oncall: oncallSection.optional(),
  send_resolved: z.boolean().default(true),
});

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'write the time as HH:MM (24 h)');
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export const windowSchedule = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1).default([...WEEKDAYS]),
    start: timeOfDay,
    end: timeOfDay,
    time_zone: z.string().default('UTC'),
  })
  .superRefine((s, ctx) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: s.time_zone });
    } catch {
      ctx.addIssue({ code: 'custom', message: `unknown time zone "${s.time_zone}" (use an IANA name such as Europe/Berlin)`, path: ['time_zone'] });
    }
    if (s.start === s.end) ctx.addIssue({ code: 'custom', message: 'start and end are the same time', path: ['end'] });
  });
export type WindowSchedule = z.infer<typeof windowSchedule>;

const maintenanceWindow = z.strictObject({
  name: z.string().min(1).max(100),
  matchers: z.array(matcher).min(1),
  schedule: windowSchedule,
});

/** The center's view of the edges (see src/uplink): when an edge counts as silent, when its clock as skewed. */
const edgesSection = z
  .strictObject({
    /** ContainerSilent once no heartbeat arrived for this many of the edge's own sweep intervals (center clock). */
    silent_after_intervals: z.number().min(1).max(1000).default(3),
    /** EdgeClockSkew beyond this difference between the edge clock and the center clock. */
    clock_skew_tolerance: duration.default(600_000),
    /** How far back the relay looks for each edge's newest heartbeat. */
    lookback: duration.default(6 * 3_600_000),
  })
  .prefault({});

/** Dead man's switch: the lease holder POSTs an always-firing Watchdog notice here every interval. */
const watchdogSection = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    interval: duration.default(60_000),
    timeout: duration.default(10_000),
  })
  .prefault({});

/** Repair tickets (maintenance package): paging alerts open tickets in PostgreSQL, acknowledge links acknowledge them. */
const maintenanceSection = z.strictObject({
  /** Else FLYMINING_PG_URL. May carry a password: only ever logged through redactUrl. */
  pg_url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /** A fixed ticket is verified once its miner has run this long without an alert. */
  verify_after: duration.default(30 * 60_000),
  /** A ticket opened this soon after a fix of the same machine counts as a repeat failure. */
  repeat_window: duration.default(7 * 86_400_000),
});

const configSchema = z.strictObject({
  redis: redisAddressSetting.default('redis://127.0.0.1:6379/0'),
  key_prefix: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('flymining:alerting'),
  listen: z.string().regex(/^[^:]+:\d{1,5}$/, 'write host:port').default('127.0.0.1:9430'),
  /** Base of the acknowledge links in notices: how staff reach this service. Needs a link secret. */
  external_url: z.url().optional(),
  /** File holding the secret that signs acknowledge links (FLYMINING_ALERTING_LINK_SECRET_FILE overrides). */
  link_secret_file: z.string().min(1).optional(),
  /** How long an acknowledge link stays valid after its notice was sent. */
  ack_link_ttl: duration.default(24 * 3_600_000),
  evaluation_interval: duration.default(5000),
  /** Resolved alerts stay listed (and in the API) this long. */
  resolved_retention: duration.default(3_600_000),
  inventory: z.string().optional(),
  /** Checked by shared's loadInfluxConfig (FLYMINING_INFLUX_* environment overrides, credentials, CA file). */
  influx: z.record(z.string(), z.unknown()).optional(),
  edges: edgesSection,
  watchdog: watchdogSection,
  /** Checked one by one below: a rule with `query` is a query rule, else a fault rule (clearer errors than a union). */
  rules: z.array(z.record(z.string(), z.unknown())).default([]),
  root_causes: z.array(rootCause).default([]),
  inhibit_rules: z.array(inhibitRule).default([]),
  route: route,
  receivers: z.array(receiver).min(1),
  maintenance_windows: z.array(maintenanceWindow).default([]),
  maintenance: maintenanceSection.optional(),
});

/** The maintenance section with its database URL resolved (file, else FLYMINING_PG_URL). */
export type MaintenanceConfig = z.infer<typeof maintenanceSection> & { pg_url: string };

export type AlertingConfig = Omit<z.infer<typeof configSchema>, 'rules' | 'influx' | 'maintenance'> & {
  rules: Rule[];
  influx?: InfluxConfig;
  /** Set: tickets are synced and `oncall:` receivers page the rota. */
  maintenance?: MaintenanceConfig;
  /** From link_secret_file / FLYMINING_ALERTING_LINK_SECRET_FILE; required when external_url is set (see requireLinkSigner). */
  link_signer?: AckLinkSigner;
};
export type EdgesConfig = z.infer<typeof edgesSection>;
export type WatchdogConfig = z.infer<typeof watchdogSection>;
export type FaultRule = z.infer<typeof faultRule>;
export type QueryRule = z.infer<typeof queryRule>;
export type Rule = FaultRule | QueryRule;
export type RootCause = z.infer<typeof rootCause>;
export type InhibitRule = z.infer<typeof inhibitRule>;
export type ReceiverConfig = z.infer<typeof receiver>;
export type MaintenanceWindowConfig = z.infer<typeof maintenanceWindow>;

export function isQueryRule(r: Rule): r is QueryRule {
  return 'query' in r;
}

/** Alerts the service raises itself (uplink relay and watchdog): their names are not free for rules. */
export const CONTAINER_SILENT = 'ContainerSilent';
export const EDGE_CLOCK_SKEW = 'EdgeClockSkew';
export const WATCHDOG = 'Watchdog';
export const BUILT_IN_ALERTS = [CONTAINER_SILENT, EDGE_CLOCK_SKEW, WATCHDOG] as const;

/** The built-in default: a silent container mutes every other alert of that container (its faults are stale). */
export function containerSilentInhibitRule(): InhibitRule {
  return {
    source_matchers: [parseMatcher(`alertname="${CONTAINER_SILENT}"`)],
    target_matchers: [parseMatcher(`alertname!="${CONTAINER_SILENT}"`)],
    equal: ['site', 'container'],
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid alerting config:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * `env` supplies FLYMINING_INFLUX_* overrides of the influx section (credentials stay out of the file); loadConfig
 * passes the process environment, parseConfig alone none.
 */
export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}): AlertingConfig {
  const locator = new YamlLocator(text, source);
  const where = (path: ReadonlyArray<PropertyKey>): string => locator.where(path);
  let data: unknown;
  try {
    // The plain parser is leaner than the document API; the document is built only to locate errors.
    data = parse(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    const errors = locator.syntaxErrors();
    throw new ConfigError(errors.length > 0 ? errors : [`${source}: YAML: ${String((e as Error).message).split('\n')[0]}`]);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, { locate: where }));
  const problems: string[] = [];
  const rules: Rule[] = [];
  parsed.data.rules.forEach((raw, i) => {
    const result = 'query' in raw ? queryRule.safeParse(raw) : faultRule.safeParse(raw);
    if (result.success) rules.push(result.data);
    else problems.push(...formatIssues(result.error, { locate: (path) => where(['rules', i, ...path]) }));
  });
  let influx: InfluxConfig | undefined;
  if (parsed.data.influx) {
    try {
      influx = loadInfluxConfig(parsed.data.influx, env, `${source}: influx`);
    } catch (e) {
      if (!(e instanceof InfluxConfigError)) throw e;
      // Issues read "field.path (from ENV_VAR): message": located at the field when it is in the file.
      for (const issue of e.issues) {
        if (e.source === 'environment') {
          problems.push(`environment: ${issue}`);
          continue;
        }
        const field = /^[\w.]+/.exec(issue)?.[0] ?? '';
        problems.push(`${where(['influx', ...field.split('.').filter(Boolean)])}: ${issue.slice(field.length).replace(/^:\s*/, '')}`);
      }
    }
  }
  let maintenance: MaintenanceConfig | undefined;
  if (parsed.data.maintenance) {
    const pgUrl = parsed.data.maintenance.pg_url ?? env.FLYMINING_PG_URL;
    if (pgUrl === undefined) problems.push(`${where(['maintenance', 'pg_url'])}: no PostgreSQL URL for the tickets: set pg_url here or FLYMINING_PG_URL`);
    else if (!/^postgres(ql)?:\/\//.test(pgUrl)) problems.push('environment: FLYMINING_PG_URL: must be a postgres:// URL');
    else maintenance = { ...parsed.data.maintenance, pg_url: pgUrl };
  }
  const config: AlertingConfig = { ...parsed.data, rules, influx, maintenance };
  const secretFile = env.FLYMINING_ALERTING_LINK_SECRET_FILE ?? parsed.data.link_secret_file;
  if (secretFile !== undefined) {
    const setting = env.FLYMINING_ALERTING_LINK_SECRET_FILE !== undefined ? 'FLYMINING_ALERTING_LINK_SECRET_FILE' : where(['link_secret_file']);
    try {
      config.link_signer = new AckLinkSigner(readSecretFile(secretFile, setting), config.ack_link_ttl);
    } catch (e) {
      if (e instanceof SecretFileError) problems.push(e.message);
      else problems.push(`${setting}: ${secretFile}: ${(e as Error).message}`);
    }
  }
  const receivers = new Set<string>();
  config.receivers.forEach((r, i) => {
    if (receivers.has(r.name)) problems.push(`${where(['receivers', i, 'name'])}: receiver "${r.name}" is listed twice`);
    receivers.add(r.name);
    if (r.oncall && !parsed.data.maintenance)
      problems.push(`${where(['receivers', i, 'oncall'])}: receiver "${r.name}" pages the on-call rota, which lives in the maintenance database: add a top-level maintenance: { pg_url } section (or remove oncall)`);
  });
  const names = new Set<string>();
  config.rules.forEach((r, i) => {
    if (names.has(r.name)) problems.push(`${where(['rules', i, 'name'])}: rule "${r.name}" is listed twice`);
    names.add(r.name);
  });
  if (!config.route.receiver) problems.push(`${where(['route'])}.receiver: the top route needs a receiver`);
  const checkRoute = (r: RouteConfig, path: Array<string | number>): void => {
    if (r.receiver && !receivers.has(r.receiver)) problems.push(`${where([...path, 'receiver'])}: no receiver is named "${r.receiver}"`);
    r.routes.forEach((child, i) => checkRoute(child, [...path, 'routes', i]));
  };
  checkRoute(config.route, ['route']);
  config.rules.forEach((r, i) => {
    if ((BUILT_IN_ALERTS as readonly string[]).includes(r.name)) problems.push(`${where(['rules', i, 'name'])}: "${r.name}" is a built-in alert of the service; pick another name`);
  });
  // Without an inhibit rule of its own for ContainerSilent, a dark container's miner alerts are muted by this one.
  const silentMatcher = (m: Matcher): boolean => m.name === 'alertname' && m.op === '=' && m.value === CONTAINER_SILENT;
  if (!config.inhibit_rules.some((r) => r.source_matchers.some(silentMatcher))) config.inhibit_rules.push(containerSilentInhibitRule());
  if (config.rules.some(isQueryRule) && !parsed.data.influx) problems.push(`${where(['influx'])}.influx: query rules need influx: { url, database }`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Acknowledge links are only made signed: with external_url set (after command-line overrides), a service without
 * a link secret refuses to start.
 */
export function requireLinkSigner(config: AlertingConfig): AckLinkSigner | undefined {
  if (config.external_url === undefined) return undefined;
  if (config.link_signer) return config.link_signer;
  throw new ConfigError([
    `external_url is set (${config.external_url}) but there is no secret to sign acknowledge links: set link_secret_file in the config or FLYMINING_ALERTING_LINK_SECRET_FILE to a file of at least 32 random characters (e.g. openssl rand -hex 32 > alerting-link.secret; chmod 600 alerting-link.secret)`,
  ]);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): AlertingConfig {
  return parseConfig(readFileSync(file, 'utf8'), file, env);
}
