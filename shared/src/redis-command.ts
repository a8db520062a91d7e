/**
 * One Redis connection for one staff command (`flymining tokens …`, `flymining edges …`): connect or fail with a
 * message naming the server (password hidden), run the work, disconnect whatever happened.
 */
import type Redis from 'ioredis';
import { openRedis } from './redis-address';
import { redactUrl } from './secrets';

export async function withRedisConnection<T>(url: string, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = openRedis(url, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 5000 });
  redis.on('error', () => undefined); // the failed command reports it, once
  try {
    await redis.connect().catch((err: Error) => {
      throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${err.message}`);
    });
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}
