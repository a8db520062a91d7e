/**
 * CGMiner-style API transport: one command per TCP connection, the miner answers once and closes
 * (QUIRKS §1). The reply is read until EOF or the NUL terminator, whichever comes first, within a hard
 * deadline and a size cap, so a hostile or broken miner can cost at most `readTimeoutMs` and `maxBytes`.
 */
import net from 'node:net';
import type { JsonObject } from '@flymining/shared';

/**
 * How a request failed below the reply: the transport kinds, plus `auth` (the miner refused our credentials, or we
 * hold none for it) and `protocol` (it answered, but not in the protocol asked for: a bad frame, an HTTP error status).
 */
export type ConnectionFailureKind = 'refused' | 'timeout' | 'reset' | 'too-large' | 'unreachable' | 'empty' | 'auth' | 'protocol';

export class MinerConnectionError extends Error {
  constructor(
    readonly kind: ConnectionFailureKind,
    readonly endpoint: string,
    readonly command: string,
    detail: string,
    /** The start of the body of a refusing HTTP answer (a firmware's reason), for the audit; never a secret we sent. */
    readonly replyText?: string,
  ) {
    super(`${endpoint} ${command}: ${detail}`);
    this.name = 'MinerConnectionError';
  }
}

export interface TransportOptions {
  /** Time to establish the TCP connection. */
  connectTimeoutMs: number;
  /** Deadline for the whole reply after connecting: a reply that trickles forever is cut here. */
  readTimeoutMs: number;
  /** Largest reply accepted; real replies are under 64 KiB (the biggest capture is 40 KB). */
  maxBytes: number;
}

export const DEFAULT_TRANSPORT: TransportOptions = {
  connectTimeoutMs: 3000,
  readTimeoutMs: 10_000,
  maxBytes: 1024 * 1024,
};

/**
 * What every socket of this transport reads into: each chunk is copied out at once in the read callback (which runs
 * synchronously, one socket at a time), so one buffer serves them all and the socket's stream machinery (a buffer per
 * read, 'data' events) is left out.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Sends `{"command":..,"parameter":..}` and resolves with the raw reply bytes, trailing NULs removed. */
export function sendCommand(
  host: string,
  port: number,
  command: string,
  parameter?: string,
  options: TransportOptions = DEFAULT_TRANSPORT,
): Promise<Buffer> {
  return sendRequest(host, port, command, parameter === undefined ? { command } : { command, parameter }, options);
}

/**
 * Sends any request object (e.g. Antminer's `{"command":"stats","new_api":true}`, whose flag must be top-level) and
 * resolves with the raw reply bytes, trailing NULs removed. `command` names the request in errors.
 */
export function sendRequest(host: string, port: number, command: string, body: JsonObject, options: TransportOptions = DEFAULT_TRANSPORT): Promise<Buffer> {
  const endpoint = `${host}:${port}`;
  const request = JSON.stringify(body);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let connected = false;
    // No setNoDelay: the request is one write, which Nagle's algorithm never holds back (it delays only a small
    // segment sent while an earlier one is unacknowledged), so it would cost a system call per connection for nothing.
    const socket = net.connect({ host, port, onread: { buffer: READ_BUFFER, callback: (n, buffer) => onChunk(Buffer.from(buffer.subarray(0, n))) } });

    const finish = (err?: MinerConnectionError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(readTimer);
      socket.destroy();
      if (err) return reject(err);
      let reply = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      let end = reply.length;
      while (end > 0 && reply[end - 1] === 0) end--;
      reply = reply.subarray(0, end);
      if (reply.length === 0) return reject(new MinerConnectionError('empty', endpoint, command, 'closed without a reply'));
      resolve(reply);
    };

    const connectTimer = setTimeout(
      () => finish(new MinerConnectionError('timeout', endpoint, command, `no connection within ${options.connectTimeoutMs} ms`)),
      options.connectTimeoutMs,
    );
    let readTimer: NodeJS.Timeout | undefined;

    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      readTimer = setTimeout(
        () =>
          finish(
            new MinerConnectionError('timeout', endpoint, command, `reply not complete within ${options.readTimeoutMs} ms (${size} bytes read)`),
          ),
        options.readTimeoutMs,
      );
      socket.write(request);
    });
    function onChunk(chunk: Buffer): boolean {
      if (settled) return false;
      size += chunk.length;
      if (size > options.maxBytes) {
        finish(new MinerConnectionError('too-large', endpoint, command, `reply larger than ${options.maxBytes} bytes`));
        return false;
      }
      chunks.push(chunk);
      // cgminer ends its reply with one NUL and then closes; stop at the NUL so a firmware that keeps
      // the socket open does not cost the whole read timeout.
      if (chunk.length > 0 && chunk[chunk.length - 1] === 0) finish();
      return true;
    }
    socket.once('end', () => finish());
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (code === 'ECONNREFUSED') finish(new MinerConnectionError('refused', endpoint, command, 'connection refused'));
      else if (code === 'ECONNRESET' || code === 'EPIPE')
        finish(
          connected && size > 0
            ? undefined
            : new MinerConnectionError('reset', endpoint, command, `connection reset (${code})`),
        );
      else if (code === 'ETIMEDOUT') finish(new MinerConnectionError('timeout', endpoint, command, 'connect timed out'));
      else finish(new MinerConnectionError('unreachable', endpoint, command, `${code || 'error'}: ${err.message}`));
    });
  });
}
