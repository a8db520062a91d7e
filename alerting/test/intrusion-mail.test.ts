/**
 * Issue 15 over real servers: a simulated miner whose pool and worker are changed at run time → exporter (one sweep)
 * → InfluxDB → alerting's uplink relay → a real SMTP server: POOL_HIJACK is mailed, naming what was expected and
 * what was found; a devfee switch of the firmware under the limit pages nobody.
 */
import { InventoryHolder, createLogger, type InfluxStore } from '@flymining/shared';
import { PROFILES, SimulatedFarm, inventoryYaml } from '@flymining/simulator';
import Redis from 'ioredis';
import { exporterFor, freshStore, mixedFarmSpecs, writeInventory } from '../../exporters/test/e2e/helpers';
import { AlertingService } from '../src/service';
import { config, linkSecretFile, redisUrl, sleep, startMailbox, waitFor, type Mailbox } from './helpers';

const REDIS_DB = 3; // this file's own Redis database, flushed at start
const DB = 'alerting_intrusion';
const DEVFEE_HOST = 'fee.vendor.example';

describe('pool hijack → alerting → email', () => {
  const specs = mixedFarmSpecs('127.50.0.1', 1);
  const victim = specs[0]!;
  const devfeeUnit = specs[1]!;
  const farm = new SimulatedFarm({ specs, seed: 9 });
  let store: InfluxStore;
  let redis: Redis;
  let mailbox: Mailbox;
  let service: AlertingService;
  const secretFile = linkSecretFile();

  beforeAll(async () => {
    await farm.start();
    store = await freshStore(DB);
    redis = new Redis(redisUrl(REDIS_DB));
    await redis.flushdb();
    mailbox = await startMailbox();
    const yaml = `
redis: ${redisUrl(REDIS_DB)}
evaluation_interval: 200ms
influx: { url: '${process.env.FLYMINING_TEST_INFLUX_URL}', database: ${DB} }
external_url: http://alerts.example:9430
link_secret_file: ${secretFile}
rules:
  - name: PoolHijack
    faults: [POOL_HIJACK]
route:
  receiver: oncall
  group_by: [site, container, alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncall
    email: { to: [oncall@farm.example], smarthost: ${mailbox.url} }
`;
    service = new AlertingService(config(yaml), createLogger('alerting-test', 'silent'));
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await farm.stop();
    await store.close();
    redis.disconnect();
    await mailbox.close();
  });

  test('the hijacked miner is mailed within one sweep plus group_wait; the devfee switch is not', async () => {
    const firmware = PROFILES[devfeeUnit.profile].firmware;
    const inventory = new InventoryHolder(
      writeInventory(`${inventoryYaml(specs, { detectFirmware: false })}devfee: { maxMinutes: 10, pools: [{ firmware: ${firmware}, host: ${DEVFEE_HOST} }] }\n`),
    );
    const edge = exporterFor(inventory, store, { name: 'intrusion-e2e' });
    await edge.sweep(0);
    await store.flush();
    await sleep(700);
    expect(mailbox.mails).toHaveLength(0);

    farm.miner(devfeeUnit.id)!.applyFault({ fault: 'poolHijack', url: `stratum+tcp://${DEVFEE_HOST}:3333`, worker: 'vendor.fee' });
    farm.miner(victim.id)!.applyFault({ fault: 'poolHijack', url: 'stratum+tcp://evil.example:3333', worker: 'thief.7', all: true });
    await edge.sweep(0);
    await store.flush();
    const sweptAt = Date.now();
    await waitFor(() => mailbox.mails.length >= 1, 10_000, 'the POOL_HIJACK email');
    const latencyMs = Date.now() - sweptAt;
    const [mail] = mailbox.mails;
    const { container, rack, shelf, slot } = victim.position;
    expect(mail!.subject).toContain('[FIRING:1]');
    expect(mail!.subject).toContain('POOL_HIJACK');
    expect(mail!.subject).toContain(`container ${container}`);
    expect(mail!.subject).toContain(`rack ${rack} shelf ${shelf} slot ${slot}`);
    expect(mail!.text).toContain('evil.example:3333');
    expect(mail!.text).toContain('thief.7');
    expect(mail!.text).toContain(`flymining.${victim.id}`);
    expect(mail!.text).not.toContain(devfeeUnit.id);
    // No later mail about the devfee unit either.
    await sleep(1500);
    expect(mailbox.mails.map((m) => m.text ?? '').some((t) => t.includes(devfeeUnit.id))).toBe(false);
    expect(latencyMs).toBeLessThan(10_000);
    await edge.stop();
  });
});
