/**
 * The leanest InfluxDB client we can write, as a benches' baseline: line protocol POSTed to /write one batch after
 * the other over a keep-alive node:http agent. Returns the elapsed milliseconds.
 */
import http from 'node:http';

export async function rawHttpPost(url: string, db: string, lines: readonly string[], batchSize: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(`${url}/write?db=${db}&rp=raw&precision=ms`);
  const started = performance.now();
  try {
    for (let i = 0; i < lines.length; i += batchSize) {
      const body = lines.slice(i, i + batchSize).join('\n');
      await new Promise<void>((resolve, reject) => {
        const req = http.request(target, { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`raw http write: HTTP ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
    }
    return performance.now() - started;
  } finally {
    agent.destroy();
  }
}
