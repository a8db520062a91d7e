/**
 * `tsx docker/influx-setup.ts`: provisions the center's InfluxDB 1.x (compose service `influx-setup`, run once per
 * `docker compose up`, idempotent):
 *
 *  1. refuses an InfluxDB that answers queries without credentials (auth-enabled must be on);
 *  2. creates the admin while InfluxDB has no user at all (the one statement 1.x accepts then), else checks it;
 *  3. database, retention policies and continuous queries (ensureDatabase with the schema's retention);
 *  4. a read-only user for Grafana and the center's services (GRANT READ);
 *  5. one write-only user per edge: InfluxDB's `edge-*` users are made equal to the `edge-<container>.password`
 *     files in FLYMINING_INFLUX_EDGE_SECRETS_DIR (missing users created, passwords set from the files, rights reset
 *     to WRITE on the database only, users without a file dropped). Adding, rotating or revoking an edge is a file
 *     change plus `docker compose run --rm influx-setup`.
 *
 * Settings (environment): FLYMINING_INFLUX_URL, FLYMINING_INFLUX_DB, FLYMINING_INFLUX_CA_FILE, the admin as
 * FLYMINING_INFLUX_USERNAME + FLYMINING_INFLUX_PASSWORD_FILE, FLYMINING_INFLUX_READER_USERNAME +
 * FLYMINING_INFLUX_READER_PASSWORD_FILE, FLYMINING_INFLUX_EDGE_SECRETS_DIR. Passwords never reach the output.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  InfluxStore,
  ensureDatabase,
  loadInfluxConfig,
  quoteIdentifier,
  quoteString,
  schemaRetention,
  type InfluxConfig,
} from '@flymining/shared';

/** Edge users are `edge-<container>`; container names follow the inventory's rule. */
export const EDGE_USER_PREFIX = 'edge-';
const EDGE_PASSWORD_FILE = /^edge-([A-Za-z0-9_.:-]{1,64})\.password$/;
const USER_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const settingsSchema = z.object({
  FLYMINING_INFLUX_USERNAME: z.string().regex(USER_NAME, 'the admin user: letters, digits and _ . : -'),
  FLYMINING_INFLUX_PASSWORD_FILE: z.string().min(1, 'the admin password file is required'),
  FLYMINING_INFLUX_READER_USERNAME: z.string().regex(USER_NAME, 'letters, digits and _ . : -').default('flymining-reader'),
  FLYMINING_INFLUX_READER_PASSWORD_FILE: z.string().min(1, 'the reader password file is required'),
  FLYMINING_INFLUX_EDGE_SECRETS_DIR: z.string().min(1).optional(),
});

export interface Account {
  username: string;
  password: string;
}

export interface SetupSettings {
  /** Connection as the admin (URL, database, CA, admin credentials). */
  admin: InfluxConfig & { username: string; password: string };
  reader: Account;
  /** Folder of edge-<container>.password files; undefined: edge users are left alone. */
  edgeSecretsDir?: string;
}

export interface SetupReport {
  adminCreated: boolean;
  database: string;
  reader: string;
  edges: { kept: string[]; created: string[]; dropped: string[] };
}

/** Password from a file, read the way every service reads FLYMINING_INFLUX_PASSWORD_FILE (same checks and messages). */
function passwordFrom(admin: InfluxConfig, username: string, file: string, what: string): string {
  const loaded = loadInfluxConfig({ url: admin.url, username, passwordFile: file }, {}, what);
  if (loaded.password === undefined) throw new Error(`${what}: ${file} gave no password`);
  return loaded.password;
}

export function readSetupSettings(env: NodeJS.ProcessEnv = process.env): SetupSettings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`influx-setup: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const s = parsed.data;
  const admin = loadInfluxConfig({}, env, 'environment');
  if (admin.username === undefined || admin.password === undefined) {
    throw new Error('influx-setup: FLYMINING_INFLUX_USERNAME and FLYMINING_INFLUX_PASSWORD_FILE name the admin');
  }
  const reader = {
    username: s.FLYMINING_INFLUX_READER_USERNAME,
    password: passwordFrom(admin, s.FLYMINING_INFLUX_READER_USERNAME, s.FLYMINING_INFLUX_READER_PASSWORD_FILE, 'FLYMINING_INFLUX_READER_PASSWORD_FILE'),
  };
  if (reader.username === admin.username) throw new Error('influx-setup: the reader must not be the admin user');
  return { admin: { ...admin, username: admin.username, password: admin.password }, reader, edgeSecretsDir: s.FLYMINING_INFLUX_EDGE_SECRETS_DIR };
}

/** The edge accounts the secrets folder asks for, by user name. Other files in the folder are ignored. */
export function edgeAccounts(settings: SetupSettings): Account[] {
  const dir = settings.edgeSecretsDir;
  if (dir === undefined) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const m = EDGE_PASSWORD_FILE.exec(name);
      if (!m) return [];
      const username = `${EDGE_USER_PREFIX}${m[1] as string}`;
      return [{ username, password: passwordFrom(settings.admin, username, path.join(dir, name), `edge secret ${name}`) }];
    });
}

/**
 * Runs statements that carry passwords. InfluxDB's error text can quote the statement, so the message is rebuilt
 * with every password replaced; the statement itself is never attached.
 */
async function runSecret(store: InfluxStore, statement: string, secrets: readonly string[]): Promise<void> {
  try {
    await store.query(statement);
  } catch (err) {
    let message = err instanceof Error ? err.message : String(err);
    for (const secret of secrets) message = message.split(secret).join('***');
    throw new Error(message);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function users(store: InfluxStore): Promise<Map<string, boolean>> {
  const rows = await store.queryRows('SHOW USERS');
  return new Map(rows.map((r) => [String(r.user), r.admin === true]));
}

/** Creates or updates a non-admin user with exactly one privilege on the database. */
async function ensureUser(store: InfluxStore, existing: Map<string, boolean>, account: Account, database: string, privilege: 'READ' | 'WRITE'): Promise<boolean> {
  const user = quoteIdentifier(account.username);
  const created = !existing.has(account.username);
  if (created) {
    await runSecret(store, `CREATE USER ${user} WITH PASSWORD ${quoteString(account.password)}`, [account.password]);
  } else {
    await runSecret(store, `SET PASSWORD FOR ${user} = ${quoteString(account.password)}`, [account.password]);
  }
  // REVOKE ALL PRIVILEGES clears the admin flag; REVOKE ALL ON clears READ/WRITE on the database before the grant.
  await store.query(`REVOKE ALL PRIVILEGES FROM ${user}`);
  await store.query(`REVOKE ALL ON ${quoteIdentifier(database)} FROM ${user}`);
  await store.query(`GRANT ${privilege} ON ${quoteIdentifier(database)} TO ${user}`);
  return created;
}

export async function provisionInflux(settings: SetupSettings, log: (line: string) => void = () => undefined): Promise<SetupReport> {
  const { admin } = settings;
  const database = admin.database;
  const anonymous = new InfluxStore({ ...admin, username: undefined, password: undefined, passwordFile: undefined }, { spool: false });
  const store = new InfluxStore(admin, { spool: false });
  const edges = edgeAccounts(settings);
  const secrets = [admin.password, settings.reader.password, ...edges.map((e) => e.password)];
  try {
    let adminCreated = false;
    try {
      await anonymous.query('SHOW DATABASES');
      throw new Error(`InfluxDB at ${admin.url} answers queries without credentials: set auth-enabled = true ([http] section)`);
    } catch (err) {
      const message = messageOf(err);
      if (message.includes('without credentials')) throw err;
      if (message.includes('create admin user first')) {
        await runSecret(
          anonymous,
          `CREATE USER ${quoteIdentifier(admin.username)} WITH PASSWORD ${quoteString(admin.password)} WITH ALL PRIVILEGES`,
          secrets,
        );
        adminCreated = true;
        log(`created admin user ${admin.username}`);
      } else if (!/HTTP 401|authentication|authorization failed/i.test(message)) {
        throw new Error(`InfluxDB at ${admin.url}: ${message}`);
      }
    }
    let existing: Map<string, boolean>;
    try {
      existing = await users(store);
    } catch (err) {
      throw new Error(`InfluxDB refused the admin ${admin.username} (check FLYMINING_INFLUX_PASSWORD_FILE): ${messageOf(err)}`);
    }
    if (existing.get(admin.username) !== true) throw new Error(`InfluxDB user ${admin.username} is not an admin`);

    await ensureDatabase(store, schemaRetention(database));
    log(`database ${database}: retention policies and continuous queries in place`);

    if (settings.reader.username.startsWith(EDGE_USER_PREFIX)) throw new Error(`the reader may not be named ${EDGE_USER_PREFIX}*`);
    await ensureUser(store, existing, settings.reader, database, 'READ');
    log(`reader ${settings.reader.username}: READ on ${database}`);

    const report: SetupReport['edges'] = { kept: [], created: [], dropped: [] };
    if (settings.edgeSecretsDir !== undefined) {
      const wanted = new Set(edges.map((e) => e.username));
      for (const edge of edges) {
        const created = await ensureUser(store, existing, edge, database, 'WRITE');
        (created ? report.created : report.kept).push(edge.username);
      }
      for (const user of existing.keys()) {
        if (user.startsWith(EDGE_USER_PREFIX) && !wanted.has(user)) {
          await store.query(`DROP USER ${quoteIdentifier(user)}`);
          report.dropped.push(user);
        }
      }
      log(`edges: ${wanted.size} with WRITE on ${database} (new: ${report.created.join(', ') || 'none'}; dropped: ${report.dropped.join(', ') || 'none'})`);
    }
    return { adminCreated, database, reader: settings.reader.username, edges: report };
  } finally {
    await Promise.all([anonymous.close(), store.close()]);
  }
}

if (require.main === module) {
  Promise.resolve()
    .then(() => provisionInflux(readSetupSettings(), (line) => process.stdout.write(`influx-setup: ${line}\n`)))
    .then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`influx-setup: ${messageOf(err)}\n`);
      process.exit(1);
    },
  );
}
