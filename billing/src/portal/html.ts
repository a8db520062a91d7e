/**
 * Server-rendered HTML without a template engine: the `html` tag escapes every interpolated value unless it is
 * already `SafeHtml` (the output of another `html` call), so markup can only come from the templates themselves.
 */
import { escapeHtml } from '@flymining/shared';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolated = SafeHtml | string | number | bigint | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

export interface PageChrome {
  title: string;
  /** CSP nonce of this response: the only inline style that runs. */
  nonce: string;
  csrfToken?: string;
  user?: { email: string; role: 'investor' | 'staff' };
  flash?: { kind: 'ok' | 'error'; text: string };
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f5f6f8}
header{background:#1d232a;color:#fff;padding:.7rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
header a{color:#ffd479;text-decoration:none}header .who{margin-left:auto}
header form{display:inline}header button{background:none;border:1px solid #ffd479;color:#ffd479;border-radius:4px;cursor:pointer}
main{max-width:1100px;margin:1.5rem auto;padding:0 1.5rem}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:1rem 1.25rem;margin-bottom:1.25rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eceff2}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.flash{padding:.6rem 1rem;border-radius:4px;margin-bottom:1rem}.flash.ok{background:#e3f6e8}.flash.error{background:#fde8e8}
.errors{color:#a11}label{display:block;margin:.5rem 0 .2rem}input,select{padding:.35rem;font:inherit}
button.primary{background:#1d6fd6;color:#fff;border:0;border-radius:4px;padding:.45rem 1rem;cursor:pointer;font:inherit}
.muted{color:#66707a}.status-failed{color:#a11}.status-ok{color:#17773a}
td.explain p{margin:.15rem 0}td.explain summary{cursor:pointer;color:#66707a}
svg text{font:11px system-ui,sans-serif;fill:#4a535c}.swatch-delivered{color:#1d6fd6}.swatch-purchased{color:#e07b00}
`;

export function page(chrome: PageChrome, body: SafeHtml): string {
  const nav = chrome.user
    ? chrome.user.role === 'staff'
      ? html`<a href="/admin">Admin</a><a href="/account">Account</a>`
      : html`<a href="/">My contracts</a><a href="/payouts">Payouts</a><a href="/statements">Statements</a><a href="/account">Account</a>`
    : html``;
  const signOut = chrome.user
    ? html`<span class="who">${chrome.user.email}
        <form method="post" action="/logout"><input type="hidden" name="_csrf" value="${chrome.csrfToken ?? ''}"><button type="submit">Sign out</button></form></span>`
    : html``;
  const flash = chrome.flash ? html`<p class="flash ${chrome.flash.kind}" role="status">${chrome.flash.text}</p>` : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${chrome.title} · FlyMining</title><style nonce="${chrome.nonce}">${new SafeHtml(STYLE)}</style></head>
<body><header><strong>FlyMining</strong>${nav}${signOut}</header>
<main>${flash}<h1>${chrome.title}</h1>${body}</main></body></html>`.value;
}

/** The hidden field every form carries (see csrf.ts). */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
