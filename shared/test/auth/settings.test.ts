/** readAuthSettings: what a misconfigured service says at start, and that the secret comes from a file too. */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAuthSettings } from '../../src/auth';

const SECRET = 'a-portal-session-secret-of-at-least-32-chars';

test('the portal secret from a file turns portal sessions on; without it only tokens are accepted', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'auth-settings-'));
  const file = path.join(dir, 'session-secret');
  writeFileSync(file, `${SECRET}\n`);
  chmodSync(file, 0o600);
  const settings = readAuthSettings({ FLYMINING_PORTAL_SESSION_SECRET_FILE: file, FLYMINING_PORTAL_URL: 'http://center:8480', FLYMINING_AUTH_ALLOWED_ORIGINS: 'https://ops.example/, https://wall.example' });
  expect(settings.portal).toMatchObject({ secret: SECRET, maxSessionS: 43200, keyPrefix: 'flymining:portal:' });
  expect(settings.loginUrl).toBe('http://center:8480/login');
  expect(settings.allowedOrigins).toEqual(['https://ops.example', 'https://wall.example']);
  expect(readAuthSettings({}).portal).toBeUndefined();
});

test('bad settings are refused naming the variable, never echoing the secret', () => {
  const shortSecret = 'too-short-secret';
  const attempt = () =>
    readAuthSettings({ FLYMINING_PORTAL_SESSION_SECRET: shortSecret, FLYMINING_AUTH_ALLOWED_ORIGINS: 'https://ok.example,https://x.example/path', FLYMINING_PORTAL_URL: 'not a url' });
  expect(attempt).toThrow(/FLYMINING_PORTAL_SESSION_SECRET\(_FILE\): the portal session secret must be at least 32 characters/);
  expect(attempt).toThrow(/FLYMINING_AUTH_ALLOWED_ORIGINS entry 1: an origin is scheme/);
  expect(attempt).toThrow(/FLYMINING_PORTAL_URL: /);
  expect(attempt).not.toThrow(new RegExp(shortSecret));
  expect(() => readAuthSettings({ FLYMINING_PORTAL_SESSION_SECRET_FILE: '/nonexistent/secret' })).toThrow('FLYMINING_PORTAL_SESSION_SECRET_FILE: cannot read /nonexistent/secret (ENOENT)');
});
