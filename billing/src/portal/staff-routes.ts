/** Staff pages under /admin: investors, contracts, payouts to approve and send, and the daily runs. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { PortalDeps } from './deps';
import { flash, render } from './respond';
import { csrfToken } from './csrf';
import { idParam, markSentForm, problems, rejectForm } from './forms';
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

  /** One payout action: parse the id and the form, act as the signed-in staff member, report either way. */
  const payoutAction = <T>(
    action: string,
    form: z.ZodType<T>,
    act: (payoutId: string, fields: T, staff: string) => Promise<void>,
    done: string,
  ): void => {
    router.post(`/payouts/:id/${action}`, async (req, res) => {
      const id = idParam.safeParse(req.params);
      if (!id.success) return showAdmin(req, res, ['No such payout.'], 404);
      const fields = form.safeParse(req.body);
      if (!fields.success) return showAdmin(req, res, problems(fields.error), 400);
      try {
        await act(id.data.id, fields.data, (res.locals.user as PortalUser).email);
      } catch (err) {
        log.warn({ err, payout: id.data.id, action }, 'payout action refused');
        return showAdmin(req, res, [`Payout ${id.data.id} was not ${done}: ${(err as Error).message}`], 409);
      }
      flash(req, 'ok', `Payout ${id.data.id} ${done}.`);
      res.redirect(303, '/admin');
    });
  };
  payoutAction('approve', z.object({}), (id, _fields, staff) => ledger.approvePayout(id, staff), 'approved');
  payoutAction('sent', markSentForm, (id, { txid }, staff) => ledger.markPayoutSent(id, txid.toLowerCase(), staff), 'marked sent');
  payoutAction('reject', rejectForm, (id, { reason }, staff) => ledger.rejectPayout(id, reason, staff), 'rejected');

  return router;
}
