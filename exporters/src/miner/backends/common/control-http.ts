/**
 * What the HTTP write paths (Antminer web CGI, Braiins OS REST, VNish) share: one write through the control link,
 * and everything that can go wrong turned into the ControlError kinds the executor audits. A refused login or a
 * firmware that says no is `refused` (with the firmware's own words, never anything we sent); a broken, slow or
 * garbage answer is `failed`.
 */
import type { JsonObject, JsonValue, MinerSample } from '@flymining/shared';
import { MinerConnectionError } from '../../transports/cgminer-tcp';
import type { HttpMethod } from '../../transports/http-client';
import { ControlError, refusalFor, type ControlBackend, type ControlLink, type MinerAction } from '../../control/types';

/**
 * Power targets outside this band are typing mistakes on any unit; the unit's own envelope is narrower and its
 * firmware refuses targets outside it (Braiins: `new power target '500' is out-of-range (min: Some(954), max:
 * Some(6435))` on an S19 XP), which comes back as a `refused` naming its limits.
 */
export const PLAUSIBLE_POWER_TARGET_W = { minW: 100, maxW: 15_000 } as const;

/** How long a rebooting unit's API stays away at least: the confirmation read waits this long before trying. */
export const REBOOT_SETTLE_MS = 20_000;

/** The miner as messages name it: its endpoint, with the model when the last read gave one. */
export function minerName(link: ControlLink, sample: MinerSample): string {
  return sample.model ? `${link.endpoint} (${sample.model})` : link.endpoint;
}

/** Throws `unsupported` when this family's capabilities refuse the action (the executor checks first; this is the module's own guard). */
export function requireSupported(backend: ControlBackend, action: MinerAction, link: ControlLink, sample: MinerSample): void {
  const refusal = refusalFor(action, backend.capabilities(sample));
  if (refusal) throw new ControlError('unsupported', `${minerName(link, sample)}: ${refusal}`, false);
}

/** At most `max` printable characters of a firmware's text (control characters and runs of blanks folded). */
export function firmwareWords(text: string, max = 200): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The reason inside a refusing body: `msg`/`err`/`message` of a JSON object, else the text itself. */
function reasonOf(replyText: string | undefined): string {
  const text = replyText ?? '';
  try {
    const value = JSON.parse(text) as JsonValue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const key of ['msg', 'err', 'message', 'error']) {
        const v = value[key];
        if (typeof v === 'string' && v.trim() !== '') return firmwareWords(v);
      }
    }
  } catch {
    // Not JSON: Braiins and lighttpd answer refusals as plain text or HTML.
  }
  return firmwareWords(text.replace(/<[^>]*>/g, ' '));
}

/** A reply as the audit shows it: compact JSON, bounded. */
export function replyText(reply: JsonObject): string {
  const value: JsonValue = Object.keys(reply).length === 1 && 'body' in reply ? (reply.body ?? null) : reply;
  return firmwareWords(JSON.stringify(value));
}

export interface WriteOptions {
  /** A refusal this firmware gives with a status other than 4xx (VNish: 500 with `{"err"}`); its reason, or undefined. */
  refusalAt?: (status: number, reason: string) => boolean;
}

/** One request through the link; throws ControlError only. */
export async function sendWrite(link: ControlLink, sample: MinerSample, method: HttpMethod, path: string, body?: JsonValue, options: WriteOptions = {}): Promise<JsonObject> {
  try {
    return await link.http(method, path, body);
  } catch (err) {
    throw asControlError(err, link, sample, `${method} ${path}`, options);
  }
}

function asControlError(err: unknown, link: ControlLink, sample: MinerSample, request: string, options: WriteOptions): ControlError {
  const who = minerName(link, sample);
  if (err instanceof ControlError) return err;
  if (err instanceof MinerConnectionError) {
    if (err.kind === 'auth') {
      // err.message names the endpoint and the HTTP answer; credentials never appear in it.
      return new ControlError('refused', `${who}: login refused for ${request} (${err.message}); check the credentials configured for this miner`, false);
    }
    const status = err.kind === 'protocol' ? Number(/HTTP (\d{3})$/.exec(err.message)?.[1]) : NaN;
    if (Number.isFinite(status)) {
      const reason = reasonOf(err.replyText);
      const said = reason ? `: ${reason}` : '';
      if (status === 404 || status === 405) return new ControlError('refused', `${who}: the firmware has no ${request} (HTTP ${status})${said}`, false);
      if ((status >= 400 && status < 500) || options.refusalAt?.(status, reason)) return new ControlError('refused', `${who}: ${request} refused (HTTP ${status})${said}`, false);
      return new ControlError('failed', `${who}: ${request} failed (HTTP ${status})${said}`, true);
    }
    return new ControlError('failed', `${who}: ${err.message}`, err.kind !== 'too-large');
  }
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ControlError('failed', `${who}: ${request}: ${firmwareWords(detail)}`);
}
