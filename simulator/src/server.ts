/**
 * The network side of one simulated miner: on its main port the CGMiner API (one request per connection, reply +
 * NUL, then close; QUIRKS §1.1-1.2) or, on ePIC, HTTP; plus, where the unit has them, its web API (HTTP port) and
 * Whatsminer API v3 (port 4433). Transport faults (offline, hang, slow, garbage, reboot downtime) apply to all.
 */
import net from 'node:net';
import { apiOf } from './catalog';
import type { SimMiner } from './miner';
import { createMinerHttpServer } from './next/http-api';
import { createV3Server } from './next/v3-server';
import { Prng, deriveSeed } from './prng';
import { answerRequest, type ReplyText } from './replies';

/** A client that sends more than this without completing a JSON request is cut off. */
const MAX_REQUEST_BYTES = 64 * 1024;
/** Idle connections (no complete request) are closed after this long; a hung miner keeps them for much longer. */
const IDLE_TIMEOUT_MS = 30_000;
const HANG_TIMEOUT_MS = 10 * 60_000;

export class MinerServer {
  /** Every open listener of the unit (main port first). */
  private servers: net.Server[] | undefined;
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
    return this.servers !== undefined;
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
      if (reachable && !this.servers) await this.open();
      if (!reachable && this.servers) await this.close();
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

  /** Opens every port of the unit; closes what it opened if one fails. */
  private async open(): Promise<void> {
    const { host, port, httpPort, v3Port } = this.miner.spec;
    const api = apiOf(this.miner.profile);
    const wanted: Array<{ port: number; make: () => net.Server }> = [
      {
        port,
        make: () =>
          api.main === 'epic-http'
            ? createMinerHttpServer('epic', this.miner, this.clock)
            : net.createServer({ allowHalfOpen: true }, (socket) => this.handle(socket)),
      },
    ];
    if (api.http) {
      if (httpPort === undefined) throw new Error(`simulated miner ${this.miner.id}: profile ${this.miner.profile.id} serves ${api.http} but its spec has no httpPort`);
      const flavour = api.http;
      wanted.push({ port: httpPort, make: () => createMinerHttpServer(flavour, this.miner, this.clock) });
    }
    if (api.whatsminerV3) {
      if (v3Port === undefined) throw new Error(`simulated miner ${this.miner.id}: profile ${this.miner.profile.id} serves API v3 but its spec has no v3Port`);
      wanted.push({ port: v3Port, make: () => createV3Server(this.miner, this.clock) });
    }
    const opened: net.Server[] = [];
    try {
      for (const w of wanted) opened.push(await this.listen(w.make(), host, w.port));
    } catch (err) {
      await Promise.all(opened.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      throw err;
    }
    this.servers = opened;
  }

  private listen(server: net.Server, host: string, port: number): Promise<net.Server> {
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`simulated miner ${this.miner.id}: cannot listen on ${host}:${port}: ${err.message}`)));
      server.listen({ host, port, backlog: 64 }, () => {
        server.removeAllListeners('error');
        server.on('error', () => undefined);
        resolve(server);
      });
    });
  }

  private close(): Promise<void> {
    const servers = this.servers ?? [];
    this.servers = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
  }

  private handle(socket: net.Socket): void {
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
