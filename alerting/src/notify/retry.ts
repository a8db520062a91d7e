/**
 * The one check of whether a failed delivery is worth trying again, as Alertmanager's notifiers do: only a far end
 * that is down, overloaded or unreachable gets another try. A refusal that would come back the same (a Slack 404
 * for a revoked webhook, a 400 for a payload it will never take, an SMTP 550 for an unknown mailbox) is not
 * retried: the dispatcher logs it once, counts it and records the notice as failed.
 */

/** What a notifier answers for one notice. */
export type NotifyResult = { ok: true } | { ok: false; retry: boolean; reason: string };

export const DELIVERED: NotifyResult = { ok: true };

/** HTTP 5xx (the far end failed) and 429 (asked to slow down) are transient; any other error status is not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** An HTTP answer as a result: 2xx delivered, else failed with the status and the start of the body. */
export async function checkHttpResponse(response: Response, service: string): Promise<NotifyResult> {
  const body = (await response.text().catch(() => '')).slice(0, 200);
  if (response.ok) return DELIVERED;
  return { ok: false, retry: isRetryableStatus(response.status), reason: `${service} answered ${response.status}${body ? `: ${body}` : ''}` };
}

/**
 * A thrown error as a result. An SMTP reply code decides when there is one (4xx: transient, 5xx: permanent, RFC
 * 5321 4.2.1); anything else (connection refused, DNS, timeout, TLS, a bug) is retried, so nothing is lost to it.
 */
export function checkError(error: unknown): NotifyResult {
  const e = error instanceof Error ? (error as Error & { responseCode?: unknown; cause?: unknown }) : undefined;
  const cause = e?.cause instanceof Error ? ` (${e.cause.message})` : '';
  const reason = `${e?.message ?? String(error)}${cause}`;
  const code = typeof e?.responseCode === 'number' ? e.responseCode : undefined;
  if (code !== undefined && code >= 500 && code < 600) return { ok: false, retry: false, reason };
  return { ok: false, retry: true, reason };
}
