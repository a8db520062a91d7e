/**
 * An impaired link for one TCP service: listen host:port, forward to target host:port, with per-direction latency and
 * jitter, an optional bandwidth cap, and cut()/restore() for outages. It stands in for an LTE uplink where the kernel
 * has no tc netem (latency cannot be added per packet there; a user-space proxy adds it per chunk instead).
 *
 *  - Each chunk is delivered after delay ± jitter (uniform), never before the previous chunk of the same connection
 *    and direction: jitter varies latency but never reorders a TCP stream, as on a real link.
 *  - The bandwidth cap is per direction and shared by all connections (one radio link), in bytes per second.
 *  - cut('refuse') stops listening (new connections get ECONNREFUSED); cut('blackhole') keeps accepting but holds new
 *    connections without forwarding a byte until restore(), like SYNs lost on a dead cell. Both destroy the
 *    connections open at the cut and drop whatever they had in flight.
 */
import net from 'node:net';
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';
import { Prng } from './prng';

const directionSchema = z
  .object({
    delayMs: z.number().min(0).max(600_000).default(0),
    jitterMs: z.number().min(0).max(600_000).default(0),
  })
  .strict();

export const linkProxyOptionsSchema = z
  .object({
    listenHost: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (read it back from address()). */
    listenPort: z.number().int().min(0).max(65535).default(0),
    targetHost: z.string().min(1),
    targetPort: z.number().int().min(1).max(65535),
    /** Client → target. */
    up: directionSchema.default({ delayMs: 0, jitterMs: 0 }),
    /** Target → client. */
    down: directionSchema.default({ delayMs: 0, jitterMs: 0 }),
    /** Per direction, all connections together; absent = unlimited. */
    bandwidthBytesPerSec: z.number().positive().optional(),
    /** Seed of the jitter, so a run can be repeated. */
    seed: z.number().int().default(1),
  })
  .strict();

export type LinkProxyOptions = z.input<typeof linkProxyOptionsSchema>;
type ParsedOptions = z.output<typeof linkProxyOptionsSchema>;
export type CutMode = 'refuse' | 'blackhole';
export type LinkDirection = 'up' | 'down';

export interface LinkProxyStats {
  /** Connections accepted since start (held ones included). */
  connections: number;
  /** Connections forwarding now. */
  open: number;
  /** Connections accepted during a blackhole cut and waiting for restore(). */
  held: number;
  /** Connections destroyed by cut(). */
  cutConnections: number;
  /** Bytes delivered client → target. */
  bytesUp: number;
  /** Bytes delivered target → client. */
  bytesDown: number;
}

/** Above this many bytes queued in one direction of one connection, the sender is paused (memory stays bounded). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;

/** Latency, jitter and shared bandwidth of one direction. */
class DirectionShaper {
  private wireFreeAt = 0;

  constructor(
    private readonly delayMs: number,
    private readonly jitterMs: number,
    private readonly bytesPerSec: number | undefined,
    private readonly prng: Prng,
  ) {}

  /** When a chunk of this many bytes, sent now, reaches the far end. */
  arrival(bytes: number, now: number): number {
    let sent = now;
    if (this.bytesPerSec !== undefined) {
      const start = Math.max(now, this.wireFreeAt);
      this.wireFreeAt = start + (bytes * 1000) / this.bytesPerSec;
      sent = this.wireFreeAt;
    }
    const latency = this.jitterMs > 0 ? this.prng.range(this.delayMs - this.jitterMs, this.delayMs + this.jitterMs) : this.delayMs;
    return sent + Math.max(0, latency);
  }
}

/** One direction of one connection: chunks wait in order until their arrival time. */
class DelayedPipe {
  private readonly queue: Array<{ at: number; chunk: Buffer | null }> = [];
  private lastAt = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly shaper: DirectionShaper,
    private readonly delivered: (bytes: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.on('end', () => this.push(null));
  }

  /** A chunk, or null for the sender's FIN (forwarded after the data before it). */
  private push(chunk: Buffer | null): void {
    const now = Date.now();
    const at = Math.max(this.shaper.arrival(chunk?.length ?? 0, now), this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, chunk });
    if (chunk) {
      this.queuedBytes += chunk.length;
      if (this.queuedBytes > HIGH_WATER_BYTES) this.from.pause();
    }
    if (!this.timer) this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.at - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0] as { at: number }).at <= now) {
      const { chunk } = this.queue.shift() as { at: number; chunk: Buffer | null };
      if (this.to.destroyed) return;
      if (chunk === null) {
        this.to.end();
        continue;
      }
      this.queuedBytes -= chunk.length;
      this.to.write(chunk);
      this.delivered(chunk.length);
    }
    if (this.queuedBytes < LOW_WATER_BYTES && this.from.isPaused()) this.from.resume();
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

class ProxiedConnection {
  private readonly pipes: DelayedPipe[] = [];
  private upstream: net.Socket | undefined;
  private closed = false;

  constructor(
    readonly client: net.Socket,
    private readonly onClose: (c: ProxiedConnection) => void,
  ) {
    client.on('error', () => this.destroy());
    client.on('close', (hadError) => this.closedOne(hadError));
  }

  /** A reset tears down both sides at once; a clean close waits until the other side's delayed data and FIN are out. */
  private closedOne(hadError: boolean): void {
    if (hadError || (this.client.destroyed && (this.upstream === undefined || this.upstream.destroyed))) this.destroy();
  }

  forward(options: ParsedOptions, up: DirectionShaper, down: DirectionShaper, stats: LinkProxyStats): void {
    if (this.closed) return;
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    this.client.setNoDelay(true);
    upstream.on('error', () => this.destroy());
    upstream.on('close', (hadError) => this.closedOne(hadError));
    this.pipes.push(new DelayedPipe(this.client, upstream, up, (n) => (stats.bytesUp += n)));
    this.pipes.push(new DelayedPipe(upstream, this.client, down, (n) => (stats.bytesDown += n)));
    this.client.resume();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pipes) p.stop();
    this.client.destroy();
    this.upstream?.destroy();
    this.onClose(this);
  }
}

export class LinkProxy {
  private readonly options: ParsedOptions;
  private readonly up: DirectionShaper;
  private readonly down: DirectionShaper;
  private readonly server: net.Server;
  private readonly open = new Set<ProxiedConnection>();
  private readonly held = new Set<ProxiedConnection>();
  private cutMode: CutMode | undefined;
  private port = 0;
  private listening = false;
  private readonly counters: LinkProxyStats = { connections: 0, open: 0, held: 0, cutConnections: 0, bytesUp: 0, bytesDown: 0 };

  private constructor(options: ParsedOptions) {
    this.options = options;
    const prng = new Prng(options.seed);
    this.up = new DirectionShaper(options.up.delayMs, options.up.jitterMs, options.bandwidthBytesPerSec, prng);
    this.down = new DirectionShaper(options.down.delayMs, options.down.jitterMs, options.bandwidthBytesPerSec, prng);
    // allowHalfOpen: a client's FIN is forwarded after its delayed data, not applied at once.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  /** Validates the options (errors name the field) and starts listening. */
  static async start(options: LinkProxyOptions): Promise<LinkProxy> {
    const parsed = linkProxyOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new Error(`link proxy options: ${formatIssues(parsed.error, { whole: '(options)' }).join('; ')}`);
    }
    const proxy = new LinkProxy(parsed.data);
    await proxy.listen(parsed.data.listenPort);
    return proxy;
  }

  address(): { host: string; port: number } {
    return { host: this.options.listenHost, port: this.port };
  }

  get isCut(): boolean {
    return this.cutMode !== undefined;
  }

  stats(): LinkProxyStats {
    return { ...this.counters, open: this.open.size, held: this.held.size };
  }

  /** Takes the link down: open connections are destroyed, new ones refused or held (see the module comment). */
  async cut(mode: CutMode = 'refuse'): Promise<void> {
    if (this.cutMode === mode) return;
    if (this.cutMode !== undefined) await this.restore();
    this.cutMode = mode;
    this.counters.cutConnections += this.open.size;
    for (const c of [...this.open]) c.destroy();
    if (mode === 'refuse') await this.unlisten();
  }

  /** Brings the link back: listens again if it was refusing, and lets held connections through. */
  async restore(): Promise<void> {
    const mode = this.cutMode;
    this.cutMode = undefined;
    if (mode === 'refuse') await this.listen(this.port);
    for (const c of [...this.held]) {
      this.held.delete(c);
      this.open.add(c);
      c.forward(this.options, this.up, this.down, this.counters);
    }
  }

  async close(): Promise<void> {
    for (const c of [...this.open, ...this.held]) c.destroy();
    await this.unlisten();
  }

  private accept(socket: net.Socket): void {
    this.counters.connections++;
    const connection = new ProxiedConnection(socket, (c) => {
      this.open.delete(c);
      this.held.delete(c);
    });
    if (this.cutMode === 'blackhole') {
      this.held.add(connection);
      return;
    }
    if (this.cutMode === 'refuse') {
      // Accepted in the instant between cut() and the listener closing: treat as refused.
      connection.destroy();
      return;
    }
    this.open.add(connection);
    connection.forward(this.options, this.up, this.down, this.counters);
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(new Error(`link proxy cannot listen on ${this.options.listenHost}:${port}: ${error.message}`));
      this.server.once('error', onError);
      this.server.listen({ host: this.options.listenHost, port }, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address && typeof address === 'object') this.port = address.port;
        this.listening = true;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    // close() waits for accepted sockets; those are destroyed by the caller, so this returns promptly.
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** "10.213.0.1:8086" → host and port; undefined when it is not host:port. */
function hostPort(text: string | undefined): { host: string; port: number } | undefined {
  if (!text) return undefined;
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  return colon > 0 && Number.isInteger(port) ? { host: text.slice(0, colon), port } : undefined;
}

/**
 * As a process (e.g. inside an edge's network namespace):
 *   node -r tsx/cjs simulator/src/link-proxy.ts --listen 127.0.0.1:18086 --target 10.213.0.1:8086 [--delay-ms 40]
 *     [--jitter-ms 20] [--bandwidth-bytes 93750]
 * Prints `listening HOST:PORT` once it accepts; SIGUSR1 cuts (refuse), SIGUSR2 restores, SIGTERM/SIGINT stop.
 */
async function main(argv: string[]): Promise<void> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) flags.set(argv[i] ?? '', argv[i + 1] ?? '');
  const listen = hostPort(flags.get('--listen'));
  const target = hostPort(flags.get('--target'));
  if (!listen || !target) throw new Error('usage: link-proxy.ts --listen HOST:PORT --target HOST:PORT [--delay-ms N] [--jitter-ms N] [--bandwidth-bytes N]');
  const number = (flag: string): number | undefined => (flags.has(flag) ? Number(flags.get(flag)) : undefined);
  const direction = { delayMs: number('--delay-ms') ?? 0, jitterMs: number('--jitter-ms') ?? 0 };
  const proxy = await LinkProxy.start({
    listenHost: listen.host,
    listenPort: listen.port,
    targetHost: target.host,
    targetPort: target.port,
    up: direction,
    down: direction,
    bandwidthBytesPerSec: number('--bandwidth-bytes'),
  });
  const { host, port } = proxy.address();
  process.stdout.write(`listening ${host}:${port}\n`);
  process.on('SIGUSR1', () => void proxy.cut('refuse'));
  process.on('SIGUSR2', () => void proxy.restore());
  const stop = (): void => void proxy.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`link proxy: ${err.message}\n`);
    process.exit(1);
  });
}
