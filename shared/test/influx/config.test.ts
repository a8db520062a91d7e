import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { InfluxConfigError, loadInfluxConfig } from '../../src/influx';
import { tempDir } from './helpers';

describe('loadInfluxConfig', () => {
  test('fills defaults', () => {
    const cfg = loadInfluxConfig({ url: 'http://influx:8086' }, {});
    expect(cfg).toMatchObject({
      database: 'flymining',
      retentionPolicy: 'raw',
      flavor: 'v1',
      batchSize: 5000,
      spool: { dir: '.flymining/spool', maxBytes: 1024 ** 3 },
    });
  });

  test('environment overrides the file', () => {
    const cfg = loadInfluxConfig(
      { url: 'http://file:8086', database: 'fromfile', spool: { maxBytes: 1000 } },
      {
        FLYMINING_INFLUX_URL: 'https://env:8086',
        FLYMINING_INFLUX_DB: 'fromenv',
        FLYMINING_INFLUX_TOKEN: 'secret',
        FLYMINING_INFLUX_FLAVOR: 'v2',
        FLYMINING_INFLUX_SPOOL_DIR: '/var/spool/fm',
      },
    );
    expect(cfg).toMatchObject({ url: 'https://env:8086', database: 'fromenv', token: 'secret', flavor: 'v2' });
    expect(cfg.spool).toMatchObject({ dir: '/var/spool/fm', maxBytes: 1000 });
  });

  test('errors name the field, the source and the variable', () => {
    expect(() => loadInfluxConfig({ url: 'ftp://x', batchSize: -1 }, {}, 'site.yaml')).toThrow(
      /invalid InfluxDB settings in site\.yaml: url: .*; batchSize: /,
    );
    expect(() => loadInfluxConfig({ url: 'http://x' }, { FLYMINING_INFLUX_FLAVOR: 'v9' })).toThrow(/flavor \(from FLYMINING_INFLUX_FLAVOR\)/);
    expect(() => loadInfluxConfig({ url: 'http://x' }, { FLYMINING_INFLUX_BATCH_SIZE: 'lots' })).toThrow(InfluxConfigError);
    expect(() => loadInfluxConfig({}, {})).toThrow(/url/);
  });
});

describe('secrets and CA from files', () => {
  const dir = tempDir('config-files');
  const passwordFile = path.join(dir, 'password');
  const tokenFile = path.join(dir, 'token');
  const caFile = path.join(dir, 'ca.pem');
  const notPem = path.join(dir, 'not-a-cert.pem');
  const empty = path.join(dir, 'empty');
  writeFileSync(passwordFile, 'pw-from-file\n');
  writeFileSync(tokenFile, 'token-from-file');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(notPem, 'hunter2-this-is-not-a-certificate');
  writeFileSync(empty, '\n');

  test('files are read at load time, from the settings or the environment; a trailing newline is not part of the secret', () => {
    const fromSettings = loadInfluxConfig({ url: 'https://center:8086', username: 'edge-c02', passwordFile, caFile }, {});
    expect(fromSettings).toMatchObject({ username: 'edge-c02', password: 'pw-from-file', passwordFile, caFile });
    expect(fromSettings.ca).toContain('-----BEGIN CERTIFICATE-----');
    const fromEnv = loadInfluxConfig(
      { url: 'https://center:8086', flavor: 'v2', token: 'inline' },
      { FLYMINING_INFLUX_TOKEN_FILE: tokenFile, FLYMINING_INFLUX_CA_FILE: caFile },
    );
    expect(fromEnv).toMatchObject({ token: 'token-from-file', tokenFile, caFile });
    // Loading a loaded config again (as the store does) gives the same settings.
    expect(loadInfluxConfig(fromEnv, {})).toEqual(fromEnv);
  });

  test('the environment wins over the settings file, also between a value and a file', () => {
    const settings = { url: 'https://center:8086', username: 'edge-c02', passwordFile };
    expect(loadInfluxConfig(settings, { FLYMINING_INFLUX_PASSWORD: 'pw-from-env' }).password).toBe('pw-from-env');
    expect(loadInfluxConfig({ ...settings, passwordFile: undefined, password: 'inline' }, { FLYMINING_INFLUX_PASSWORD_FILE: passwordFile }).password).toBe(
      'pw-from-file',
    );
    expect(() =>
      loadInfluxConfig(settings, { FLYMINING_INFLUX_PASSWORD: 'x', FLYMINING_INFLUX_PASSWORD_FILE: passwordFile }),
    ).toThrow(/FLYMINING_INFLUX_PASSWORD and FLYMINING_INFLUX_PASSWORD_FILE: set one of them/);
  });

  test('errors name the field, the variable and the file, never the content', () => {
    const missing = path.join(dir, 'nope');
    expect(() => loadInfluxConfig({ url: 'https://c:8086', username: 'u' }, { FLYMINING_INFLUX_PASSWORD_FILE: missing }, 'edge.yaml')).toThrow(
      `invalid InfluxDB settings in edge.yaml: passwordFile (from FLYMINING_INFLUX_PASSWORD_FILE): cannot read ${missing} (ENOENT)`,
    );
    expect(() => loadInfluxConfig({ url: 'https://c:8086', tokenFile: empty }, {}, 'edge.yaml')).toThrow(`tokenFile: ${empty} is empty`);
    let thrown: unknown;
    try {
      loadInfluxConfig({ url: 'https://c:8086', caFile: notPem }, {});
    } catch (err) {
      thrown = err;
    }
    expect(String(thrown)).toContain(`caFile: ${notPem} holds no PEM certificate`);
    expect(String(thrown)).not.toContain('hunter2');
    expect(() => loadInfluxConfig({ url: 'http://c:8086', caFile }, {})).toThrow(/caFile: a CA file applies to https:\/\/ URLs only/);
    expect(() => loadInfluxConfig({ url: 'https://c:8086', passwordFile }, {})).toThrow(/username: password given without username/);
  });

  test('uplink settings from the environment', () => {
    const cfg = loadInfluxConfig(
      { url: 'http://c:8086' },
      {
        FLYMINING_INFLUX_SPOOL_REPLAY_INTERVAL_MS: '500',
        FLYMINING_INFLUX_SPOOL_MAX_REPLAY_INTERVAL_MS: '60000',
        FLYMINING_INFLUX_SPOOL_SYNC_WHEN_DOWN: 'true',
      },
    );
    expect(cfg.spool).toMatchObject({ replayIntervalMs: 500, maxReplayIntervalMs: 60_000, syncWhenDown: true });
    expect(loadInfluxConfig({ url: 'http://c:8086' }, {}).spool).toMatchObject({ maxReplayIntervalMs: 10_000, syncWhenDown: false });
    expect(() => loadInfluxConfig({ url: 'http://c:8086' }, { FLYMINING_INFLUX_SPOOL_SYNC_WHEN_DOWN: 'yes' })).toThrow(
      /FLYMINING_INFLUX_SPOOL_SYNC_WHEN_DOWN: expected true or false/,
    );
    expect(() => loadInfluxConfig({ url: 'http://c:8086', spool: { replayIntervalMs: 5000, maxReplayIntervalMs: 1000 } }, {})).toThrow(
      /spool\.maxReplayIntervalMs: must not be below/,
    );
  });
});
