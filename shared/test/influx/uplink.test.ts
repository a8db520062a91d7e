/**
 * The edge's uplink to a real InfluxDB 1.6.7 with auth-enabled and HTTPS (certificates made with openssl):
 * credentials and CA from files, a refused password or an untrusted certificate reported once and clearly,
 * points kept in the spool with one probe per back-off period, recovery replays everything.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { InfluxTestServer, makeTestCertificates, type TestCertificates } from '../../../scripts/jest/influx-server';
import { ensureDatabase, formatLine, InfluxStore, loadInfluxConfig, type InfluxLogger, type RetentionSpec } from '../../src/influx';
import { captureLogger, tempDir, waitFor } from './helpers';

const admin = { username: 'center-admin', password: 'Adm1n-s3cret-for-tests' };
const edgeUser = 'edge-c02';
const edgePassword = 'edge-c02-pa55-wOrd';
const database = 'edge_uplink';

function points(measurement: string, from: number, count: number, baseMs: number): string[] {
  return Array.from({ length: count }, (_, k) => formatLine(measurement, { container: 'C02' }, { v: from + k }, baseMs + from + k) as string);
}

describe('uplink over HTTPS with InfluxDB authentication', () => {
  let influx: InfluxTestServer;
  let certs: TestCertificates;
  let secrets: string;
  let passwordFile: string;

  /** Points of a measurement as the admin sees them. */
  async function adminCount(measurement: string): Promise<number> {
    const payload = (await influx.query(`SELECT count("v") FROM "${measurement}"`, database)) as {
      results: Array<{ series?: Array<{ values: unknown[][] }> }>;
    };
    return Number(payload.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
  }

  /** An edge store configured the way a site would: environment variables pointing at files. */
  function edgeStore(env: Record<string, string>, logger?: InfluxLogger, onSchemaMissing?: () => Promise<void>): InfluxStore {
    const cfg = loadInfluxConfig(
      { flushIntervalMs: 20, spool: { replayIntervalMs: 200, maxReplayIntervalMs: 400 } },
      {
        FLYMINING_INFLUX_URL: influx.url,
        FLYMINING_INFLUX_DB: database,
        FLYMINING_INFLUX_USERNAME: edgeUser,
        FLYMINING_INFLUX_PASSWORD_FILE: passwordFile,
        FLYMINING_INFLUX_CA_FILE: certs.caFile,
        FLYMINING_INFLUX_SPOOL_DIR: tempDir('uplink-spool'),
        ...env,
      },
      'edge environment',
    );
    return new InfluxStore(cfg, { logger, onSchemaMissing });
  }

  beforeAll(async () => {
    secrets = tempDir('uplink-secrets');
    certs = makeTestCertificates(path.join(secrets, 'tls'));
    passwordFile = path.join(secrets, 'influx-password');
    writeFileSync(passwordFile, `${edgePassword}\n`, { mode: 0o600 });
    influx = await InfluxTestServer.create({ auth: true, tls: certs, accessLog: true });
    await influx.start();
    await influx.createAdmin(admin);
    await influx.query(`CREATE DATABASE "${database}"`);
    await influx.query(`CREATE RETENTION POLICY "raw" ON "${database}" DURATION 40d REPLICATION 1 DEFAULT`);
    await influx.createWriter({ username: edgeUser, password: edgePassword }, database);
  });
  afterAll(() => influx.destroy());

  test('password and CA from files: writes arrive over HTTPS, ping and queries use the same CA', async () => {
    const store = edgeStore({});
    expect(store.config.url).toMatch(/^https:/);
    const baseMs = Date.now() - 60_000;
    store.write(points('ok_writes', 0, 500, baseMs));
    await store.flush();
    expect(store.stats()).toMatchObject({ written: 500, spooled: 0, uplink: 'ok', reachable: true, schemaMissing: false });
    expect(await adminCount('ok_writes')).toBe(500);
    expect(await store.ping()).toMatchObject({ ok: true, version: expect.stringMatching(/^1\.6/) });
    // The write-only user may not read: InfluxDB itself refuses (the TLS handshake with the CA file worked).
    await expect(store.query('SELECT count("v") FROM "ok_writes"')).rejects.toThrow(/HTTP 403.*not authorized/);
    // Same machine, same clock: the Date headers of InfluxDB's answers put the offset well within a second.
    const offset = store.stats().clockOffsetMs;
    expect(offset).toBeDefined();
    expect(Math.abs(offset as number)).toBeLessThan(1000);
    expect(JSON.stringify(store.stats())).not.toContain(edgePassword);
    await store.close();
  });

  test('a refused password is logged once (again when the reason changes), points are spooled with one probe per back-off period, and replayed once accepted', async () => {
    const wrongFile = path.join(secrets, 'wrong-password');
    writeFileSync(wrongFile, 'not-the-password\n');
    const log = captureLogger();
    const store = edgeStore({ FLYMINING_INFLUX_PASSWORD_FILE: wrongFile }, log.logger);
    const baseMs = Date.now() - 120_000;
    const writesBefore = influx.requests('/write').length;
    const started = Date.now();
    // 40 sweeps of 25 points, 50 ms apart: without the back-off this would be 40+ write requests.
    for (let sweep = 0; sweep < 40; sweep++) {
      store.write(points('refused_writes', sweep * 25, 25, baseMs));
      await store.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    const elapsedMs = Date.now() - started;
    const refused = store.stats();
    expect(refused).toMatchObject({ uplink: 'refused', reachable: false, spooled: 1000, spoolLines: 1000, dropped: 0, written: 0 });
    expect(refused.uplinkError).toMatch(new RegExp(`^InfluxDB at ${influx.url} refused the credentials of user ${edgeUser}: HTTP 401`));
    expect(refused.spoolOldestMs).toBe(baseMs);
    const writeRequests = influx.requests('/write').length - writesBefore;
    // The first live batch, then at most one probe per replayIntervalMs (200 ms; doubling up to 400 ms).
    expect(writeRequests).toBeGreaterThanOrEqual(2);
    expect(writeRequests).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 200));
    const refusedLines = log.lines.filter((l) => l.message.includes('refused'));
    expect(refusedLines).toHaveLength(1);
    expect(refusedLines[0]?.level).toBe('error');
    for (const text of [log.text(), JSON.stringify(refused)]) {
      expect(text).not.toContain('not-the-password');
      expect(text).not.toContain(edgePassword);
    }

    // The center's admin sets the password the edge has, but the user has lost its right to write: a new reason,
    // logged once more. Then the right comes back: the next probe gets through and the spool replays.
    try {
      await influx.query(`REVOKE WRITE ON "${database}" FROM "${edgeUser}"`);
      await influx.query(`SET PASSWORD FOR "${edgeUser}" = 'not-the-password'`);
      await waitFor('the 403', () => /refused writes/.test(store.stats().uplinkError ?? ''), 20_000, () => JSON.stringify(store.stats()));
      expect(store.stats()).toMatchObject({ uplink: 'refused', spoolLines: 1000 });
      expect(store.stats().uplinkError).toMatch(
        new RegExp(`^InfluxDB at ${influx.url} refused writes by user ${edgeUser} to database "${database}": HTTP 403`),
      );
      expect(log.lines.filter((l) => l.message.includes('refused'))).toHaveLength(2);
      await influx.query(`GRANT WRITE ON "${database}" TO "${edgeUser}"`);
      await waitFor('the spool to replay', () => store.stats().spoolLines === 0 && store.stats().uplink === 'ok', 20_000, () =>
        JSON.stringify(store.stats()),
      );
    } finally {
      await influx.query(`SET PASSWORD FOR "${edgeUser}" = '${edgePassword}'`);
      await influx.query(`GRANT WRITE ON "${database}" TO "${edgeUser}"`);
    }
    await store.close();
    expect(store.stats()).toMatchObject({ replayed: 1000, written: 1000, dropped: 0, spoolOldestMs: 0 });
    expect(store.stats().uplinkError).toBeUndefined();
    expect(await adminCount('refused_writes')).toBe(1000);
    const recovered = log.lines.filter((l) => l.message.includes('accepted writes again'));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.message).toMatch(/replaying 1,000 spooled points$/);
  });

  test('a CA file that did not sign the certificate: uplink "tls" naming the file and node\'s code; ping and queries say the same', async () => {
    const log = captureLogger();
    const store = edgeStore({ FLYMINING_INFLUX_CA_FILE: certs.otherCaFile }, log.logger);
    for (let sweep = 0; sweep < 5; sweep++) {
      store.write(points('tls_writes', sweep * 10, 10, Date.now() - 60_000));
      await store.flush();
    }
    const stats = store.stats();
    expect(stats).toMatchObject({ uplink: 'tls', reachable: false, spooled: 50, dropped: 0 });
    const expected = new RegExp(
      `^certificate of 127\\.0\\.0\\.1:${influx.httpPort} not trusted by CA file ${certs.otherCaFile.replace(/[.]/g, '\\.')}: ` +
        '(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN) ',
    );
    expect(stats.uplinkError).toMatch(expected);
    expect(log.lines.filter((l) => l.message.includes('not trusted'))).toHaveLength(1);
    expect((await store.ping()).error).toMatch(expected);
    await expect(store.query('SHOW DATABASES')).rejects.toThrow(expected);
    await store.close();
    expect(await adminCount('tls_writes')).toBe(0);

    // No CA configured: the system CAs do not know the test CA either, and the message says what to set.
    const systemCa = new InfluxStore(
      { url: influx.url, database, username: edgeUser, passwordFile, flushIntervalMs: 20, spool: { dir: tempDir('uplink-noca') } },
      { logger: captureLogger().logger },
    );
    systemCa.write(points('tls_writes', 0, 1, Date.now()));
    await systemCa.flush();
    expect(systemCa.stats().uplink).toBe('tls');
    expect(systemCa.stats().uplinkError).toContain('not trusted by the system CAs (set caFile / FLYMINING_INFLUX_CA_FILE)');
    await systemCa.close();
  });

  test('database dropped, the edge user may not create it: the set-up failure is logged, points wait in the spool', async () => {
    const spec: RetentionSpec = { raw: { duration: '40d' } };
    const log = captureLogger();
    let setUps = 0;
    const store: InfluxStore = edgeStore({}, log.logger, async () => {
      setUps++;
      await ensureDatabase(store, spec);
    });
    const baseMs = Date.now() - 30_000;
    store.write(points('schema_writes', 0, 10, baseMs));
    await store.flush();
    expect(store.stats().written).toBe(10);
    await influx.query(`DROP DATABASE "${database}"`);
    try {
      for (let sweep = 1; sweep <= 10; sweep++) {
        store.write(points('schema_writes', sweep * 10, 10, baseMs));
        await store.flush();
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor('a failed schema set-up', () => setUps > 0 && store.stats().uplinkError?.includes('schema set-up') === true);
      const stats = store.stats();
      // InfluxDB answers and takes the credentials: not "unreachable"; the missing database is said as such.
      expect(stats).toMatchObject({ uplink: 'ok', reachable: true, schemaMissing: true, spooled: 100, dropped: 0 });
      expect(stats.uplinkError).toMatch(new RegExp(`has no database "${database}": HTTP 404: .*database not found`));
      expect(stats.uplinkError).toMatch(/schema set-up for database .* failed: .*HTTP 403.*not authorized/);
      expect(log.lines.filter((l) => l.message.includes('has no database'))).toHaveLength(1);
      expect(log.lines.filter((l) => l.message.includes('schema set-up'))).toHaveLength(1);
    } finally {
      // The center re-creates it (privileges of a dropped database are gone with it).
      await influx.query(`CREATE DATABASE "${database}"`);
      await influx.query(`CREATE RETENTION POLICY "raw" ON "${database}" DURATION 40d REPLICATION 1 DEFAULT`);
      await influx.query(`GRANT WRITE ON "${database}" TO "${edgeUser}"`);
    }
    await waitFor('the spool to replay', () => store.stats().spoolLines === 0, 20_000, () => JSON.stringify(store.stats()));
    await store.close();
    expect(store.stats()).toMatchObject({ uplink: 'ok', schemaMissing: false, replayed: 100 });
    expect(await adminCount('schema_writes')).toBe(100);
  });
});
