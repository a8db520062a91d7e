/**
 * Daily-credit mails: after a credited day each investor gets one mail (to a real SMTP server) with the ledger's
 * credit and balance, unless they switched it off on their Account page or through the signed unsubscribe link
 * (a page with a button: following the link alone changes nothing); a forged link is refused. The scheduler mails
 * after each day it credits.
 */
import { getBalance, listDailyCredits } from '../../src/api';
import type { DayHashrate, HashrateSource } from '../../src/hashrate';
import { smtpMailer, type InvestorMailer, type PortalLinks } from '../../src/mail';
import { recordMarketDay, recordPoolPayout } from '../../src/market';
import { dailyCreditMailsOn, notifyDailyCredits, UNSUBSCRIBE_PATH } from '../../src/notices';
import { satsToBtc } from '../../src/portal/forms';
import { addDays, runDay, utcToday } from '../../src/run';
import { startBillingScheduler } from '../../src/scheduler';
import { linkIn, openTestMailbox, type TestMailbox } from '../mailbox';
import { HttpClient, seedInvestor, startTestPortal, type PortalUnderTest } from './harness';

const farm: HashrateSource = {
  async dayHashrate(): Promise<DayHashrate> {
    return { deliveredThs: '150', nominalThs: '150', miners: 2, reachableUptime: '1', hashingUptime: '1', containers: [] };
  },
};
const day1 = addDays(utcToday(), -2);
const day2 = addDays(utcToday(), -1);

let portal: PortalUnderTest;
let mailbox: TestMailbox;
let mailer: InvestorMailer;
let links: PortalLinks;

beforeAll(async () => {
  portal = await startTestPortal('credit-notices');
  mailbox = await openTestMailbox();
  mailer = smtpMailer(mailbox.url, 'FlyMining <credits@flymining.test>');
  links = { baseUrl: portal.url, secret: portal.settings.secret };
  await seedInvestor(portal.db, 'alice', { ths: '100', startDay: day1 });
  await seedInvestor(portal.db, 'bob', { ths: '50', startDay: day1 });
  for (const day of [day1, day2]) {
    await recordMarketDay(portal.db.pool, { day, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '60000' });
    await recordPoolPayout(portal.db.pool, { day, pool: 'main', amountBtc: '0.03' });
  }
}, 60_000);

afterAll(async () => {
  mailer?.close();
  await mailbox?.close();
  await portal?.close();
});

const signedIn = async (id: string): Promise<HttpClient> => {
  const client = new HttpClient(portal.url);
  await client.signIn(`${id}@example.com`);
  return client;
};

test('an investor switches the mails off on the Account page; the others get the ledger’s credit and balance, once', async () => {
  const alice = await signedIn('alice');
  expect((await alice.get('/account')).text).toMatch(/name="dailyCredit" value="on" checked/);
  const off = await alice.submit('/account', '/account/notifications', {});
  expect(off.status).toBe(303);
  expect((await alice.get('/account')).text).not.toMatch(/name="dailyCredit" value="on" checked/);
  expect(await dailyCreditMailsOn(portal.db.pool, 'alice')).toBe(false);

  await runDay(portal.db.pool, farm, day1);
  expect(await notifyDailyCredits(portal.db.pool, day1, { mailer, links })).toMatchObject({ mailed: 1, optedOut: 1 });
  const [mail] = await mailbox.waitFor(1);
  expect(mail!.to && !Array.isArray(mail!.to) && mail!.to.text).toBe('bob@example.com');
  const credit = (await listDailyCredits(portal.db.pool, 'bob')).find((c) => c.day === day1)!;
  expect(credit.netSat).toBe(1_000_000); // 0.03 BTC × 50 / 150
  expect(mail!.text).toContain(`your credit for ${day1} (UTC): ${satsToBtc(BigInt(credit.netSat))} BTC`);
  expect(mail!.text).toContain(`Balance now: ${satsToBtc(BigInt((await getBalance(portal.db.pool, 'bob')).availableSat))} BTC.`);
  expect(mail!.headerLines.find((h) => h.key === 'list-unsubscribe')?.line).toContain(`${portal.url}${UNSUBSCRIBE_PATH}?`);

  expect(await notifyDailyCredits(portal.db.pool, day1, { mailer, links })).toMatchObject({ mailed: 0, alreadyMailed: 1, optedOut: 1 });
  await new Promise((r) => setTimeout(r, 200));
  expect(mailbox.mails).toHaveLength(1);
});

test('the signed unsubscribe link asks first, then switches the mails off; a forged one is refused; the scheduler mails after each run', async () => {
  const link = linkIn(mailbox.mails[0]!, `${portal.url}${UNSUBSCRIBE_PATH}?`);
  const path = link.slice(portal.url.length);
  const visitor = new HttpClient(portal.url);
  const page = await visitor.get(path);
  expect(page.status).toBe(200);
  expect(page.text).toContain('Stop daily credit mails');
  expect(await dailyCreditMailsOn(portal.db.pool, 'bob')).toBe(true);

  const forged = new URL(link);
  forged.searchParams.set('i', 'alice');
  const forgedPath = forged.pathname + forged.search;
  expect((await visitor.get(forgedPath)).status).toBe(403);
  expect((await visitor.submit(path, UNSUBSCRIBE_PATH, { i: 'alice' })).status).toBe(403);
  expect(await dailyCreditMailsOn(portal.db.pool, 'alice')).toBe(false);

  const done = await visitor.submit(path, UNSUBSCRIBE_PATH, {});
  expect(done.status).toBe(200);
  expect(done.text).toContain('you will get no more daily credit mails');
  expect(await dailyCreditMailsOn(portal.db.pool, 'bob')).toBe(false);

  // Alice switches them on again; the scheduler credits day 2 and mails her alone.
  const alice = await signedIn('alice');
  await alice.submit('/account', '/account/notifications', { dailyCredit: 'on' });
  const log: string[] = [];
  const scheduler = startBillingScheduler(portal.db.pool, farm, {
    cron: '0 0 1 1 *',
    log: (m) => log.push(m),
    afterDay: async (day) => {
      const r = await notifyDailyCredits(portal.db.pool, day, { mailer, links });
      return `credit mails: ${r.mailed} sent, ${r.optedOut} switched off`;
    },
  });
  await scheduler.idle();
  await scheduler.stop();
  expect(log).toContain(`${day2}: credit mails: 1 sent, 1 switched off`);
  const mails = await mailbox.waitFor(2);
  expect(mails[1]!.to && !Array.isArray(mails[1]!.to) && mails[1]!.to.text).toBe('alice@example.com');
  expect(mails[1]!.subject).toBe(`FlyMining: your credit for ${day2}`);
});
