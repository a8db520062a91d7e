/**
 * Issue #12, alerting → repair tickets against real PostgreSQL, Redis and an SMTP server: a fault opens a ticket
 * and pages whoever is on call; the link in the mail acknowledges the ticket in that person's name; staff take and
 * close it; the fault clearing fixes it and quiet time verifies it. With PostgreSQL unreachable alerting still
 * mails (to the receiver's own address) and counts the failed ticket work.
 */
import { REDIS_KEYS } from '@flymining/shared';
import Redis from 'ioredis';
import pino from 'pino';
import { TicketStore, type Ticket } from '@flymining/maintenance';
import type { TestDatabase } from '../../billing/test/pg';
import { parseConfig, type ConfigError } from '../src/config';
import { AlertingService } from '../src/service';
import { config, fault, freePort, raise, redisUrl, startMailbox, waitFor, type Mailbox, type ServiceUnderTest } from './helpers';
import { acknowledgeFromMail, databaseWithRota, recipients, startLinkedService, type LinkedService } from './on-call';

const REDIS_DB = 14; // this file's own Redis database, flushed at the start of each service

const receiverYaml = (smtp: string): string => `
route: { receiver: floor, group_by: [container], group_wait: 100ms, group_interval: 500ms, repeat_interval: 1h }
receivers: [{ name: floor, oncall: {}, email: { to: [floor@farm.example], smarthost: '${smtp}' } }]
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
evaluation_interval: 100ms
`;

describe('a fault becomes a ticket the on-call person acknowledges from the mail', () => {
  const alice = { name: 'Alice', email: 'alice@farm.example' };
  let db: TestDatabase;
  let linked: LinkedService;
  let running: ServiceUnderTest;
  let api: string;
  let store: TicketStore;

  beforeAll(async () => {
    db = await databaseWithRota('alerting_tickets', [alice]);
    store = new TicketStore(db.pool);
    linked = await startLinkedService(REDIS_DB, (smtp) => `maintenance: { pg_url: '${db.url}', verify_after: 1s }\n${receiverYaml(smtp)}`);
    ({ running, api } = linked);
  });

  afterAll(async () => {
    await linked?.close();
    await db?.drop();
  });

  const onlyTicket = async (): Promise<Ticket> => {
    const all = await store.list({ state: 'all' });
    expect(all).toHaveLength(1);
    return all[0]!;
  };

  test('open → acknowledged by the mail recipient → taken, closed → fixed when the fault clears → verified', async () => {
    const broken = fault('C21-R1-S1-3', 'FAN_STOPPED', 'C21');
    await raise(running.redis, [broken]);
    await waitFor(() => running.mailbox.mails.length === 1, 10_000, 'the page');
    const page = running.mailbox.mails[0]!;
    expect(recipients(page)).toEqual([alice.email]); // the person on call, not the receiver's own address
    expect(page.text).toContain('On call: Alice.');

    await waitFor(async () => (await store.list({ state: 'all' })).length === 1, 10_000, 'a ticket');
    const opened = await onlyTicket();
    expect(opened).toMatchObject({ state: 'open', miner: 'C21-R1-S1-3', container: 'C21', part: 'fan 1', fault: 'FAN_STOPPED', machine: 'slot:C21-R1-S1-3', firing: true });

    const answer = await acknowledgeFromMail(page, api);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain(`Acknowledged by ${alice.email}`);
    const acknowledged = await onlyTicket();
    expect(acknowledged).toMatchObject({ id: opened.id, state: 'acknowledged', acknowledgedBy: alice.email });

    await store.take(opened.id, 'Alice');
    const closing = await store.close(opened.id, 'Alice', { action: 'replace_fan', parts: [{ kind: 'fan', removedSerial: 'FAN-C21-OLD', installedSerial: 'FAN-C21-NEW' }] });
    expect(closing).toMatchObject({ waitingForClear: true, ticket: { state: 'in_repair', takenBy: 'Alice' } });

    await running.redis.hdel(REDIS_KEYS.activeFaults, `${broken.minerId}|${broken.code}|${broken.part}`);
    running.service.wake();
    await waitFor(async () => (await onlyTicket()).state === 'fixed', 10_000, 'fixed once the fault cleared');
    const fixed = await onlyTicket();
    expect(fixed).toMatchObject({ firing: false, fixedBy: 'Alice' });
    // Verified only after verify_after (1 s) without an alert on the miner.
    await waitFor(async () => (await onlyTicket()).state === 'verified', 10_000, 'verified after quiet time');
    const verified = await onlyTicket();
    expect(verified.verifiedAt!.getTime() - fixed.fixedAt!.getTime()).toBeGreaterThanOrEqual(1000);
    expect((await store.get(opened.id)).events.map((e) => e.kind)).toEqual(['opened', 'acknowledged', 'taken', 'repair', 'cleared', 'fixed', 'verified']);
  });
});

describe('PostgreSQL unreachable', () => {
  const logLines: string[] = [];
  let redis: Redis;
  let mailbox: Mailbox;
  let service: AlertingService;

  beforeAll(async () => {
    const nobody = await freePort(); // nothing listens there
    redis = new Redis(redisUrl(REDIS_DB));
    await redis.flushdb();
    mailbox = await startMailbox();
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    service = new AlertingService(config(`redis: ${redisUrl(REDIS_DB)}\nmaintenance: { pg_url: 'postgres://alerting:s3cret@127.0.0.1:${nobody}/flymining' }\n${receiverYaml(mailbox.url)}`), logger);
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    redis?.disconnect();
    await mailbox?.close();
  });

  test('alerting still pages (to the receiver address), counts the failed ticket work and logs it once without the password', async () => {
    await raise(redis, [fault('C22-R1-S1-1', 'FAN_STOPPED', 'C22')]);
    await waitFor(() => mailbox.mails.length === 1, 10_000, 'the page');
    expect(recipients(mailbox.mails[0]!)).toEqual(['floor@farm.example']);
    const errors = async (operation: string): Promise<number> => (await service.metrics.ticketSyncErrors.get()).values.find((v) => v.labels.operation === operation)?.value ?? 0;
    await waitFor(async () => (await errors('migrate')) >= 3, 10_000, 'failed migrations counted, retried each cycle');
    expect(await errors('rota')).toBeGreaterThanOrEqual(1); // the page asked the rota first
    expect(await service.metrics.registry.metrics()).toMatch(/flymining_alerting_ticket_sync_errors_total\{operation="migrate"\} [1-9]/);
    const failures = logLines.filter((l) => l.includes('PostgreSQL failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('postgres://alerting:***@127.0.0.1');
    expect(logLines.join('')).not.toContain('s3cret');
  });
});

describe('maintenance and oncall config', () => {
  const base = `route: { receiver: floor }\n`;
  const problemsOf = (yaml: string, env: NodeJS.ProcessEnv = {}): string[] => {
    try {
      parseConfig(yaml, 'alerting.yaml', env);
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };

  test('a receiver with oncall needs the maintenance section; the URL comes from the file or FLYMINING_PG_URL; errors name file:line', () => {
    expect(problemsOf(`${base}receivers:\n  - name: floor\n    oncall: {}\n`)).toEqual([
      expect.stringMatching(/^alerting\.yaml:4:13: receivers\[0\]\.oncall: receiver "floor" pages the on-call rota, which lives in the maintenance database/),
    ]);
    expect(problemsOf(`${base}maintenance: {}\nreceivers: [{ name: floor }]\n`)).toEqual([expect.stringMatching(/^alerting\.yaml:2:14: maintenance\.pg_url: no PostgreSQL URL/)]);
    expect(problemsOf(`${base}maintenance: { verify_after: soon }\nreceivers: [{ name: floor, oncall: { escalate_after: 10ms } }]\n`, { FLYMINING_PG_URL: 'postgres://x@db/flymining' })).toEqual([
      'alerting.yaml:3:54: receivers[0].oncall.escalate_after: escalate_after must be at least 1s',
      'alerting.yaml:2:30: maintenance.verify_after: "soon" is not a duration (e.g. 30s, 5m, 1h30m, 2d)',
    ]);
    const parsed = parseConfig(`${base}maintenance: { repeat_window: 3d }\nreceivers: [{ name: floor, oncall: { escalate_after: 10m } }]\n`, 'alerting.yaml', { FLYMINING_PG_URL: 'postgres://x@db/flymining' });
    expect(parsed.maintenance).toEqual({ pg_url: 'postgres://x@db/flymining', verify_after: 30 * 60_000, repeat_window: 3 * 86_400_000 });
    expect(parsed.receivers[0]!.oncall).toEqual({ escalate_after: 600_000 });
  });
});
