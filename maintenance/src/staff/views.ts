/**
 * The staff pages as HTML strings. Every value from the database or the request goes through escapeHtml (a note
 * or a fault text is what a technician typed); the only script is /assets/staff.js (CSP script-src 'self'), the
 * only style the page's own <style> by this response's nonce, so colours come from classes, never style="".
 */
import { escapeHtml } from '@flymining/shared';
import { PART_KINDS, REPAIR_ACTIONS, TICKET_STATES, type Ticket, type TicketEvent } from '../domain';
import type { Backlog, ReportRow, WeekOverWeek } from '../figures/report';
import type { OnCallShift, Rota } from '../rota/schedule';
import type { MachineHistory, RepairRecord, TicketDetail } from '../tickets/store';
import { ageOf, formatAge, formatPlace, formatShiftTime, formatTime, ticketOwner } from './format';
import type { MachineChange } from '../tickets/changes';

const e = escapeHtml;

export interface PageFrame {
  nonce: string;
  /** Who is signed in, shown in the header. */
  who: string;
  /** Tokens are shared by a workshop screen: their forms ask who is acting. */
  askName: boolean;
  timeZone: string;
  now: Date;
}

const STYLE = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:16px;color:#1c2330;background:#f5f6f8}
body{margin:0}header{background:#1c2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;font-weight:600}header .who{margin-left:auto;opacity:.8;font-size:.9rem}
main{padding:1rem 1.2rem;max-width:1400px}h1{font-size:1.5rem;margin:.3rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #dde1e7;vertical-align:top}
th{background:#e9ecf1;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.sev-critical td:first-child{border-left:6px solid #c62828}tr.sev-warning td:first-child{border-left:6px solid #ef8f00}tr.sev-info td:first-child{border-left:6px solid #1e6fd9}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;font-size:.85rem;font-weight:600;color:#fff;background:#5b6575}
.badge.critical{background:#c62828}.badge.warning{background:#b86e00}.badge.info{background:#1e6fd9}
.badge.state-in_repair{background:#6a3fb5}.badge.state-fixed,.badge.state-verified{background:#2e7d32}.badge.state-self_healed{background:#4f7f6f}.badge.state-reopened{background:#c62828}
form.filters,form.inline{display:flex;gap:.8rem;align-items:end;flex-wrap:wrap;margin:.5rem 0 1rem}
label{display:flex;flex-direction:column;font-size:.85rem;gap:.2rem}input,select,textarea,button{font:inherit;padding:.35rem .5rem}
button{background:#1e6fd9;color:#fff;border:0;border-radius:.3rem;padding:.45rem .9rem;cursor:pointer}button.secondary{background:#5b6575}
.actions{display:flex;gap:1rem;flex-wrap:wrap;align-items:start}.card{background:#fff;border:1px solid #dde1e7;border-radius:.4rem;padding:.8rem 1rem;margin:.5rem 0}
.error{color:#b00020;font-weight:600}.muted{color:#5b6575}dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{font-weight:600}
ol.timeline{list-style:none;padding:0;margin:0}ol.timeline li{padding:.4rem 0;border-bottom:1px solid #e3e6eb}ol.timeline .kind{font-weight:600;min-width:7rem;display:inline-block}
.big{font-size:1.6rem;font-weight:700}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.8rem}
fieldset{border:1px solid #dde1e7;border-radius:.3rem}.part-row{display:flex;gap:.8rem;flex-wrap:wrap;margin:.3rem 0}
form.close-form{display:flex;flex-wrap:wrap;gap:.8rem;align-items:end}form.close-form fieldset{flex-basis:100%}svg text{font-family:inherit}
`;

export function layout(frame: PageFrame, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} · FlyMining maintenance</title><style nonce="${e(frame.nonce)}">${STYLE}</style>
<script src="/assets/staff.js" defer></script></head>
<body><header><a href="/">Open tickets</a><a href="/rota">On call</a><a href="/figures">Figures</a><a href="/control">Control</a>
<span class="who">${e(frame.who)} · times in ${e(frame.timeZone)}</span></header>
<main><h1>${e(title)}</h1>${body}</main></body></html>`;
}

export function errorPage(frame: PageFrame, status: number, message: string): string {
  return layout(frame, status === 404 ? 'Not found' : 'Cannot show this', `<p class="error">${e(message)}</p><p><a href="/">Back to the open tickets</a></p>`);
}

function badge(text: string, cls: string): string {
  return `<span class="badge ${e(cls)}">${e(text.replace(/_/g, ' '))}</span>`;
}

function ticketRows(tickets: Ticket[], frame: PageFrame): string {
  if (tickets.length === 0) return '<tr><td colspan="9" class="muted">No tickets.</td></tr>';
  return tickets
    .map(
      (t) => `<tr class="sev-${e(t.severity)}" data-ticket="${t.id}">
<td><a href="/tickets/${t.id}">#${t.id}</a></td><td class="num">${e(formatAge(ageOf(t, frame.now)))}</td><td>${badge(t.severity, t.severity)}</td>
<td>${e(formatPlace(t))}</td><td>${e(t.fault)}</td><td>${e(t.part || 'whole miner')}</td><td>${badge(t.state, `state-${t.state}`)}</td><td>${e(ticketOwner(t))}</td>
<td><a href="/machines/${encodeURIComponent(t.machine)}">${e(t.machine)}</a></td></tr>`,
    )
    .join('\n');
}

function ticketTable(tickets: Ticket[], frame: PageFrame): string {
  return `<table class="tickets"><thead><tr><th>Ticket</th><th class="num">Age</th><th>Severity</th><th>Container / rack / shelf / slot</th><th>Fault</th><th>Part</th><th>State</th><th>Who</th><th>Machine</th></tr></thead>
<tbody>${ticketRows(tickets, frame)}</tbody></table>`;
}

export interface TicketListView {
  tickets: Ticket[];
  filter: { state: string; container: string; technician: string };
  backlog: Backlog;
}

export function ticketListPage(frame: PageFrame, v: TicketListView): string {
  const states = ['backlog', 'all', 'closed', ...TICKET_STATES];
  const option = (value: string, selected: string, label = value.replace(/_/g, ' ')) => `<option value="${e(value)}"${value === selected ? ' selected' : ''}>${e(label)}</option>`;
  const b = v.backlog;
  return layout(
    frame,
    'Open tickets',
    `<div class="grid">
<div class="card"><div class="muted">Open</div><div class="big">${b.open}</div><div>${b.bySeverity.critical} critical · ${b.bySeverity.warning} warning · ${b.bySeverity.info} info</div></div>
<div class="card"><div class="muted">Not acknowledged</div><div class="big">${b.unacknowledged}</div></div>
<div class="card"><div class="muted">Oldest open</div><div class="big">${e(formatAge(b.oldestS))}</div></div>
<div class="card"><div class="muted">By age</div><div>&lt;1 h: ${b.byAge.under1h} · 1–4 h: ${b.byAge.under4h} · 4–24 h: ${b.byAge.under24h} · 1–7 d: ${b.byAge.under7d} · older: ${b.byAge.older}</div></div>
</div>
<form class="filters" method="get" action="/">
<label>State<select name="state">${states.map((s) => option(s, v.filter.state, s === 'backlog' ? 'open (backlog)' : undefined)).join('')}</select></label>
<label>Container<input name="container" value="${e(v.filter.container)}" maxlength="100" placeholder="e.g. C01"></label>
<label>Technician<input name="technician" value="${e(v.filter.technician)}" maxlength="200"></label>
<button type="submit">Show</button></form>
${ticketTable(v.tickets, frame)}`,
  );
}

function nameField(frame: PageFrame): string {
  return frame.askName ? '<label>Your name<input name="by" maxlength="200" required autocomplete="name"></label>' : '';
}

/** A form the page script posts as JSON to `action`; a failure shows in its .form-error. */
function jsonForm(action: string, fields: string, button: string, options: { method?: string; cls?: string; id?: string } = {}): string {
  return `<form class="${options.cls ?? 'inline'}" data-json data-action="${e(action)}" data-method="${options.method ?? 'POST'}"${options.id ? ` id="${e(options.id)}"` : ''}>
${fields}<button type="submit">${e(button)}</button><span class="form-error error" role="alert"></span></form>`;
}

function repairList(repairs: RepairRecord[], frame: PageFrame, withTicket: boolean): string {
  if (repairs.length === 0) return '<p class="muted">No repairs recorded.</p>';
  return `<table class="repairs"><thead><tr><th>When</th>${withTicket ? '<th>Ticket</th>' : ''}<th>Who</th><th>Action</th><th>Parts (out → in)</th><th>Notes</th><th class="num">On site</th></tr></thead><tbody>
${repairs
  .map(
    (r) => `<tr><td>${e(formatTime(r.at, frame.timeZone))}</td>${withTicket ? `<td><a href="/tickets/${r.ticketId}">#${r.ticketId}</a></td>` : ''}<td>${e(r.by)}</td><td>${e(r.action.replace(/_/g, ' '))}</td>
<td>${r.parts.map((p) => `${e(p.kind)}: ${p.removedSerial ? `<a href="/parts/${encodeURIComponent(p.removedSerial)}">${e(p.removedSerial)}</a>` : '–'} → ${p.installedSerial ? `<a href="/parts/${encodeURIComponent(p.installedSerial)}">${e(p.installedSerial)}</a>` : '–'}`).join('<br>') || '–'}</td>
<td>${e(r.notes) || '–'}</td><td class="num">${r.minutesOnSite === null ? '–' : `${r.minutesOnSite} min`}</td></tr>`,
  )
  .join('\n')}</tbody></table>`;
}

function timeline(events: TicketEvent[], frame: PageFrame): string {
  return `<ol class="timeline">${events
    .map((ev) => `<li><span class="muted">${e(formatTime(ev.at, frame.timeZone))}</span> <span class="kind">${e(ev.kind.replace(/_/g, ' '))}</span> ${ev.by ? `by <b>${e(ev.by)}</b>` : ''} ${ev.detail ? `<span class="detail">— ${e(ev.detail)}</span>` : ''}</li>`)
    .join('')}</ol>`;
}

/** Links to /control prefilled for this ticket's miner (the action is confirmed there, with a reason); none for a container-level fault. */
function minerControlLinks(t: Ticket): string {
  if (t.slot === '-' || t.slot === '') return '';
  const link = (action: string, label: string) =>
    `<a class="control-link" href="/control?${e(new URLSearchParams({ targets: t.miner, action, reason: `ticket #${t.id}` }).toString())}">${label}</a>`;
  return ` · ${link('reboot', 'reboot')} / ${link('blink', 'blink')} this miner`;
}

export function ticketPage(frame: PageFrame, d: TicketDetail): string {
  const t = d.ticket;
  const closed = t.closedAt !== null;
  const canAck = !closed && t.acknowledgedAt === null;
  const canTake = ['open', 'acknowledged', 'reopened'].includes(t.state);
  const canClose = !closed && t.state !== 'fixed';
  const base = `/api/tickets/${t.id}`;
  const partRow = (i: number) =>
    `<div class="part-row"><label>Part<select name="kind">${PART_KINDS.map((k) => `<option>${k}</option>`).join('')}</select></label>
<label>Serial out<input name="removedSerial" maxlength="100" data-part="${i}"></label><label>Serial in<input name="installedSerial" maxlength="100" data-part="${i}"></label></div>`;
  const actions = [
    canAck ? jsonForm(`${base}/ack`, nameField(frame), 'Acknowledge', { id: 'ack' }) : '',
    canTake ? jsonForm(`${base}/take`, nameField(frame), 'Take', { id: 'take' }) : '',
    jsonForm(`${base}/note`, `${nameField(frame)}<label>Note<textarea name="text" rows="2" cols="40" maxlength="4000" required></textarea></label>`, 'Add note', { id: 'note' }),
  ].join('');
  const closeForm = canClose
    ? `<h2>Close with a repair record</h2>${jsonForm(
        `${base}/close`,
        `${nameField(frame)}<label>What was done<select name="action">${REPAIR_ACTIONS.map((a) => `<option value="${a}">${a.replace(/_/g, ' ')}</option>`).join('')}</select></label>
<fieldset><legend>Parts with serial numbers</legend>${[0, 1, 2].map(partRow).join('')}</fieldset>
<label>Notes<textarea name="notes" rows="3" cols="50" maxlength="4000"></textarea></label>
<label>Minutes on site<input name="minutesOnSite" type="number" min="0" max="10080" data-number></label>`,
        'Close ticket',
        { cls: 'card close-form', id: 'close' },
      )}`
    : '';
  return layout(
    frame,
    `Ticket #${t.id}: ${t.fault}${t.part ? ` (${t.part})` : ''}`,
    `<div class="card"><dl class="facts">
<dt>State</dt><dd>${badge(t.state, `state-${t.state}`)} ${t.firing ? '<span class="error">fault still firing</span>' : '<span class="muted">fault cleared</span>'}</dd>
<dt>Severity</dt><dd>${badge(t.severity, t.severity)}</dd>
<dt>Where</dt><dd>${e(t.site)} · ${e(formatPlace(t))} · miner ${e(t.miner)}${minerControlLinks(t)}</dd>
<dt>Machine</dt><dd><a href="/machines/${encodeURIComponent(t.machine)}">${e(t.machine)}</a></dd>
<dt>Opened</dt><dd>${e(formatTime(t.openedAt, frame.timeZone))} (${e(formatAge(ageOf(t, frame.now)))}${closed ? ' until closed' : ' ago'})</dd>
<dt>Acknowledged</dt><dd>${t.acknowledgedAt ? `${e(formatTime(t.acknowledgedAt, frame.timeZone))} by ${e(t.acknowledgedBy ?? '')}` : '–'}</dd>
<dt>In repair</dt><dd>${t.takenAt ? `${e(formatTime(t.takenAt, frame.timeZone))} by ${e(t.takenBy ?? '')}` : '–'}</dd>
<dt>Fixed</dt><dd>${t.fixedAt ? `${e(formatTime(t.fixedAt, frame.timeZone))} by ${e(t.fixedBy ?? '')}` : '–'}</dd>
${t.repeatOf ? `<dt>Repeat of</dt><dd><a href="/tickets/${t.repeatOf}">#${t.repeatOf}</a></dd>` : ''}
${t.lostThHours !== null ? `<dt>Lost</dt><dd>${t.lostThHours.toFixed(1)} TH·h${t.lostBtc ? ` · ${e(t.lostBtc)} BTC` : ''}</dd>` : ''}
</dl></div>
<div class="actions">${actions}</div>${closeForm}
<h2>Repairs</h2>${repairList(d.repairs, frame, false)}
<h2>Timeline</h2>${timeline(d.events, frame)}`,
  );
}

/** The machine's changes recorded by the exporter (pools, firmware, serial, MAC); undefined: InfluxDB not configured. */
function changeList(changes: MachineChange[] | 'unavailable' | undefined, frame: PageFrame): string {
  if (changes === undefined) return '<p class="muted">Changes (pools, firmware, serial) are read from InfluxDB: not configured for this server.</p>';
  if (changes === 'unavailable') return '<p class="muted">InfluxDB did not answer: the changes cannot be shown now.</p>';
  if (changes.length === 0) return '<p class="muted">No pool, firmware or identity change recorded in the last 40 days.</p>';
  const rows = changes
    .map((c) => `<tr><td>${e(formatTime(new Date(c.time), frame.timeZone))}</td><td>${e(c.miner)}</td><td>${e(c.kind.replace(/_/g, ' '))}</td><td>${e(c.before || '–')}</td><td>${e(c.after || '–')}</td></tr>`)
    .join('');
  return `<table><thead><tr><th>When</th><th>Slot</th><th>What</th><th>Before</th><th>After</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function machinePage(frame: PageFrame, h: MachineHistory, changes?: MachineChange[] | 'unavailable'): string {
  const m = h.machine;
  return layout(
    frame,
    `Machine ${m.identity}`,
    `<div class="card"><dl class="facts"><dt>Serial</dt><dd>${e(m.serial ?? '–')}</dd><dt>MAC</dt><dd>${e(m.mac ?? '–')}</dd><dt>Model</dt><dd>${e(m.model ?? '–')}</dd>
<dt>Slots it stood in</dt><dd>${e([...new Set(h.tickets.map((t) => formatPlace(t)))].join(', ') || '–')}</dd></dl></div>
<h2>Tickets (${h.tickets.length})</h2>${ticketTable(h.tickets, frame)}<h2>Repairs (${h.repairs.length})</h2>${repairList(h.repairs, frame, true)}
<h2>Changes</h2>${changeList(changes, frame)}`,
  );
}

export function partPage(frame: PageFrame, serial: string, repairs: RepairRecord[]): string {
  const removals = repairs.filter((r) => r.parts.some((p) => p.removedSerial === serial)).length;
  return layout(
    frame,
    `Part ${serial}`,
    `<p>${repairs.length === 0 ? 'No repair names this serial.' : `Named in ${repairs.length} repair${repairs.length === 1 ? '' : 's'}; taken out ${removals} time${removals === 1 ? '' : 's'}.`}</p>${repairList(repairs, frame, true)}`,
  );
}

export interface RotaView {
  rota: Rota | undefined;
  onCall: OnCallShift | undefined;
  upcoming: OnCallShift[];
}

export function rotaPage(frame: PageFrame, v: RotaView): string {
  const tz = frame.timeZone;
  if (!v.rota) return layout(frame, 'On call', '<p>No rota is set up yet. Import one with <code>flymining oncall import provisioning/maintenance/rota.yaml</code> or start the server with <code>--rota FILE</code>.</p>');
  const r = v.rota;
  const now = v.onCall
    ? `<div class="card"><div class="muted">On call now</div><div class="big" id="on-call-now">${e(v.onCall.person.name)}</div><div>until ${e(formatShiftTime(v.onCall.until, tz))}${v.onCall.override ? ` (override: ${e(v.onCall.override.reason || 'no reason given')})` : ''}</div></div>`
    : '<p class="error">Nobody is on call: the rotation has no active member.</p>';
  const memberOptions = r.members.map((m) => `<option>${e(m.name)}</option>`).join('');
  return layout(
    frame,
    'On call',
    `${now}
<p class="muted">Hand-over ${e(r.handover)} ${e(tz)}, ${e(r.shift)} shifts; unacknowledged pages escalate after ${e(formatAge(r.escalateAfterMs / 1000))}.</p>
<h2>Next shifts</h2><table><thead><tr><th>From</th><th>Until</th><th>On call</th><th>Note</th></tr></thead><tbody>
${v.upcoming.map((s) => `<tr><td>${e(formatShiftTime(s.from, tz))}</td><td>${e(formatShiftTime(s.until, tz))}</td><td>${e(s.person.name)}</td><td>${s.override ? `override${s.override.reason ? `: ${e(s.override.reason)}` : ''}` : ''}</td></tr>`).join('\n')}
</tbody></table>
<h2>Overrides</h2><table><thead><tr><th>Who</th><th>From</th><th>Until</th><th>Reason</th><th></th></tr></thead><tbody>
${
  r.overrides.length === 0
    ? '<tr><td colspan="5" class="muted">None.</td></tr>'
    : r.overrides
        .map(
          (o) =>
            `<tr><td>${e(o.name)}</td><td>${e(formatShiftTime(o.startsAt, tz))}</td><td>${e(formatShiftTime(o.endsAt, tz))}</td><td>${e(o.reason)}</td><td>${jsonForm(`/api/rota/overrides/${o.id ?? 0}`, '', 'Remove', { method: 'DELETE' })}</td></tr>`,
        )
        .join('\n')
}
</tbody></table>
${jsonForm(
  '/api/rota/overrides',
  `<label>Who<select name="name">${memberOptions}</select></label><label>From (${e(tz)})<input name="from" type="datetime-local" required></label>
<label>Until<input name="to" type="datetime-local" required></label><label>Reason<input name="reason" maxlength="500"></label>`,
  'Add override',
  { cls: 'card close-form', id: 'add-override' },
)}
<h2>Rotation order</h2><ol>${r.members.map((m) => `<li>${e(m.name)}${m.active ? '' : ' <span class="muted">(inactive)</span>'}${m.email ? ` · ${e(m.email)}` : ''}${m.telegram ? ' · Telegram' : ''}${m.slack ? ' · Slack' : ''}</li>`).join('')}</ol>
${jsonForm('/api/rota/members', `<label>New order (names, comma-separated)<input name="names" data-list size="50" value="${e(r.members.filter((m) => m.active).map((m) => m.name).join(', '))}" required></label>`, 'Save order', { method: 'PUT', id: 'members' })}`,
  );
}

export interface FiguresView {
  query: { from: string; to: string; period: string; by: string };
  rows: ReportRow[];
  /** The same periods without a dimension: what the MTTR chart shows. */
  totals: ReportRow[];
  backlog: Backlog;
  weekOverWeek: WeekOverWeek;
  repeatOffenders: Array<{ serial: string; kind: string; removals: number; lastAt: Date }>;
}

/** Bars of MTTR (hours) per period, drawn as SVG attributes (no style attributes: the CSP forbids them). */
export function mttrChart(rows: ReportRow[]): string {
  const points = rows.filter((r) => r.mttrS !== null);
  if (points.length === 0) return '<p class="muted">No repairs in this range: no MTTR to draw.</p>';
  const width = 760;
  const height = 240;
  const top = 24;
  const bottom = 40;
  const left = 8;
  const maxH = Math.max(...points.map((p) => p.mttrS! / 3600));
  const slot = (width - left) / rows.length;
  const barW = Math.max(4, Math.min(60, slot * 0.7));
  const bars = rows
    .map((r, i) => {
      const x = left + i * slot + (slot - barW) / 2;
      const label = `<text x="${(x + barW / 2).toFixed(1)}" y="${height - bottom + 16}" font-size="11" text-anchor="middle" fill="#1c2330">${e(r.period.slice(5))}</text>`;
      if (r.mttrS === null) return label;
      const hours = r.mttrS / 3600;
      const h = maxH > 0 ? (hours / maxH) * (height - top - bottom) : 0;
      const y = height - bottom - h;
      return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="#1e6fd9"><title>${e(r.period)}: ${e(formatAge(r.mttrS))}</title></rect>
<text x="${(x + barW / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" font-size="11" text-anchor="middle" fill="#1c2330">${hours.toFixed(1)} h</text>${label}`;
    })
    .join('\n');
  return `<svg class="mttr-chart" role="img" aria-label="MTTR per period in hours" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#5b6575"/>${bars}</svg>`;
}

export function figuresPage(frame: PageFrame, v: FiguresView): string {
  const q = v.query;
  const opt = (values: readonly string[], selected: string) => values.map((x) => `<option${x === selected ? ' selected' : ''}>${e(x)}</option>`).join('');
  const w = v.weekOverWeek;
  return layout(
    frame,
    'Figures',
    `<div class="grid">
<div class="card"><div class="muted">MTTR this week</div><div class="big">${e(formatAge(w.thisWeek.mttrS))}</div><div>last week ${e(formatAge(w.lastWeek.mttrS))} · ${w.thisWeek.repaired} repaired (last week ${w.lastWeek.repaired})</div></div>
<div class="card"><div class="muted">MTTA this week</div><div class="big">${e(formatAge(w.thisWeek.mttaS))}</div><div>last week ${e(formatAge(w.lastWeek.mttaS))}</div></div>
<div class="card"><div class="muted">Open tickets</div><div class="big">${v.backlog.open}</div><div>oldest ${e(formatAge(v.backlog.oldestS))}</div></div>
</div>
<form class="filters" method="get" action="/figures">
<label>From<input name="from" type="date" value="${e(q.from)}"></label><label>To (exclusive)<input name="to" type="date" value="${e(q.to)}"></label>
<label>Per<select name="period">${opt(['day', 'week', 'month'], q.period)}</select></label><label>By<select name="by">${opt(['none', 'technician', 'container', 'fault'], q.by)}</select></label>
<button type="submit">Show</button></form>
<h2>MTTR per ${e(q.period)}</h2>${mttrChart(v.totals)}
<h2>Per ${e(q.period)}${q.by === 'none' ? '' : ` and ${e(q.by)}`}</h2>
<table class="figures"><thead><tr><th>${e(q.period)} from</th>${q.by === 'none' ? '' : `<th>${e(q.by)}</th>`}<th class="num">Opened</th><th class="num">Repeats</th><th class="num">MTTA</th><th class="num">Repaired</th><th class="num">MTTR</th><th class="num">Self-healed</th><th class="num">Lost TH·h</th><th class="num">Lost BTC</th></tr></thead><tbody>
${
  v.rows.length === 0
    ? '<tr><td colspan="10" class="muted">No tickets in this range.</td></tr>'
    : v.rows
        .map(
          (r) =>
            `<tr><td>${e(r.period)}</td>${q.by === 'none' ? '' : `<td>${e(r.key)}</td>`}<td class="num">${r.opened}</td><td class="num">${r.repeats}</td><td class="num">${e(formatAge(r.mttaS))}</td><td class="num">${r.repaired}</td><td class="num">${e(formatAge(r.mttrS))}</td><td class="num">${r.selfHealed}</td><td class="num">${r.lostThHours.toFixed(1)}</td><td class="num">${e(r.lostBtc)}</td></tr>`,
        )
        .join('\n')
}</tbody></table>
<p class="muted">MTTA: opening to acknowledgement, counted when acknowledged. MTTR: opening to fix (fault cleared after the repair), counted when fixed. Repeats: the same machine failing again within 7 days of a fix. Lost TH·h and BTC: of tickets opened in the period, filled once they close.</p>
<h2>Parts taken out more than once</h2>
${
  v.repeatOffenders.length === 0
    ? '<p class="muted">None.</p>'
    : `<table><thead><tr><th>Serial</th><th>Kind</th><th class="num">Times taken out</th><th>Last</th></tr></thead><tbody>${v.repeatOffenders
        .map((p) => `<tr><td><a href="/parts/${encodeURIComponent(p.serial)}">${e(p.serial)}</a></td><td>${e(p.kind)}</td><td class="num">${p.removals}</td><td>${e(formatTime(p.lastAt, frame.timeZone))}</td></tr>`)
        .join('')}</tbody></table>`
}`,
  );
}
