/**
 * README's first command, for real: `bash scripts/demo.sh` starts the servers, the simulated farm and one exporter
 * per container, prints its URLs; a fault injected through the simulator's control API shows up in InfluxDB within
 * one sweep; Ctrl-C stops everything it started. Own ports and data folder, so a developer's demo is not touched.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

async function influxRows(url: string, q: string): Promise<Array<Array<unknown>>> {
  const res = await fetch(`${url}/query?db=flymining&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: Array<Array<unknown>> }> }> };
  return body.results[0]?.series?.flatMap((s) => s.values) ?? [];
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `size` consecutive free ports between 20000 and 32000 (Linux hands out ephemeral ports from 32768 up). */
async function freePortBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (12000 - size));
    let free = true;
    for (let p = base; p < base + size && free; p++) free = await canListen(p);
    if (free) return base;
  }
  throw new Error(`no block of ${size} free ports between 20000 and 32000`);
}

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('npm start: the demo comes up, records an injected fault within a sweep, and stops cleanly on Ctrl-C', async () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'flymining-demo-'));
  // Services that run one per container take consecutive ports (exporter N at metrics+N-1, Modbus device N at
  // modbus+N-1), so the demo gets one block of free ports below the ephemeral range, where no other test's
  // listen(0) can land in it meanwhile.
  const base = await freePortBlock(16);
  const influxPort = base;
  const controlPort = base + 2;
  const metricsPort = base + 3; // and + 4
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FLYMINING_STATE_DIR: state,
    FLYMINING_INFLUX_PORT: String(influxPort),
    FLYMINING_INFLUX_RPC_PORT: String(base + 1),
    FLYMINING_DEMO_CONTROL_PORT: String(controlPort),
    FLYMINING_DEMO_METRICS_PORT: String(metricsPort),
    FLYMINING_DEMO_MINERS: '40',
    // Its own miner addresses: a developer's demo (127.1.0.x) or a previous run still shutting down is not in the way.
    FLYMINING_DEMO_BASE_ADDRESS: '127.38.0.1',
    FLYMINING_DEMO_CONTAINERS: '2',
    FLYMINING_DEMO_INTERVAL: '5',
    FLYMINING_DEMO_PORTAL_PORT: String(base + 5),
    FLYMINING_DEMO_ALERTING_PORT: String(base + 6),
    FLYMINING_DEMO_SMTP_PORT: String(base + 7),
    FLYMINING_DEMO_TVWALL_PORT: String(base + 8),
    FLYMINING_DEMO_CLIMATE_PORT: String(base + 9),
    FLYMINING_DEMO_MODBUS_PORT: String(base + 10), // and + 11
  };
  delete env.FLYMINING_INFLUX_URL;
  const demo = spawn('bash', ['scripts/demo.sh'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  try {
    const died = exited.then((code) => {
      throw new Error(`the demo exited (${code}) before it was up`);
    });
    died.catch(() => undefined); // after a successful start its later exit is expected
    await Promise.race([until('demo is up', 150, async () => (output.includes('demo is up') ? true : undefined)), died]).catch((err: Error) => {
      throw new Error(`${err.message}\n--- demo output ---\n${output.slice(-3000)}`);
    });
    const influx = `http://127.0.0.1:${influxPort}`;
    expect(output).toContain(influx);
    expect(output).toContain(`http://127.0.0.1:${controlPort}/miners`);
    expect(output).toContain(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(output).toContain(`http://127.0.0.1:${metricsPort + 1}/healthz`);
    // The investor portal answers, and the demo printed the investor's sign-in.
    expect(output).toMatch(/investor investor@demo\.flymining\.local \/ \S+/);
    expect((await fetch(`http://127.0.0.1:${env.FLYMINING_DEMO_PORTAL_PORT}/login`)).status).toBe(200);
    expect(output).toContain(`http://127.0.0.1:${env.FLYMINING_DEMO_CLIMATE_PORT}/metrics`);

    // The alerting service answers and is the leader of its Redis.
    expect(output).toContain(`http://127.0.0.1:${env.FLYMINING_DEMO_ALERTING_PORT}/api/alerts`);
    expect(await (await fetch(`http://127.0.0.1:${env.FLYMINING_DEMO_ALERTING_PORT}/healthz`)).json()).toMatchObject({ ok: true });

    // The TV wall is printed and serves the farm.
    expect(output).toContain(`http://127.0.0.1:${env.FLYMINING_DEMO_TVWALL_PORT}/`);
    expect((await fetch(`http://127.0.0.1:${env.FLYMINING_DEMO_TVWALL_PORT}/healthz`)).status).toBe(200);

    // Every simulated miner is in InfluxDB after the first sweeps.
    await until('all 40 miners stored', 30, async () => ((await influxRows(influx, 'SELECT last(hashrate_ths) FROM miner GROUP BY miner')).length === 40 ? true : undefined));

    // The climate exporter stores every simulated sensor: 3 MQTT thermometers, the Modbus damper and meter per container.
    await until('climate sensors stored', 30, async () =>
      (await influxRows(influx, 'SELECT last(*) FROM climate_sensor GROUP BY sensor')).length === 10 ? true : undefined,
    );

    const { miners } = (await (await fetch(`http://127.0.0.1:${controlPort}/miners`)).json()) as { miners: Array<{ id: string; profile: string }> };
    const victim = miners.find((m) => m.profile === 'antminer-s19pro') ?? miners[0]!;
    const injected = await fetch(`http://127.0.0.1:${controlPort}/miners/${victim.id}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: 'offline' }),
    });
    expect(injected.status).toBeLessThan(300);
    const row = await until('MINER_UNREACHABLE stored', 5 + 10, async () => {
      const rows = await influxRows(influx, `SELECT active, message FROM fault WHERE code = 'MINER_UNREACHABLE' AND miner = '${victim.id}'`);
      return rows.length ? rows[0] : undefined;
    });
    expect(row?.[1]).toBe(1);
    expect(String(row?.[2])).toMatch(/refused/);
  } finally {
    // Ctrl-C: SIGINT to the demo's process group, as a terminal would.
    if (demo.pid) {
      try {
        process.kill(-demo.pid, 'SIGINT');
      } catch {
        /* already gone */
      }
    }
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 30_000).unref())]);
    if (code === 'timeout' && demo.pid) {
      try {
        process.kill(-demo.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(state, { recursive: true, force: true });
  }
  expect(output).toContain('nothing of it is left running');
  for (const port of [influxPort, controlPort, metricsPort, metricsPort + 1, Number(env.FLYMINING_DEMO_CLIMATE_PORT), Number(env.FLYMINING_DEMO_PORTAL_PORT)]) expect(await portOpen(port)).toBe(false);
}, 240_000);
