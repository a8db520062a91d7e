/**
 * The control HTTP API the demo and tests use to look at the farm and inject faults:
 *   GET    /miners[?container=C01]       every miner's id, address, profile, faults and key state
 *   GET    /miners/:id                   one miner
 *   POST   /miners/:id/faults            body {"fault": "...", ...args}  (see faults.ts)
 *   DELETE /miners/:id/faults            clear every fault
 *   GET    /containers                   climate per container
 *   POST   /containers/:name/damper      body {"position": 0..0.8 | null}
 *   POST   /containers/:name/weather     body {"outsideC": n, "humidity"?: %} | {"profile": "cold-night"|"hot-afternoon"|"diurnal"}
 *                                        | {"profile": "default"} (the farm's own climate); profiles run on the farm clock
 *   POST   /containers/:name/sensor-faults  body {"fault": "stale"|"absurd", "sensor": ...} | {"fault": "stuckDamper"} |
 *                                           {"fault": "doorOpen"|"motion"|"tamper"|"smoke"|"waterLeak"|"sensorOffline"} |
 *                                           {"fault": "clear"} (closes the door, ends every condition, mends the cable)
 *   GET    /containers/:name/uplink     the container's simulated LTE uplink (when the simulator runs them: --uplink-target)
 *   POST   /containers/:name/uplink     body {"state": "cut" | "up", "mode"?: "refuse" | "blackhole"}
 */
import http from 'node:http';
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';
import type { SimulatedFarm } from './farm';
import { sensorFaultSchema } from './climate-sensors';
import { WEATHER_PROFILE_NAMES, type WeatherProfile } from './climate';
import { FaultError, faultRequestSchema } from './faults';

const MAX_BODY_BYTES = 64 * 1024;
const damperSchema = z.object({ position: z.number().min(0).max(1).nullable() });
const weatherSchema = z.union([
  z.strictObject({ outsideC: z.number().min(-60).max(60), humidity: z.number().min(1).max(100).optional() }),
  z.strictObject({ profile: z.enum([...(WEATHER_PROFILE_NAMES as [WeatherProfile, ...WeatherProfile[]]), 'default']) }),
]);
const uplinkRequestSchema = z.strictObject({
  state: z.enum(['cut', 'up']),
  /** refuse: the edge's connections are refused at once; blackhole: they hang, as when a cell drops the SYNs. */
  mode: z.enum(['refuse', 'blackhole']).default('refuse'),
});

/** What the control API needs of a container's uplink (a LinkProxy of link-proxy.ts). */
export interface ControlledUplink {
  cut(mode: 'refuse' | 'blackhole'): Promise<void>;
  restore(): Promise<void>;
  readonly isCut: boolean;
  address(): { host: string; port: number };
  stats(): object;
}

/** The simulated uplinks per container name, and since when each one is cut. */
export class UplinkSet {
  private readonly cutSince = new Map<string, { mode: 'refuse' | 'blackhole'; atMs: number }>();
  constructor(readonly byContainer: ReadonlyMap<string, ControlledUplink>) {}

  describe(container: string): Record<string, unknown> | undefined {
    const uplink = this.byContainer.get(container);
    if (!uplink) return undefined;
    const cut = this.cutSince.get(container);
    return {
      container,
      state: uplink.isCut ? 'cut' : 'up',
      ...(cut && uplink.isCut ? { mode: cut.mode, cutAt: new Date(cut.atMs).toISOString() } : {}),
      listen: uplink.address(),
      stats: uplink.stats(),
    };
  }

  async set(container: string, request: z.output<typeof uplinkRequestSchema>): Promise<void> {
    const uplink = this.byContainer.get(container);
    if (!uplink) return;
    if (request.state === 'cut') {
      await uplink.cut(request.mode);
      this.cutSince.set(container, { mode: request.mode, atMs: Date.now() });
    } else {
      await uplink.restore();
      this.cutSince.delete(container);
    }
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
    });
    req.on('end', () => {
      try {
        resolve(body.trim() === '' ? {} : JSON.parse(body));
      } catch {
        reject(new HttpError(400, 'request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function zodMessage(error: z.ZodError): string {
  return formatIssues(error, { whole: '(body)' }).join('; ');
}

async function route(farm: SimulatedFarm, uplinks: UplinkSet | undefined, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://control');
  const parts = url.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
  const method = req.method ?? 'GET';

  if (parts[0] === 'miners') {
    if (parts.length === 1 && method === 'GET') {
      return send(res, 200, { miners: farm.describe({ container: url.searchParams.get('container') ?? undefined }) });
    }
    const id = parts[1] ?? '';
    const miner = farm.miner(id);
    if (!miner) throw new HttpError(404, `no simulated miner with id "${id}"`);
    if (parts.length === 2 && method === 'GET') return send(res, 200, miner.describe());
    if (parts.length === 3 && parts[2] === 'faults') {
      if (method === 'DELETE') {
        miner.applyFault({ fault: 'clear' });
        return send(res, 200, miner.describe());
      }
      if (method === 'POST') {
        const parsed = faultRequestSchema.safeParse(await readJsonBody(req));
        if (!parsed.success) throw new HttpError(400, `invalid fault for miner ${id}: ${zodMessage(parsed.error)}`);
        miner.applyFault(parsed.data);
        return send(res, 200, miner.describe());
      }
    }
  }
  if (parts[0] === 'containers') {
    if (parts.length === 1 && method === 'GET') return send(res, 200, { containers: farm.climateReadings() });
    if (parts.length === 3 && parts[2] === 'damper' && method === 'POST') {
      const name = parts[1] ?? '';
      const climate = farm.climates.get(name);
      if (!climate) throw new HttpError(404, `no container named "${name}"`);
      const parsed = damperSchema.safeParse(await readJsonBody(req));
      if (!parsed.success) throw new HttpError(400, `invalid damper setting for container ${name}: ${zodMessage(parsed.error)}`);
      climate.setDamper(parsed.data.position);
      return send(res, 200, climate.read(Date.now()));
    }
    if (parts.length === 3 && parts[2] === 'weather' && method === 'POST') {
      const name = parts[1] ?? '';
      const climate = farm.climates.get(name);
      if (!climate) throw new HttpError(404, `no container named "${name}"`);
      const parsed = weatherSchema.safeParse(await readJsonBody(req));
      if (!parsed.success) throw new HttpError(400, `invalid weather for container ${name}: ${zodMessage(parsed.error)} (give {"outsideC": n} or {"profile": "${WEATHER_PROFILE_NAMES.join('" | "')}" | "default"})`);
      const w = parsed.data;
      if ('outsideC' in w) climate.setWeather(w);
      else climate.setWeather(w.profile === 'default' ? null : { profile: w.profile });
      return send(res, 200, { weather: climate.weather() ?? 'default', climate: farm.climateReadings().find((c) => c.container === name) });
    }
    if (parts.length === 3 && parts[2] === 'sensor-faults' && method === 'POST') {
      const name = parts[1] ?? '';
      const parsed = sensorFaultSchema.safeParse(await readJsonBody(req));
      if (!parsed.success) throw new HttpError(400, `invalid sensor fault for container ${name}: ${zodMessage(parsed.error)}`);
      if (!farm.applySensorFault(name, parsed.data)) throw new HttpError(404, `no container named "${name}"`);
      return send(res, 200, { container: name, faults: farm.sensorFaults.get(name)?.describe() });
    }
    if (parts.length === 3 && parts[2] === 'uplink' && (method === 'GET' || method === 'POST')) {
      const name = parts[1] ?? '';
      if (!farm.climates.has(name)) throw new HttpError(404, `no container named "${name}" (containers: ${[...farm.climates.keys()].join(', ')})`);
      if (!uplinks) throw new HttpError(404, 'this simulator runs no uplinks (start it with --uplink-target host:port --uplink-port P)');
      if (method === 'POST') {
        const parsed = uplinkRequestSchema.safeParse(await readJsonBody(req));
        if (!parsed.success) throw new HttpError(400, `invalid uplink request for container ${name}: ${zodMessage(parsed.error)}`);
        await uplinks.set(name, parsed.data);
      }
      const described = uplinks.describe(name);
      if (!described) throw new HttpError(404, `container ${name} has no simulated uplink`);
      return send(res, 200, described);
    }
  }
  if (parts.length === 0 && method === 'GET') return send(res, 200, { miners: farm.miners.size, containers: farm.climates.size });
  throw new HttpError(404, `no route for ${method} ${url.pathname}`);
}

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the control API on host:port (port 0 picks a free one); `uplinks` adds the containers' uplink routes. */
export function startControlServer(farm: SimulatedFarm, port: number, host = '127.0.0.1', uplinks?: UplinkSet): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    route(farm, uplinks, req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, { error: err.message });
      if (err instanceof FaultError) return send(res, 400, { error: err.message });
      send(res, 500, { error: `simulator control API: ${(err as Error).message}` });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`control API: cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => {
      const address = server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      resolve({
        url: `http://${host}:${actualPort}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
