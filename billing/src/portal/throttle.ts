/**
 * Sign-in throttling by progressive delay, kept in Redis so every portal instance shares it.
 *
 * Each key (an email, a client address, a known device, a user's TOTP step) counts failed attempts. The first
 * `freeAttempts` are free; after that each attempt must wait `baseDelay · 2^(failures − free)`, capped at
 * `maxDelay`, since the previous one. Nothing is ever refused for longer than `maxDelay`, so an attacker can slow an
 * account down but never lock its owner out; and the owner's known devices are throttled on their own key only.
 * An attempt is counted as a failure when it starts (atomically, in one script), so parallel requests cannot slip
 * past the delay; a success gives its attempt back.
 */
import type Redis from 'ioredis';

export interface ThrottleSettings {
  /** Failed attempts per key before delays start. */
  freeAttempts: number;
  /** The first delay; each further failure doubles it. */
  baseDelayS: number;
  /** The longest any attempt is ever made to wait. */
  maxDelayS: number;
  /** Failures are forgotten this long after the last attempt on the key. */
  windowS: number;
}

// KEYS: throttle keys. ARGV: now ms, free attempts, base delay ms, max delay ms, window ms.
// Returns the ms to wait (the longest over the keys), or 0 after counting the attempt on every key.
const BEGIN_ATTEMPT = `
local now, free, base, max, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local wait = 0
for _, key in ipairs(KEYS) do
  local f = tonumber(redis.call('HGET', key, 'f') or '0')
  local last = tonumber(redis.call('HGET', key, 'last') or '0')
  local delay = 0
  if f >= free then delay = math.min(max, base * 2 ^ (f - free)) end
  wait = math.max(wait, last + delay - now)
end
if wait > 0 then return math.ceil(wait) end
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'f', 1)
  redis.call('HSET', key, 'last', now)
  redis.call('PEXPIRE', key, window + max)
end
return 0`;

const GIVE_BACK = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('HGET', key, 'f') or '0') > 0 then redis.call('HINCRBY', key, 'f', -1) end
end
return 0`;

export type AttemptDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export class SignInThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly settings: ThrottleSettings,
  ) {}

  private keys(names: readonly string[]): string[] {
    return names.map((n) => `${this.prefix}${n}`);
  }

  /** Starts an attempt on every key at once, or says how long to wait if any of them is still in its delay. */
  async begin(names: readonly string[]): Promise<AttemptDecision> {
    const { freeAttempts, baseDelayS, maxDelayS, windowS } = this.settings;
    const wait = Number(
      await this.redis.eval(BEGIN_ATTEMPT, names.length, ...this.keys(names), Date.now(), freeAttempts, baseDelayS * 1000, maxDelayS * 1000, windowS * 1000),
    );
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  /** The attempt succeeded: it does not count as a failure. */
  async succeeded(names: readonly string[]): Promise<void> {
    await this.redis.eval(GIVE_BACK, names.length, ...this.keys(names));
  }
}
