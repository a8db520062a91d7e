/** Staff pages under /admin: investors, contracts, payouts to approve and send, and the daily runs. */
import { Router, type Request, type Response } from 'express';
import { flash, render, type PortalDeps } from './app';
import { csrfToken } from './csrf';
import { idParam, markSentForm, problems } from './forms';
import type { PortalUser } from './users';
import { adminBody, adminInvestorBody, messageBody } from './views';

const RUNS_SHOWN = 30;

export function staffRoutes({ ledger, log }: PortalDeps): Router {
  const router = Router();

  router.use((req, res, next) => {
    if ((res.locals.user as PortalUser).role === 'staff') return next();
    render(req, res, 'Staff only', messageBody('This page is for farm staff.', { href: '/', label: 'Back to your contracts' }), 403);
  });

  const showAdmin = async (req: Request, res: Response, errors: string[] = [], status = 200): Promise<void> => {
    const [investors, contracts, payouts, runs] = await Promise.all([ledger.investors(), ledger.contracts(), ledger.payouts(), ledger.dailyRuns(RUNS_SHOWN)]);
    render(req, res, 'Admin', adminBody(csrfToken(req), { investors, contracts, payouts, runs }, errors), status);
  };

  router.get('/', (req, res) => showAdmin(req, res));

  router.get('/investors/:id', async (req, res) => {
    const id = idParam.safeParse(req.params);
    const investor = id.success ? await ledger.investor(id.data.id) : undefined;
    if (!investor || !id.success) return render(req, res, 'Not found', messageBody('No such investor.', { href: '/admin', label: 'Back to admin' }), 404);
    const [contracts, credits, payouts] = await Promise.all([ledger.contractsOf(investor.id), ledger.creditsOf(investor.id), ledger.payoutsOf(investor.id)]);
    render(req, res, `Investor ${investor.name}`, adminInvestorBody({ investor, contracts, credits, payouts }));
  });

  router.post('/payouts/:id/approve', async (req, res) => {
    const id = idParam.safeParse(req.params);
    if (!id.success) return showAdmin(req, res, ['No such payout.'], 404);
    const staff = (res.locals.user as PortalUser).email;
    try {
      await ledger.approvePayout(id.data.id, staff);
    } catch (err) {
      log.warn({ err, payout: id.data.id }, 'payout approval refused');
      return showAdmin(req, res, [`Payout ${id.data.id} was not approved: ${(err as Error).message}`], 409);
    }
    flash(req, 'ok', `Payout ${id.data.id} approved.`);
    res.redirect(303, '/admin');
  });

  router.post('/payouts/:id/sent', async (req, res) => {
    const id = idParam.safeParse(req.params);
    if (!id.success) return showAdmin(req, res, ['No such payout.'], 404);
    const form = markSentForm.safeParse(req.body);
    if (!form.success) return showAdmin(req, res, problems(form.error), 400);
    try {
      await ledger.markPayoutSent(id.data.id, form.data.txid.toLowerCase(), (res.locals.user as PortalUser).email);
    } catch (err) {
      log.warn({ err, payout: id.data.id }, 'marking payout sent refused');
      return showAdmin(req, res, [`Payout ${id.data.id} was not marked sent: ${(err as Error).message}`], 409);
    }
    flash(req, 'ok', `Payout ${id.data.id} marked sent.`);
    res.redirect(303, '/admin');
  });

  return router;
}
