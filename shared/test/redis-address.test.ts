/**
 * Redis addresses: one server or a Sentinel deployment, checked with errors that say what is wrong (password hidden),
 * and a connection through real sentinels that follows the master when the master's process is killed.
 */
import { RedisAddressError, openRedis, parseRedisAddress, readAuthSettings, redactUrl } from '../src';
import { startSentinelRedis, type SentinelRedis } from './redis-sentinel';

jest.setTimeout(90_000);

describe('Redis addresses', () => {
  it('reads one server and a Sentinel deployment, with default sentinel port and database', () => {
    expect(parseRedisAddress('redis://127.0.0.1:6379/2')).toEqual({ kind: 'server', url: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisAddress('redis+sentinel://s1.farm:26380,s2.farm/center/3')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1.farm', port: 26380 },
        { host: 's2.farm', port: 26379 },
      ],
      master: 'center',
      db: 3,
      username: undefined,
      password: undefined,
    });
    expect(parseRedisAddress('redis+sentinel://ops:p%40ss@s1,s2:1/center')).toMatchObject({ username: 'ops', password: 'p@ss', db: 0 });
  });

  it.each([
    ['redis+sentinel://s1:26379', /names no master/],
    ['redis+sentinel://s1:26379/center/x', /database "x" is not a number/],
    ['redis+sentinel://s1:99999/center', /port 99999 of s1 is out of range/],
    ['redis+sentinel://s1:26379,,s2/center', /"" is not host or host:port/],
    ['redis+sentinel://s1/center/0/extra', /more than \/master\/db/],
    ['http://127.0.0.1:6379', /must start with redis:\/\/, rediss:\/\/ or redis\+sentinel:\/\//],
  ])('refuses %s and says why', (url, why) => {
    expect(() => parseRedisAddress(url)).toThrow(RedisAddressError);
    expect(() => parseRedisAddress(url)).toThrow(why);
  });

  it('never shows the password of an address it refuses or logs', () => {
    const bad = 'redis+sentinel://ops:hunter2@s1,s2:1/center/x';
    expect(() => parseRedisAddress(bad)).toThrow(/redis\+sentinel:\/\/ops:\*\*\*@s1,s2:1\/center\/x/);
    expect(() => parseRedisAddress(bad)).not.toThrow(/hunter2/);
    expect(redactUrl(bad)).toBe('redis+sentinel://ops:***@s1,s2:1/center/x');
    // Settings name the variable and the reason, and not the password.
    const env = { FLYMINING_REDIS_URL: bad, FLYMINING_PORTAL_SESSION_SECRET: 'x'.repeat(32), FLYMINING_PG_URL: 'postgres://127.0.0.1/x' };
    let message = '';
    try {
      readAuthSettings(env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/FLYMINING_REDIS_URL/);
    expect(message).toMatch(/database "x" is not a number/);
    expect(message).not.toMatch(/hunter2/);
  });

  describe('through real sentinels', () => {
    let deployment: SentinelRedis;

    beforeAll(async () => {
      deployment = await startSentinelRedis();
    });

    afterAll(async () => {
      await deployment?.stop();
    });

    it('writes to the master and, when the master dies, to the replica the sentinel promoted, without a restart', async () => {
      const redis = openRedis(deployment.url, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined); // the refused writes below say it
      try {
        await redis.set('farm:before', 'kept');
        expect(Number((await redis.info('server')).match(/tcp_port:(\d+)/)![1])).toBe(deployment.masterPort);
        // Replicated before the master goes (replication is asynchronous: WAIT makes this write survive).
        expect(await redis.wait(1, 5000)).toBe(1);
        deployment.killMaster();
        expect(await deployment.failedOver()).toBe(deployment.replicaPort);
        const deadline = Date.now() + 30_000;
        for (;;) {
          const written = await redis.set('farm:after', 'written').then(
            () => true,
            () => false,
          );
          if (written) break;
          if (Date.now() > deadline) throw new Error('no write reached the new master within 30 s');
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(Number((await redis.info('server')).match(/tcp_port:(\d+)/)![1])).toBe(deployment.replicaPort);
        expect(await redis.get('farm:before')).toBe('kept');
        expect(await redis.get('farm:after')).toBe('written');
      } finally {
        redis.disconnect();
      }
    });
  });
});
