// The control page's script (/control): sends the action form as the JSON the API takes, shows only the fields the
// chosen action needs, and while a request is queued or running re-reads the request list every few seconds (the
// server renders it, /control?part=requests; this script swaps it in), so outcomes appear without a reload and the
// form keeps what was typed.
'use strict';

const REFRESH_MS = 3000;

function actionOf(form) {
  const kind = form.elements.action.value;
  if (kind === 'blink') return { kind: 'blink', on: true };
  if (kind === 'blink-off') return { kind: 'blink', on: false };
  if (kind === 'power') {
    const watts = form.elements.watts.value.trim();
    const mode = form.elements.mode.value;
    return { kind: 'power', target: watts !== '' ? { watts: Number(watts) } : { mode } };
  }
  if (kind === 'switch-pool') return { kind: 'switch-pool', index: Number(form.elements.index.value) };
  if (kind === 'pools') {
    const pools = [];
    for (const row of form.querySelectorAll('.pool-row')) {
      const url = row.querySelector('[name=poolUrl]').value.trim();
      if (url === '') continue;
      const password = row.querySelector('[name=poolPassword]').value;
      pools.push({ url, user: row.querySelector('[name=poolUser]').value.trim(), ...(password ? { password } : {}) });
    }
    return { kind: 'pools', pools };
  }
  return { kind };
}

function bodyOf(form) {
  const targets = form.elements.targets.value.split(/[\s,]+/).filter(Boolean);
  const allIn = form.elements.allIn.value ? [form.elements.allIn.value] : [];
  const body = { targets, allIn, action: actionOf(form), reason: form.elements.reason.value.trim(), dryRun: form.elements.dryRun.checked };
  if (form.elements.by) body.by = form.elements.by.value.trim();
  return body;
}

function showFieldsFor(form) {
  const kind = form.elements.action.value;
  for (const set of form.querySelectorAll('fieldset[data-for]')) set.hidden = set.dataset.for !== kind;
}

async function send(form) {
  const error = form.querySelector('.form-error');
  const done = form.querySelector('.form-done');
  const button = form.querySelector('button[type=submit]');
  error.textContent = '';
  done.textContent = '';
  button.disabled = true;
  try {
    const res = await fetch('/api/control/requests', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(bodyOf(form)),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      error.textContent = (answer.problems && answer.problems.join('; ')) || answer.error || answer.reason || `${res.status} ${res.statusText}`;
      return;
    }
    done.textContent = `queued: ${answer.requests.map((r) => `#${r.id} for ${r.container} (${r.miners} miners)`).join(', ')}`;
    await refresh();
  } catch (err) {
    error.textContent = `could not reach the server: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

let timer;

async function refresh() {
  clearTimeout(timer);
  const current = document.getElementById('control-requests');
  if (!current) return;
  try {
    const url = new URL(window.location.href);
    url.searchParams.set('part', 'requests');
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } });
    if (res.ok) {
      // A template parses without running or styling anything; the list has neither scripts nor styles anyway.
      const template = document.createElement('template');
      template.innerHTML = await res.text();
      const fresh = template.content.getElementById('control-requests');
      if (fresh) current.replaceWith(document.importNode(fresh, true));
    }
  } catch {
    // the next round tries again
  }
  schedule();
}

function schedule() {
  const list = document.getElementById('control-requests');
  if (list && list.dataset.running === '1') timer = setTimeout(refresh, REFRESH_MS);
}

const form = document.getElementById('control-form');
if (form) {
  showFieldsFor(form);
  form.elements.action.addEventListener('change', () => showFieldsFor(form));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send(form);
  });
}
schedule();
