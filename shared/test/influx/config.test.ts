import { InfluxConfigError, loadInfluxConfig } from '../../src/influx';

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
