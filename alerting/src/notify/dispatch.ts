/**
 * Stage 6, notify: hands each notice to its receiver's notifier without letting one slow or failing receiver hold
 * up the others. A failure is counted, logged and retried with exponential back-off; the notice stays owed
 * (the notification log in Redis is only advanced on success), so nothing is dropped silently.
 */
import type { Logger } from '@flymining/shared';
import type { AckLinkSigner } from '../ack-links';
import type { AlertingMetrics } from '../metrics';
import { firingHashOf, type Notice } from '../pipeline/dedup';
import type { AlertState } from '../state';
import type { NoticeContext, Notifier } from './notice';

const CLAIM_TTL_MS = 120_000;
export const MAX_BACKOFF_MS = 5 * 60_000;

export function backoffMs(failures: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);
}

export class Dispatcher {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly state: AlertState,
    /** Keyed "receiver/integration". */
    private readonly notifiers: ReadonlyMap<string, Notifier>,
    private readonly metrics: AlertingMetrics,
    private readonly logger: Logger,
    /** Where acknowledge links point and what signs them; without it notices carry no link. */
    private readonly ackLinks: { baseUrl: string; signer: AckLinkSigner } | undefined,
    private readonly retryBaseMs = 1000,
  ) {}

  /** Starts every notice not already on its way; returns when they have all finished (the cycle does not wait). */
  dispatch(notices: readonly Notice[], now: number): Promise<void> {
    const started: Array<Promise<void>> = [];
    for (const n of notices) {
      if (this.inFlight.has(n.logKey)) continue;
      const p = this.deliver(n, now).finally(() => this.inFlight.delete(n.logKey));
      this.inFlight.set(n.logKey, p);
      started.push(p);
    }
    return Promise.all(started).then(() => undefined);
  }

  async idle(): Promise<void> {
    await Promise.all([...this.inFlight.values()]);
  }

  private async deliver(n: Notice, now: number): Promise<void> {
    const entry = { firing: [...n.firing.map((a) => a.fingerprint), ...n.kept], sentAt: now };
    if (n.quiet) return this.state.recordSent(n.logKey, entry);
    const notifier = this.notifiers.get(`${n.receiver.name}/${n.integration}`);
    if (!notifier) return;
    // Same log state and same alert episodes = the same notice, whichever instance computed it.
    const episodes = Math.max(0, ...n.firing.map((a) => a.firedAt ?? 0), ...n.resolved.map((a) => a.resolvedAt ?? 0));
    const claimId = `${n.logKey}|${n.firingHash}|${firingHashOf(n.resolved.map((a) => a.fingerprint))}|${n.lastSentAt}|${episodes}`;
    if (!(await this.state.claim(claimId, CLAIM_TTL_MS))) return; // another instance is sending this very notice
    const context: NoticeContext = this.ackLinks ? { ackUrl: this.ackLinks.signer.link(this.ackLinks.baseUrl, n.group.id, n.receiver.name, n.integration, Date.now()) } : {};
    const labels = { receiver: n.receiver.name, integration: n.integration };
    try {
      await notifier.send(n, context);
      await this.state.recordSent(n.logKey, entry);
      this.metrics.notifications.inc({ ...labels, outcome: 'sent' });
      this.logger.info({ receiver: n.receiver.name, integration: n.integration, group: n.group.key, firing: n.firing.length, resolved: n.resolved.length }, 'notice sent');
    } catch (e) {
      const previous = (await this.state.retries()).get(n.logKey);
      const failures = (previous?.failures ?? 0) + 1;
      const retryAt = Date.now() + backoffMs(failures, this.retryBaseMs);
      await this.state.recordFailure(n.logKey, { failures, retryAt, lastError: (e as Error).message });
      await this.state.release(claimId);
      this.metrics.notifications.inc({ ...labels, outcome: 'failed' });
      this.logger.error({ receiver: n.receiver.name, integration: n.integration, group: n.group.key, failures, retryAt, err: (e as Error).message }, 'notice failed; kept for retry');
    }
  }
}
