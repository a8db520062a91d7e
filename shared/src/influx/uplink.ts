/**
 * What a failed request to InfluxDB means for the uplink, in words an operator can act on: the host, what was
 * refused (credentials, certificate, database) and node's error code. Messages never carry a secret: only the
 * user name, file paths, status codes and InfluxDB's own reason.
 */
import type { UplinkState } from '../edge';

export type UplinkFailureKind = Exclude<UplinkState, 'starting' | 'ok'> | 'schema';

export interface UplinkFailure {
  kind: UplinkFailureKind;
  /** Two failures with the same key have the same reason: it is logged once. */
  key: string;
  message: string;
}

export interface UplinkContext {
  /** Base URL without credentials, e.g. https://influx.example:8086. */
  displayUrl: string;
  /** host:port, for certificate messages. */
  hostPort: string;
  database: string;
  retentionPolicy: string;
  username?: string;
  tokenFile?: string;
  caFile?: string;
  /** A CA was configured (file or inline PEM). */
  customCa: boolean;
}

/** node's codes for a certificate or TLS handshake that failed. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  const cause = (err as { cause?: unknown }).cause;
  return cause === err ? undefined : errorCode(cause);
}

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_');
}

/** A request that got no HTTP answer: unreachable, timed out, or TLS refused. */
export function describeRequestError(err: unknown, ctx: UplinkContext): UplinkFailure {
  const code = errorCode(err) ?? 'ERROR';
  const detail = (err instanceof Error ? err.message : String(err)).replace(/^Error: /, '');
  if (isTlsCode(code)) {
    const trust = ctx.caFile
      ? `not trusted by CA file ${ctx.caFile}`
      : ctx.customCa
        ? 'not trusted by the configured CA'
        : 'not trusted by the system CAs (set caFile / FLYMINING_INFLUX_CA_FILE)';
    return { kind: 'tls', key: `tls:${code}`, message: `certificate of ${ctx.hostPort} ${trust}: ${code} (${detail})` };
  }
  return { kind: 'unreachable', key: `unreachable:${code}`, message: `InfluxDB at ${ctx.displayUrl} unreachable: ${detail} (${code})` };
}

/**
 * A write InfluxDB answered but did not take, for reasons other than bad data: undefined when the status is not
 * about the uplink (2xx, or 400/413/422 which are the data's fault).
 */
export function describeWriteRefusal(status: number, body: string, ctx: UplinkContext): UplinkFailure | undefined {
  const reason = `HTTP ${status}: ${body.trim().slice(0, 300)}`;
  const who = ctx.username !== undefined ? `the credentials of user ${ctx.username}` : ctx.tokenFile ? `the token from ${ctx.tokenFile}` : 'the request (no credentials configured)';
  if (status === 401) {
    return { kind: 'refused', key: 'refused:401', message: `InfluxDB at ${ctx.displayUrl} refused ${who}: ${reason}` };
  }
  if (status === 403) {
    const user = ctx.username !== undefined ? `user ${ctx.username}` : 'this token';
    return {
      kind: 'refused',
      key: 'refused:403',
      message: `InfluxDB at ${ctx.displayUrl} refused writes by ${user} to database "${ctx.database}": ${reason}`,
    };
  }
  if (status === 404 && /database not found|retention policy not found/i.test(body)) {
    const what = /retention policy/i.test(body) ? `retention policy "${ctx.retentionPolicy}" of database "${ctx.database}"` : `database "${ctx.database}"`;
    return { kind: 'schema', key: `schema:${what}`, message: `InfluxDB at ${ctx.displayUrl} has no ${what}: ${reason}` };
  }
  if (status === 429 || status >= 500 || status === 404) {
    return { kind: 'unreachable', key: `unreachable:HTTP ${status}`, message: `InfluxDB at ${ctx.displayUrl} cannot take writes: ${reason}` };
  }
  return undefined;
}

/** 4m12s, 1h03m, 850ms: how long an outage lasted, for log lines. */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
