// The staff pages' one script: forms marked data-json are sent as JSON (the API accepts nothing else, which is what
// keeps other sites' forms out), then the page reloads to show the result; a refusal shows next to the button.
'use strict';

function bodyOf(form) {
  const body = {};
  const parts = [];
  for (const row of form.querySelectorAll('.part-row')) {
    const part = { kind: row.querySelector('[name=kind]').value };
    for (const name of ['removedSerial', 'installedSerial']) {
      const value = row.querySelector(`[name=${name}]`).value.trim();
      if (value) part[name] = value;
    }
    if (part.removedSerial || part.installedSerial) parts.push(part);
  }
  for (const field of form.elements) {
    if (!field.name || field.closest('.part-row')) continue;
    const value = field.value.trim();
    if (value === '') continue;
    if (field.hasAttribute('data-number')) body[field.name] = Number(value);
    else if (field.hasAttribute('data-list')) body[field.name] = value.split(',').map((s) => s.trim()).filter(Boolean);
    else body[field.name] = value;
  }
  if (form.querySelector('.part-row')) body.parts = parts;
  return body;
}

async function send(form) {
  const error = form.querySelector('.form-error');
  const button = form.querySelector('button[type=submit]');
  error.textContent = '';
  button.disabled = true;
  try {
    const res = await fetch(form.dataset.action, {
      method: form.dataset.method || 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(bodyOf(form)),
    });
    if (res.ok) {
      window.location.reload();
      return;
    }
    let message = `${res.status} ${res.statusText}`;
    try {
      const answer = await res.json();
      message = answer.error || answer.reason || message;
    } catch {
      // not JSON: keep the status line
    }
    error.textContent = message;
  } catch (err) {
    error.textContent = `could not reach the server: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-json')) return;
  event.preventDefault();
  void send(form);
});
