/** For the ticket and escalation tests: a maintenance database with a rota, and the mailed acknowledge link used like a browser. */
import type { ParsedMail } from 'mailparser';
import { RotaStore } from '@flymining/maintenance';
import type { TestDatabase } from '../../billing/test/pg';
import { createMaintenanceDatabase } from '../../maintenance/test/db';
import { createApi } from '../src/api';
import { freePort, linkSecretFile, redisUrl, startServiceUnderTest, testAuth, type ServiceUnderTest } from './helpers';

export interface Person {
  name: string;
  email: string;
}

/** A fresh database (ledger + maintenance schema) whose rota lists `people` in this order (weekly shifts, UTC). */
export async function databaseWithRota(prefix: string, people: readonly Person[]): Promise<TestDatabase> {
  const db = await createMaintenanceDatabase(prefix);
  await new RotaStore(db.pool).importFile(
    { time_zone: 'UTC', handover: '08:00', shift: 'weekly', anchor: '2026-01-05', escalate_after: '15m', members: people.map((p) => ({ ...p, active: true })) },
    'test',
  );
  return db;
}

/** The addresses a mail was sent to. */
export function recipients(mail: ParsedMail): string[] {
  return [mail.to]
    .flat()
    .flatMap((a) => a?.value ?? [])
    .map((v) => v.address ?? '');
}

function unescapeHtml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Opens the mail's acknowledge link (GET: the page with its button), then submits the page's form as a browser
 * would (its hidden fields, urlencoded, Origin of the service). Returns the answer's status and text.
 */
export async function acknowledgeFromMail(mail: ParsedMail, api: string): Promise<{ status: number; text: string }> {
  const link = new RegExp(`${api.replace(/\./g, '\\.')}/ack/\\S+`).exec(mail.text ?? '')?.[0];
  if (!link) throw new Error(`no acknowledge link in the mail "${mail.subject ?? ''}"`);
  const page = await fetch(link);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the acknowledge page answered ${page.status}: ${html}`);
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  if (!action) throw new Error(`no form on the acknowledge page: ${html}`);
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) form.set(m[1]!, unescapeHtml(m[2]!));
  const answer = await fetch(`${api}${unescapeHtml(action)}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: api }, body: form.toString() });
  return { status: answer.status, text: unescapeHtml(await answer.text()) };
}

/** A service whose notices carry signed acknowledge links to its own API (on a free port, with a staff token). */
export interface LinkedService {
  running: ServiceUnderTest;
  api: string;
  close(): Promise<void>;
}

/** `yaml` gets the Redis and SMTP URLs; redis, external_url and link_secret_file are set here. */
export async function startLinkedService(redisDb: number, yaml: (smtp: string) => string): Promise<LinkedService> {
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const running = await startServiceUnderTest(redisDb, (redis, smtp) => `redis: ${redis}\nexternal_url: ${api}\nlink_secret_file: ${linkSecretFile()}\n${yaml(smtp)}`);
  const auth = await testAuth(redisUrl(redisDb));
  const server = createApi(running.service, { authenticator: auth.authenticator }).listen(port, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    running,
    api,
    async close() {
      server.closeAllConnections();
      server.close();
      auth.close();
      await running.close();
    },
  };
}
