/**
 * One small HTTP(S) client for the store's own requests (raw writes, queries, ping): keep-alive, the configured CA,
 * a timeout, and the times a request left and its answer arrived (for the server-clock estimate). Every request of
 * the store (writes, replay, bisection, queries, ping) goes through it, so every request honours the CA.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Local clock when the request was sent and when the answer's headers arrived. */
  sentAtMs: number;
  receivedAtMs: number;
}

export interface HttpEndpointOptions {
  /** PEM text of the CA(s) to trust for https:// (instead of the system CAs). */
  ca?: string;
  timeoutMs: number;
  /** Sent with every request (authentication). */
  headers: Record<string, string>;
  /** Further TLS settings of the agent (the test harness talks to servers whose CA it does not know). */
  agentOptions?: https.AgentOptions;
}

export class HttpEndpoint {
  readonly agent: http.Agent;
  private readonly secure: boolean;

  constructor(
    readonly baseUrl: string,
    private readonly options: HttpEndpointOptions,
  ) {
    this.secure = baseUrl.startsWith('https:');
    this.agent = this.secure
      ? new https.Agent({ keepAlive: true, maxSockets: 4, ...options.agentOptions, ...(options.ca ? { ca: options.ca } : {}) })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  /** Rejects with node's error (its `code` tells refused, TLS and timeout apart); any HTTP status resolves. */
  request(method: 'GET' | 'POST', pathAndQuery: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const requestFn = this.secure ? https.request : http.request;
    const sentAtMs = Date.now();
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = requestFn(
        this.baseUrl + pathAndQuery,
        {
          method,
          agent: this.agent,
          headers: {
            ...this.options.headers,
            ...headers,
            ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
          },
          ...(this.options.ca ? { ca: this.options.ca } : {}),
        },
        (res) => {
          const receivedAtMs = Date.now();
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              sentAtMs,
              receivedAtMs,
            }),
          );
        },
      );
      req.setTimeout(this.options.timeoutMs, () => {
        const err: NodeJS.ErrnoException = new Error(`no answer within ${this.options.timeoutMs} ms`);
        err.code = 'ETIMEDOUT';
        req.destroy(err);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Server clock minus local clock, from the `Date` header of answers. The header has 1 s resolution, so each answer
 * only bounds the offset: the server stamped it after the request left (offset ≤ date + 1 s − sent) and before the
 * answer arrived (offset ≥ date − received). Intersecting the bounds of recent answers, newest first, narrows it
 * well below 1 s; an older answer that does not overlap (a clock was stepped since) ends the intersection.
 */
export class ClockOffsetEstimator {
  private readonly bounds: Array<{ lower: number; upper: number }> = [];

  constructor(private readonly window = 32) {}

  observe(dateHeader: string | undefined, sentAtMs: number, receivedAtMs: number): void {
    if (!dateHeader) return;
    const serverMs = Date.parse(dateHeader);
    if (!Number.isFinite(serverMs)) return;
    this.bounds.push({ lower: serverMs - receivedAtMs, upper: serverMs + 1000 - sentAtMs });
    if (this.bounds.length > this.window) this.bounds.shift();
  }

  /** The middle of the intersected bounds, undefined before the first answer. */
  get offsetMs(): number | undefined {
    let lower = -Infinity;
    let upper = Infinity;
    for (let i = this.bounds.length - 1; i >= 0; i--) {
      const b = this.bounds[i] as { lower: number; upper: number };
      if (b.lower > upper || b.upper < lower) break;
      lower = Math.max(lower, b.lower);
      upper = Math.min(upper, b.upper);
    }
    return Number.isFinite(lower) ? Math.round((lower + upper) / 2) : undefined;
  }
}
