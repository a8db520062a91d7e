/**
 * A query rule against a real InfluxDB: container hashrate under 90 % of nominal fires, 92 % keeps it firing
 * (hysteresis), 97 % resolves it; the notices name the container.
 */
import type { InfluxStore } from '@flymining/shared';
import type Redis from 'ioredis';
import { freshStore } from '../../exporters/test/e2e/helpers';
import type { AlertingService } from '../src/service';
import { sleep, startServiceUnderTest, waitFor, type Mailbox, type ServiceUnderTest } from './helpers';

const REDIS_DB = 6;
const DB = 'alerting_query';

describe('query rule on InfluxDB', () => {
  let store: InfluxStore;
  let redis: Redis;
  let mailbox: Mailbox;
  let service: AlertingService;
  let running: ServiceUnderTest;

  /** Ten miners of container C07 hashing at `share` of their 100 TH/s nominal, stamped now. */
  async function hashAt(share: number): Promise<void> {
    const now = Date.now();
    store.write([...Array(10).keys()].map((i) => `miner,site=north-1,container=C07,miner=C07-R1-S1-${i} hashrate_ths=${100 * share},nominal_ths=100 ${now}`));
    await store.flush();
  }

  beforeAll(async () => {
    store = await freshStore(DB);
    // The miners' series exist before the rule first runs: in one loaded full run the rule fired at 0.097 (97 of
    // 1,000 TH/s) right after the first write, a query apparently racing the write that creates the ten series.
    await hashAt(0.97);
    running = await startServiceUnderTest(REDIS_DB, (redisAt, smtp) => `
redis: ${redisAt}
evaluation_interval: 100ms
influx: { url: '${process.env.FLYMINING_TEST_INFLUX_URL}', database: ${DB} }
rules:
  - name: ContainerHashrateLow
    query: SELECT sum(h) / sum(n) AS value FROM (SELECT last(hashrate_ths) AS h, last(nominal_ths) AS n FROM miner WHERE time > now() - 5m GROUP BY site, container, miner) GROUP BY site, container
    interval: 200ms
    below: 0.9
    resolve_above: 0.95
route: { receiver: oncall, group_by: [container], group_wait: 0s, group_interval: 500ms }
receivers:
  - name: oncall
    email: { to: [oncall@farm.example], smarthost: ${smtp} }
`);
    ({ redis, mailbox, service } = running);
  });

  afterAll(async () => {
    await running.close();
    await store.close();
  });

  test('fires under 90 %, holds at 92 %, resolves above 95 %', async () => {
    await hashAt(0.97);
    await sleep(800);
    expect(mailbox.mails).toHaveLength(0);
    await hashAt(0.85);
    await waitFor(() => mailbox.mails.length === 1, 10_000, 'firing notice');
    expect(mailbox.mails[0]!.subject).toMatch(/^\[FIRING:1\] north-1 container C07 ContainerHashrateLow/);
    expect(mailbox.mails[0]!.text).toContain('value 0.85');
    await hashAt(0.92);
    await sleep(1200);
    expect(mailbox.mails).toHaveLength(1);
    expect((await service.snapshot()).alerts.map((a) => `${a.state} ${a.value}`)).toEqual(['firing 0.92']);
    await hashAt(0.97);
    await waitFor(() => mailbox.mails.length === 2, 10_000, 'resolved notice');
    expect(mailbox.mails[1]!.subject).toMatch(/^\[RESOLVED:1\] north-1 container C07 ContainerHashrateLow/);
  });
});
