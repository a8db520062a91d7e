/**
 * InfluxDB connection and write-path settings: one schema, defaults, and FLYMINING_INFLUX_* environment overrides.
 * Secrets and the CA certificate can come from files (`passwordFile`, `tokenFile`, `caFile`), read at load time.
 */
import { z } from 'zod';
import { dottedPath, formatIssues } from '../text/issues';
import { readSecretFile } from '../secrets';

export const influxFlavors = ['v1', 'v2', 'v3'] as const;
export type InfluxFlavor = (typeof influxFlavors)[number];

const positiveInt = z.number().int().positive();

export const InfluxConfigSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    database: z.string().min(1).default('flymining'),
    retentionPolicy: z.string().min(1).default('raw'),
    /** v2: API token (Authorization: Token); v3: database token (Authorization: Bearer). */
    token: z.string().min(1).optional(),
    /** v1 user (HTTP basic auth); v2 accepts it too for its v1-compatibility endpoints. */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** File holding the password (e.g. a Docker/Kubernetes secret); read at load time, wins over `password`. */
    passwordFile: z.string().min(1).optional(),
    /** File holding the token; read at load time, wins over `token`. */
    tokenFile: z.string().min(1).optional(),
    /** PEM file of the CA(s) that sign InfluxDB's certificate (https:// only); read at load time into `ca`. */
    caFile: z.string().min(1).optional(),
    /** PEM text of the CA(s); normally filled from caFile. */
    ca: z.string().min(1).optional(),
    /** Which server: only the authentication header differs, the wire format (/write, /query) is the same. */
    flavor: z.enum(influxFlavors).default('v1'),
    timeoutMs: positiveInt.default(10_000),
    batchSize: positiveInt.default(5_000),
    flushIntervalMs: positiveInt.default(1_000),
    /** Lines the client keeps in memory for retries before handing the oldest to the spool. */
    maxBufferLines: positiveInt.default(100_000),
    /**
     * In-memory retries (exponential back-off) of a batch InfluxDB answered 429/5xx while the uplink is ok; any other
     * failure (no answer, TLS, 401/403, database missing) spools the batch at once.
     */
    maxRetries: z.number().int().min(0).default(3),
    minRetryDelayMs: positiveInt.default(1_000),
    maxRetryDelayMs: positiveInt.default(15_000),
    /** Write bodies larger than this are gzipped; 0 turns gzip off (fastest on a LAN). */
    gzipThresholdBytes: z.number().int().min(0).default(0),
    spool: z
      .object({
        dir: z.string().min(1).default('.flymining/spool'),
        maxBytes: positiveInt.default(1024 * 1024 * 1024),
        /** How often the replay loop looks at the spool while it holds data; the first probe of a down uplink. */
        replayIntervalMs: positiveInt.default(2_000),
        /** Cap of the probe back-off (doubling from replayIntervalMs) while the uplink is down. */
        maxReplayIntervalMs: positiveInt.default(10_000),
        /**
         * While the uplink is known down, write() appends to the spool synchronously (fsynced before it returns),
         * so a kill mid-outage loses nothing write() accepted. Costs one fsync per write() call during an outage.
         */
        syncWhenDown: z.boolean().default(false),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.flavor === 'v3' && cfg.token === undefined && cfg.username !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'InfluxDB 3 authenticates with a token, not a username' });
    }
    if ((cfg.password !== undefined || cfg.passwordFile !== undefined) && cfg.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'password given without username' });
    }
    if ((cfg.caFile !== undefined || cfg.ca !== undefined) && !cfg.url.startsWith('https:')) {
      ctx.addIssue({ code: 'custom', path: ['caFile'], message: 'a CA file applies to https:// URLs only' });
    }
    if (cfg.spool.maxReplayIntervalMs < cfg.spool.replayIntervalMs) {
      ctx.addIssue({ code: 'custom', path: ['spool', 'maxReplayIntervalMs'], message: 'must not be below spool.replayIntervalMs' });
    }
  });

export type InfluxConfig = z.output<typeof InfluxConfigSchema>;
export type InfluxConfigInput = z.input<typeof InfluxConfigSchema>;

type EnvKind = 'string' | 'int' | 'bool';
/** Environment variable → config path. Env wins over the file, so one container image fits every site. */
export const influxEnvVars: ReadonlyArray<{ name: string; path: readonly string[]; kind: EnvKind }> = [
  { name: 'FLYMINING_INFLUX_URL', path: ['url'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_DB', path: ['database'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_RP', path: ['retentionPolicy'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_TOKEN', path: ['token'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_USERNAME', path: ['username'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_PASSWORD', path: ['password'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_PASSWORD_FILE', path: ['passwordFile'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_TOKEN_FILE', path: ['tokenFile'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_CA_FILE', path: ['caFile'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_FLAVOR', path: ['flavor'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_TIMEOUT_MS', path: ['timeoutMs'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_BATCH_SIZE', path: ['batchSize'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_FLUSH_INTERVAL_MS', path: ['flushIntervalMs'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_MAX_BUFFER_LINES', path: ['maxBufferLines'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_MAX_RETRIES', path: ['maxRetries'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_SPOOL_DIR', path: ['spool', 'dir'], kind: 'string' },
  { name: 'FLYMINING_INFLUX_SPOOL_MAX_BYTES', path: ['spool', 'maxBytes'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_SPOOL_REPLAY_INTERVAL_MS', path: ['spool', 'replayIntervalMs'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_SPOOL_MAX_REPLAY_INTERVAL_MS', path: ['spool', 'maxReplayIntervalMs'], kind: 'int' },
  { name: 'FLYMINING_INFLUX_SPOOL_SYNC_WHEN_DOWN', path: ['spool', 'syncWhenDown'], kind: 'bool' },
];

/**
 * A secret given inline and as a file: whichever the environment sets wins over the settings file (one image,
 * every site); within one source the file wins.
 */
const SECRET_PAIRS = [
  { value: 'password', file: 'passwordFile', valueEnv: 'FLYMINING_INFLUX_PASSWORD', fileEnv: 'FLYMINING_INFLUX_PASSWORD_FILE' },
  { value: 'token', file: 'tokenFile', valueEnv: 'FLYMINING_INFLUX_TOKEN', fileEnv: 'FLYMINING_INFLUX_TOKEN_FILE' },
] as const;

export class InfluxConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid InfluxDB settings in ${source}: ${issues.join('; ')}`);
    this.name = 'InfluxConfigError';
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    const next: Record<string, unknown> =
      typeof child === 'object' && child !== null && !Array.isArray(child) ? { ...(child as Record<string, unknown>) } : {};
    node[key] = next;
    node = next;
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * Validates settings (e.g. the `influx:` section of a YAML file) with environment overrides applied.
 * `source` names where the settings came from, for the error message.
 */
export function loadInfluxConfig(
  input: unknown = {},
  env: NodeJS.ProcessEnv = process.env,
  source = 'influx settings',
): InfluxConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InfluxConfigError(source, ['expected an object']);
  }
  const merged: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const envIssues: string[] = [];
  for (const pair of SECRET_PAIRS) {
    const viaValue = Boolean(env[pair.valueEnv]);
    const viaFile = Boolean(env[pair.fileEnv]);
    if (viaValue && viaFile) envIssues.push(`${pair.valueEnv} and ${pair.fileEnv}: set one of them, not both`);
    else if (viaValue) delete merged[pair.file];
    else if (viaFile) delete merged[pair.value];
  }
  const envPaths = new Map<string, string>();
  for (const v of influxEnvVars) {
    const text = env[v.name];
    if (text === undefined || text === '') continue;
    envPaths.set(v.path.join('.'), v.name);
    if (v.kind === 'int') {
      if (!/^\d+$/.test(text.trim())) {
        envIssues.push(`${v.name}: expected a whole number, got "${text}"`);
        continue;
      }
      setPath(merged, v.path, Number(text.trim()));
    } else if (v.kind === 'bool') {
      const flag = text.trim().toLowerCase();
      if (!['true', 'false', '1', '0'].includes(flag)) {
        envIssues.push(`${v.name}: expected true or false, got "${text}"`);
        continue;
      }
      setPath(merged, v.path, flag === 'true' || flag === '1');
    } else {
      setPath(merged, v.path, text);
    }
  }
  if (envIssues.length > 0) throw new InfluxConfigError('environment', envIssues);
  const parsed = InfluxConfigSchema.safeParse(merged);
  if (parsed.success) return readConfigFiles(parsed.data, envPaths, source);
  const issues = formatIssues(parsed.error, {
    locate: (path) => {
      const field = dottedPath(path);
      const fromEnv = envPaths.get(field);
      return `${field || '(root)'}${fromEnv ? ` (from ${fromEnv})` : ''}`;
    },
  });
  throw new InfluxConfigError(source, issues);
}

/**
 * Fills password, token and ca from their files. Errors name the field, the variable it came from and the file,
 * never the content.
 */
function readConfigFiles(cfg: InfluxConfig, envPaths: Map<string, string>, source: string): InfluxConfig {
  const out: InfluxConfig = { ...cfg };
  const issues: string[] = [];
  const read = (field: 'passwordFile' | 'tokenFile' | 'caFile'): string | undefined => {
    const file = cfg[field];
    if (file === undefined) return undefined;
    const fromEnv = envPaths.get(field);
    const where = `${field}${fromEnv ? ` (from ${fromEnv})` : ''}`;
    let trimmed: string;
    try {
      trimmed = readSecretFile(file, where);
    } catch (err) {
      issues.push((err as Error).message);
      return undefined;
    }
    if (field === 'caFile' && !trimmed.includes('-----BEGIN CERTIFICATE-----')) {
      issues.push(`${where}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      return undefined;
    }
    return trimmed;
  };
  const password = read('passwordFile');
  if (password !== undefined) out.password = password;
  const token = read('tokenFile');
  if (token !== undefined) out.token = token;
  const ca = read('caFile');
  if (ca !== undefined) out.ca = ca;
  if (issues.length > 0) throw new InfluxConfigError(source, issues);
  return out;
}
