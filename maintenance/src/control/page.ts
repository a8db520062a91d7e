/**
 * The staff page /control: a form for one action on miners (ids, slot paths or whole containers; reason and dry run),
 * and the requests, newest first, each with its per-miner outcomes. /assets/control.js sends the form as JSON and,
 * while a request is queued or running, re-reads the list every few seconds. Everything shown goes through
 * escapeHtml; the page has no inline script (CSP script-src 'self').
 */
import { escapeHtml } from '@flymining/shared';
import { describeAction } from '@flymining/exporters/src/miner/control/types';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { formatAge } from '../staff/format';
import { layout, type PageFrame } from '../staff/views';
import { CONTROL_STATUSES, outcomeCounts, type ControlRequest } from './store';

const e = escapeHtml;

export const PAGE_ACTIONS = ['reboot', 'sleep', 'wake', 'power', 'pools', 'switch-pool', 'blink', 'blink-off'] as const;
const ACTION_LABELS: Record<(typeof PAGE_ACTIONS)[number], string> = {
  reboot: 'Reboot',
  sleep: 'Sleep',
  wake: 'Wake',
  power: 'Power target / work mode',
  pools: 'Set pools',
  'switch-pool': 'Switch active pool',
  blink: 'Blink LED (find it on site)',
  'blink-off': 'Stop blinking',
};

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const prefill = (max: number) => z.preprocess(emptyAsUndefined, z.string().max(max).regex(/^[^\u0000-\u001f]*$/).optional()).catch(undefined);

/** The list's filters and page, and a form prefilled from a link (a ticket's "reboot this miner"). Bad prefill is ignored. */
export const controlPageQuerySchema = z.object({
  container: z.preprocess(emptyAsUndefined, z.string().max(100).regex(/^[A-Za-z0-9._-]*$/, 'a container name').optional()),
  status: z.preprocess(emptyAsUndefined, z.enum(CONTROL_STATUSES, { error: `one of ${CONTROL_STATUSES.join(', ')}` }).optional()),
  before: z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().optional()),
  targets: prefill(1000),
  action: z.preprocess(emptyAsUndefined, z.enum(PAGE_ACTIONS).optional()).catch(undefined),
  reason: prefill(500),
  /** `requests`: the list alone, which the page script swaps in while requests run. */
  part: z.preprocess(emptyAsUndefined, z.enum(['requests']).optional()).catch(undefined),
});
export type ControlPageQuery = z.output<typeof controlPageQuerySchema>;

export interface ControlPageView {
  list: { requests: ControlRequest[]; next: number | null };
  query: ControlPageQuery;
  /** The inventory's containers, null without an inventory (the form cannot be used then). */
  containers: string[] | null;
  inventorySource?: string;
}

const RUNNING: ReadonlySet<string> = new Set(['queued', 'claimed']);
const GOOD_OUTCOMES: ReadonlySet<string> = new Set(['confirmed', 'sent', 'dry-run']);

function time(at: Date | null, zone: string): string {
  return at ? DateTime.fromJSDate(at, { zone }).toFormat('yyyy-LL-dd HH:mm:ss') : '–';
}

function statusLine(r: ControlRequest, frame: PageFrame): string {
  const now = frame.now.getTime();
  switch (r.status) {
    case 'queued':
      return `waiting for edge-${e(r.container)} (expires in ${e(formatAge((r.expiresAt.getTime() - now) / 1000))})`;
    case 'claimed':
      return `running on ${e(r.claimedBy ?? '?')} since ${e(time(r.claimedAt, frame.timeZone))}`;
    case 'done':
      return `done ${e(time(r.finishedAt, frame.timeZone))}`;
    case 'expired':
      return `expired ${e(time(r.finishedAt, frame.timeZone))}: its edge did not fetch it in time, nothing was done`;
    case 'cancelled':
      return `cancelled ${e(time(r.finishedAt, frame.timeZone))}`;
  }
}

function resultTable(r: ControlRequest): string {
  const results = r.results ?? [];
  if (results.length === 0) return r.status === 'claimed' ? '<p class="muted">No miner finished yet.</p>' : '';
  return `<table class="control-results"><thead><tr><th>Miner</th><th>Where</th><th>Outcome</th><th class="num">Took</th><th>Detail</th><th>Reply</th></tr></thead><tbody>${results
    .map(
      (m) =>
        `<tr data-miner="${e(m.miner)}"><td>${e(m.miner)}</td><td>${e(m.place)}</td><td><span class="badge ${GOOD_OUTCOMES.has(m.outcome) ? 'state-fixed' : 'critical'}">${e(m.outcome)}</span></td>
<td class="num">${((m.durationMs + (m.confirmMs ?? 0)) / 1000).toFixed(1)} s</td><td>${e(m.detail)}</td><td class="muted">${e(m.reply)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function requestCard(r: ControlRequest, frame: PageFrame): string {
  const cancel =
    r.status === 'queued'
      ? `<form class="inline" data-json data-action="/api/control/requests/${r.id}/cancel" data-method="POST">${frame.askName ? '<label>Your name<input name="by" maxlength="200" required></label>' : ''}<button type="submit" class="secondary">Cancel</button><span class="form-error error" role="alert"></span></form>`
      : '';
  return `<div class="card control-request" data-request="${r.id}" data-status="${e(r.status)}">
<div><b>#${r.id}</b> ${e(describeAction(r.action))}${r.dryRun ? ' <span class="badge info">dry run</span>' : ''} on <b>${e(r.targets.join(' '))}</b>
· <span class="badge ${r.status === 'done' ? 'state-fixed' : r.status === 'expired' || r.status === 'cancelled' ? 'warning' : 'state-in_repair'}">${e(r.status)}</span>
<span class="status-line">${statusLine(r, frame)}</span></div>
<div class="muted">asked by ${e(r.requestedBy)} at ${e(time(r.createdAt, frame.timeZone))} · ${e(r.reason)}${r.results ? ` · <span class="summary">${e(outcomeCounts(r.results))}</span>` : ''}</div>
${resultTable(r)}${cancel}</div>`;
}

function requestForm(frame: PageFrame, v: ControlPageView): string {
  if (!v.containers) return '<p class="error">The maintenance service has no inventory (FLYMINING_INVENTORY): it cannot send actions to the edges.</p>';
  const q = v.query;
  const option = (value: string, label: string, selected: boolean) => `<option value="${e(value)}"${selected ? ' selected' : ''}>${e(label)}</option>`;
  const poolRow = (i: number) =>
    `<div class="part-row pool-row"><label>Pool ${i + 1} URL<input name="poolUrl" maxlength="220" placeholder="stratum+tcp://pool.example.com:3333"></label><label>Worker<input name="poolUser" maxlength="200"></label><label>Password<input name="poolPassword" maxlength="200" placeholder="x"></label></div>`;
  return `<form id="control-form" class="card close-form" data-control>
<label>Miners (ids or slot paths such as C02/R1, separated by spaces)<input name="targets" size="50" maxlength="5000" value="${e(q.targets ?? '')}"></label>
<label>…or every miner of<select name="allIn">${option('', '–', true)}${v.containers.map((c) => option(c, c, false)).join('')}</select></label>
<label>Action<select name="action">${PAGE_ACTIONS.map((a) => option(a, ACTION_LABELS[a], a === (q.action ?? 'blink'))).join('')}</select></label>
<fieldset data-for="power"><legend>Power</legend><label>Watts<input name="watts" type="number" min="100" max="20000" step="1"></label>
<label>…or work mode<select name="mode">${option('', '–', true)}${['low', 'normal', 'high'].map((m) => option(m, m, false)).join('')}</select></label></fieldset>
<fieldset data-for="pools"><legend>Pools, in priority order</legend>${[0, 1, 2].map(poolRow).join('')}</fieldset>
<fieldset data-for="switch-pool"><legend>Switch</legend><label>Pool index (0 = first)<input name="index" type="number" min="0" max="9" step="1"></label></fieldset>
<label>Reason (for the audit)<input name="reason" size="40" maxlength="500" required value="${e(q.reason ?? '')}"></label>
${frame.askName ? '<label>Your name<input name="by" maxlength="200" required autocomplete="name"></label>' : ''}
<label class="check"><span><input name="dryRun" type="checkbox"> Dry run (read the miners, change nothing)</span></label>
<button type="submit">Send to the edges</button><span class="form-error error" role="alert"></span><span class="form-done muted" role="status"></span></form>
<p class="muted">Each container's edge fetches its requests over the uplink within about 10 s; a request it has not fetched within 10 minutes expires and is never carried out. Rate limits and staggering of the edge apply.</p>`;
}

/** The request list, alone (`?part=requests`) or inside the page. */
export function requestList(frame: PageFrame, v: ControlPageView): string {
  const running = v.list.requests.some((r) => RUNNING.has(r.status));
  const more = v.list.next === null ? '' : `<p><a href="/control?${new URLSearchParams({ ...(v.query.container ? { container: v.query.container } : {}), ...(v.query.status ? { status: v.query.status } : {}), before: String(v.list.next) }).toString()}">Older requests</a></p>`;
  return `<section id="control-requests" data-running="${running ? '1' : '0'}">${v.list.requests.length === 0 ? '<p class="muted">No requests.</p>' : v.list.requests.map((r) => requestCard(r, frame)).join('\n')}${more}</section>`;
}

export function controlPage(frame: PageFrame, v: ControlPageView): string {
  const filterOption = (value: string, selected: string | undefined) => `<option value="${e(value)}"${value === (selected ?? '') ? ' selected' : ''}>${e(value || 'any')}</option>`;
  return layout(
    frame,
    'Miner control',
    `${requestForm(frame, v)}
<h2>Requests</h2>
<form class="filters" method="get" action="/control"><label>Container<select name="container">${['', ...(v.containers ?? [])].map((c) => filterOption(c, v.query.container)).join('')}</select></label>
<label>Status<select name="status">${['', ...CONTROL_STATUSES].map((s) => filterOption(s, v.query.status)).join('')}</select></label><button type="submit">Show</button></form>
${requestList(frame, v)}
<script src="/assets/control.js" defer></script>`,
  );
}
