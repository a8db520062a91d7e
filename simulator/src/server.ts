/**
 * The TCP side of one simulated miner: one request per connection, reply + NUL, then close (QUIRKS §1.1-1.2),
 * plus the transport-level faults (offline, hang, slow, garbage, reboot downtime).
 */
import net from 'node:net';
import type { SimMiner } from './miner';
import { Prng, deriveSeed } from './prng';
import { answerRequest, type ReplyText } from './replies';

/** A client that sends more than this without completing a JSON request is cut off. */
const MAX_REQUEST_BYTES = 64 * 1024;
/** Idle connections (no complete request) are closed after this long; a hung miner keeps them for much longer. */
const IDLE_TIMEOUT_MS = 30_000;
const HANG_TIMEOUT_MS = 10 * 60_000;

export class MinerServer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly garbageRng: Prng;
  /** Serialises listen/close so rapid fault toggles do not race. */
  private transition: Promise<void> = Promise.resolve();

  constructor(
    readonly miner: SimMiner,
    private readonly clock: () => number,
  ) {
    this.garbageRng = new Prng(deriveSeed(0x6a7b, miner.id));
    miner.onReachabilityChange = () => {
      void this.sync();
    };
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Opens the listener (unless the miner is offline). Rejects with a message naming the address on failure. */
  start(): Promise<void> {
    this.stopped = false;
    return this.sync();
  }

  /** Closes the listener and every open connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    await this.enqueue(() => this.close());
  }

  /** Brings the listener in line with the miner's reachability (offline fault, reboot downtime). */
  sync(): Promise<void> {
    return this.enqueue(async () => {
      if (this.stopped) return;
      const now = this.clock();
      const reachable = this.miner.isReachable(now);
      if (reachable && !this.server) await this.open();
      if (!reachable && this.server) await this.close();
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
      const downUntil = this.miner.downUntilMs();
      if (!reachable && downUntil > now) {
        this.wakeTimer = setTimeout(() => void this.sync(), downUntil - now + 5);
        this.wakeTimer.unref();
      }
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private open(): Promise<void> {
    const { host, port } = this.miner.spec;
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.handle(socket));
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`simulated miner ${this.miner.id}: cannot listen on ${host}:${port}: ${err.message}`)));
      server.listen({ host, port, backlog: 64 }, () => {
        server.removeAllListeners('error');
        server.on('error', () => undefined);
        this.server = server;
        resolve();
      });
    });
  }

  private close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private handle(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const faults = this.miner.activeFaults();
    if (faults.hang) {
      // Accept and never answer; the client's read timeout is what fires.
      socket.setTimeout(HANG_TIMEOUT_MS, () => socket.destroy());
      socket.resume();
      return;
    }
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    let request = '';
    let answered = false;
    const respond = (): void => {
      if (answered) return;
      answered = true;
      socket.removeAllListeners('data');
      const send = (): void => {
        if (socket.destroyed) return;
        socket.end(this.replyBytes(request));
      };
      const delay = this.miner.activeFaults().slowMs;
      if (delay > 0) setTimeout(send, delay);
      else send();
    };
    socket.on('data', (chunk: Buffer) => {
      request += chunk.toString('utf8');
      if (request.length > MAX_REQUEST_BYTES || isCompleteRequest(request)) respond();
    });
    // A client may half-close after writing instead of relying on the JSON being complete.
    socket.on('end', respond);
  }

  private replyBytes(request: string): Buffer {
    const garbage = this.miner.activeFaults().garbage;
    if (garbage === 'binary') {
      const bytes = Buffer.alloc(64 + Math.floor(this.garbageRng.next() * 192));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(this.garbageRng.next() * 256);
      return bytes;
    }
    const reply: ReplyText = answerRequest(this.miner, request, this.clock());
    if (garbage === 'truncated') {
      // Cut mid-reply, no NUL: what a reply overflowing the firmware's buffer looks like (QUIRKS §1.5).
      return Buffer.from(reply.text.slice(0, Math.max(1, Math.floor(reply.text.length * 0.6))), 'utf8');
    }
    return Buffer.from(reply.nul ? `${reply.text}\0` : reply.text, 'utf8');
  }
}

/** True once the bytes hold one whole JSON value (or a text-mode line), trailing NUL/whitespace allowed. */
function isCompleteRequest(request: string): boolean {
  const trimmed = request.replace(/[\s\0]+$/, '');
  if (trimmed.length === 0) return false;
  if (!trimmed.startsWith('{')) return /[\n\0]/.test(request);
  // Cheap pre-check before JSON.parse: a JSON object request must end with '}'.
  if (!trimmed.endsWith('}')) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}
