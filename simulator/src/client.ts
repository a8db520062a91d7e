/** A minimal CGMiner-API client for tests and tools: one request per connection, read until the miner closes. */
import net from 'node:net';

export interface RawReply {
  bytes: Buffer;
  /** The reply without its trailing NUL, as text. */
  text: string;
  endsWithNul: boolean;
}

export function sendRaw(host: string, port: number, payload: string | Buffer, timeoutMs = 5000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const bytes = Buffer.concat(chunks);
      const endsWithNul = bytes.length > 0 && bytes[bytes.length - 1] === 0;
      resolve({ bytes, endsWithNul, text: bytes.subarray(0, endsWithNul ? bytes.length - 1 : bytes.length).toString('utf8') });
    });
  });
}

/** Sends {"command": command} and returns the raw reply. */
export function sendCommand(host: string, port: number, command: string, timeoutMs?: number): Promise<RawReply> {
  return sendRaw(host, port, JSON.stringify({ command }), timeoutMs);
}
