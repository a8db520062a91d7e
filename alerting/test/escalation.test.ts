/**
 * Issue #12, escalation against real PostgreSQL, Redis and an SMTP server: a page nobody acknowledges goes to the
 * next person of the rota escalate_after after it was first sent, then to the one after, until nobody is left;
 * acknowledging from the escalated mail stops it. Each escalation is a ticket event naming whom it went to.
 */
import { onCallAt, RotaStore, TicketStore, type StaffMember } from '@flymining/maintenance';
import type { ParsedMail } from 'mailparser';
import type { TestDatabase } from '../../billing/test/pg';
import { fault, raise, sleep, waitFor, type ServiceUnderTest } from './helpers';
import { acknowledgeFromMail, databaseWithRota, recipients, startLinkedService, type LinkedService } from './on-call';

const REDIS_DB = 15; // this file's own Redis database, flushed at start
const ESCALATE_AFTER_MS = 2000;

describe('escalation of unacknowledged pages', () => {
  let db: TestDatabase;
  let linked: LinkedService;
  let running: ServiceUnderTest;
  let store: TicketStore;
  let order: StaffMember[];

  beforeAll(async () => {
    db = await databaseWithRota('alerting_escalation', [
      { name: 'Alice', email: 'alice@farm.example' },
      { name: 'Bob', email: 'bob@farm.example' },
      { name: 'Carol', email: 'carol@farm.example' },
    ]);
    store = new TicketStore(db.pool);
    // Who is on call this week and who comes next, as the rota says (not assumed from the list order).
    const rota = (await new RotaStore(db.pool).load())!;
    order = [0, 1, 2].map((level) => onCallAt(rota, new Date(), level)!.person);
    linked = await startLinkedService(
      REDIS_DB,
      (smtp) => `
evaluation_interval: 100ms
maintenance: { pg_url: '${db.url}' }
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: floor, group_by: [container], group_wait: 100ms, group_interval: 500ms, repeat_interval: 1h }
receivers: [{ name: floor, oncall: { escalate_after: ${ESCALATE_AFTER_MS}ms }, email: { to: [floor@farm.example], smarthost: '${smtp}' } }]
`,
    );
    running = linked.running;
  });

  afterAll(async () => {
    await linked?.close();
    await db?.drop();
  });

  const mailsTo = (person: StaffMember, container: string): ParsedMail[] =>
    running.mailbox.mails.filter((m) => recipients(m).includes(person.email!) && (m.subject ?? '').includes(`container ${container}`));

  test('to the next person after escalate_after, then the one after; acknowledging stops it; nobody left ends it', async () => {
    const [first, second, third] = order as [StaffMember, StaffMember, StaffMember];
    await raise(running.redis, [fault('C31-R1-S1-1', 'FAN_STOPPED', 'C31'), fault('C32-R1-S1-1', 'FAN_STOPPED', 'C32')]);
    await waitFor(() => mailsTo(first, 'C31').length === 1 && mailsTo(first, 'C32').length === 1, 10_000, 'the pages to the person on call');
    const pagedAt = Date.now();
    expect(mailsTo(first, 'C31')[0]!.subject).not.toContain('[ESCALATED]');

    await waitFor(() => mailsTo(second, 'C31').length === 1 && mailsTo(second, 'C32').length === 1, 10_000, 'escalation to the next person');
    expect(Date.now() - pagedAt).toBeGreaterThanOrEqual(ESCALATE_AFTER_MS - 300);
    const escalated = mailsTo(second, 'C32')[0]!;
    expect(escalated.subject).toMatch(/^\[ESCALATED\] /);
    expect(escalated.text).toContain(`Escalated to ${second.name} (level 1): nobody acknowledged this page in time.`);

    // The second person acknowledges C32 from the escalated mail: its ticket names them, and C32 goes no further.
    const answer = await acknowledgeFromMail(escalated, linked.api);
    expect(answer.text).toContain(`Acknowledged by ${second.email}`);
    const [c31] = await store.list({ container: 'C31', state: 'all' });
    const [c32] = await store.list({ container: 'C32', state: 'all' });
    expect(c32).toMatchObject({ state: 'acknowledged', acknowledgedBy: second.email });

    // C31, still unacknowledged, reaches the third person one escalate_after later; then nobody is left.
    await waitFor(() => mailsTo(third, 'C31').length === 1, 10_000, 'second escalation');
    expect(mailsTo(third, 'C31')[0]!.text).toContain(`Escalated to ${third.name} (level 2)`);
    await sleep(2 * ESCALATE_AFTER_MS + 500);
    expect(mailsTo(third, 'C32')).toEqual([]);
    expect(running.mailbox.mails).toHaveLength(5); // 2 pages, 2 first escalations, 1 second escalation

    const escalations = async (id: number): Promise<string[]> => (await store.get(id)).events.filter((e) => e.kind === 'escalated').map((e) => e.detail);
    expect(await escalations(c31!.id)).toEqual([`level 1: ${second.name} <${second.email}>`, `level 2: ${third.name} <${third.email}>`]);
    expect(await escalations(c32!.id)).toEqual([`level 1: ${second.name} <${second.email}>`]);
    expect((await store.get(c31!.id)).ticket.state).toBe('open');
    expect(await running.redis.hgetall('flymining:alerting:escalations')).toEqual({ [c31!.groupKey]: expect.stringContaining('"exhausted":true') });
    expect((await running.service.metrics.escalations.get()).values[0]?.value).toBe(3);
  });
});
