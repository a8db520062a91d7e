/** Staff pages under /admin: investors, contracts, payouts to approve and send, and the daily runs. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ledgerFor, type PortalDeps } from './deps';
import type { PortalLedger } from './ledger-view';
import { flash, render } from './respond';
import { csrfToken } from './csrf';
import { idParam, markSentForm, problems, rejectForm } from './forms';
import type { PortalUser } from './users';
import { adminBody, adminInvestorBody, messageBody } from './views';

/** Rows per page of each admin list. */
export const ADMIN_PAGE_SIZE = { queue: 50, runs: 30, investors: 50, contracts: 50, payouts: 50 } as const;
export type AdminList = keyof typeof ADMIN_PAGE_SIZE;

const pageNumber = z.coerce.number({ error: 'a page is a number' }).int('a page is a whole number').min(1, 'pages start at 1').max(1_000_000).default(1);
const adminPages = z.object({ queue: pageNumber, runs: pageNumber, investors: pageNumber, contracts: pageNumber, payouts: pageNumber });
export type AdminPages = z.infer<typeof adminPages>;

export function staffRoutes(deps: PortalDeps): Router {
  const { log } = deps;
  const router = Router();

  router.use((req, res, next) => {
    if ((res.locals.user as PortalUser).role === 'staff') return next();
    render(req, res, 'Staff only', messageBody('This page is for farm staff.', { href: '/', label: 'Back to your contracts' }), 403);
  });

  const showAdmin = async (req: Request, res: Response, errors: string[] = [], status = 200): Promise<void> => {
    const query = adminPages.safeParse(req.query);
    if (!query.success) return render(req, res, 'Admin', messageBody(`That page does not exist: ${problems(query.error).join('; ')}.`, { href: '/admin', label: 'Back to admin' }), 400);
    const pages = query.data;
    const at = (list: AdminList) => ({ page: pages[list], size: ADMIN_PAGE_SIZE[list] });
    const ledger = ledgerFor(deps, req);
    const [queue, runs, investors, contracts, payouts] = await Promise.all([
      ledger.payouts(at('queue'), ['requested', 'approved']),
      ledger.dailyRuns(at('runs')),
      ledger.investors(at('investors')),
      ledger.contracts(at('contracts')),
      ledger.payouts(at('payouts')),
    ]);
    render(req, res, 'Admin', adminBody(csrfToken(req), { queue, investors, contracts, payouts, runs }, pages, errors), status);
  };

  router.get('/', (req, res) => showAdmin(req, res));

  router.get('/investors/:id', async (req, res) => {
    const id = idParam.safeParse(req.params);
    const ledger = ledgerFor(deps, req);
    const investor = id.success ? await ledger.investor(id.data.id) : undefined;
    if (!investor || !id.success) return render(req, res, 'Not found', messageBody('No such investor.', { href: '/admin', label: 'Back to admin' }), 404);
    const [contracts, credits, payouts] = await Promise.all([ledger.contractsOf(investor.id), ledger.creditsOf(investor.id), ledger.payoutsOf(investor.id)]);
    render(req, res, `Investor ${investor.name}`, adminInvestorBody({ investor, contracts, credits, payouts }));
  });

  /** One payout action: parse the id and the form, act as the signed-in staff member, report either way. */
  const payoutAction = <T>(
    action: string,
    form: z.ZodType<T>,
    act: (ledger: PortalLedger, payoutId: string, fields: T, staff: string) => Promise<void>,
    done: string,
  ): void => {
    router.post(`/payouts/:id/${action}`, async (req, res) => {
      const id = idParam.safeParse(req.params);
      if (!id.success) return showAdmin(req, res, ['No such payout.'], 404);
      const fields = form.safeParse(req.body);
      if (!fields.success) return showAdmin(req, res, problems(fields.error), 400);
      try {
        await act(ledgerFor(deps, req), id.data.id, fields.data, (res.locals.user as PortalUser).email);
      } catch (err) {
        log.warn({ err, payout: id.data.id, action }, 'payout action refused');
        return showAdmin(req, res, [`Payout ${id.data.id} was not ${done}: ${(err as Error).message}`], 409);
      }
      flash(req, 'ok', `Payout ${id.data.id} ${done}.`);
      res.redirect(303, '/admin');
    });
  };
  payoutAction('approve', z.object({}), (ledger, id, _fields, staff) => ledger.approvePayout(id, staff), 'approved');
  payoutAction('sent', markSentForm, (ledger, id, { txid }, staff) => ledger.markPayoutSent(id, txid.toLowerCase(), staff), 'marked sent');
  payoutAction('reject', rejectForm, (ledger, id, { reason }, staff) => ledger.rejectPayout(id, reason, staff), 'rejected');

  return router;
}
