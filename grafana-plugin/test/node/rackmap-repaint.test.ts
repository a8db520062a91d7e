/**
 * The rack map repaints a refresh straight over the last paint (only slots whose look changed, however many): in
 * a real browser, the pixels must be those of a map painted fresh from the same data.
 */
import { build } from 'esbuild';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await build({ entryPoints: [path.join(__dirname, 'repaint-page.tsx')], bundle: true, format: 'iife', platform: 'browser', write: false, define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'error' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 3840, height: 2160 }, deviceScaleFactor: 1 });
  await page.setContent('<!doctype html><html><body style="margin:0"></body></html>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const hashOf = (refreshes: Array<[number, boolean]>) => page.evaluate((r) => (window as unknown as { paintedHash: (r: Array<[number, boolean]>) => string }).paintedHash(r), refreshes);

describe('rack map repainted over its last paint', () => {
  test.each([
    ['every slot changed, twice', [[1, true], [2, true], [3, true]], [3, true]],
    ['1 % changed, three times', [[1, false], [2, false], [3, false], [4, false]], [4, false]],
    ['every slot changed, then 1 %', [[1, true], [2, true], [3, false]], [3, false]],
  ] as Array<[string, Array<[number, boolean]>, [number, boolean]]>)('%s: the pixels of a fresh paint', async (_name, refreshes, last) => {
    const fresh = await hashOf([last]);
    expect(fresh).toMatch(/^3320x2160:/);
    expect(await hashOf(refreshes)).toBe(fresh);
  }, 60_000);
});
