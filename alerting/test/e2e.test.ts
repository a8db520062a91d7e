/**
 * End to end over real servers: simulated miners (TCP) → exporter (the edge: heartbeat + fault snapshot each sweep)
 * → InfluxDB → the alerting service's uplink relay → Redis → a real SMTP server and a local HTTP server standing
 * in for Slack.
 */
import { createLogger, type InfluxStore } from '@flymining/shared';
import { SimulatedFarm } from '@flymining/simulator';
import Redis from 'ioredis';
import { exporterFor, freshStore, inventoryFor, mixedFarmSpecs } from '../../exporters/test/e2e/helpers';
import { AlertingService } from '../src/service';
import { config, linkSecretFile, redisUrl, sleep, startApi, startMailbox, startSlack, waitFor, type ApiUnderTest, type Mailbox, type SlackEndpoint } from './helpers';

const REDIS_DB = 4; // this file's own Redis database, flushed at start
const DB = 'alerting_e2e';

describe('fault → alerting → email and Slack', () => {
  const specs = mixedFarmSpecs('127.43.0.1', 1);
  const farm = new SimulatedFarm({ specs, seed: 7 });
  const inventory = inventoryFor(specs, false);
  let store: InfluxStore;
  let redis: Redis;
  let mailbox: Mailbox;
  let slack: SlackEndpoint;
  const services: AlertingService[] = [];
  let api: ApiUnderTest | undefined;
  const secretFile = linkSecretFile();

  const yaml = (): string => `
redis: ${redisUrl(REDIS_DB)}
evaluation_interval: 200ms
influx: { url: '${process.env.FLYMINING_TEST_INFLUX_URL}', database: ${DB} }
external_url: http://alerts.example:9430
link_secret_file: ${secretFile}
rules:
  - name: FanStopped
    faults: [FAN_STOPPED, FAN_MISSING]
  - name: Overheat
    faults: [CHIP_OVERHEAT, BOARD_OVERHEAT]
    keep_firing_for: 1m
route:
  receiver: oncall
  group_by: [site, container, alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncall
    email: { to: [oncall@farm.example], smarthost: ${mailbox.url} }
    slack: { webhook_url: ${slack.url} }
`;

  async function startService(): Promise<AlertingService> {
    const service = new AlertingService(config(yaml()), createLogger('alerting-test', 'silent'));
    await service.start();
    services.push(service);
    return service;
  }

  async function stopService(service: AlertingService): Promise<void> {
    await service.stop();
    services.splice(services.indexOf(service), 1);
  }

  /** The edge's sweeps, each flushed to InfluxDB at once (the uplink's batching is not under test here). */
  const exporter = () => {
    const edge = exporterFor(inventory, store, { name: 'alerting-e2e' });
    return {
      sweep: async (at: number): Promise<void> => {
        await edge.sweep(at);
        await store.flush();
      },
    };
  };

  beforeAll(async () => {
    await farm.start();
    store = await freshStore(DB);
    redis = new Redis(redisUrl(REDIS_DB));
    await redis.flushdb();
    mailbox = await startMailbox();
    slack = await startSlack();
  });

  afterAll(async () => {
    for (const s of [...services]) await s.stop();
    api?.close();
    await farm.stop();
    await store.close();
    redis.disconnect();
    await mailbox.close();
    await slack.close();
  });

  const victim = specs.find((s) => s.profile === 'antminer-s19pro')!;

  test('a stopped fan: one email naming the slot and one Slack message; none again after a restart; resolved when it spins', async () => {
    let service = await startService();
    const sweeps = exporter();
    await sweeps.sweep(0);
    await sleep(600);
    expect(mailbox.mails).toHaveLength(0); // a healthy farm pages nobody

    farm.miner(victim.id)!.applyFault({ fault: 'stopFan', index: 0 });
    await sweeps.sweep(0);
    const raisedAt = Date.now();
    await waitFor(() => mailbox.mails.length >= 1 && slack.messages.length >= 1, 10_000, 'email and Slack');
    const latencyMs = Date.now() - raisedAt;
    const [mail] = mailbox.mails;
    const { site, container, rack, shelf, slot } = victim.position;
    expect(mail!.subject).toContain('[FIRING:1]');
    expect(mail!.subject).toContain(site);
    expect(mail!.subject).toContain(`container ${container}`);
    expect(mail!.subject).toContain('FAN_STOPPED');
    expect(mail!.subject).toContain(`rack ${rack} shelf ${shelf} slot ${slot}`);
    expect(mail!.text).toContain(victim.id);
    expect(mail!.html).toContain('Acknowledge');
    expect(mail!.text).toMatch(/http:\/\/alerts\.example:9430\/ack\/[A-Za-z0-9_-]+/);
    const attachment = (slack.messages[0]!.attachments as Array<{ color: string }>)[0]!;
    expect(attachment.color).toBe('#d40e0d'); // critical
    expect(JSON.stringify(slack.messages[0])).toContain(victim.id);
    process.stdout.write(`alerting e2e: fault to email+Slack in ${latencyMs} ms\n`);

    // A restarted service finds the alert in Redis as already told: nothing is sent again.
    await stopService(service);
    service = await startService();
    await sleep(1500);
    expect(mailbox.mails).toHaveLength(1);
    expect(slack.messages).toHaveLength(1);

    farm.miner(victim.id)!.applyFault({ fault: 'clear' });
    await sweeps.sweep(0);
    await waitFor(() => mailbox.mails.length >= 2 && slack.messages.length >= 2, 10_000, 'resolved notices');
    expect(mailbox.mails[1]!.subject).toContain('[RESOLVED:1]');
    expect(mailbox.mails[1]!.subject).toContain('FAN_STOPPED');
    expect((slack.messages[1]!.attachments as Array<{ color: string }>)[0]!.color).toBe('#2eb67d');
    await sleep(1000);
    expect(mailbox.mails).toHaveLength(2);
    expect(slack.messages).toHaveLength(2);
    await stopService(service);
  });

  test('a silenced container sends nothing; its fault is listed as silenced by the API', async () => {
    const service = await startService();
    api = await startApi(service, redisUrl(REDIS_DB));
    const { url: apiUrl, auth } = api;
    const before = { mails: mailbox.mails.length, slack: slack.messages.length };
    const created = await fetch(`${apiUrl}/api/silences`, {
      method: 'POST',
      headers: auth.headers,
      body: JSON.stringify({ matchers: [`container="${victim.position.container}"`], duration: '2h', comment: 'fan swap' }),
    });
    expect(created.status).toBe(201);
    const silence = (await created.json()) as { id: string; createdBy: string };
    expect(silence.createdBy).toMatch(/^token:alerting-test-/); // who is recorded, not what the body claims

    const sweeps = exporter();
    farm.miner(victim.id)!.applyFault({ fault: 'stopFan', index: 0 });
    await sweeps.sweep(0);
    let alerts: Array<{ labels: Record<string, string>; state: string; silencedBy?: string }> = [];
    for (let i = 0; i < 50 && !alerts.some((a) => a.labels.miner === victim.id && a.state === 'firing'); i++) {
      alerts = (await (await fetch(`${apiUrl}/api/alerts`, { headers: auth.headers })).json()) as typeof alerts;
      await sleep(100);
    }
    expect(alerts.find((a) => a.labels.miner === victim.id && a.state === 'firing')?.silencedBy).toBe(silence.id);
    await sleep(1500);
    expect({ mails: mailbox.mails.length, slack: slack.messages.length }).toEqual(before);

    // Expiring the silence lets the page through.
    expect((await fetch(`${apiUrl}/api/silences/${silence.id}`, { method: 'DELETE', headers: auth.headers, body: '{}' })).status).toBe(200);
    await waitFor(() => mailbox.mails.length === before.mails + 1, 5000, 'email after the silence expired');
    farm.miner(victim.id)!.applyFault({ fault: 'clear' });
    await sweeps.sweep(0);
    await waitFor(() => mailbox.mails.length === before.mails + 2, 5000, 'resolved');
    await stopService(service);
  });

  test('a flapping temperature sends one alert, not twenty', async () => {
    const service = await startService();
    const before = mailbox.mails.length;
    const flapper = specs.find((s) => s.profile !== victim.profile && s.position.container === victim.position.container) ?? specs[1]!;
    const sweeps = exporter();
    for (let i = 0; i < 20; i++) {
      farm.miner(flapper.id)!.applyFault({ fault: 'overheat', on: i % 2 === 0 });
      await sweeps.sweep(0);
      await sleep(300); // longer than group_interval's share of a cycle: each change is seen
    }
    await sleep(1500);
    const mails = mailbox.mails.slice(before);
    // One overheating miner raises board and chip faults together: they arrive as one notice, once.
    expect(mails.map((m) => m.subject)).toEqual([expect.stringMatching(/^\[FIRING:\d+\] .*CHIP_OVERHEAT/)]);
    expect(mails[0]!.text).toContain(flapper.id);
    const { alerts } = await service.snapshot();
    const flapping = alerts.filter((a) => a.labels.miner === flapper.id && a.labels.alertname === 'Overheat');
    expect(flapping.length).toBeGreaterThan(0);
    for (const a of flapping) expect({ state: a.state, flapped: a.flaps >= 5 }).toEqual({ state: 'firing', flapped: true });
    farm.miner(flapper.id)!.applyFault({ fault: 'clear' });
    await stopService(service);
  });

  test('two instances at once send each notice once', async () => {
    await redis.del('flymining:alerting:leader');
    const first = await startService();
    const second = await startService();
    const before = { mails: mailbox.mails.length, slack: slack.messages.length };
    const other = specs.find((s) => s.profile === 'antminer-s19pro' && s.id !== victim.id) ?? victim;
    farm.miner(other.id)!.applyFault({ fault: 'stopFan', index: 1 });
    await exporter().sweep(0);
    await waitFor(() => mailbox.mails.length > before.mails && slack.messages.length > before.slack, 10_000, 'one notice');
    await sleep(1500);
    expect(mailbox.mails.length - before.mails).toBe(1);
    expect(slack.messages.length - before.slack).toBe(1);
    expect([first.isLeader, second.isLeader].filter(Boolean)).toHaveLength(1);
    farm.miner(other.id)!.applyFault({ fault: 'clear' });
  });
});
