/**
 * Credentials the simulated units accept on their newer APIs. Defaults are what the firmware ships with (or what the
 * client libraries assume it ships with, per shared/miner-api-next PROTOCOLS.md); a farm may configure others, and the
 * authChange fault replaces one miner's password at run time.
 */
import { z } from 'zod';

export const API_AUTH_KINDS = ['antminer-web', 'whatsminer-v3', 'braiins-rest', 'epic', 'vnish'] as const;
export type ApiAuthKind = (typeof API_AUTH_KINDS)[number];

export interface ApiCredential {
  user: string;
  password: string;
  /** VNish only: a key accepted in the x-api-key header. */
  apiKey?: string;
}

export type CredentialSet = Readonly<Record<ApiAuthKind, ApiCredential>>;

export const DEFAULT_CREDENTIALS: CredentialSet = {
  // Digest auth on every CGI page; stock firmware ships root/root.
  'antminer-web': { user: 'root', password: 'root' },
  // v3 write tokens; the account is "super" (pyasic's default account and password).
  'whatsminer-v3': { user: 'super', password: 'super' },
  // POST /api/v1/auth/login; user root (pyasic's default web password "root").
  'braiins-rest': { user: 'root', password: 'root' },
  // Only writes carry the password, in the body (pyasic's default "letmein").
  epic: { user: 'root', password: 'letmein' },
  // POST /api/v1/unlock {"pw"}; default "admin".
  vnish: { user: 'admin', password: 'admin' },
};

const credentialSchema = z.strictObject({
  user: z.string().min(1).max(64),
  password: z.string().min(1).max(128),
  apiKey: z.string().min(8).max(128).optional(),
});

/** A credentials file: `{"antminer-web": {"user": "root", "password": "..."}, ...}`; families left out keep the defaults. */
export const credentialFileSchema = z.strictObject(
  Object.fromEntries(API_AUTH_KINDS.map((k) => [k, credentialSchema.optional()])) as Record<ApiAuthKind, z.ZodOptional<typeof credentialSchema>>,
);

export function mergeCredentials(overrides: z.output<typeof credentialFileSchema> | undefined): CredentialSet {
  const out: Record<ApiAuthKind, ApiCredential> = { ...DEFAULT_CREDENTIALS };
  for (const kind of API_AUTH_KINDS) {
    const o = overrides?.[kind];
    if (o) out[kind] = { ...o };
  }
  return out;
}
