/**
 * Issue #10, TV wall: `?link=` was followed as given, so `javascript:` ran script in the page and any outside URL
 * was an open redirect; the server sent no CSP, frame or nosniff headers. In chromium against a real TV-wall
 * server (InfluxDB data): refused links are not followed (a local "outside" server sees no request, no script
 * runs, a note is shown), allowed ones (same origin, under the configured Grafana) are, and every response
 * carries the security headers without the page breaking its own CSP. Issue #10, authentication: the page and the
 * farm's state answer only with scope tvwall:read; /healthz and the static bundle stay open.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodePoints, heartbeatPoint, upPoint, type InfluxStore } from '@flymining/shared';
import { generateFarmSpecs } from '@flymining/simulator';
import type { Browser, Page } from 'playwright-core';
import { freshStore, inventoryFor } from '../../../exporters/test/e2e/helpers';
import { buildFarm } from '../../src/farm';
import { layoutFarm } from '../../src/geometry';
import { allowedNavigation } from '../../src/links';
import { DEFAULT_OPTIONS } from '../../src/types';
import type { FarmSnapshot } from '../../tvwall/farm-source';
import { checkGrafanaUrls, createTvWallApp, listen, TVWALL_TOKEN_COOKIE } from '../../tvwall/server';
import { testTokens, type TestTokens } from '../../../shared/test/auth/test-tokens';
import { launchChromium } from './browser';

const specs = generateFarmSpecs({ miners: 8, containers: 1, racksPerContainer: 1, shelvesPerRack: 2, slotsPerShelf: 4, baseAddress: '127.47.0.1', seed: 5 });
const VIEWPORT = { width: 1200, height: 700 };
/** Long enough for a click's navigation to start (the allowed cases show it starts within milliseconds). */
const NO_NAVIGATION_WAIT_MS = 1500;

/** A local web server standing in for Grafana and for an outside site: it records every request it gets. */
async function recordingServer(): Promise<{ url: string; hits: string[]; server: HttpServer }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

describe('TV wall links and headers', () => {
  let store: InfluxStore;
  let server: Server;
  let browser: Browser;
  let baseUrl: string;
  let grafana: Awaited<ReturnType<typeof recordingServer>>;
  let outside: Awaited<ReturnType<typeof recordingServer>>;
  let tokens: TestTokens;
  let wallToken: string;
  const withToken = { headers: { authorization: '' } };

  beforeAll(async () => {
    store = await freshStore('tvwall_links');
    const now = Date.now();
    const miners = [...inventoryFor(specs, false).current.miners.values()];
    const points = miners.map((spec) => upPoint(spec, now, 120, true, ''));
    points.push(
      heartbeatPoint({
        site: miners[0]!.location.site, container: miners[0]!.location.container, edge: 'edge-1', source: 'miner', time: now, seq: 1, intervalMs: 30_000,
        miners: miners.length, reachable: miners.length, activeFaults: 0, spoolLines: 0, spoolBytes: 0, spoolOldestMs: 0, pointsDropped: 0, uplink: 'ok',
      }),
    );
    store.write(encodePoints(points));
    await store.flush();
    grafana = await recordingServer();
    outside = await recordingServer();
    tokens = await testTokens('tvwall-links', { tokenCookie: TVWALL_TOKEN_COOKIE });
    wallToken = await tokens.token('tvwall:read');
    withToken.headers.authorization = `Bearer ${wallToken}`;
    server = await listen(createTvWallApp({ authenticator: tokens.authenticator, store, refreshSeconds: 60, grafanaUrls: [`${grafana.url}/grafana`] }), 0);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    for (const s of [grafana?.server, outside?.server]) await new Promise((resolve) => s?.close(resolve));
    await store?.close();
    await tokens?.close();
  });

  /** Opens the wall with `?link=`, records CSP violations, and returns a function clicking a miner's slot. */
  async function openWall(link: string): Promise<{ page: Page; violations: () => Promise<string[]>; click: () => Promise<string> }> {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    // Signed in as a screen is: the token once in the URL, redirected to the same URL without it.
    await page.goto(`${baseUrl}/?token=${encodeURIComponent(wallToken)}&link=${encodeURIComponent(link)}`);
    await page.waitForSelector('body[data-updated-at]');
    const snapshot = (await (await fetch(`${baseUrl}/api/farm`, withToken)).json()) as FarmSnapshot;
    const model = buildFarm(snapshot.readings, snapshot.climates, { metric: 'health', now: snapshot.now, staleAfterMs: 180_000, slotsPerShelf: 0 }, snapshot.heartbeats);
    const canvas = (await page.$('canvas'))!;
    const box = (await canvas.boundingBox())!;
    const geometry = layoutFarm(model, { ...DEFAULT_OPTIONS, tvMode: true }, box.width, box.height);
    const slot = geometry.slots.find((s) => s.cell.reading)!;
    return {
      page,
      violations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
      click: async () => {
        await page.mouse.click(box.x + slot.x + slot.size / 2, box.y + slot.y + slot.size / 2);
        return slot.cell.reading!.miner;
      },
    };
  }

  test('every response carries CSP, frame and nosniff headers, and the wall runs within its CSP', async () => {
    for (const path of ['/', '/api/farm', '/assets/tvwall.js', '/healthz']) {
      const res = await fetch(baseUrl + path, withToken);
      expect([path, res.status]).toEqual([path, 200]);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    const wall = await openWall('');
    // The wall drew the miners (so its script and styles were allowed) and broke no rule of its own CSP.
    expect(Number(await wall.page.getAttribute('[data-testid="rackmap"]', 'data-slots'))).toBeGreaterThanOrEqual(specs.length);
    expect(await wall.violations()).toEqual([]);
    await wall.page.close();
  });

  test('without tvwall:read neither the page nor the farm state answers; /healthz and the bundle do', async () => {
    const readsAlerts = await tokens.token('alerting:read');
    for (const path of ['/', '/api/farm', '/bench', '/?link=/healthz']) {
      const anonymous = await fetch(baseUrl + path);
      expect([path, anonymous.status]).toEqual([path, 401]);
      // Refusals carry the security headers too, and no farm data.
      expect(anonymous.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await anonymous.text()).not.toContain('readings');
      const wrongScope = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${readsAlerts}` } });
      expect([path, wrongScope.status]).toEqual([path, 403]);
    }
    const browserPage = await fetch(baseUrl, { headers: { accept: 'text/html' } });
    expect(browserPage.status).toBe(401);
    expect(await browserPage.text()).toContain('Sign-in required');
    expect((await fetch(`${baseUrl}/?token=fmt_guessed`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/assets/tvwall.js`)).status).toBe(200);
    // A revoked screen token stops working at its next request, cookie or header.
    const screen = await tokens.token('tvwall:read');
    const link = await fetch(`${baseUrl}/?token=${encodeURIComponent(screen)}`, { redirect: 'manual' });
    expect([link.status, link.headers.get('location')]).toEqual([303, '/']);
    const cookie = link.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${baseUrl}/api/farm`, { headers: { cookie } })).status).toBe(200);
    const check = await tokens.store.verify(screen);
    expect(check.ok && (await tokens.store.revoke(check.token.name))).toBe(true);
    expect((await fetch(`${baseUrl}/api/farm`, { headers: { cookie } })).status).toBe(401);
  });

  test('a javascript: link does not run: no script, no navigation, a visible note', async () => {
    const wall = await openWall("javascript:document.title='pwned';window.pwned=1;void 0");
    const note = await wall.page.textContent('[data-testid="link-note"]');
    expect(note).toContain('ignored: only http(s) links to this site or');
    const before = wall.page.url();
    await wall.click();
    await wall.page.waitForTimeout(NO_NAVIGATION_WAIT_MS);
    expect(await wall.page.evaluate(() => [document.title, (window as unknown as { pwned?: number }).pwned ?? null])).toEqual(['FlyMining farm', null]);
    expect(wall.page.url()).toBe(before);
    await wall.page.close();
  });

  test('outside links are not followed: another site, and the Grafana host outside its base path', async () => {
    for (const link of [`${outside.url}/phish?miner={miner}`, `${grafana.url}/grafana-evil/{miner}`, `${grafana.url}/other/{miner}`, `//127.0.0.1:${new URL(outside.url).port}/{miner}`]) {
      const hitsBefore = outside.hits.length + grafana.hits.length;
      const wall = await openWall(link);
      expect(await wall.page.textContent('[data-testid="link-note"]')).toContain('ignored');
      const before = wall.page.url();
      await wall.click();
      await wall.page.waitForTimeout(NO_NAVIGATION_WAIT_MS);
      expect([link, wall.page.url(), outside.hits.length + grafana.hits.length]).toEqual([link, before, hitsBefore]);
      await wall.page.close();
    }
  });

  test('allowed links are followed: the configured Grafana and this site', async () => {
    const toGrafana = await openWall(`${grafana.url}/grafana/d/miner-detail?var-miner={miner}`);
    expect(await toGrafana.page.$('[data-testid="link-note"]')).toBeNull();
    const miner = await toGrafana.click();
    await toGrafana.page.waitForURL(`${grafana.url}/grafana/d/miner-detail?var-miner=${encodeURIComponent(miner)}`, { timeout: 15_000 });
    expect(grafana.hits).toContain(`/grafana/d/miner-detail?var-miner=${encodeURIComponent(miner)}`);
    await toGrafana.page.close();

    const sameSite = await openWall('/healthz?miner={miner}');
    const clicked = await sameSite.click();
    await sameSite.page.waitForURL(`${baseUrl}/healthz?miner=${encodeURIComponent(clicked)}`, { timeout: 15_000 });
    await sameSite.page.close();
  });

  test('the link rule on its own, and the Grafana URL setting refuses what is not an http(s) URL', () => {
    const policy = { pageUrl: 'http://wall.farm:4200/?link=x', allowedBases: ['https://grafana.farm/grafana'] };
    const cases: Array<[string, boolean]> = [
      ['/d/x?var-miner=a', true],
      ['http://wall.farm:4200/other', true],
      ['https://grafana.farm/grafana', true],
      ['https://grafana.farm/grafana/d/x', true],
      ['https://grafana.farm/grafana-evil/d/x', false],
      ['https://grafana.farm/d/x', false],
      ['http://grafana.farm/grafana/d/x', false],
      ['https://grafana.farm.evil.example/grafana/d/x', false],
      ['https://user:pw@grafana.farm/grafana/d/x', false],
      ['//evil.example/x', false],
      ['/\\evil.example/x', false],
      ['javascript:alert(1)', false],
      [' JavaScript:alert(1)', false],
      ['data:text/html,<script>alert(1)</script>', false],
      ['http://wall.farm:4201/x', false],
    ];
    expect(cases.map(([url]) => [url, allowedNavigation(url, policy) !== undefined])).toEqual(cases);
    expect(checkGrafanaUrls(['https://grafana.farm/grafana'])).toEqual(['https://grafana.farm/grafana']);
    expect(() => checkGrafanaUrls(['javascript:alert(1)'])).toThrow(/grafanaUrls \(--grafana-url, FLYMINING_TVWALL_GRAFANA_URL\) entry "javascript:alert\(1\)" must be an http\(s\) URL/);
    expect(() => checkGrafanaUrls(['grafana.farm'])).toThrow(/entry "grafana.farm" must be an absolute URL/);
  });
});
