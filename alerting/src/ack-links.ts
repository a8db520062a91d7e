/**
 * Signed acknowledge links. A notice's link acknowledges one group, for the receiver integration it was sent to,
 * until it expires: HMAC-SHA256 over those three with a secret only this service holds (link_secret_file or
 * FLYMINING_ALERTING_LINK_SECRET_FILE). A link made by hand from a group id, altered, taken to another receiver or
 * past its expiry is refused. The signature also travels in the acknowledge page's form, so a cross-site form
 * without the link cannot acknowledge (see api.ts for the Origin check on top).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIntegration, type Integration } from './notify/registry';

/**
 * What a link carries besides the group id in its path: r(eceiver), i(ntegration), e(xpiry, unix s), s(ignature),
 * and t(o) when the notice was addressed to one person of the on-call rota (signed too: it names who acknowledged).
 */
export interface AckLinkParams {
  r: string;
  i: string;
  e: string;
  s: string;
  t?: string;
}

export interface AckLinkClaims {
  groupId: string;
  receiver: string;
  integration: Integration;
  expiresAt: number;
  /** The on-call person the notice was addressed to (their address, else their name), when it was. */
  to?: string;
}

export type AckLinkCheck = { ok: true; claims: AckLinkClaims } | { ok: false; reason: string };

/** Shortest secret accepted: 32 characters (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_LINK_SECRET_LENGTH = 32;

export class AckLinkSigner {
  readonly #key: Buffer;

  constructor(
    secret: string,
    /** How long a link stays valid after its notice was sent. */
    readonly ttlMs: number,
  ) {
    if (secret.length < MIN_LINK_SECRET_LENGTH) throw new Error(`the link secret must be at least ${MIN_LINK_SECRET_LENGTH} characters`);
    this.#key = Buffer.from(secret, 'utf8');
  }

  /** The link of one notice: `${base}/ack/${groupId}?r=…&i=…&e=…&s=…` (and `&t=…` for a notice to one person). */
  link(baseUrl: string, groupId: string, receiver: string, integration: Integration, now: number, to?: string): string {
    const e = String(Math.floor((now + this.ttlMs) / 1000));
    const query = new URLSearchParams({ r: receiver, i: integration, e, s: this.signature(groupId, receiver, integration, e, to), ...(to ? { t: to } : {}) });
    return `${baseUrl.replace(/\/+$/, '')}/ack/${encodeURIComponent(groupId)}?${query.toString()}`;
  }

  verify(groupId: string, params: Partial<Record<keyof AckLinkParams, unknown>>, now: number): AckLinkCheck {
    const { r, i, e, s, t } = params;
    if (typeof r !== 'string' || typeof i !== 'string' || typeof e !== 'string' || typeof s !== 'string' || !/^\d{1,12}$/.test(e) || (t !== undefined && (typeof t !== 'string' || t === '')))
      return { ok: false, reason: 'this link is incomplete: open the link from the notice as it was sent' };
    const expected = Buffer.from(this.signature(groupId, r, i, e, t), 'base64url');
    const given = Buffer.from(s, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || !isIntegration(i))
      return { ok: false, reason: 'this link was not made by FlyMining alerting for this group (altered or made by hand)' };
    const expiresAt = Number(e) * 1000;
    if (now >= expiresAt) return { ok: false, reason: `this link expired at ${new Date(expiresAt).toISOString()}: use the link of a newer notice` };
    return { ok: true, claims: { groupId, receiver: r, integration: i, expiresAt, ...(t ? { to: t } : {}) } };
  }

  /** The expiry is digits only, so a link with `to` never signs the same text as one without. */
  private signature(groupId: string, receiver: string, integration: string, expiry: string, to?: string): string {
    return createHmac('sha256', this.#key)
      .update(['flymining-ack-v1', groupId, receiver, integration, expiry, ...(to ? [to] : [])].join('\n'))
      .digest('base64url');
  }

  /** Never serialised, whoever logs the config. */
  toJSON(): string {
    return '[link secret]';
  }
}
