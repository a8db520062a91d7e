/**
 * One transport per protocol, behind one call: send a backend's request, get the reply bytes. The backend says what
 * to send (`requestFor`, or the command name / HTTP path); the transport frames it, authenticates, bounds it.
 */
import type { JsonObject, MinerProtocol } from '@flymining/shared';
import { DEFAULT_TRANSPORT, sendRequest, type TransportOptions } from './cgminer-tcp';
import { HttpMinerApi, type HttpAuthScheme, type MinerCredentials } from './http-client';
import { sendV3Request } from './whatsminer-v3';

export interface TransportContext {
  options?: TransportOptions;
  credentials?: MinerCredentials;
  /** HTTP session tokens by endpoint, kept across scrapes. */
  sessions?: Map<string, string>;
  /** Bytes a miner sent after its reply (v3 frames): ignored, but counted as a bad reply. */
  onTrailingBytes?: (command: string, count: number) => void;
}

export interface MinerTransport {
  readonly protocol: MinerProtocol;
  readonly endpoint: string;
  send(command: string, request: JsonObject | undefined): Promise<Buffer>;
}

/** VNish reads (`/info`, `/status`, `/summary`) need no login; with credentials configured it logs in anyway. */
const HTTP_AUTH: Record<'antminer-web' | 'braiins-rest' | 'epic' | 'vnish', (ctx: TransportContext) => HttpAuthScheme> = {
  'antminer-web': () => 'digest',
  'braiins-rest': () => 'braiins-token',
  epic: () => 'none',
  vnish: (ctx) => (ctx.credentials ? 'vnish-token' : 'none'),
};

export function openTransport(protocol: MinerProtocol, host: string, port: number, ctx: TransportContext = {}): MinerTransport {
  const options = ctx.options ?? DEFAULT_TRANSPORT;
  const endpoint = `${host}:${port}`;
  switch (protocol) {
    case 'cgminer':
      return { protocol, endpoint, send: (command, request) => sendRequest(host, port, command, request ?? { command }, options) };
    case 'whatsminer-v3':
      return {
        protocol,
        endpoint,
        send: (command, request) =>
          sendV3Request(host, port, request ?? { cmd: command }, { ...options, onTrailingBytes: (count) => ctx.onTrailingBytes?.(command, count) }),
      };
    default: {
      const api = new HttpMinerApi(host, port, { ...options, auth: HTTP_AUTH[protocol](ctx), credentials: ctx.credentials, sessions: ctx.sessions });
      return { protocol, endpoint, send: (command) => api.get(command) };
    }
  }
}

export { DEFAULT_TRANSPORT, MinerConnectionError, type ConnectionFailureKind, type TransportOptions } from './cgminer-tcp';
export type { MinerCredentials } from './http-client';
