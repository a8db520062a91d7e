/**
 * Bearer tokens, one per client (a wall screen, a script, a phone app): created by `flymining tokens add`, shown
 * once, kept in Redis only as their SHA-256 (a Redis dump leaks no usable token). The hash is the field name of
 * `flymining:auth:tokens`, so checking a presented token is one HGET, whatever the number of tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { z } from 'zod';

/**
 * control:read/write: miner actions from the center (the maintenance service's /api/control); control:edge: an edge
 * box fetching its container's requests (the token must be named edge-<container>, shared/src/control-link.ts).
 */
export const AUTH_SCOPES = ['tvwall:read', 'alerting:read', 'alerting:write', 'maintenance:read', 'maintenance:write', 'control:read', 'control:write', 'control:edge'] as const;
export type AuthScope = (typeof AUTH_SCOPES)[number];

/** Redis hash holding every token: field = hex SHA-256 of the token, value = the JSON of a StoredToken. */
export const TOKENS_KEY = 'flymining:auth:tokens';

/** Tokens start with this, so a leaked one is recognisable in a paste or a secret scanner. */
const TOKEN_PREFIX = 'fmt_';

/** Writing lastUsed on every request would turn each read into a write; once a minute says enough. */
const LAST_USED_RESOLUTION_MS = 60_000;

const storedTokenSchema = z.object({
  name: z.string(),
  scopes: z.array(z.enum(AUTH_SCOPES)),
  created: z.string(),
  expires: z.string().nullable(),
  lastUsed: z.string().nullable(),
});
export type StoredToken = z.infer<typeof storedTokenSchema>;

export const tokenNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a token name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');

/** "tvwall:read,alerting:read" → the scopes, refusing unknown ones by name. */
export const scopeListSchema = z
  .string()
  .transform((text) => [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))])
  .pipe(
    z
      .array(z.enum(AUTH_SCOPES, { error: (issue) => `unknown scope "${String(issue.input)}" (known: ${AUTH_SCOPES.join(', ')})` }))
      .min(1, `give at least one scope (${AUTH_SCOPES.join(', ')})`),
  );

/** "90d", "12h", "30m": a lifetime in milliseconds. */
export const lifetimeSchema = z
  .string()
  .regex(/^\d{1,5}[dhm]$/, 'a lifetime is a number followed by d, h or m, e.g. 90d')
  .transform((text) => Number(text.slice(0, -1)) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[text.slice(-1) as 'd' | 'h' | 'm'])
  .refine((ms) => ms > 0, 'a lifetime must be more than 0');

/** Whether a token holding `held` may do what `needed` allows: each `:write` scope includes its `:read`. */
export function scopeGrants(held: readonly AuthScope[], needed: AuthScope): boolean {
  return held.includes(needed) || (needed.endsWith(':read') && held.includes(needed.replace(/:read$/, ':write') as AuthScope));
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export type TokenCheck = { ok: true; token: StoredToken } | { ok: false; reason: 'unknown' | 'expired' };

export class TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly key = TOKENS_KEY,
  ) {}

  /** Creates a token and returns its secret value: the only time it exists outside the client. */
  async add(name: string, scopes: readonly AuthScope[], options: { lifetimeMs?: number; now?: Date } = {}): Promise<{ token: string; stored: StoredToken }> {
    const now = options.now ?? new Date();
    if (await this.find(name)) throw new Error(`a token named ${name} already exists (revoke it first)`);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const stored: StoredToken = {
      name,
      scopes: [...scopes],
      created: now.toISOString(),
      expires: options.lifetimeMs === undefined ? null : new Date(now.getTime() + options.lifetimeMs).toISOString(),
      lastUsed: null,
    };
    await this.redis.hset(this.key, hashToken(token), JSON.stringify(stored));
    return { token, stored };
  }

  async list(): Promise<StoredToken[]> {
    return [...(await this.entries()).values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Removes the named token; false when there is none. Takes effect on the very next request. */
  async revoke(name: string): Promise<boolean> {
    const hashes = [...(await this.entries())].filter(([, t]) => t.name === name).map(([hash]) => hash);
    if (!hashes.length) return false;
    await this.redis.hdel(this.key, ...hashes);
    return true;
  }

  async find(name: string): Promise<StoredToken | undefined> {
    return [...(await this.entries()).values()].find((t) => t.name === name);
  }

  /** Checks a presented token; a known, unexpired one has its lastUsed brought up to date. */
  async verify(presented: string, now = new Date()): Promise<TokenCheck> {
    if (!presented.startsWith(TOKEN_PREFIX) || presented.length > 200) return { ok: false, reason: 'unknown' };
    const hash = hashToken(presented);
    const raw = await this.redis.hget(this.key, hash);
    const parsed = raw === null ? undefined : parseStored(raw);
    // Looked up by its SHA-256, never compared character by character: a timing probe learns nothing about the token.
    if (!parsed) return { ok: false, reason: 'unknown' };
    if (parsed.expires !== null && Date.parse(parsed.expires) <= now.getTime()) return { ok: false, reason: 'expired' };
    if (parsed.lastUsed === null || now.getTime() - Date.parse(parsed.lastUsed) >= LAST_USED_RESOLUTION_MS) {
      const updated = { ...parsed, lastUsed: now.toISOString() };
      // Only if the token was not revoked meanwhile (HSETXX does not exist; a Lua check keeps it one step).
      await this.redis.eval(
        "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0",
        1,
        this.key,
        hash,
        JSON.stringify(updated),
      );
      return { ok: true, token: updated };
    }
    return { ok: true, token: parsed };
  }

  private async entries(): Promise<Map<string, StoredToken>> {
    const all = await this.redis.hgetall(this.key);
    const result = new Map<string, StoredToken>();
    for (const [hash, raw] of Object.entries(all)) {
      const parsed = parseStored(raw);
      if (parsed) result.set(hash, parsed);
    }
    return result;
  }
}

function parseStored(raw: string): StoredToken | undefined {
  try {
    const result = storedTokenSchema.safeParse(JSON.parse(raw));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
