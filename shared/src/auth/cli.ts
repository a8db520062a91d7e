/**
 * `flymining tokens add|list|revoke`: bearer tokens for machines and wall screens (see ./README.md). A token is
 * shown once, at creation; Redis keeps only its SHA-256.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { withRedisConnection } from '../redis-command';
import { formatIssues } from '../text/issues';
import { lifetimeSchema, scopeListSchema, tokenNameSchema, TokenStore, AUTH_SCOPES } from './tokens';

const redisOption = (): string => process.env.FLYMINING_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

function withTokenStore<T>(url: string, work: (store: TokenStore) => Promise<T>): Promise<T> {
  return withRedisConnection(url, (redis) => work(new TokenStore(redis)));
}

const addSchema = z.object({
  name: tokenNameSchema,
  scopes: scopeListSchema,
  lifetimeMs: lifetimeSchema.optional(),
});

/** A usage problem: said on stderr with the command's name, exit code 2 (as commander's own usage errors). */
function usage(command: string, message: string): void {
  process.stderr.write(`flymining tokens ${command}: ${message}\n`);
  process.exitCode = 2;
}

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('bearer tokens for machines and wall screens (TV wall, alerting API)');
  tokens
    .command('add <name>')
    .description('create a token and print it once (stdout: the token alone), or write it to --out')
    .requiredOption('--scope <list>', `comma-separated: ${AUTH_SCOPES.join(', ')} (each :write scope includes its :read)`)
    .option('--expires <lifetime>', 'lifetime such as 90d, 12h or 30m (default: until revoked)')
    .option('--out <file>', 'write the token to this file (mode 600) instead of printing it')
    .option('--redis <url>', 'Redis of the center', redisOption())
    .action(async (name: string, opts: { scope: string; expires?: string; out?: string; redis: string }) => {
      const parsed = addSchema.safeParse({ name, scopes: opts.scope, lifetimeMs: opts.expires });
      if (!parsed.success) {
        const where: Record<string, string> = { name: 'NAME', scopes: '--scope', lifetimeMs: '--expires' };
        return usage('add', formatIssues(parsed.error, { locate: (path) => where[String(path[0])] ?? String(path[0]) }).join('; '));
      }
      const { name: tokenName, scopes, lifetimeMs } = parsed.data;
      const created = await withTokenStore(opts.redis, async (store) => {
        if (await store.find(tokenName)) return undefined;
        return store.add(tokenName, scopes, { lifetimeMs });
      });
      if (!created) return usage('add', `a token named ${tokenName} already exists (flymining tokens revoke ${tokenName} first)`);
      const what = `token ${tokenName} (${scopes.join(', ')}; ${created.stored.expires ? `expires ${created.stored.expires}` : 'until revoked'})`;
      if (opts.out) {
        writeFileSync(opts.out, `${created.token}\n`, { mode: 0o600 });
        chmodSync(opts.out, 0o600); // an existing file keeps its mode otherwise
        process.stdout.write(`created ${what}, written to ${opts.out}\n`);
        return;
      }
      process.stderr.write(`created ${what}; it is shown only now: give it to its client and keep no other copy\n`);
      process.stdout.write(`${created.token}\n`);
    });
  tokens
    .command('list')
    .description('every token: name, scopes, created, expires, last used (never the token)')
    .option('--json', 'one JSON array on stdout')
    .option('--redis <url>', 'Redis of the center', redisOption())
    .action(async (opts: { json?: boolean; redis: string }) => {
      const all = await withTokenStore(opts.redis, (store) => store.list());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(all)}\n`);
        return;
      }
      if (!all.length) {
        process.stdout.write('no tokens (create one with flymining tokens add NAME --scope ...)\n');
        return;
      }
      const now = Date.now();
      const header = ['NAME', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED'];
      const rows = all.map((t) => [
        t.name,
        t.scopes.join(','),
        t.created,
        t.expires === null ? 'never' : `${t.expires}${Date.parse(t.expires) <= now ? ' (expired)' : ''}`,
        t.lastUsed ?? 'never',
      ]);
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const row of [header, ...rows]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });
  tokens
    .command('revoke <name>')
    .description('delete a token; it is refused from the next request on')
    .option('--redis <url>', 'Redis of the center', redisOption())
    .action(async (name: string, opts: { redis: string }) => {
      if (await withTokenStore(opts.redis, (store) => store.revoke(name))) {
        process.stdout.write(`revoked token ${name}\n`);
      } else {
        process.stderr.write(`flymining tokens revoke: no token named ${name}\n`);
        process.exitCode = 1;
      }
    });
}
