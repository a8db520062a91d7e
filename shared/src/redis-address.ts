/**
 * Where Redis is: one URL that every service and staff command takes (FLYMINING_REDIS_URL, `--redis`, alerting.yaml's
 * `redis`), either one server or a Redis Sentinel deployment:
 *
 *   redis://[user:password@]host[:port][/db]          one server (rediss:// for TLS)
 *   redis+sentinel://[user:password@]host[:port][,host[:port]…]/master[/db]
 *                                                     the sentinels (port 26379 unless given) and the name they
 *                                                     monitor the master by; ioredis asks them which server is the
 *                                                     master and asks again when its connection drops, so the
 *                                                     services follow a failover without a restart
 *
 * The user name and password, if any, are the data servers' (sentinels are asked without them). Only an address
 * redacted by `redactUrl` goes into messages and logs.
 */
import Redis, { type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { redactUrl } from './secrets';

export type RedisAddress =
  | { kind: 'server'; url: string }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; master: string; db: number; username?: string; password?: string };

export class RedisAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisAddressError';
  }
}

const SENTINEL_SCHEME = 'redis+sentinel://';
const DEFAULT_SENTINEL_PORT = 26379;

/** Reads an address; a RedisAddressError names what is wrong (with the password hidden). */
export function parseRedisAddress(url: string): RedisAddress {
  const fail = (why: string): never => {
    throw new RedisAddressError(`Redis address ${redactUrl(url)}: ${why}`);
  };
  if (/^rediss?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      fail('is not a valid URL');
    }
    return { kind: 'server', url };
  }
  if (!url.startsWith(SENTINEL_SCHEME)) return fail(`must start with redis://, rediss:// or ${SENTINEL_SCHEME}`);
  const rest = url.slice(SENTINEL_SCHEME.length);
  const at = rest.lastIndexOf('@', rest.indexOf('/') === -1 ? rest.length : rest.indexOf('/'));
  const credentials = at === -1 ? undefined : rest.slice(0, at);
  const afterCredentials = at === -1 ? rest : rest.slice(at + 1);
  const [hostList = '', master, dbText, ...extra] = afterCredentials.split('/');
  if (extra.length > 0) fail('has more than /master/db after the sentinels');
  if (!master) fail('names no master after the sentinels (redis+sentinel://host:26379/mymaster)');
  const sentinels = hostList.split(',').map((entry) => {
    const match = /^([^:,\s]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!match) return fail(`"${entry}" is not host or host:port`);
    const port = match[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[2]);
    if (port < 1 || port > 65535) fail(`port ${port} of ${match[1]} is out of range`);
    return { host: match[1]!, port };
  });
  let db = 0;
  if (dbText !== undefined && dbText !== '') {
    if (!/^\d{1,2}$/.test(dbText)) fail(`database "${dbText}" is not a number`);
    db = Number(dbText);
  }
  let username: string | undefined;
  let password: string | undefined;
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    try {
      username = decodeURIComponent(colon === -1 ? credentials : credentials.slice(0, colon)) || undefined;
      password = colon === -1 ? undefined : decodeURIComponent(credentials.slice(colon + 1)) || undefined;
    } catch {
      fail('has a user name or password that is not percent-encoded');
    }
  }
  return { kind: 'sentinel', sentinels, master: decodeURIComponent(master!), db, username, password };
}

/** A connection to the address (its options added to the caller's). Throws RedisAddressError for a bad address. */
export function openRedis(url: string, options: RedisOptions = {}): Redis {
  const address = parseRedisAddress(url);
  if (address.kind === 'server') return new Redis(url, options);
  return new Redis({
    ...options,
    sentinels: address.sentinels,
    name: address.master,
    db: address.db,
    username: address.username,
    password: address.password,
    // Drop the connection as soon as the sentinels announce a new master, instead of when the old one stops answering.
    failoverDetector: true,
    // A connection to a master that became a replica gets READONLY on writes: reconnect, asking the sentinels again.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  });
}

/** A setting that holds a Redis address: checked when the settings are read, with the reason in the message. */
export const redisAddressSetting = z.string().superRefine((url, ctx) => {
  try {
    parseRedisAddress(url);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
  }
});
