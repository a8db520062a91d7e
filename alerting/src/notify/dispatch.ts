/**
 * Stage 6, notify: hands each notice to its receiver's notifier without letting one slow or failing receiver hold
 * up the others. What happens on failure is the notifier's answer (retry.ts): a transient failure is counted,
 * logged and retried with exponential back-off while the notice stays owed (the notification log in Redis is only
 * advanced on success); a permanent one (Slack 404, SMTP 550) is logged once with its reason, counted as
 * rejected and recorded as failed in the log, so it is not retried until the group changes or is due again.
 * A receiver with `oncall:` has each notice addressed to whoever is on call (NoticeContext.onCall); escalations
 * (tickets/escalation.ts) are sent through here too, to the next person.
 */
import type { Logger } from '@flymining/shared';
import type { AckLinkSigner } from '../ack-links';
import type { AlertingMetrics } from '../metrics';
import type { AlertState } from '../state';
import { firingHashOf, type Notice, type NoticeContext, type Notifier, type OnCallContact } from './notice';
import { notifierKey } from './registry';
import { checkError, type NotifyResult } from './retry';

const CLAIM_TTL_MS = 120_000;
export const MAX_BACKOFF_MS = 5 * 60_000;

export function backoffMs(failures: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);
}

/** Who is on call for a receiver at escalation `level` (0: now); undefined for a receiver without `oncall:` or when nobody can be named. */
export type OnCallLookup = (receiver: string, level: number, now: number) => Promise<OnCallContact | undefined>;

/** How an escalated notice went: sent by this instance, already claimed (sent or being sent elsewhere), or failed. */
export type EscalationOutcome = 'sent' | 'claimed' | 'failed';

/** What a link names as the acknowledger of a page to one person: their address, else their name. */
export function addresseeOf(person: OnCallContact): string {
  return person.email ?? person.name;
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
    private readonly onCall?: OnCallLookup,
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
    const notifier = this.notifiers.get(notifierKey(n.receiver.name, n.integration));
    if (!notifier) return;
    // Same log state and same alert episodes = the same notice, whichever instance computed it.
    const episodes = Math.max(0, ...n.firing.map((a) => a.firedAt ?? 0), ...n.resolved.map((a) => a.resolvedAt ?? 0));
    const claimId = `${n.logKey}|${n.firingHash}|${firingHashOf(n.resolved.map((a) => a.fingerprint))}|${n.lastSentAt}|${episodes}`;
    if (!(await this.state.claim(claimId, CLAIM_TTL_MS))) return; // another instance is sending this very notice
    const onCall = this.onCall ? await this.onCall(n.receiver.name, 0, Date.now()) : undefined;
    const context = this.contextOf(n, onCall);
    const labels = { receiver: n.receiver.name, integration: n.integration };
    const about = { receiver: n.receiver.name, integration: n.integration, group: n.group.key };
    // A notifier that throws anyway (a bug) is treated like a network error: retried, nothing lost.
    const result: NotifyResult = await notifier.notify(n, context).catch(checkError);
    if (result.ok) {
      await this.state.recordSent(n.logKey, entry);
      this.metrics.notifications.inc({ ...labels, outcome: 'sent' });
      this.logger.info({ ...about, firing: n.firing.length, resolved: n.resolved.length }, 'notice sent');
    } else if (result.retry) {
      const previous = (await this.state.retries()).get(n.logKey);
      const failures = (previous?.failures ?? 0) + 1;
      const retryAt = Date.now() + backoffMs(failures, this.retryBaseMs);
      await this.state.recordFailure(n.logKey, { failures, retryAt, lastError: result.reason });
      await this.state.release(claimId);
      this.metrics.notifications.inc({ ...labels, outcome: 'failed' });
      this.logger.error({ ...about, failures, retryAt, err: result.reason }, 'notice failed; kept for retry');
    } else {
      // Told, as far as the log goes: the same refusal would come back on every retry. The next notice of this
      // group (a change, a resolve, or repeat_interval) tries again.
      await this.state.recordSent(n.logKey, { ...entry, failed: result.reason });
      this.metrics.notifications.inc({ ...labels, outcome: 'rejected' });
      this.logger.error({ ...about, err: result.reason }, 'notice rejected by the receiver; recorded as failed, not retried (check the receiver config)');
    }
  }

  /**
   * Sends `n` again, addressed to `person` (an escalation). The claim (`claimId`, held `claimTtlMs`) makes it go
   * out once whichever instance tries; the notification log is left alone (this is not the group's regular notice).
   */
  async escalate(n: Notice, person: OnCallContact, claimId: string, claimTtlMs: number): Promise<EscalationOutcome> {
    const notifier = this.notifiers.get(notifierKey(n.receiver.name, n.integration));
    if (!notifier) return 'claimed';
    if (!(await this.state.claim(claimId, claimTtlMs))) return 'claimed';
    const labels = { receiver: n.receiver.name, integration: n.integration };
    const about = { receiver: n.receiver.name, integration: n.integration, group: n.group.key, level: person.level, to: person.name };
    const result: NotifyResult = await notifier.notify(n, this.contextOf(n, person)).catch(checkError);
    if (result.ok) {
      this.metrics.notifications.inc({ ...labels, outcome: 'sent' });
      this.logger.info(about, 'unacknowledged page escalated');
      return 'sent';
    }
    // Tried again next cycle (a permanent refusal too: the next person may still be reachable another way).
    await this.state.release(claimId);
    this.metrics.notifications.inc({ ...labels, outcome: result.retry ? 'failed' : 'rejected' });
    this.logger.error({ ...about, err: result.reason }, 'escalation notice failed; tried again next cycle');
    return 'failed';
  }

  private contextOf(n: Notice, onCall: OnCallContact | undefined): NoticeContext {
    const ackUrl = this.ackLinks?.signer.link(this.ackLinks.baseUrl, n.group.id, n.receiver.name, n.integration, Date.now(), onCall && addresseeOf(onCall));
    return { ...(ackUrl ? { ackUrl } : {}), ...(onCall ? { onCall } : {}) };
  }
}
