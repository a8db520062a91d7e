/** Page bodies. Each returns escaped HTML; `page()` in html.ts wraps it with the header and styles. */
import { randomBytes } from 'node:crypto';
import Decimal from 'decimal.js';
import { cumulativeChart, hashrateChart, type HashrateDay } from './chart';
import { btcText, contractReturn, explainCredit, moneyText, type MarketToday } from './explain';
import { satsToBtc } from './forms';
import { csrfField, html, type SafeHtml } from './html';
import type { ContractSummary, CreditView, RunView, InvestorSummary, Paged, PayoutView } from './ledger-view';

function errorList(errors: readonly string[]): SafeHtml {
  return errors.length ? html`<ul class="errors" role="alert">${errors.map((e) => html`<li>${e}</li>`)}</ul>` : html``;
}

const btc = (sats: string): string => `${satsToBtc(sats)} BTC`;

export function loginBody(csrf: string, errors: readonly string[], email = ''): SafeHtml {
  return html`<section>${errorList(errors)}
  <form method="post" action="/login">${csrfField(csrf)}
    <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" value="${email}" required>
    <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    <p><button class="primary" type="submit">Sign in</button></p>
  </form><p><a href="/password-reset">Forgot your password?</a></p></section>`;
}

export function totpBody(csrf: string, errors: readonly string[]): SafeHtml {
  return html`<section>${errorList(errors)}
  <form method="post" action="/login/totp">${csrfField(csrf)}
    <label for="code">6-digit code from your authenticator app</label>
    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
    <p><button class="primary" type="submit">Verify</button></p>
  </form></section>`;
}

/**
 * Daily delivered vs purchased over every contract, summed per day. A recomputed day has a reversal and a newer
 * credit: only the newest credit of each contract and day counts (credits arrive oldest first).
 */
export function chartDays(credits: readonly CreditView[]): HashrateDay[] {
  const latest = new Map<string, CreditView>();
  for (const c of credits) if (c.kind === 'credit') latest.set(`${c.contractId}|${c.day}`, c);
  const byDay = new Map<string, HashrateDay>();
  for (const c of latest.values()) {
    const d = byDay.get(c.day) ?? { day: c.day, deliveredThs: 0, purchasedThs: 0 };
    d.deliveredThs += Number(c.deliveredThs);
    d.purchasedThs += Number(c.purchasedThs);
    byDay.set(c.day, d);
  }
  return [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day));
}

function contractsTable(contracts: readonly ContractSummary[], link: boolean): SafeHtml {
  if (!contracts.length) return html`<p class="muted">No contracts.</p>`;
  return html`<table><thead><tr><th>Contract</th><th class="num">Purchased TH/s</th><th>From</th><th>Until</th><th>Status</th></tr></thead><tbody>
  ${contracts.map(
    (c) => html`<tr><td>${link ? html`<a href="/contracts/${encodeURIComponent(c.id)}">${c.label}</a>` : c.label}</td>
      <td class="num">${c.purchasedThs}</td><td>${c.startDay}</td><td>${c.endDay ?? '—'}</td><td>${c.status}</td></tr>`,
  )}</tbody></table>`;
}

function creditsTable(credits: readonly CreditView[], contracts: readonly ContractSummary[], currency: string): SafeHtml {
  if (!credits.length) return html`<p class="muted">No credits yet.</p>`;
  const label = new Map(contracts.map((c) => [c.id, c.label]));
  return html`<table class="credits"><thead><tr><th>Day</th><th>Contract</th><th class="num">Delivered TH/s</th><th class="num">Purchased TH/s</th>
  <th class="num">Credit</th><th>What it is</th></tr></thead><tbody>
  ${[...credits].reverse().map((c) => {
    const why = explainCredit(c, currency);
    return html`<tr data-day="${c.day}"><td>${c.day}</td><td>${label.get(c.contractId) ?? c.contractId}${c.kind === 'reversal' ? ' (reversal)' : ''}</td>
      <td class="num">${c.deliveredThs}</td><td class="num">${c.purchasedThs}</td><td class="num">${btc(c.netSat)}</td>
      <td class="explain">${
        c.kind === 'reversal'
          ? html`<p>Reversal: this day was recomputed, and this undoes the earlier credit (${btcText(c.netSat)} BTC); the corrected credit is listed separately.</p>`
          : html`<p class="why">${why.lines.join(' ')}</p>`
      }<p class="value">${why.value.join(' ')}</p>
      <details><summary>Inputs (for auditors)</summary><p class="muted inputs">${Object.entries(c.inputs).map(([k, v]) => `${k}=${v}`).join(' · ')}</p></details></td></tr>`;
  })}</tbody></table>`;
}

/** Credits to date, the payback projection and the cumulative chart of one contract. */
export function returnSection(contract: ContractSummary, credits: readonly CreditView[], currency: string, market: MarketToday | null): SafeHtml {
  const r = contractReturn(contract, credits, currency, market);
  const inCurrency =
    currency === 'USD'
      ? html``
      : r.creditedInCurrency
        ? html` = <strong>${moneyText(r.creditedInCurrency, currency)}</strong>`
        : html` (no ${currency} value: no ${currency} rate recorded for ${r.daysWithoutRate.join(', ')})`;
  const p = r.projection;
  const projection =
    p.kind === 'no-price'
      ? html`<p class="muted">No purchase price is recorded for this contract, so no payback can be projected.</p>`
      : p.kind === 'no-market'
        ? html`<p class="muted">No difficulty or price recorded yet: no projection.</p>`
        : p.kind === 'paid-back'
          ? html`<p>The credits to date (at each day’s price) exceed the purchase price.</p>`
          : p.kind === 'never'
            ? html`<p>At today’s hashprice the maintenance charge and fees exceed the day’s earnings (${moneyText(p.dailyNetUsd, 'USD')} a day): no payback at these figures.</p>`
            : html`<p>At ${new Decimal(market!.hashpriceSatPerThsDay).toDecimalPlaces(2).toString()} sat per TH/s per day (difficulty ${market!.difficulty}, BTC at ${moneyText(new Decimal(market!.btcPriceUsd), 'USD')}, ${market!.day}),
              held constant, the contract would earn ${btcText(p.dailyNetSat.floor())} BTC (${moneyText(p.dailyNetUsd, 'USD')}) a day after fees; the
              ${moneyText(p.remainingUsd, 'USD')} still to recover would be repaid in ${p.days} days, on <strong class="payback-day">${p.day}</strong>${
                p.withinContract ? '' : html`, after the contract ends (${contract.endDay ?? ''})`
              }.</p>`;
  return html`<section class="return"><h2>Return on the contract</h2>
    <p>Purchase price: ${contract.purchasePriceUsd === null ? 'not recorded' : moneyText(new Decimal(contract.purchasePriceUsd), 'USD')}.</p>
    <p class="to-date">Credits to date: <strong>${btcText(r.creditedSat)} BTC</strong>, worth <strong>${moneyText(r.creditedUsd, 'USD')}</strong> at each day’s price${inCurrency}.</p>
    <div class="projection"><h3>Projection (not a promise)</h3>${projection}
    <p class="muted">A projection holds today’s hashprice, difficulty and BTC price constant; they change every day.</p></div>
    ${cumulativeChart(r.cumulative.map((c) => ({ day: c.day, btc: c.sat.div(1e8).toNumber() })), `Contract ${contract.label}: credits to date`)}</section>`;
}

function payoutsTable(payouts: readonly PayoutView[], staffActions?: (p: PayoutView) => SafeHtml): SafeHtml {
  if (!payouts.length) return html`<p class="muted">No payouts.</p>`;
  return html`<table class="payouts"><thead><tr><th>Requested</th>${staffActions ? html`<th>Investor</th>` : html``}
  <th class="num">Amount</th><th>Address</th><th>Status</th><th>Transaction</th>${staffActions ? html`<th></th>` : html``}</tr></thead><tbody>
  ${payouts.map(
    (p) => html`<tr data-payout="${p.id}"><td>${p.requestedAt.slice(0, 16).replace('T', ' ')}</td>
      ${staffActions ? html`<td><a href="/admin/investors/${encodeURIComponent(p.investorId)}">${p.investorId}</a></td>` : html``}
      <td class="num">${btc(p.amountSat)}</td><td><code>${p.address}</code></td><td>${p.status}${p.rejectedReason ? `: ${p.rejectedReason}` : ''}</td><td><code>${p.txid ?? ''}</code></td>
      ${staffActions ? html`<td>${staffActions(p)}</td>` : html``}</tr>`,
  )}</tbody></table>`;
}

export interface DashboardData {
  investor: InvestorSummary;
  contracts: ContractSummary[];
  credits: CreditView[];
}

/** What the investor owes, when anything: said with where it comes from and how it is settled. */
function owedNote(investor: InvestorSummary): SafeHtml {
  return investor.owedSat === '0'
    ? html``
    : html`<p class="owed">You owe <strong>${btc(investor.owedSat)}</strong>: charges above a day’s share, or credits taken back after a correction you had already withdrawn. It is taken from your next credits before they reach your balance.</p>`;
}

export function dashboardBody(d: DashboardData): SafeHtml {
  return html`<section><h2>Balance</h2><p class="balance"><strong>${btc(d.investor.balanceSat)}</strong>
    <a href="/payouts">Request a payout</a></p>${owedNote(d.investor)}</section>
  <section><h2>Hashrate delivered vs purchased</h2>${hashrateChart(chartDays(d.credits), 'Daily hashrate delivered against purchased')}</section>
  <section><h2>Contracts</h2>${contractsTable(d.contracts, true)}</section>
  <section><h2>Daily credits</h2><p><a href="/statement.csv" download>Download statement (CSV)</a></p>${creditsTable(d.credits, d.contracts, d.investor.currency)}</section>`;
}

export function contractBody(contract: ContractSummary, credits: CreditView[], currency: string, market: MarketToday | null): SafeHtml {
  return html`<section>${contractsTable([contract], false)}</section>
  ${returnSection(contract, credits, currency, market)}
  <section><h2>Hashrate delivered vs purchased</h2>${hashrateChart(chartDays(credits), `Contract ${contract.label}: daily hashrate`)}</section>
  <section><h2>Daily credits</h2><p><a href="/statement.csv" download>Download statement (CSV)</a></p>${creditsTable(credits, [contract], currency)}</section>`;
}

export function payoutsBody(csrf: string, investor: InvestorSummary, payouts: PayoutView[], errors: readonly string[], form = { amountBtc: '', address: '' }): SafeHtml {
  return html`<section><h2>Request a payout</h2><p>Available: <strong>${btc(investor.balanceSat)}</strong></p>${errorList(errors)}
  <form method="post" action="/payouts">${csrfField(csrf)}<input type="hidden" name="requestKey" value="${randomBytes(18).toString('base64url')}">
    <label for="amountBtc">Amount (BTC)</label><input id="amountBtc" name="amountBtc" inputmode="decimal" value="${form.amountBtc}" required>
    <label for="address">Bitcoin address</label><input id="address" name="address" size="64" value="${form.address}" required>
    <p><button class="primary" type="submit">Request payout</button></p>
  </form><p class="muted">Staff approve each request before it is sent.</p></section>
  <section><h2>Your payouts</h2>${payoutsTable(payouts)}</section>`;
}

export function accountBody(csrf: string, totpEnabled: boolean, enrolment?: { secret: string; uri: string }, errors: readonly string[] = []): SafeHtml {
  if (enrolment) {
    return html`<section><h2>Two-factor sign-in</h2>${errorList(errors)}
    <p>Add this key to your authenticator app (or open the link on your phone), then enter the code it shows.${
      totpEnabled ? ' Until you do, your current authenticator app stays the one that counts.' : ''
    }</p>
    <p>Key: <code class="totp-secret">${enrolment.secret}</code></p><p><a href="${enrolment.uri}">${enrolment.uri}</a></p>
    <form method="post" action="/account/totp/confirm">${csrfField(csrf)}
      <label for="code">Code</label><input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" required>
      <p><button class="primary" type="submit">Turn on two-factor sign-in</button></p></form></section>`;
  }
  // Changing the second factor needs proof beyond the session: the current code when it is on, else the password.
  const codeField = (id: string) =>
    html`<label for="${id}">Current code from your authenticator app</label><input id="${id}" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>`;
  return html`<section><h2>Two-factor sign-in</h2>${errorList(errors)}
  ${
    totpEnabled
      ? html`<p>On: signing in asks for a code from your authenticator app.</p>
        <form method="post" action="/account/totp/disable">${csrfField(csrf)}${codeField('code-off')}<button type="submit">Turn off</button></form>
        <form method="post" action="/account/totp">${csrfField(csrf)}${codeField('code-again')}<button type="submit">Move to a new authenticator app</button></form>`
      : html`<p>Off.</p><form method="post" action="/account/totp">${csrfField(csrf)}
        <label for="password">Your password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
        <button class="primary" type="submit">Set up two-factor sign-in</button></form>`
  }</section>`;
}

export interface AdminData {
  /** Payouts requested or approved: staff's queue. */
  queue: Paged<PayoutView>;
  investors: Paged<InvestorSummary>;
  contracts: Paged<ContractSummary>;
  payouts: Paged<PayoutView>;
  runs: Paged<RunView>;
}

/** "Page 2 of 7 (312)" with previous/next links that keep the other lists' pages. */
function pager(list: string, p: Paged<unknown>, pages: Readonly<Record<string, number>>): SafeHtml {
  const last = Math.max(1, Math.ceil(p.total / p.size));
  if (last === 1 && p.page === 1) return html``;
  const href = (page: number): string => `/admin?${new URLSearchParams(Object.entries({ ...pages, [list]: page }).map(([k, v]): [string, string] => [k, String(v)]))}#${list}`;
  return html`<nav class="pager" data-list="${list}" aria-label="${list} pages">Page ${p.page} of ${last} (${p.total})
    ${p.page > 1 ? html` · <a rel="prev" href="${href(Math.min(p.page - 1, last))}">Previous</a>` : ''}${p.page < last ? html` · <a rel="next" href="${href(p.page + 1)}">Next</a>` : ''}</nav>`;
}

export function adminBody(csrf: string, d: AdminData, pages: Readonly<Record<string, number>>, errors: readonly string[]): SafeHtml {
  const actions = (p: PayoutView): SafeHtml =>
    p.status === 'requested'
      ? html`<form method="post" action="/admin/payouts/${encodeURIComponent(p.id)}/approve">${csrfField(csrf)}<button type="submit">Approve</button></form>`
      : p.status === 'approved'
        ? html`<form method="post" action="/admin/payouts/${encodeURIComponent(p.id)}/sent">${csrfField(csrf)}
            <input name="txid" placeholder="transaction id" size="20" required aria-label="transaction id"><button type="submit">Mark sent</button></form>`
        : html``;
  const handle = (p: PayoutView): SafeHtml =>
    html`${actions(p)}<form method="post" action="/admin/payouts/${encodeURIComponent(p.id)}/reject">${csrfField(csrf)}
      <input name="reason" placeholder="reason" size="16" required aria-label="reason for refusing"><button type="submit">Reject</button></form>`;
  return html`${errorList(errors)}
  <section id="queue"><h2>Payouts to handle</h2>${payoutsTable(d.queue.rows, handle)}${pager('queue', d.queue, pages)}</section>
  <section id="runs"><h2>Daily runs</h2>${
    d.runs.rows.length
      ? html`<table class="runs"><thead><tr><th>Day</th><th>Status</th><th>Started</th><th>Finished</th><th>Detail</th></tr></thead><tbody>${d.runs.rows.map(
          (r) => html`<tr><td>${r.day}</td><td class="${/fail|error/i.test(r.status) ? 'status-failed' : 'status-ok'}">${r.status}</td>
            <td>${r.startedAt ?? ''}</td><td>${r.finishedAt ?? ''}</td><td>${r.detail ?? ''}</td></tr>`,
        )}</tbody></table>`
      : html`<p class="muted">No runs yet.</p>`
  }${pager('runs', d.runs, pages)}</section>
  <section id="investors"><h2>Investors</h2><table class="investors"><thead><tr><th>Investor</th><th>Email</th><th class="num">Balance</th></tr></thead><tbody>
  ${d.investors.rows.map(
    (i) => html`<tr><td><a href="/admin/investors/${encodeURIComponent(i.id)}">${i.name}</a></td><td>${i.email ?? ''}</td><td class="num">${btc(i.balanceSat)}</td></tr>`,
  )}</tbody></table>${pager('investors', d.investors, pages)}</section>
  <section id="contracts"><h2>Contracts</h2>${contractsTable(d.contracts.rows, false)}${pager('contracts', d.contracts, pages)}</section>
  <section id="payouts"><h2>All payouts</h2>${payoutsTable(d.payouts.rows, () => html``)}${pager('payouts', d.payouts, pages)}</section>`;
}

export function adminInvestorBody(d: DashboardData & { payouts: PayoutView[] }): SafeHtml {
  return html`<section><p>Balance <strong>${btc(d.investor.balanceSat)}</strong> · ${d.investor.email ?? ''}</p>${owedNote(d.investor)}</section>
  <section><h2>Hashrate delivered vs purchased</h2>${hashrateChart(chartDays(d.credits), 'Daily hashrate delivered against purchased')}</section>
  <section><h2>Contracts</h2>${contractsTable(d.contracts, false)}</section>
  <section><h2>Daily credits</h2>${creditsTable(d.credits, d.contracts, d.investor.currency)}</section>
  <section><h2>Payouts</h2>${payoutsTable(d.payouts)}</section>`;
}

export function notificationsBody(csrf: string, dailyCreditOn: boolean): SafeHtml {
  return html`<section class="notifications"><h2>Mails</h2><form method="post" action="/account/notifications">${csrfField(csrf)}
    <label><input type="checkbox" name="dailyCredit" value="on"${dailyCreditOn ? html` checked` : html``}> Mail me after each credited day (the day's credit and my balance)</label>
    <p><button type="submit">Save</button></p></form><p class="muted">Monthly statements are always mailed.</p></section>`;
}

export function statementsBody(months: readonly string[]): SafeHtml {
  if (!months.length) return html`<section><p class="muted">No statements yet: the first is ready once the first month of your contract is over.</p></section>`;
  return html`<section><table class="statements"><thead><tr><th>Month</th><th>Printable page</th><th>PDF</th></tr></thead><tbody>
  ${months.map(
    (m) => html`<tr data-month="${m}"><td>${m}</td><td><a href="/statements/${m}">View</a></td><td><a href="/statements/${m}.pdf" download>Download PDF</a></td></tr>`,
  )}</tbody></table><p class="muted">Each month's statement is also mailed to you with a download link once every day of the month is credited.</p></section>`;
}

export function messageBody(text: string, link?: { href: string; label: string }): SafeHtml {
  return html`<section><p>${text}</p>${link ? html`<p><a href="${link.href}">${link.label}</a></p>` : html``}</section>`;
}
