/**
 * Staff lists are paginated: 120 investors and contracts show 50 to a page with links that keep the other lists'
 * pages; every investor appears on exactly one page; a page out of range is empty, a malformed one answers 400.
 */
import { createContract, createInvestor } from '../../src/api';
import { createPortalUser } from '../../src/portal/users';
import { HttpClient, PASSWORD, startTestPortal, type PortalUnderTest } from './harness';

let portal: PortalUnderTest;
let staff: HttpClient;
const ids = Array.from({ length: 120 }, (_, i) => `inv${String(i).padStart(3, '0')}`);

beforeAll(async () => {
  portal = await startTestPortal('admin-pages');
  for (const id of ids) {
    await createInvestor(portal.db.pool, { id, name: `Investor ${id}` });
    await createContract(portal.db.pool, { id: `${id}-c`, investorId: id, hashrateThs: '10', startDay: '2026-01-01', endDay: '2026-12-31' });
  }
  await createPortalUser(portal.db.pool, { email: 'ops@example.com', password: PASSWORD, role: 'staff' });
  staff = new HttpClient(portal.url);
  await staff.signIn('ops@example.com');
}, 120_000);
afterAll(async () => portal?.close());

const investorsOn = (page: string): string[] => {
  const table = /<table class="investors">([\s\S]*?)<\/table>/.exec(page)?.[1] ?? '';
  return [...table.matchAll(/href="\/admin\/investors\/([^"]+)"/g)].map((m) => m[1]!);
};

test('investors come 50 to a page, each exactly once, with next/previous links keeping the other lists’ pages', async () => {
  const seen: string[] = [];
  let path = '/admin?contracts=2';
  const pagers: string[] = [];
  for (let i = 0; i < 5 && path; i++) {
    const page = await staff.get(path);
    expect(page.status).toBe(200);
    seen.push(...investorsOn(page.text));
    const nav = /<nav class="pager" data-list="investors"[^>]*>([\s\S]*?)<\/nav>/.exec(page.text)?.[1] ?? '';
    pagers.push(nav.replace(/\s+/g, ' ').replace(/<[^>]+>/g, '').trim());
    const next = /<a rel="next" href="([^"]+)">/.exec(nav)?.[1];
    path = next ? next.replace(/&amp;/g, '&').replace(/#.*$/, '') : '';
    if (next) expect(path).toContain('contracts=2');
  }
  expect(seen).toEqual(ids);
  expect(pagers).toEqual(['Page 1 of 3 (120) · Next', 'Page 2 of 3 (120) · Previous · Next', 'Page 3 of 3 (120) · Previous']);
  const contracts = await staff.get('/admin?contracts=3');
  expect((/<section id="contracts">([\s\S]*?)<\/section>/.exec(contracts.text)?.[1] ?? '').match(/<tr><td>/g)).toHaveLength(20);
});

test('a page past the end lists nothing; a malformed page answers 400 naming the problem', async () => {
  expect(investorsOn((await staff.get('/admin?investors=9')).text)).toEqual([]);
  const bad = await staff.get('/admin?investors=0');
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('pages start at 1');
  expect((await staff.get('/admin?payouts=abc')).status).toBe(400);
});
