/** `flymining tokens add|list|revoke` against real Redis: the printed token opens a protected app until revoked. */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import Redis from 'ioredis';
import pino from 'pino';
import { runCli, type CliResult } from '../cli';
import { Authenticator, requireStaff, TOKENS_KEY, TokenStore } from '../../src/auth';

// A Redis database of its own: the CLI always uses the real key, flymining:auth:tokens.
const redisUrl = `${process.env.FLYMINING_TEST_REDIS_URL?.replace(/\/\d*$/, '') ?? 'redis://127.0.0.1:6379'}/11`;
let redis: Redis;
let server: Server;
let url: string;

beforeAll(async () => {
  redis = new Redis(redisUrl);
  await redis.del(TOKENS_KEY);
  const authenticator = new Authenticator({ tokens: new TokenStore(redis), log: pino({ level: 'silent' }) });
  const app = express();
  app.get('/wall', requireStaff({ scope: 'tvwall:read', authenticator }), (_req, res) => res.send('wall'));
  app.post('/ack', requireStaff({ scope: 'alerting:write', authenticator }), (_req, res) => res.send('acked'));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await redis?.del(TOKENS_KEY);
  redis?.disconnect();
});

async function tokens(...args: string[]): Promise<CliResult> {
  return runCli(['tokens', ...args, '--redis', redisUrl]);
}

const get = async (pathname: string, token: string) => (await fetch(url + pathname, { headers: { authorization: `Bearer ${token}` } })).status;

test('add prints the token once; it opens what its scopes allow; list shows it without the token; revoke ends it', async () => {
  const added = await tokens('add', 'lobby-wall', '--scope', 'tvwall:read', '--expires', '90d');
  expect(added.code).toBe(0);
  const token = added.stdout.trim();
  expect(token).toMatch(/^fmt_[A-Za-z0-9_-]{43}$/);
  expect(added.stderr).toMatch(/created token lobby-wall \(tvwall:read; expires 20\d\d-/);
  expect(await get('/wall', token)).toBe(200);
  expect((await fetch(`${url}/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })).status).toBe(403);

  const listed = await tokens('list');
  expect(listed.stdout).toMatch(/^NAME\s+SCOPES\s+CREATED\s+EXPIRES\s+LAST USED\n/);
  expect(listed.stdout).toMatch(/lobby-wall\s+tvwall:read\s+\S+\s+20\d\d-\S+\s+20\d\d-/);
  expect(listed.stdout).not.toContain(token);
  const [entry] = JSON.parse((await tokens('list', '--json')).stdout) as Array<{ name: string; expires: string }>;
  const days = (Date.parse(entry!.expires) - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(89.9);
  expect(days).toBeLessThanOrEqual(90);
  // Redis holds no usable token, only its hash.
  expect(JSON.stringify(await redis.hgetall(TOKENS_KEY))).not.toContain(token.slice(4));

  expect(await tokens('revoke', 'lobby-wall')).toMatchObject({ code: 0, stdout: 'revoked token lobby-wall\n' });
  expect(await get('/wall', token)).toBe(401);
  expect((await tokens('list')).stdout).not.toContain('lobby-wall');
  expect(await tokens('revoke', 'lobby-wall')).toMatchObject({ code: 1, stderr: 'flymining tokens revoke: no token named lobby-wall\n' });
});

test('--out writes the token to a file only its owner can read', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tokens-')), 'ops.token');
  const added = await tokens('add', 'ops-script', '--scope', 'alerting:write', '--out', file);
  expect(added).toMatchObject({ code: 0, stdout: `created token ops-script (alerting:write; until revoked), written to ${file}\n` });
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const token = readFileSync(file, 'utf8').trim();
  expect((await fetch(`${url}/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
});

test('bad input is refused naming what is wrong; a name is not taken twice', async () => {
  expect(await tokens('add', 'x', '--scope', 'tvwall:write')).toMatchObject({ code: 2, stderr: expect.stringContaining('--scope: unknown scope "tvwall:write"') });
  expect(await tokens('add', 'x', '--scope', 'tvwall:read', '--expires', 'soon')).toMatchObject({ code: 2, stderr: expect.stringContaining('--expires: a lifetime is a number followed by d, h or m') });
  expect(await tokens('add', 'bad/name', '--scope', 'tvwall:read')).toMatchObject({ code: 2, stderr: expect.stringContaining('NAME: a token name is') });
  expect((await tokens('add', 'twice', '--scope', 'tvwall:read')).code).toBe(0);
  expect(await tokens('add', 'twice', '--scope', 'alerting:read')).toMatchObject({ code: 2, stderr: expect.stringContaining('a token named twice already exists') });
});
