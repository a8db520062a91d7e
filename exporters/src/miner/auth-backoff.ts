/**
 * Refused logins back off per miner (issue 13): a wrong password is one MINER_AUTH_FAILED fault, not a login attempt
 * every sweep, which would fill the miner's log and trip lockouts (VNish answers 429 after too many tries). After a
 * refusal the miner is not asked again for `initialMs`, doubling up to `maxMs`; a successful scrape clears it. A
 * scrape inside the window fails at once with kind `auth`, so health keeps the fault without a new attempt.
 */
export interface AuthBackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_AUTH_BACKOFF: AuthBackoffOptions = { initialMs: 60_000, maxMs: 60 * 60_000 };

interface Refusal {
  failures: number;
  retryAt: number;
  message: string;
}

export class AuthBackoff {
  private readonly refusals = new Map<string, Refusal>();
  /** Login attempts skipped because of a backoff, for /metrics and tests. */
  skipped = 0;

  constructor(private readonly options: AuthBackoffOptions = DEFAULT_AUTH_BACKOFF) {}

  /**
   * The last refusal's message while this miner's login is backed off (the same text, so the fault it raises stays
   * the same fault), or undefined when it may try.
   */
  blocked(endpoint: string, now: number): string | undefined {
    const refusal = this.refusals.get(endpoint);
    if (!refusal || now >= refusal.retryAt) return undefined;
    this.skipped++;
    return refusal.message;
  }

  /** When the miner will be asked again (ms since epoch), for logs and /metrics. */
  retryAt(endpoint: string): number | undefined {
    return this.refusals.get(endpoint)?.retryAt;
  }

  failed(endpoint: string, now: number, message: string): void {
    const failures = (this.refusals.get(endpoint)?.failures ?? 0) + 1;
    const wait = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(failures - 1, 20));
    this.refusals.set(endpoint, { failures, retryAt: now + wait, message });
  }

  succeeded(endpoint: string): void {
    this.refusals.delete(endpoint);
  }
}
