/**
 * For tests of services behind requireStaff (TV wall, ...): an Authenticator over real Redis with tokens under a key
 * of this test run, and a way to make tokens of given scopes. Portal sessions: see ./harness.ts.
 */
import Redis from 'ioredis';
import pino from 'pino';
import { Authenticator, TokenStore, type AuthScope } from '../../src/auth';

export interface TestTokens {
  authenticator: Authenticator;
  store: TokenStore;
  /** A new token with these scopes (named uniquely). */
  token(...scopes: AuthScope[]): Promise<string>;
  close(): Promise<void>;
}

export async function testTokens(name: string, options: { tokenCookie?: string } = {}): Promise<TestTokens> {
  const redis = new Redis(`${process.env.FLYMINING_TEST_REDIS_URL?.replace(/\/\d*$/, '') ?? 'redis://127.0.0.1:6379'}/12`, { maxRetriesPerRequest: 2 });
  const key = `flymining:auth:tokens:test:${name}:${process.pid}:${Date.now().toString(36)}`;
  const store = new TokenStore(redis, key);
  let made = 0;
  return {
    authenticator: new Authenticator({ tokens: store, log: pino({ level: 'silent' }), tokenCookie: options.tokenCookie }),
    store,
    async token(...scopes) {
      made += 1;
      return (await store.add(`${name}-${made}`, scopes)).token;
    },
    async close() {
      await redis.del(key);
      redis.disconnect();
    },
  };
}
