/**
 * Whatsminer API v3 transport (whatsminer-v3/PROTOCOLS.md §1): plain TCP on 4433; every message in both directions is
 * a frame of a 4-byte little-endian length and that many bytes of JSON. One request per connection (as pyasic and
 * asic-rs do). The announced length is checked against `maxBytes` before anything is buffered, so a prefix
 * announcing 4 GB costs nothing; zero-length frames are heartbeats and skipped; bytes after the frame are ignored and
 * reported through `onTrailingBytes`.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { JsonObject } from '@flymining/shared';
import { DEFAULT_TRANSPORT, MinerConnectionError, type TransportOptions } from './cgminer-tcp';

export const WHATSMINER_V3_PORT = 4433;
const PREFIX_BYTES = 4;
/** Heartbeat frames a reply may be preceded by before it counts as a miner that never answers. */
const MAX_HEARTBEATS = 16;

/** A request frame: the 4-byte little-endian length, then the JSON. */
export function encodeV3Frame(body: JsonObject | string): Buffer {
  const json = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt32LE(json.length, 0);
  return Buffer.concat([prefix, json]);
}

export interface V3RequestOptions extends TransportOptions {
  /** Called when the miner sent bytes after the reply frame (they are ignored). */
  onTrailingBytes?: (count: number) => void;
}

/** Sends one v3 request (`{"cmd":…,"param":…}`) and resolves with the reply frame's payload bytes. */
export function sendV3Request(host: string, port: number, body: JsonObject, options: V3RequestOptions = DEFAULT_TRANSPORT): Promise<Buffer> {
  const endpoint = `${host}:${port}`;
  const command = typeof body.cmd === 'string' ? body.cmd + (typeof body.param === 'string' ? ` ${body.param}` : '') : 'request';
  return new Promise<Buffer>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let announced: number | undefined;
    let heartbeats = 0;
    let settled = false;
    let connected = false;
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);

    const finish = (result: Buffer | MinerConnectionError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(readTimer);
      socket.destroy();
      if (result instanceof MinerConnectionError) reject(result);
      else resolve(result);
    };
    const fail = (kind: MinerConnectionError['kind'], detail: string): void => finish(new MinerConnectionError(kind, endpoint, command, detail));

    const connectTimer = setTimeout(() => fail('timeout', `no connection within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
    let readTimer: NodeJS.Timeout | undefined;

    /** Takes whole frames off the buffer; resolves with the first non-empty one. */
    const drain = (): void => {
      for (;;) {
        if (announced === undefined) {
          if (buffered.length < PREFIX_BYTES) return;
          announced = buffered.readUInt32LE(0);
          buffered = buffered.subarray(PREFIX_BYTES);
          if (announced > options.maxBytes) return fail('too-large', `frame announces ${announced} bytes, more than the ${options.maxBytes} accepted`);
          if (announced === 0) {
            announced = undefined;
            if (++heartbeats > MAX_HEARTBEATS) return fail('protocol', `${heartbeats} heartbeat frames and no reply`);
            continue;
          }
        }
        if (buffered.length < announced) return;
        const payload = Buffer.from(buffered.subarray(0, announced));
        const trailing = buffered.length - announced;
        if (trailing > 0) options.onTrailingBytes?.(trailing);
        return finish(payload);
      }
    };

    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      readTimer = setTimeout(
        () => fail('timeout', `reply frame not complete within ${options.readTimeoutMs} ms (${buffered.length} of ${announced ?? '?'} bytes)`),
        options.readTimeoutMs,
      );
      socket.write(encodeV3Frame(body));
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      // At most one announced frame (<= maxBytes) plus one chunk is ever held: drain() settles once the frame is in.
      buffered = Buffer.concat([buffered, chunk]);
      drain();
    });
    socket.once('end', () => {
      if (announced === undefined && buffered.length === 0) fail('empty', 'closed without a reply frame');
      else fail('protocol', `closed mid-frame (${buffered.length} of ${announced ?? 'a 4-byte prefix'} bytes)`);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (code === 'ECONNREFUSED') fail('refused', 'connection refused');
      else if (code === 'ECONNRESET' || code === 'EPIPE') fail('reset', `connection reset (${code})${connected ? '' : ' before connecting'}`);
      else if (code === 'ETIMEDOUT') fail('timeout', 'connect timed out');
      else fail('unreachable', `${code || 'error'}: ${err.message}`);
    });
  });
}

/**
 * The v3 write token (PROTOCOLS.md §4): the first 8 characters of base64(SHA-256(cmd + password + salt + ts)). Reads
 * need none; this exists so a write (`set.*`) sent later signs the same way the firmware checks.
 */
export function v3Token(command: string, password: string, salt: string, unixSeconds: number): string {
  return createHash('sha256').update(`${command}${password}${salt}${unixSeconds}`).digest('base64').slice(0, 8);
}
