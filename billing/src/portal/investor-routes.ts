/**
 * The investor's own pages. Which investor is always taken from the session (res.locals.user), never from the
 * URL or a form field: another investor's contract id answers 404, exactly like one that does not exist.
 */
import { Router, type Request, type Response } from 'express';
import { ledgerFor, retryText, signInThrottle, type PortalDeps } from './deps';
import { flash, render } from './respond';
import { btcToSats, idParam, payoutRequestForm, problems, reauthForm, statementQuery, totpForm } from './forms';
import { PayoutRefused } from './ledger-view';
import { checkPassword, checkTotpCode, confirmTotpEnrolment, disableTotp, newTotpSecret, newTotpUri, type PortalUser } from './users';
import { accountBody, contractBody, dashboardBody, messageBody, notificationsBody, payoutsBody, statementsBody } from './views';
import { dailyCreditMailsOn, setDailyCreditMails } from '../notices';
import { html } from './html';
import { statementHtml, statementPdf } from '../statements/render';
import { csrfToken } from './csrf';

function notFound(req: Request, res: Response): void {
  render(req, res, 'Not found', messageBody('There is no such contract among yours.', { href: '/', label: 'Back to your contracts' }), 404);
}

export function investorRoutes(deps: PortalDeps): Router {
  const router = Router();

  // Staff have no investor of their own: their start page is the admin view.
  router.use((req, res, next) => {
    const user = res.locals.user as PortalUser;
    if (user.role === 'staff' || user.investorId === null) return res.redirect(303, '/admin');
    res.locals.investorId = user.investorId;
    next();
  });
  const investorOf = (res: Response): string => String(res.locals.investorId);

  router.get('/', async (req, res) => {
    const investorId = investorOf(res);
    const ledger = ledgerFor(deps, req);
    const [investor, contracts, credits] = await Promise.all([ledger.investor(investorId), ledger.contractsOf(investorId), ledger.creditsOf(investorId)]);
    if (!investor) return render(req, res, 'Account not found', messageBody('Your investor account no longer exists. Contact the farm.'), 404);
    render(req, res, `${investor.name}: contracts`, dashboardBody({ investor, contracts, credits }));
  });

  router.get('/contracts/:id', async (req, res) => {
    const id = idParam.safeParse(req.params);
    if (!id.success) return notFound(req, res);
    const investorId = investorOf(res);
    const ledger = ledgerFor(deps, req);
    const contract = (await ledger.contractsOf(investorId)).find((c) => c.id === id.data.id);
    if (!contract) return notFound(req, res);
    const investor = await ledger.investor(investorId);
    const currency = investor?.currency ?? 'USD';
    const [credits, market] = await Promise.all([ledger.creditsOf(investorId, { contractId: contract.id }), ledger.marketToday(currency)]);
    render(req, res, `Contract ${contract.label}`, contractBody(contract, credits, currency, market));
  });

  router.get('/statement.csv', async (req, res) => {
    const query = statementQuery.safeParse(req.query);
    if (!query.success) return render(req, res, 'Statement', messageBody(`Cannot make that statement: ${problems(query.error).join('; ')}.`), 400);
    const investorId = investorOf(res);
    const ledger = ledgerFor(deps, req);
    // Without dates: everything from the first contract's start to today.
    const contracts = await ledger.contractsOf(investorId);
    const from = query.data.from ?? contracts.map((c) => c.startDay).sort()[0] ?? new Date().toISOString().slice(0, 10);
    const to = query.data.to ?? new Date().toISOString().slice(0, 10);
    const csv = await ledger.statementCsv(investorId, from, to);
    res.type('text/csv').attachment(`statement-${investorId}-${from}-to-${to}.csv`).send(csv);
  });

  router.get('/statements', async (req, res) => {
    const ledger = ledgerFor(deps, req);
    render(req, res, 'Statements', statementsBody(await ledger.statementMonths(investorOf(res))));
  });

  // /statements/2026-10 is the printable page, /statements/2026-10.pdf the PDF; only months of the investor's own.
  router.get('/statements/:file', async (req, res) => {
    const file = /^(\d{4}-(?:0[1-9]|1[0-2]))(\.pdf)?$/.exec(String(req.params.file));
    const investorId = investorOf(res);
    const ledger = ledgerFor(deps, req);
    if (!file || !(await ledger.statementMonths(investorId)).includes(file[1]!)) {
      return render(req, res, 'Not found', messageBody('There is no such statement among yours.', { href: '/statements', label: 'Your statements' }), 404);
    }
    const month = file[1]!;
    const statement = await ledger.monthlyStatement(investorId, month);
    if (file[2]) {
      res.type('application/pdf').attachment(`flymining-statement-${investorId}-${month}.pdf`).send(await statementPdf(statement));
      return;
    }
    res.type('html').send(statementHtml(statement, { nonce: String(res.locals.cspNonce), pdfHref: `/statements/${month}.pdf` }));
  });

  const showPayouts = async (req: Request, res: Response, errors: string[] = [], form?: { amountBtc: string; address: string }, status = 200): Promise<void> => {
    const investorId = investorOf(res);
    const ledger = ledgerFor(deps, req);
    const [investor, payouts] = await Promise.all([ledger.investor(investorId), ledger.payoutsOf(investorId)]);
    if (!investor) return notFound(req, res);
    render(req, res, 'Payouts', payoutsBody(csrfToken(req), investor, payouts, errors, form), status);
  };

  router.get('/payouts', (req, res) => showPayouts(req, res));

  router.post('/payouts', async (req, res) => {
    const echo = { amountBtc: String(req.body?.amountBtc ?? ''), address: String(req.body?.address ?? '') };
    // Unknown fields (an investorId, say) are dropped by the schema: the payout is always the signed-in investor's.
    const form = payoutRequestForm.safeParse(req.body);
    if (!form.success) return showPayouts(req, res, problems(form.error), echo, 400);
    try {
      const payout = await ledgerFor(deps, req).requestPayout(investorOf(res), btcToSats(form.data.amountBtc), form.data.address, form.data.requestKey);
      flash(req, 'ok', `Payout of ${form.data.amountBtc} BTC requested (number ${payout.id}); staff will approve it.`);
      res.redirect(303, '/payouts');
    } catch (err) {
      if (err instanceof PayoutRefused) return showPayouts(req, res, [err.message], echo, 422);
      throw err;
    }
  });

  return router;
}

/**
 * Account settings (two-factor sign-in), for investors and staff alike. A session alone cannot change the second
 * factor: turning it off or moving it to a new app needs the current code, setting it up needs the password, and
 * wrong proofs are throttled like sign-in, so a stolen session can neither remove the factor nor guess the code.
 */
export function accountRoutes(deps: PortalDeps): Router {
  const { pool } = deps;
  const throttle = signInThrottle(deps);
  const router = Router();
  const userOf = (res: Response): PortalUser => res.locals.user as PortalUser;

  const refuse = (req: Request, res: Response, status: number, errors: string[]): void =>
    render(req, res, 'Account', accountBody(csrfToken(req), userOf(res).totpEnabled, undefined, errors), status);

  /** The current TOTP code if the factor is on, else the password; false after answering the request. */
  const ownerProven = async (req: Request, res: Response): Promise<boolean> => {
    const user = userOf(res);
    const form = user.totpEnabled ? totpForm.safeParse(req.body) : reauthForm.safeParse(req.body);
    if (!form.success) {
      refuse(req, res, 400, problems(form.error));
      return false;
    }
    const keys = [`account:${user.id}`];
    const attempt = await throttle.begin(keys);
    if (!attempt.allowed) {
      res.set('Retry-After', String(Math.ceil(attempt.retryAfterMs / 1000)));
      refuse(req, res, 429, [retryText(attempt.retryAfterMs)]);
      return false;
    }
    const proven =
      'code' in form.data ? await checkTotpCode(pool, user.id, form.data.code) : (await checkPassword(pool, user.email, form.data.password)).ok;
    if (!proven) {
      refuse(req, res, 403, [user.totpEnabled ? 'That code is not valid. Enter the current code from your authenticator app.' : 'That password is not correct.']);
      return false;
    }
    await throttle.succeeded(keys);
    return true;
  };

  router.get('/', async (req, res) => {
    const user = userOf(res);
    const notifications = user.investorId === null ? html`` : notificationsBody(csrfToken(req), await dailyCreditMailsOn(pool, user.investorId));
    render(req, res, 'Account', html`${accountBody(csrfToken(req), user.totpEnabled)}${notifications}`);
  });

  // The investor's own setting (from the session): the mail after each credited day.
  router.post('/notifications', async (req, res) => {
    const user = userOf(res);
    if (user.investorId === null) return res.redirect(303, '/account');
    const on = req.body?.dailyCredit === 'on';
    await setDailyCreditMails(pool, user.investorId, on, 'portal');
    flash(req, 'ok', on ? 'You will get a mail after each credited day.' : 'Daily credit mails are off.');
    res.redirect(303, '/account');
  });

  router.post('/totp', async (req, res) => {
    if (!(await ownerProven(req, res))) return;
    const enrolment = newTotpSecret(userOf(res));
    req.session.totpEnrolmentSecret = enrolment.secret;
    render(req, res, 'Account', accountBody(csrfToken(req), userOf(res).totpEnabled, enrolment));
  });

  router.post('/totp/confirm', async (req, res) => {
    const user = userOf(res);
    const secret = req.session.totpEnrolmentSecret;
    if (!secret) return refuse(req, res, 400, ['Start the set-up again: it was not started in this session.']);
    const form = totpForm.safeParse(req.body);
    if (form.success && (await confirmTotpEnrolment(pool, user.id, secret, form.data.code))) {
      delete req.session.totpEnrolmentSecret;
      flash(req, 'ok', 'Two-factor sign-in is on.');
      return res.redirect(303, '/account');
    }
    const again = { secret, uri: newTotpUri(user, secret) };
    render(req, res, 'Account', accountBody(csrfToken(req), user.totpEnabled, again, ['That code did not match. Enter the current code from the new key.']), 400);
  });

  router.post('/totp/disable', async (req, res) => {
    if (!userOf(res).totpEnabled) return res.redirect(303, '/account');
    if (!(await ownerProven(req, res))) return;
    await disableTotp(pool, userOf(res).id);
    flash(req, 'ok', 'Two-factor sign-in is off.');
    res.redirect(303, '/account');
  });

  return router;
}
