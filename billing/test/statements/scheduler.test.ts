/**
 * The scheduler issues last month's statements by itself: not while a day of it is still uncredited, then on the
 * tick that credits that day, mailed (to a real SMTP server) exactly once, although a second scheduler runs
 * alongside and a third starts afterwards. Mails are claimed before they are sent, so two issuing runs at once
 * mail nobody twice, and a mail the SMTP server never took is given back and sent by the next run.
 */
import { Pool } from 'pg';
import { createContract, createInvestor } from '../../src/api';
import { smtpMailer, type InvestorMailer, type PortalLinks } from '../../src/mail';
import { addDays, utcToday } from '../../src/run';
import { startBillingScheduler, type BillingScheduler } from '../../src/scheduler';
import { issueDueStatements, issueMonthlyStatements } from '../../src/statements/issue';
import { monthDays, previousMonth } from '../../src/statements/monthly';
import { fixedHashrate, recordPayout } from '../fixtures';
import { linkIn, openTestMailbox, type TestMailbox } from '../mailbox';
import { createTestDatabase, type TestDatabase } from '../pg';

const LINKS: PortalLinks = { baseUrl: 'https://portal.farm.example', secret: 'statement-links-secret-0123456789abcdef' };
const today = utcToday();
const month = previousMonth(today.slice(0, 7));
const lastDay = monthDays(month).to;

let db: TestDatabase;
let mailbox: TestMailbox;
let mailer: InvestorMailer;
const pools: Pool[] = [];

beforeAll(async () => {
  db = await createTestDatabase('statements_scheduler');
  mailbox = await openTestMailbox();
  mailer = smtpMailer(mailbox.url, 'FlyMining <statements@flymining.test>');
  // Two investors whose contracts start on the month's last day, one without an email address.
  await createInvestor(db.pool, { id: 'zoe', name: 'Zoe Example', email: 'zoe@example.com' });
  await createInvestor(db.pool, { id: 'yuri', name: 'Yuri Example' });
  for (const id of ['zoe', 'yuri']) await createContract(db.pool, { id: `${id}-c`, investorId: id, hashrateThs: '40', startDay: lastDay, endDay: addDays(today, 30) });
  // Every day's pool payout but the month's last: that day cannot be credited yet.
  for (let day = addDays(lastDay, 1); day < today; day = addDays(day, 1)) await recordPayout(db.pool, day, '0.00100000');
}, 60_000);

afterAll(async () => {
  mailer?.close();
  await mailbox?.close();
  // Backends ended by the database's forced drop report it on their pool; expected here.
  for (const p of pools) p.on('error', () => undefined);
  await Promise.all(pools.map((p) => p.end()));
  await db?.drop();
});

/** A scheduler as `flymining billing scheduler` starts it, on a pool of its own (another process, another instance). */
function startScheduler(log: string[]): BillingScheduler {
  const pool = new Pool({ connectionString: db.url, max: 3 });
  pools.push(pool);
  return startBillingScheduler(pool, fixedHashrate('100'), {
    cron: '* * * * * *',
    log: (m) => log.push(m),
    afterCatchUp: () => issueDueStatements(pool, { mailer, links: LINKS, log: (m) => log.push(m) }),
  });
}

const waitUntil = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test("last month's statements wait for its last day, then are issued and mailed once by one of two schedulers; a restart mails nobody", async () => {
  const logA: string[] = [];
  const a = startScheduler(logA);
  const logB: string[] = [];
  let b: BillingScheduler | undefined;
  try {
    await a.idle();
    await waitUntil('the waiting line', () => logA.some((m) => m.startsWith(`statements ${month}:`)));
    expect(logA).toContain(`statements ${month}: waiting for 1 day(s) to be credited (${lastDay})`);
    expect(mailbox.mails).toHaveLength(0);
    expect((await db.pool.query('SELECT 1 FROM statement_issues')).rowCount).toBe(0);

    // The pool reports the last day: the next tick credits it and issues the month, while a second instance ticks too.
    await recordPayout(db.pool, lastDay, '0.00100000');
    b = startScheduler(logB);
    await mailbox.waitFor(1, 30_000);
    const issued = `statements ${month}: 2/2 investors (100 %), 1 mailed, 0 mailed before, 1 without email, 0 PDFs`;
    await waitUntil('the issue line', () => [...logA, ...logB].includes(issued));
    // A few more ticks of both instances (one per second each) change nothing.
    const ticks = logA.length + logB.length;
    await new Promise((r) => setTimeout(r, 2500));
    await Promise.all([a.idle(), b.idle()]);
    expect(mailbox.mails).toHaveLength(1);
    expect([...logA, ...logB].filter((m) => m === issued)).toHaveLength(1);
    expect(logA.length + logB.length).toBeGreaterThanOrEqual(ticks);
  } finally {
    await a.stop();
    await b?.stop();
  }
  const mail = mailbox.mails[0]!;
  expect(mail.subject).toBe(`Your FlyMining statement for ${month}`);
  expect(linkIn(mail, `${LINKS.baseUrl}/statements/link?`)).toContain(`m=${month}`);
  const { rows } = await db.pool.query('SELECT investor_id, mailed_to FROM statement_issues ORDER BY investor_id');
  expect(rows).toEqual([
    { investor_id: 'yuri', mailed_to: null },
    { investor_id: 'zoe', mailed_to: 'zoe@example.com' },
  ]);
  expect((await db.pool.query('SELECT investors, mailed, issued_by FROM statement_months WHERE month = $1', [month])).rows).toEqual([
    { investors: 2, mailed: 1, issued_by: 'scheduler' },
  ]);

  // A restart: the month is recorded as issued, so nothing is issued or mailed again.
  const logC: string[] = [];
  const c = startScheduler(logC);
  try {
    await c.idle();
    await new Promise((r) => setTimeout(r, 1500));
    await c.idle();
  } finally {
    await c.stop();
  }
  expect(logC.filter((m) => m.startsWith('statements'))).toEqual([]);
  expect(mailbox.mails).toHaveLength(1);
});

test('two issuing runs at once mail each investor once; a mail the SMTP server never took is sent by the next run', async () => {
  // Forget the month's issue (as if it had never happened) and issue it twice at the same moment.
  await db.pool.query('DELETE FROM statement_months');
  await db.pool.query('DELETE FROM statement_issues');
  const before = mailbox.mails.length;
  const [first, second] = await Promise.all(
    [0, 1].map((i) => {
      const pool = new Pool({ connectionString: db.url, max: 2 });
      pools.push(pool);
      return issueMonthlyStatements(pool, month, { mailer, links: LINKS, issuedBy: i ? 'scheduler' : 'command' });
    }),
  );
  expect(first!.mailed + second!.mailed).toBe(1);
  expect(first!.alreadyMailed + second!.alreadyMailed).toBe(1);
  await new Promise((r) => setTimeout(r, 500));
  expect(mailbox.mails.length - before).toBe(1);

  // An SMTP server that is not there: the mail is not counted as sent, the month not as issued.
  await db.pool.query('DELETE FROM statement_months');
  await db.pool.query('DELETE FROM statement_issues');
  const gone = await openTestMailbox();
  await gone.close();
  const broken = smtpMailer(gone.url, 'FlyMining <statements@flymining.test>');
  const failures: string[] = [];
  try {
    const failed = await issueMonthlyStatements(db.pool, month, { mailer: broken, links: LINKS, mailFailed: (investor) => failures.push(investor) });
    expect(failed).toMatchObject({ mailed: 0, failed: 1 });
  } finally {
    broken.close();
  }
  expect(failures).toEqual(['zoe']);
  expect((await db.pool.query('SELECT mailed_at FROM statement_issues WHERE investor_id = $1', ['zoe'])).rows).toEqual([{ mailed_at: null }]);
  expect((await db.pool.query('SELECT 1 FROM statement_months')).rowCount).toBe(0);
  // The scheduler's next turn sends it.
  const logged: string[] = [];
  expect(await issueDueStatements(db.pool, { mailer, links: LINKS, log: (m) => logged.push(m) })).toBe(
    `statements ${month}: 2/2 investors (100 %), 1 mailed, 0 mailed before, 1 without email, 0 PDFs`,
  );
  await mailbox.waitFor(before + 2);
  expect(mailbox.mails.at(-1)?.to).toMatchObject({ text: 'zoe@example.com' });
});
