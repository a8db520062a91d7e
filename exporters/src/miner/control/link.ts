/**
 * Opens the write-capable link to one miner over the same transports the reads use (same bounds, same auth), so a
 * family module only says what to send. Replies are parsed here once: a reply that is not JSON is a `failed` action.
 */
import type { JsonObject, JsonValue, MinerProtocol } from '@flymining/shared';
import { sendRequest, DEFAULT_TRANSPORT, type TransportOptions } from '../transports/cgminer-tcp';
import { HttpMinerApi, type HttpAuthScheme, type HttpMethod, type MinerCredentials } from '../transports/http-client';
import { sendV3Request } from '../transports/whatsminer-v3';
import { ControlError, type ControlLink } from './types';

/** Writes on HTTP APIs need the login even where reads do not (VNish, ePIC take the password in the body). */
const WRITE_AUTH: Record<'antminer-web' | 'braiins-rest' | 'epic' | 'vnish', HttpAuthScheme> = {
  'antminer-web': 'digest',
  'braiins-rest': 'braiins-token',
  epic: 'none',
  vnish: 'vnish-token',
};

/** Writes may take a while on the miner's side (set_miner_conf restarts the mining process: asic-rs allows 30 s). */
export const CONTROL_TRANSPORT: TransportOptions = { ...DEFAULT_TRANSPORT, readTimeoutMs: 30_000 };

export interface ControlLinkOptions {
  credentials?: MinerCredentials;
  transport?: TransportOptions;
  /** HTTP session tokens by endpoint, shared with the reads of the same process. */
  sessions?: Map<string, string>;
}

export function openControlLink(protocol: MinerProtocol, host: string, port: number, options: ControlLinkOptions = {}): ControlLink {
  const transport = options.transport ?? CONTROL_TRANSPORT;
  const endpoint = `${host}:${port}`;
  const parse = (raw: Buffer, what: string): JsonObject => {
    const text = raw.toString('utf8').replace(/\0+$/, '').trim();
    if (text === '') return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ControlError('failed', `${endpoint} ${what}: the reply is not JSON (${JSON.stringify(text.slice(0, 80))})`);
    }
    if (Array.isArray(value)) return { body: value };
    if (value === null || typeof value !== 'object') return { body: value as JsonObject[keyof JsonObject] };
    return value as JsonObject;
  };
  const api =
    protocol === 'cgminer' || protocol === 'whatsminer-v3'
      ? undefined
      : new HttpMinerApi(host, port, { ...transport, auth: WRITE_AUTH[protocol], credentials: options.credentials, sessions: options.sessions });
  return {
    protocol,
    endpoint,
    credentials: options.credentials,
    async command(request: JsonObject): Promise<JsonObject> {
      const name = String(request.command ?? request.cmd ?? 'request');
      if (protocol === 'cgminer') return parse(await sendRequest(host, port, name, request, transport), name);
      if (protocol === 'whatsminer-v3') return parse(await sendV3Request(host, port, request, transport), name);
      throw new ControlError('failed', `${endpoint}: ${protocol} takes HTTP requests, not "${name}"`, false);
    },
    async http(method: HttpMethod, path: string, body?: JsonValue): Promise<JsonObject> {
      if (!api) throw new ControlError('failed', `${endpoint}: ${protocol} is not an HTTP API (${method} ${path})`, false);
      return parse(await api.request(method, path, body), `${method} ${path}`);
    },
  };
}
