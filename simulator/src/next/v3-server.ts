/**
 * Whatsminer API v3's transport on TCP 4433: every message a frame of a 4-byte little-endian length and that many
 * bytes of JSON, both ways; connections may stay open (zero-length heartbeat frames, closed after 300 s of silence);
 * at most 10 clients at once. Plus the hostile modes a client must survive.
 */
import net from 'node:net';
import type { SimMiner } from '../miner';
import { Prng, deriveSeed } from '../prng';
import { answerV3 } from './whatsminer-v3';

export const V3_MAX_CLIENTS = 10;
const V3_IDLE_MS = 300_000;
const HANG_MS = 10 * 60_000;
/** A request frame announcing more than this is not a request: the connection is closed. */
const MAX_REQUEST_FRAME = 64 * 1024;

export function frame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

export function createV3Server(miner: SimMiner, clock: () => number): net.Server {
  const rng = new Prng(deriveSeed(0x7633, miner.id));
  let clients = 0;
  const server = net.createServer((socket) => {
    if (clients >= V3_MAX_CLIENTS) {
      socket.destroy();
      return;
    }
    clients++;
    socket.once('close', () => clients--);
    socket.on('error', () => socket.destroy());
    if (miner.activeFaults().hang) {
      socket.setTimeout(HANG_MS, () => socket.destroy());
      socket.resume();
      return;
    }
    socket.setTimeout(V3_IDLE_MS, () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    let busy = false;
    const pump = (): void => {
      while (!busy && buffered.length >= 4) {
        const length = buffered.readUInt32LE(0);
        if (length > MAX_REQUEST_FRAME) {
          socket.destroy();
          return;
        }
        if (buffered.length < 4 + length) return;
        const payload = buffered.subarray(4, 4 + length).toString('utf8');
        buffered = buffered.subarray(4 + length);
        if (length === 0) continue; // heartbeat
        busy = true;
        const reply = (): void => {
          busy = false;
          if (socket.destroyed) return;
          const f = miner.activeFaults();
          if (f.garbage === 'binary') {
            const bytes = Buffer.alloc(64 + Math.floor(rng.next() * 192));
            for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
            socket.end(bytes);
            return;
          }
          if (f.hostile === 'v3-huge-length') {
            // Announces 4 GB, sends the start of a reply, then keeps the connection open and silent.
            const prefix = Buffer.alloc(4);
            prefix.writeUInt32LE(0xffffffff, 0);
            socket.write(Buffer.concat([prefix, Buffer.from('{"code":0,"desc":"', 'utf8')]));
            socket.setTimeout(HANG_MS, () => socket.destroy());
            return;
          }
          const out = frame(answerV3(miner, payload, clock()));
          if (f.garbage === 'truncated') {
            socket.end(out.subarray(0, Math.max(5, Math.floor(out.length * 0.6))));
            return;
          }
          if (f.hostile === 'v3-garbage-after-frame') {
            const junk = Buffer.alloc(96);
            for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rng.next() * 256);
            socket.end(Buffer.concat([out, junk]));
            return;
          }
          socket.write(out);
          pump();
        };
        const delay = miner.activeFaults().slowMs;
        if (delay > 0) setTimeout(reply, delay);
        else reply();
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      pump();
    });
    socket.on('end', () => socket.end());
  });
  return server;
}
