/**
 * README's first command, for real: `bash scripts/demo.sh` starts the servers, the simulated farm with one LTE uplink
 * per container, one edge per container (miner + climate exporter writing to InfluxDB through its uplink as a
 * write-only user) and the center; it prints its URLs and the commands to try. This test runs those printed commands
 * as printed (the scrape, the fault injection, the InfluxDB query, cut-uplink / restore-uplink) and checks what a
 * user would see: the fault in InfluxDB's fault_state, a ContainerSilent mail after the cut, a resolved one after the
 * restore; then Ctrl-C stops everything it started. Issue #10: the TV wall and the alerting API answer only to staff
 * (the printed portal staff sign-in, whose session they share) and to tokens (the printed wall link, the printed
 * curl commands with the staff token from its mode-600 file). Own ports, data folder, Redis and MQTT broker, so neither a
 * developer's demo nor another test's faults are in the way.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { Client } from 'pg';
import { HttpClient } from '../../../billing/test/portal/harness';
import { runBash, type BashResult } from './run-bash';

const ROOT = path.resolve(__dirname, '../../..');

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function influxQuery(url: string, q: string, authorization: string): Promise<Response> {
  return fetch(`${url}/query?db=flymining&q=${encodeURIComponent(q)}`, { headers: { authorization } });
}

async function influxRows(url: string, q: string, authorization: string): Promise<Array<Array<unknown>>> {
  const res = await influxQuery(url, q, authorization);
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

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>, explain: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s${explain() ? `\n${explain()}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Runs one printed command line with bash, as a user would paste it (same environment, repository folder). */
function runPrinted(line: string, env: NodeJS.ProcessEnv): Promise<BashResult> {
  return runBash(['-c', line], { cwd: ROOT, env });
}

/** The printed command line that matches, without its trailing comment. */
function printedCommand(output: string, pattern: RegExp): string {
  const line = output.split('\n').find((l) => pattern.test(l));
  if (!line) throw new Error(`the demo printed no command matching ${pattern}\n--- demo output ---\n${output.slice(-3000)}`);
  return line.replace(/\s+#\s.*$/, '').trim();
}

interface Mail {
  subject: string;
  text: string;
}

async function mails(dir: string): Promise<Mail[]> {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.eml'));
  } catch {
    return [];
  }
  return Promise.all(
    names.sort().map(async (name) => {
      const parsed = await simpleParser(readFileSync(path.join(dir, name)));
      return { subject: parsed.subject ?? '', text: parsed.text ?? '' };
    }),
  );
}

test('npm start: the edge/center demo comes up, every printed command works as printed, and Ctrl-C stops it all', async () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'flymining-demo-'));
  // Mosquitto drops to its own user, who must reach its config in here.
  chmodSync(state, 0o755);
  // Services that run one per container take consecutive ports (edge N's exporters at metrics+N-1 and climate+N-1,
  // Modbus device N at modbus+N-1, uplink N at uplink+N-1), so the demo gets one block of free ports below the
  // ephemeral range, where no other test's listen(0) can land in it meanwhile.
  const base = await freePortBlock(20);
  const demoDatabase = `flymining_demo_test_${process.pid}_${Date.now().toString(36)}`;
  const influxPort = base;
  const controlPort = base + 2;
  const metricsPort = base + 3; // and + 4
  const climatePort = base + 9; // and + 10
  const uplinkPort = base + 13; // and + 14
  const redisPort = base + 15;
  const mqttPort = base + 16;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FLYMINING_STATE_DIR: state,
    FLYMINING_INFLUX_PORT: String(influxPort),
    FLYMINING_INFLUX_RPC_PORT: String(base + 1),
    FLYMINING_REDIS_PORT: String(redisPort),
    FLYMINING_MQTT_PORT: String(mqttPort),
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
    FLYMINING_DEMO_CLIMATE_PORT: String(climatePort),
    FLYMINING_DEMO_MODBUS_PORT: String(base + 11), // and + 12
    FLYMINING_DEMO_UPLINK_PORT: String(uplinkPort),
    FLYMINING_DEMO_STAFF_PORT: String(base + 17),
    FLYMINING_DEMO_POOL_PORT: String(base + 18),
    // The fewest days of history that hold a power cut: less to write and to credit on busy cores.
    FLYMINING_DEMO_HISTORY_DAYS: '10',
    // Its own database: another demo on this machine (a developer's) keeps its tickets apart.
    FLYMINING_DEMO_PG_DB: demoDatabase,
    // No parts break by themselves here: the mails the test waits for are the ones it causes.
    FLYMINING_DEMO_FAULT_EVERY: '0',
  };
  for (const name of ['FLYMINING_INFLUX_URL', 'FLYMINING_REDIS_URL', 'FLYMINING_MQTT_URL', 'FLYMINING_INFLUX_USERNAME', 'FLYMINING_INFLUX_PASSWORD', 'FLYMINING_INFLUX_PASSWORD_FILE']) {
    delete env[name];
  }
  const mailDir = path.join(state, 'mail');
  const demo = spawn('bash', ['scripts/demo.sh'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const logTail = (name: string): string => {
    try {
      return `--- ${name} ---\n${readFileSync(path.join(state, 'log', name), 'utf8').slice(-2000)}`;
    } catch {
      return `(no ${name})`;
    }
  };
  try {
    const died = exited.then((code) => {
      throw new Error(`the demo exited (${code}) before it was up`);
    });
    died.catch(() => undefined); // after a successful start its later exit is expected
    await Promise.race([until('demo is up', 300, async () => (output.includes('demo is up') ? true : undefined)), died]).catch((err: Error) => {
      throw new Error(`${err.message}\n--- demo output ---\n${output.slice(-3000)}`);
    });
    const influx = `http://127.0.0.1:${influxPort}`;
    expect(output).toContain(influx);
    expect(output).toContain(`http://127.0.0.1:${controlPort}/miners`);
    expect(output).toContain(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(output).toContain(`http://127.0.0.1:${climatePort + 1}/metrics`);
    expect(output).toContain(`uplink 127.0.0.1:${uplinkPort + 1}`);

    // Secure by default: InfluxDB wants credentials; the passwords sit in mode-600 files and are never printed.
    const secrets = path.join(state, 'secrets');
    const adminPassword = readFileSync(path.join(secrets, 'influx-admin.pass'), 'utf8');
    const edgePassword = readFileSync(path.join(secrets, 'influx-edges', 'edge-C02.password'), 'utf8');
    for (const file of ['influx-admin.pass', 'influx-reader.pass', 'influx-edges/edge-C02.password']) expect(statSync(path.join(secrets, file)).mode & 0o777).toBe(0o600);
    for (const secret of [adminPassword, edgePassword, readFileSync(path.join(secrets, 'influx-reader.pass'), 'utf8')]) expect(output).not.toContain(secret);
    const admin = basicAuth('admin', adminPassword);
    expect((await influxQuery(influx, 'SHOW MEASUREMENTS', '')).status).toBe(401);
    // An edge may write, not read.
    expect((await influxQuery(influx, 'SELECT * FROM miner LIMIT 1', basicAuth('edge-C02', edgePassword))).status).toBe(403);

    // The investor portal answers, and the demo printed the investor's sign-in.
    expect(output).toMatch(/investor investor@demo\.flymining\.local \/ \S+/);
    expect((await fetch(`http://127.0.0.1:${env.FLYMINING_DEMO_PORTAL_PORT}/login`)).status).toBe(200);
    // The center's own secrets and the demo's tokens sit in mode-600 files; the staff token is never printed.
    for (const file of ['portal-session.secret', 'alerting-link.secret', 'demo-staff.token', 'demo-wall.token']) expect([file, statSync(path.join(secrets, file)).mode & 0o777]).toEqual([file, 0o600]);
    const staffToken = readFileSync(path.join(secrets, 'demo-staff.token'), 'utf8').trim();
    expect(staffToken).toMatch(/^fmt_/);
    for (const secret of [staffToken, readFileSync(path.join(secrets, 'portal-session.secret'), 'utf8'), readFileSync(path.join(secrets, 'alerting-link.secret'), 'utf8')]) {
      expect(output).not.toContain(secret);
    }
    const tvwall = `http://127.0.0.1:${env.FLYMINING_DEMO_TVWALL_PORT}`;
    const alerting = `http://127.0.0.1:${env.FLYMINING_DEMO_ALERTING_PORT}`;
    // Nobody gets farm state or alerts without signing in.
    expect((await fetch(`${tvwall}/api/farm`)).status).toBe(401);
    await until('alerting refusing an unauthenticated client', 30, async () => ((await fetch(`${alerting}/api/alerts`)).status === 401 ? true : undefined));
    // A browser signed in with the printed staff account is let in to both, with the portal's session.
    const [, staffEmail, staffPassword] = /staff (\S+@\S+) \/ (\S+?)\)?\s/.exec(output) ?? [];
    const staffBrowser = new HttpClient(`http://127.0.0.1:${env.FLYMINING_DEMO_PORTAL_PORT}`);
    expect((await staffBrowser.signIn(staffEmail!, staffPassword)).location).toBe('/admin');
    const staffCookie = [...staffBrowser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    expect((await fetch(`${tvwall}/api/farm`, { headers: { cookie: staffCookie } })).status).toBe(200);
    expect((await fetch(`${alerting}/api/alerts`, { headers: { cookie: staffCookie } })).status).toBe(200);

    // Billing from the farm itself: weeks of history in InfluxDB, the pool's revenue imported, every closed day
    // credited from the stored hashrate. The printed power-cut day reads lower, with its reason, on the investor's
    // contract page; the printed recompute reads the same day again from InfluxDB and the pool and finds no difference.
    const outageDay = /open demo-contract-100ths: (\d{4}-\d{2}-\d{2}) reads/.exec(output.replace(/\n\s*/g, ' '))?.[1];
    expect(outageDay).toBeDefined();
    const [, investorEmail, investorPassword] = /investor (\S+@\S+) \/ (\S+)/.exec(output) ?? [];
    const investorBrowser = new HttpClient(`http://127.0.0.1:${env.FLYMINING_DEMO_PORTAL_PORT}`);
    await investorBrowser.signIn(investorEmail!, investorPassword);
    const contractPage = (await investorBrowser.get('/contracts/demo-contract-100ths')).text;
    const outageRow = new RegExp(`data-day="${outageDay}"[\\s\\S]*?</tr>`).exec(contractPage)?.[0] ?? '';
    expect(outageRow).toMatch(/\d+(\.\d)? % of the [\d.]+ TH\/s sold; below 100 % because of downtime: miners unreachable part of the day/);
    expect(contractPage.match(/<tr[^>]*data-day=/g)?.length ?? 0).toBeGreaterThanOrEqual(10);
    const recompute = await runPrinted(printedCommand(output, /^\s*FLYMINING_PG_URL=\S+ .*npx flymining billing recompute /), env);
    expect([recompute.code, recompute.output]).toEqual([0, expect.stringContaining('0 credit(s) differ')]);
    const [, before, after] = /delivered ([\d.]+) → ([\d.]+) TH\/s/.exec(recompute.output) ?? [];
    expect(before).toBe(after);
    const reimport = await runPrinted(printedCommand(output, /^\s*FLYMINING_PG_URL=\S+ .*npx flymining billing import-pool /), env);
    expect([reimport.code, reimport.output]).toEqual([0, expect.stringMatching(/"pool": ?"f2pool"[\s\S]*"days": ?1/)]);
    // The alerting service answers and is the leader of its Redis; the TV wall serves the farm.
    expect(output).toContain(`http://127.0.0.1:${env.FLYMINING_DEMO_ALERTING_PORT}/api/alerts`);
    let alertingHealth = '';
    await until(
      'alerting healthy',
      30,
      async () => {
        const res = await fetch(`http://127.0.0.1:${env.FLYMINING_DEMO_ALERTING_PORT}/healthz`);
        alertingHealth = await res.text();
        return res.status === 200 && (JSON.parse(alertingHealth) as { ok?: boolean }).ok === true ? true : undefined;
      },
      () => `last /healthz: ${alertingHealth}\n${logTail('alerting.log')}`,
    );
    expect(output).toContain(`http://127.0.0.1:${env.FLYMINING_DEMO_TVWALL_PORT}/`);
    expect((await fetch(`http://127.0.0.1:${env.FLYMINING_DEMO_TVWALL_PORT}/healthz`)).status).toBe(200);

    // Every simulated miner and sensor reaches InfluxDB through the edges' uplinks, each container with heartbeats.
    await until('all 40 miners stored', 60, async () =>
      (await influxRows(influx, 'SELECT last(hashrate_ths) FROM miner GROUP BY miner', admin)).length === 40 ? true : undefined,
    );
    await until('climate sensors stored', 60, async () =>
      (await influxRows(influx, 'SELECT last(*) FROM climate_sensor GROUP BY sensor', admin)).length === 10 ? true : undefined,
    );
    // The center's services read with the reader's credential: the TV wall shows both containers' miners.
    // Opened as printed, the wall's link leaves the token in a cookie and sends the screen to the wall without it.
    const wallLink = /TV wall\s+(\S+)/.exec(output)?.[1] ?? '';
    expect(wallLink).toMatch(new RegExp(`^${tvwall}/\\?token=fmt_`));
    const opened = await fetch(wallLink, { redirect: 'manual' });
    expect([opened.status, opened.headers.get('location')]).toEqual([303, '/']);
    const wallCookie = (opened.headers.get('set-cookie') ?? '').split(';')[0]!;
    const farm = await fetch(`${tvwall}/api/farm`, { headers: { cookie: wallCookie } });
    expect(farm.status).toBe(200);
    const farmText = await farm.text();
    for (const c of ['C01', 'C02']) expect(farmText).toContain(`${c}-R01-S1-1`);
    await until('heartbeats of both edges, miner and climate', 30, async () =>
      (await influxRows(influx, 'SELECT last(seq) FROM edge_heartbeat GROUP BY container, edge, source', admin)).length === 4 ? true : undefined,
    );

    // The printed damper fault first: DAMPER_STUCK needs the damper to disagree with its command for 60 s, which
    // runs while the other commands are checked.
    const damperLine = printedCommand(output, /^\s*curl -X POST \S+\/containers\/\S+\/sensor-faults /);
    const damperContainer = /\/containers\/([^/]+)\/sensor-faults/.exec(damperLine)?.[1] as string;
    const stuck = await runPrinted(`${damperLine} --fail-with-body -sS`, env);
    expect(stuck.code).toBe(0);
    const stuckAt = Date.now();

    // The printed scrape: one miner's sample, straight from the miner.
    const scrape = await runPrinted(printedCommand(output, /^\s*npx flymining scrape \S+/), env);
    expect(scrape.code).toBe(0);
    expect(scrape.output).toMatch(/TH\/s/);
    expect(scrape.output).toMatch(/fans\s+#\d+ \d+ rpm/);

    // The printed control commands (issue 14): sleep is confirmed and the printed scrape reads the unit sleeping; wake
    // is confirmed once it hashes again; the dry run of blink names what each model would do.
    const slept = await runPrinted(printedCommand(output, /^\s*npx flymining miner sleep \S+/), env);
    expect([slept.code, slept.output]).toEqual([0, expect.stringMatching(/confirmed\s+[\d.]+s\s+now sleeping/)]);
    const asleep = await runPrinted(printedCommand(output, /^\s*npx flymining scrape \S+ --inventory/), env);
    expect([asleep.code, asleep.output]).toEqual([0, expect.stringMatching(/\bsleeping\b/)]);
    const woken = await runPrinted(printedCommand(output, /^\s*npx flymining miner wake \S+/), env);
    expect([woken.code, woken.output]).toEqual([0, expect.stringMatching(/confirmed\s+[\d.]+s\s+now hashing/)]);
    const dryBlink = await runPrinted(printedCommand(output, /^\s*npx flymining miner blink /), env);
    expect([dryBlink.code, dryBlink.output]).toEqual([expect.any(Number), expect.stringMatching(/blink on: \d+ miners — .*dry-run/)]);
    expect([0, 3]).toContain(dryBlink.code);

    // The printed fault injection works on the miner it names and shows up in the edge's snapshot within a sweep.
    const injectLine = printedCommand(output, /^\s*curl -X POST \S+\/miners\/\S+\/faults /);
    const minerId = /\/miners\/([^/]+)\/faults/.exec(injectLine)?.[1] as string;
    const injected = await runPrinted(`${injectLine} --fail-with-body -sS`, env);
    expect(injected.code).toBe(0);
    expect(injected.output).toContain(`"id":"${minerId}"`);
    const stateRow = await until(`FAN_STOPPED of ${minerId} in fault_state`, 5 + 20, async () => {
      const rows = await influxRows(influx, `SELECT edge, message FROM fault_state WHERE code = 'FAN_STOPPED' AND miner = '${minerId}' AND time > now() - 1m`, admin);
      return rows.length ? rows[rows.length - 1] : undefined;
    });
    expect(stateRow?.[1]).toBe(`edge-${minerId.split('-')[0]}`);
    // The printed query (as the center's reader) shows it too.
    const query = await runPrinted(printedCommand(output, /^\s*curl -sG .*\/query /), env);
    expect(query.code).toBe(0);
    expect(query.output).toContain('FAN_STOPPED');

    // The fan's page opened a repair ticket: on the staff page's API (behind authentication) and in the printed CLI.
    const staff = `http://127.0.0.1:${env.FLYMINING_DEMO_STAFF_PORT}`;
    expect(output).toContain(`${staff}/`);
    expect((await fetch(`${staff}/api/tickets`)).status).toBe(401);
    await until(
      `a FAN_STOPPED ticket for ${minerId}`,
      60,
      async () => {
        const res = await fetch(`${staff}/api/tickets`, { headers: { authorization: `Bearer ${staffToken}` } });
        const open = (await res.json()) as Array<{ miner: string; fault: string }>;
        return open.some((t) => t.miner === minerId && t.fault === 'FAN_STOPPED') ? true : undefined;
      },
      () => logTail('alerting.log'),
    );
    const listed = await runPrinted(printedCommand(output, /^\s*npx flymining tickets list /), env);
    expect(listed.code).toBe(0);
    const [c, r, sh, slot] = minerId.split('-');
    expect(listed.output).toMatch(new RegExp(`${c} ${r} ${sh} #${slot}\\s+FAN_STOPPED`));
    const onCall = await runPrinted(printedCommand(output, /^\s*npx flymining oncall show /), env);
    expect(onCall.code).toBe(0);
    expect(onCall.output).toMatch(/Kari Nordmann|Ola Hansen|Ingrid Berg/);

    // A container's uplink cut: the command says so, ContainerSilent is mailed; restored: a resolved mail says how long.
    const unknown = await runPrinted('npm run demo -- cut-uplink C99', env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.output).toContain('no container named "C99"');
    const cutLine = printedCommand(output, /^\s*npm run demo -- cut-uplink \S+/);
    const container = cutLine.split(' ').pop() as string;
    const cut = await runPrinted(cutLine, env);
    expect(cut.code).toBe(0);
    expect(cut.output).toContain(`${container}: uplink cut`);
    const cutAt = Date.now();
    const silent = (m: Mail): boolean => m.subject.includes('ContainerSilent') && m.subject.includes(`container ${container}`);
    await until(
      `ContainerSilent mail for ${container}`,
      3 * 5 + 5 + 30,
      async () => ((await mails(mailDir)).some((m) => silent(m) && m.subject.includes('FIRING')) ? true : undefined),
      () => logTail('alerting.log'),
    );
    const silentAfterS = (Date.now() - cutAt) / 1000;
    const restore = await runPrinted(printedCommand(output, /^\s*npm run demo -- restore-uplink \S+/), env);
    const restoredAt = Date.now();
    expect(restore.code).toBe(0);
    expect(restore.output).toContain(`${container}: uplink up`);
    const resolved = await until(
      `resolved ContainerSilent mail for ${container}`,
      60,
      async () => (await mails(mailDir)).find((m) => silent(m) && m.subject.includes('RESOLVED')),
      () => logTail('alerting.log'),
    );
    const resolvedAfterS = (Date.now() - restoredAt) / 1000;
    expect(resolved.text).toMatch(/dark for \d+/);
    expect(resolved.text).toMatch(/backfill/);

    // A power cut in that container: its edge processes die (the printed `pkill -f edge-<C>` would also reach another
    // demo's edge of that name, so the test kills them by their PID files); power-on brings the edge back.
    const bad = await fetch(`http://127.0.0.1:${controlPort}/containers/${container}/uplink`, { method: 'POST', body: '{"state":"down"}' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain(`invalid uplink request for container ${container}`);
    expect(output).toContain(`pkill -KILL -f edge-${container}`);
    const edgeIndex = Number(container.slice(1));
    const killedAt = Date.now();
    const edgePids = ['miner', 'climate'].map((part) => Number(readFileSync(path.join(state, 'run', `edge-${container}-${part}.pid`), 'utf8').split(' ')[0]));
    for (const pid of edgePids) process.kill(pid, 'SIGKILL');
    // Dead once gone or a zombie (exited, not yet reaped by init).
    const dead = (pid: number): boolean => {
      try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    await until(`edge-${container} down`, 10, async () => (edgePids.every(dead) && !(await portOpen(metricsPort + edgeIndex - 1)) ? true : undefined));
    const powerOn = await runPrinted(printedCommand(output, /^\s*npm run demo -- power-on \S+/), env);
    expect(powerOn.code).toBe(0);
    await until(`edge-${container} reporting again after power-on`, 40, async () => {
      const rows = await influxRows(influx, `SELECT seq FROM edge_heartbeat WHERE container = '${container}' AND source = 'miner' ORDER BY time DESC LIMIT 1`, admin);
      const [time, seq] = rows[0] ?? [];
      return typeof time === 'string' && Date.parse(time) > killedAt && typeof seq === 'number' && seq < 5 ? true : undefined;
    }, () => logTail(`edge-${container}-miner.log`));

    // The damper, the discovery and the silence commands.
    await until(
      `DAMPER_STUCK in ${damperContainer}`,
      Math.max(10, 60 + 5 + 40 - (Date.now() - stuckAt) / 1000),
      async () => ((await influxRows(influx, `SELECT active FROM fault WHERE code = 'DAMPER_STUCK' AND container = '${damperContainer}'`, admin)).length ? true : undefined),
      () => logTail(`edge-${damperContainer}-climate.log`),
    );
    const discover = await runPrinted(printedCommand(output, /^\s*npx flymining discover /), env);
    expect(discover.code).toBe(0);
    expect(discover.output).toContain('every listed miner in this range answered');
    const alerts = await runPrinted(`${printedCommand(output, /^\s*curl -s \S+\/api\/alerts -H "Authorization: Bearer /)} --fail-with-body -S`, env);
    expect(alerts.code).toBe(0);
    expect(Array.isArray(JSON.parse(alerts.output))).toBe(true);
    const silence = await runPrinted(`${printedCommand(output, /^\s*curl -X POST \S+\/api\/silences /)} --fail-with-body -sS`, env);
    expect(silence.code).toBe(0);
    const silences = (await (await fetch(`${alerting}/api/silences`, { headers: { authorization: `Bearer ${staffToken}` } })).json()) as unknown;
    const silenced = /api\/silences .*container=\\"(\w+)\\"/.exec(output)?.[1];
    expect(silenced).toBeDefined();
    expect(JSON.stringify(silences)).toContain(`container=\\"${silenced}\\"`);
    // Recorded under the token's name, whatever the client claims.
    expect(JSON.stringify(silences)).toContain('"createdBy":"token:demo-staff"');
    console.log(
      `demo: ContainerSilent mailed ${silentAfterS.toFixed(1)} s after the uplink cut, resolved ${resolvedAfterS.toFixed(1)} s after the restore (interval 5 s)`,
    );
  } finally {
    // Ctrl-C: SIGINT to the demo's process group, as a terminal would.
    if (demo.pid) {
      try {
        process.kill(-demo.pid, 'SIGINT');
      } catch {
        /* already gone */
      }
    }
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 40_000).unref())]);
    if (code === 'timeout' && demo.pid) {
      try {
        process.kill(-demo.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(state, { recursive: true, force: true });
    const admin = new Client({ connectionString: process.env.FLYMINING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${demoDatabase}" WITH (FORCE)`).finally(() => admin.end());
  }
  expect(output).toContain('nothing of it is left running');
  const ports = [influxPort, controlPort, metricsPort, metricsPort + 1, climatePort, climatePort + 1, uplinkPort, uplinkPort + 1, redisPort, mqttPort];
  for (const port of [...ports, Number(env.FLYMINING_DEMO_PORTAL_PORT), Number(env.FLYMINING_DEMO_ALERTING_PORT), Number(env.FLYMINING_DEMO_STAFF_PORT)]) expect(await portOpen(port)).toBe(false);
}, 540_000);
