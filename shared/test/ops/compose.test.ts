/**
 * The deployment files: docker-compose.yml (the center) and docker-compose.edge.yml (one edge box per container)
 * are accepted by docker-compose (1.29, no Docker engine needed) and keep their security properties; the
 * provisioning they mount does what it says against real servers: the edge broker's config refuses anonymous
 * clients (a real mosquitto), the center's InfluxDB config turns auth on and influx-setup gives each account only
 * its right (a real influxd 1.x with auth), and the secrets wrapper hands a file to the environment.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import https from 'node:https';
import { InfluxTestServer, freePort, makeTestCertificates } from '../../../scripts/jest/influx-server';
import { provisionInflux, readSetupSettings } from '../../../docker/influx-setup';
import { loadInventory } from '../../src/inventory';
import { startStaffServer, type StaffServer } from '../../../maintenance/test/staff-server';

const repoRoot = path.resolve(__dirname, '../../..');
const centerFile = path.join(repoRoot, 'docker-compose.yml');
const edgeFile = path.join(repoRoot, 'docker-compose.edge.yml');

interface ComposePort {
  published?: number | string;
  target?: number;
  host_ip?: string;
}

interface ComposeService {
  image?: string;
  build?: unknown;
  restart?: string;
  entrypoint?: string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: string[];
  command?: string[] | string;
  ports?: Array<string | ComposePort>;
  environment?: Record<string, string>;
  secrets?: Array<{ source: string } | string>;
}

interface ComposeStack {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
}

/** KEY=value lines of an env example (what .env must provide); compose refuses to interpolate without them. */
function envExample(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(path.join(repoRoot, file), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1] as string] = match[2] as string;
  }
  return values;
}
const centerEnv = envExample('docker/env.example');
const edgeEnv = envExample('docker/edge.env.example');

/** The process environment without any variable the compose files interpolate (a developer's shell may set some). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLYMINING_') && k !== 'CONTAINER') env[k] = v;
  return { ...env, ...extra };
}

interface ComposeResult {
  status: number | null;
  stdout: string;
  output: string;
}

function runCompose(file: string, args: string[], env: NodeJS.ProcessEnv): ComposeResult {
  const result = spawnSync('docker-compose', ['-f', file, ...args], { cwd: path.dirname(file), env, encoding: 'utf8' });
  if (result.error) {
    throw new Error(`cannot run docker-compose (${result.error.message}); 'npm test' installs it, or: apt-get install docker-compose`);
  }
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/** The stack as compose resolves it (variables filled in from the env example and the file's defaults). */
function resolved(file: string, env: Record<string, string>): ComposeStack {
  const result = runCompose(file, ['config'], cleanEnv(env));
  if (result.status !== 0) throw new Error(`docker-compose config failed: ${result.output}`);
  return parse(result.stdout) as ComposeStack;
}

const center = resolved(centerFile, centerEnv);
const edge = resolved(edgeFile, edgeEnv);

/** Host address and port of each published port ('' host = every interface). */
function published(service: ComposeService): Array<{ host: string; port: string }> {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'string') {
      const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
      return parts.length === 3 ? { host: parts[0] as string, port: parts[1] as string } : { host: '', port: parts[0] as string };
    }
    return { host: p.host_ip ?? '', port: String(p.published ?? '') };
  });
}

/** Secret-looking environment entries of a compose file's own text whose value is written out, not a reference. */
function inlineSecrets(file: string): string[] {
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const found: string[] = [];
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => visit(n, `${where}[${i}]`));
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        if (typeof value === 'string' && /PASSWORD|SECRET|TOKEN|PRIVATE_KEY/i.test(key)) {
          // Allowed: an interpolated ${VAR} (from .env) or a path to a file (Docker secret, mounted file).
          if (!/^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$/.test(value) && !value.startsWith('/run/secrets/') && key !== 'FLYMINING_SECRET_ENV') {
            found.push(`${where}.${key}`);
          }
        }
        // user:password@ in a URL must come from .env too.
        if (typeof value === 'string' && /:\/\/[^/\s]*:[^/\s]*@/.test(value) && !/:\/\/[^/\s]*:\$\{[^}]+\}@/.test(value)) {
          found.push(`${where}.${key} (URL credentials)`);
        }
        visit(value, `${where}.${key}`);
      }
    }
  };
  visit(doc, path.basename(file));
  return found;
}

function secretNames(service: ComposeService): string[] {
  return (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));
}

describe('docker-compose.yml: the center', () => {
  const services = center.services;

  it('is accepted by docker-compose with the settings docker/env.example lists', () => {
    const result = runCompose(centerFile, ['config', '-q'], cleanEnv(centerEnv));
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('names the missing secret instead of starting with an empty password', () => {
    const env = { ...centerEnv };
    delete env.FLYMINING_PG_PASSWORD;
    const result = runCompose(centerFile, ['config', '-q'], cleanEnv(env));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('set FLYMINING_PG_PASSWORD in .env');
  });

  it('is rejected by the same check when a service has an invalid option', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-compose-'));
    try {
      const broken = path.join(dir, 'docker-compose.yml');
      copyFileSync(centerFile, broken);
      writeFileSync(broken, readFileSync(broken, 'utf8').replace('restart: unless-stopped', 'restart_policy_typo: always'));
      const result = runCompose(broken, ['config', '-q'], cleanEnv(centerEnv));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('restart_policy_typo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the center only: no exporter and no MQTT broker (those are on the edge boxes)', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['alerting', 'billing', 'grafana', 'influx-setup', 'influxdb', 'mailpit', 'maintenance', 'portal', 'postgres', 'redis', 'tvwall', 'uplink'].sort(),
    );
    expect(services.influxdb?.image).toMatch(/^influxdb:1\.\d+\.\d+$/);
    expect(services.grafana?.image).toMatch(/^grafana\/grafana:12\.\d+\.\d+$/);
    expect(services.alerting?.command).toEqual(expect.arrayContaining(['alerting/src/main.ts', '/config/alerting.yaml']));
    expect(services.portal?.command).toEqual(expect.arrayContaining(['billing/src/portal/main.ts']));
    expect(services.maintenance?.command).toEqual(expect.arrayContaining(['maintenance/src/main.ts', '--rota', '/config/rota.yaml']));
    expect(services.portal?.command).not.toContain('--trust-proxy'); // a hop count lets any client pick its address (P5)
    expect(services.portal?.environment?.FLYMINING_PORTAL_TRUSTED_PROXIES).toBe('loopback,uniquelocal,172.16.0.0/12');
    expect(services.tvwall?.environment?.FLYMINING_TVWALL_GRAFANA_URL).toMatch(/^https?:\/\//);
    expect(services.billing?.command).toEqual(['node', 'bin/flymining.js', 'billing', 'scheduler']);
    for (const service of Object.values(services)) expect(JSON.stringify(service)).not.toContain('FLYMINING_MQTT_URL');
  });

  it.each(Object.entries(services))('pins the image of %s to a version', (_name, service) => {
    const tag = (service.image ?? '').split(':')[1] ?? '';
    expect(tag).toMatch(/\d/);
    expect(tag).not.toMatch(/latest/);
  });

  it.each(Object.entries(services))('gives %s a health check (or runs it once) and waits for its dependencies', (name, service) => {
    if (name === 'influx-setup') {
      expect(service.restart).toBe('no');
    } else {
      expect(service.healthcheck?.disable).not.toBe(true);
      expect(service.healthcheck?.test).toBeDefined();
    }
    const dependsOn = service.depends_on ?? {};
    expect(Array.isArray(dependsOn)).toBe(false);
    for (const [dependency, condition] of Object.entries(dependsOn)) {
      expect(condition).toEqual({ condition: dependency === 'influx-setup' ? 'service_completed_successfully' : 'service_healthy' });
    }
  });

  it('turns InfluxDB authentication on, in the environment and in the mounted config file', () => {
    expect(services.influxdb?.environment?.INFLUXDB_HTTP_AUTH_ENABLED).toBe('true');
    expect(services.influxdb?.volumes).toContain(`${path.join(repoRoot, 'provisioning/influxdb/influxdb.conf')}:/etc/influxdb/influxdb.conf:ro`);
    expect(services.influxdb?.command).toEqual(['influxd', '-config', '/etc/influxdb/influxdb.conf']);
  });

  it('publishes nothing that answers without credentials on the network: only the uplink gateway and Grafana leave 127.0.0.1', () => {
    const open: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const p of published(service)) if (p.host !== '127.0.0.1') open.push(`${name}:${p.port}`);
    }
    expect(open.sort()).toEqual(['grafana:3000', 'uplink:8086']);
    // Grafana: sign-in required, nobody can create an account.
    expect(services.grafana?.environment).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'false', GF_USERS_ALLOW_SIGN_UP: 'false' });
    // The gateway: TLS, InfluxDB's own auth behind it, nothing but POST /write and GET /ping forwarded to InfluxDB,
    // and the maintenance service's edge API (its own token check) to maintenance.
    const gateway = readFileSync(path.join(repoRoot, 'docker/uplink-gateway.conf'), 'utf8');
    expect(gateway).toMatch(/listen 8443 ssl;/);
    expect(gateway.match(/proxy_pass http\S*/g)).toEqual(['proxy_pass http://influxdb:8086;', 'proxy_pass http://influxdb:8086;', 'proxy_pass http://$maintenance;']);
    expect(gateway).toContain('set $maintenance maintenance:3400;');
    expect(gateway).toMatch(/location \/edge\/control\/v1\/ \{\s*limit_except GET POST \{ deny all; \}/);
    expect(services.maintenance?.environment?.FLYMINING_INVENTORY).toBe('/config/farm.yaml');
    expect(gateway).toMatch(/location = \/write \{\s*limit_except POST \{ deny all; \}/);
    expect(gateway).toMatch(/location \/ \{\s*return 403;\s*\}/);
    // Data stores are not published at all.
    for (const name of ['influxdb', 'redis', 'postgres']) expect(services[name]?.ports ?? []).toEqual([]);
  });

  it('keeps secret values out of the file: InfluxDB passwords are Docker secrets, the rest comes from .env', () => {
    expect(inlineSecrets(centerFile)).toEqual([]);
    expect(Object.keys(center.secrets ?? {}).sort()).toEqual(['alerting_link_secret', 'grafana_pg_password', 'influx_admin_password', 'influx_reader_password', 'portal_session_secret']);
    // Every service that reads InfluxDB does so as the read-only user, from the secret file.
    for (const name of ['alerting', 'tvwall', 'maintenance', 'portal', 'billing', 'grafana']) {
      expect(services[name]?.environment).toMatchObject({
        FLYMINING_INFLUX_USERNAME: centerEnv.FLYMINING_INFLUX_READER_USERNAME,
        FLYMINING_INFLUX_PASSWORD_FILE: '/run/secrets/influx_reader_password',
      });
      expect(secretNames(services[name] as ComposeService)).toContain('influx_reader_password');
    }
    expect(services['influx-setup']?.environment?.FLYMINING_INFLUX_PASSWORD_FILE).toBe('/run/secrets/influx_admin_password');
    // Only influx-setup holds the admin password.
    const holders = Object.entries(services).filter(([, s]) => secretNames(s).includes('influx_admin_password'));
    expect(holders.map(([n]) => n)).toEqual(['influx-setup']);
  });

  it('gives the TV wall and alerting what staff sign-in needs (issue #10): the portal secret as a file, Redis, the accounts database', () => {
    for (const name of ['alerting', 'tvwall']) {
      expect([name, services[name]?.environment]).toEqual([
        name,
        expect.objectContaining({
          FLYMINING_PORTAL_SESSION_SECRET_FILE: '/run/secrets/portal_session_secret',
          FLYMINING_REDIS_URL: 'redis://redis:6379/0',
          FLYMINING_PG_URL: expect.stringMatching(/^postgres:\/\/flymining:[^@]+@postgres:5432\/flymining$/),
          FLYMINING_PORTAL_URL: expect.stringMatching(/^https?:\/\//),
        }),
      ]);
      expect(Object.keys(services[name]?.depends_on ?? {})).toEqual(expect.arrayContaining(['redis', 'postgres']));
    }
    // The portal signs with the same file (its process reads the secret from the environment: with-secrets.sh).
    expect(services.portal?.entrypoint).toEqual(['/bin/sh', '/flymining/with-secrets.sh']);
    expect(services.portal?.environment).toMatchObject({ FLYMINING_SECRET_ENV: 'FLYMINING_PORTAL_SESSION_SECRET', FLYMINING_PORTAL_SESSION_SECRET_FILE: '/run/secrets/portal_session_secret' });
    expect(services.portal?.environment?.FLYMINING_PORTAL_SESSION_SECRET).toBeUndefined();
    const holders = (secret: string) => Object.entries(services).filter(([, s]) => secretNames(s).includes(secret)).map(([n]) => n).sort();
    expect(holders('portal_session_secret')).toEqual(['alerting', 'billing', 'maintenance', 'portal', 'tvwall']);
    expect(holders('alerting_link_secret')).toEqual(['alerting']);
    expect(services.alerting?.environment?.FLYMINING_ALERTING_LINK_SECRET_FILE).toBe('/run/secrets/alerting_link_secret');
  });

  it('keeps data in named volumes and mounts the rack-map plugin and Grafana provisioning', () => {
    const named = new Set(Object.keys(center.volumes));
    for (const name of ['influxdb', 'grafana', 'redis', 'postgres', 'mailpit']) {
      const dataVolume = (services[name]?.volumes ?? []).find((v) => !v.startsWith('/'));
      expect(named.has((dataVolume ?? '').split(':')[0] as string)).toBe(true);
    }
    expect(services.grafana?.volumes).toContain(
      `${path.join(repoRoot, 'grafana-plugin/dist')}:/var/lib/grafana/plugins/flymining-rackmap-panel:ro`,
    );
    expect(services.grafana?.volumes).toContain(`${path.join(repoRoot, 'provisioning/grafana')}:/etc/grafana/provisioning:ro`);
  });

  it('builds our image from a Dockerfile that copies every npm workspace (npm ci fails on a missing one)', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'docker/Dockerfile'), 'utf8');
    const { workspaces } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim$/m);
    for (const workspace of workspaces) {
      expect(dockerfile).toContain(`COPY ${workspace}/package.json ${workspace}/`);
      // The panel plugin is built outside the image (Grafana mounts grafana-plugin/dist): only its manifest is needed.
      if (workspace !== 'grafana-plugin') expect(dockerfile).toContain(`COPY ${workspace} ${workspace}`);
    }
    // What the center's commands run besides the workspaces.
    for (const copied of ['COPY bin bin', 'COPY docker/influx-setup.ts docker/', 'COPY grafana-plugin/tvwall grafana-plugin/tvwall']) {
      expect(dockerfile).toContain(copied);
    }
  });
});

describe('docker-compose.edge.yml: one edge box', () => {
  const services = edge.services;
  const container = edgeEnv.CONTAINER as string;
  const lanAddress = edgeEnv.FLYMINING_EDGE_LAN_ADDRESS as string;

  it('is accepted by docker-compose with the settings docker/edge.env.example lists', () => {
    const result = runCompose(edgeFile, ['config', '-q'], cleanEnv(edgeEnv));
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it.each(['CONTAINER', 'FLYMINING_EDGE_LAN_ADDRESS', 'FLYMINING_INFLUX_URL'])(
    'refuses to start without %s instead of guessing it',
    (name) => {
      const env = { ...edgeEnv };
      delete env[name];
      const result = runCompose(edgeFile, ['config', '-q'], cleanEnv(env));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`set ${name}`);
    },
  );

  it('runs the miner and climate exporters of ONE container and its MQTT broker, and never talks to Redis', () => {
    expect(Object.keys(services).sort()).toEqual(['climate-exporter', 'miner-exporter', 'mosquitto']);
    for (const name of ['miner-exporter', 'climate-exporter']) {
      const command = services[name]?.command as string[];
      const flag = (f: string) => command[command.indexOf(f) + 1];
      expect(flag('--name')).toBe(`edge-${container}`);
      expect(flag('--containers')).toBe(container);
      expect(flag('--state-dir')).toBe('/var/lib/flymining/state');
      expect(command).not.toContain('--redis');
      expect(Object.keys(services[name]?.environment ?? {})).not.toContain('FLYMINING_REDIS_URL');
    }
  });

  it('sends over one authenticated TLS uplink: https URL, its own write-only user, password from a secret file, a CA file', () => {
    for (const name of ['miner-exporter', 'climate-exporter']) {
      const service = services[name] as ComposeService;
      expect(service.environment).toMatchObject({
        FLYMINING_INFLUX_URL: edgeEnv.FLYMINING_INFLUX_URL,
        FLYMINING_INFLUX_USERNAME: `edge-${container}`,
        FLYMINING_INFLUX_PASSWORD_FILE: '/run/secrets/influx_password',
        FLYMINING_INFLUX_CA_FILE: '/etc/flymining/uplink-ca.pem',
      });
      expect(service.environment?.FLYMINING_INFLUX_URL).toMatch(/^https:\/\//);
      expect(service.environment?.FLYMINING_INFLUX_PASSWORD).toBeUndefined();
      expect(secretNames(service)).toEqual(name === 'climate-exporter' ? ['influx_password', 'mqtt_password'] : ['influx_password', 'control_token']);
      expect(service.volumes).toContain(`${path.join(repoRoot, 'secrets/uplink-ca.pem')}:/etc/flymining/uplink-ca.pem:ro`);
    }
    expect(edge.secrets?.influx_password?.file).toBe(path.join(repoRoot, 'secrets/influx-password'));
  });

  it('fetches staff actions from the center with its own token file, through the same gateway (no URL of its own: the uplink origin)', () => {
    const env = services['miner-exporter']?.environment ?? {};
    expect(env.FLYMINING_CONTROL_TOKEN_FILE).toBe('/run/secrets/control_token');
    expect(env.FLYMINING_CONTROL_CENTER_URL).toBeUndefined();
    expect(edge.secrets?.control_token?.file).toBe(path.join(repoRoot, 'secrets/control-token'));
    expect(services['climate-exporter']?.environment?.FLYMINING_CONTROL_TOKEN_FILE).toBeUndefined();
  });

  it('publishes nothing on the uplink side: every port is bound to the container LAN address or 127.0.0.1', () => {
    const bindings = Object.entries(services).flatMap(([name, s]) => published(s).map((p) => `${name} ${p.host}:${p.port}`));
    expect(bindings.sort()).toEqual(
      [`climate-exporter 127.0.0.1:9420`, `miner-exporter 127.0.0.1:9410`, `mosquitto ${lanAddress}:1883`].sort(),
    );
    // Pointing the metrics at the LAN is allowed; an empty value (every interface) is not what the file publishes.
    const onLan = resolved(edgeFile, { ...edgeEnv, FLYMINING_EDGE_METRICS_PUBLISH: `${lanAddress}:9410` });
    expect(published(onLan.services['miner-exporter'] as ComposeService)).toEqual([{ host: lanAddress, port: '9410' }]);
  });

  it('signs the climate exporter in to its broker with a user and a secret file, never a password in the URL (F6)', () => {
    const env = services['climate-exporter']?.environment ?? {};
    expect(env).toMatchObject({ FLYMINING_MQTT_URL: 'mqtt://mosquitto:1883', FLYMINING_MQTT_USERNAME: 'climate', FLYMINING_MQTT_PASSWORD_FILE: '/run/secrets/mqtt_password' });
    expect(edge.secrets?.mqtt_password?.file).toBe(path.join(repoRoot, 'secrets/mqtt-password'));
  });

  it('gives both exporters one shared state volume (the climate exporter reads the miners power the miner exporter leaves there)', () => {
    for (const name of ['miner-exporter', 'climate-exporter']) expect(services[name]?.volumes).toContain('edge-state:/var/lib/flymining/state:rw');
  });

  it('keeps each exporter’s spool and state on its own named volume and the broker config read-only', () => {
    const named = new Set(Object.keys(edge.volumes));
    const dataVolume = (name: string) =>
      (services[name]?.volumes ?? []).find((v) => /:\/var\/lib\/flymining(:rw)?$/.test(v))?.split(':')[0];
    expect(named.has(dataVolume('miner-exporter') as string)).toBe(true);
    expect(named.has(dataVolume('climate-exporter') as string)).toBe(true);
    expect(dataVolume('miner-exporter')).not.toBe(dataVolume('climate-exporter'));
    expect(services['miner-exporter']?.environment?.FLYMINING_INFLUX_SPOOL_DIR).toBe('/var/lib/flymining/spool');
    expect(services.mosquitto?.volumes).toContain(`${path.join(repoRoot, 'provisioning/mosquitto/mosquitto.conf')}:/mosquitto/config/mosquitto.conf:ro`);
    expect(services.mosquitto?.volumes).toContain(`${path.join(repoRoot, 'secrets/mosquitto-passwd')}:/mosquitto/config/passwd:ro`);
  });

  it('keeps secret values out of the file', () => {
    expect(inlineSecrets(edgeFile)).toEqual([]);
  });
});

/** Directives of a mosquitto.conf in order, each with the listener block it sits in (0: before any listener). */
function mosquittoDirectives(text: string): Array<{ key: string; value: string; block: number }> {
  const directives: Array<{ key: string; value: string; block: number }> = [];
  let block = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'listener') block += 1;
    directives.push({ key: key as string, value: rest.join(' '), block });
  }
  return directives;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within 15 s: ${output()}`);
}

describe('provisioning/mosquitto/mosquitto.conf: the edge broker', () => {
  const text = readFileSync(path.join(repoRoot, 'provisioning/mosquitto/mosquitto.conf'), 'utf8');

  it('requires a password_file user and refuses anonymous clients on every listener', () => {
    const directives = mosquittoDirectives(text);
    const values = (key: string, block?: number) =>
      directives.filter((d) => d.key === key && (block === undefined || d.block === block)).map((d) => d.value);
    const listeners = directives.filter((d) => d.key === 'listener').map((d) => d.block);
    expect(listeners.length).toBeGreaterThan(0);
    // Without per_listener_settings the security options are global wherever they stand; with it, per listener.
    const perListener = values('per_listener_settings').includes('true');
    for (const block of perListener ? listeners : [undefined]) {
      expect(values('allow_anonymous', block)).toEqual(['false']);
      expect(values('password_file', block)).toEqual(['/mosquitto/config/passwd']);
    }
    expect(values('persistence')).toEqual(['true']);
  });

  describe('run by a real mosquitto (port and paths moved to a temp folder)', () => {
    let dir: string;
    let child: ChildProcess;
    let port: number;
    let output = '';

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-edge-mqtt-'));
      // Run as root, mosquitto drops to its own user: it must read the files and write the persistence folder.
      chmodSync(dir, 0o777);
      port = await freePort();
      const passwd = path.join(dir, 'passwd');
      const made = spawnSync('mosquitto_passwd', ['-c', '-b', passwd, 'climate', 'test-only-password'], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
      chmodSync(passwd, 0o644);
      const conf = text
        .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
        .replace('/mosquitto/config/passwd', passwd)
        .replace('/mosquitto/data/', `${dir}/`);
      expect(conf).toContain(`listener ${port} 127.0.0.1`);
      writeFileSync(path.join(dir, 'mosquitto.conf'), conf, { mode: 0o644 });
      child = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (d: Buffer) => {
        output = (output + d.toString()).slice(-4000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      await waitForPort(port, child, () => output);
    });

    afterAll(async () => {
      if (child && child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    });

    const connect = (auth: { username?: string; password?: string }) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...auth, reconnectPeriod: 0, connectTimeout: 5000 });

    it('refuses a sensor that does not sign in', async () => {
      await expect(connect({})).rejects.toThrow(/Not authorized/i);
    });

    it('refuses a wrong password', async () => {
      await expect(connect({ username: 'climate', password: 'not-the-password' })).rejects.toThrow(/Not authorized/i);
    });

    it('carries readings between users of the password file', async () => {
      const subscriber = await connect({ username: 'climate', password: 'test-only-password' });
      const publisher = await connect({ username: 'climate', password: 'test-only-password' });
      try {
        const received = new Promise<string>((resolve) => subscriber.on('message', (_t, payload) => resolve(payload.toString())));
        await subscriber.subscribeAsync('tele/c02-intake/SENSOR', { qos: 1 });
        await publisher.publishAsync('tele/c02-intake/SENSOR', '{"AM2301":{"Temperature":21.5}}', { qos: 1 });
        await expect(received).resolves.toBe('{"AM2301":{"Temperature":21.5}}');
      } finally {
        await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
      }
    });
  });
});

/** One request to InfluxDB as a given user (or none): status and body. */
async function asUser(url: string, account: { username: string; password: string } | undefined, method: 'query' | 'write', body: string) {
  const headers: Record<string, string> = {};
  if (account) headers.Authorization = `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`;
  const target = method === 'query' ? `${url}/query?db=flymining` : `${url}/write?db=flymining&rp=raw&precision=ms`;
  const res = await fetch(target, {
    method: 'POST',
    headers: method === 'query' ? { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' } : headers,
    body: method === 'query' ? new URLSearchParams({ q: body }).toString() : body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}

describe('provisioning/influxdb and docker/influx-setup.ts: the center InfluxDB (a real influxd 1.x with auth)', () => {
  let server: InfluxTestServer;
  let dir: string;
  const secret = (name: string, value: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return file;
  };
  const admin = { username: 'admin', password: 'admin-test-pw' };
  const reader = { username: 'flymining-reader', password: "reader-'quoted'-pw" };
  const edgeC02 = { username: 'edge-C02', password: 'edge-c02-test-pw' };
  const edgeC03 = { username: 'edge-C03', password: 'edge-c03-test-pw' };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-influx-setup-'));
    mkdirSync(path.join(dir, 'edges'));
    server = await InfluxTestServer.create({ auth: true });
    await server.start();
    env = {
      FLYMINING_INFLUX_URL: server.url,
      FLYMINING_INFLUX_USERNAME: admin.username,
      FLYMINING_INFLUX_PASSWORD_FILE: secret('admin', admin.password),
      FLYMINING_INFLUX_READER_PASSWORD_FILE: secret('reader', reader.password),
      FLYMINING_INFLUX_EDGE_SECRETS_DIR: path.join(dir, 'edges'),
    };
    secret('edges/edge-C02.password', edgeC02.password);
    secret('edges/edge-C03.password', edgeC03.password);
    writeFileSync(path.join(dir, 'edges/README.txt'), 'not an edge');
  });

  afterAll(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('influxd reads provisioning/influxdb/influxdb.conf with authentication on and pprof off', () => {
    const result = spawnSync('influxd', ['config', '-config', path.join(repoRoot, 'provisioning/influxdb/influxdb.conf')], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const http = /\[http\]([\s\S]*?)\n\[/.exec(result.stdout)?.[1] ?? '';
    expect(http).toMatch(/^\s*auth-enabled = true$/m);
    expect(http).toMatch(/^\s*pprof-enabled = false$/m);
  });

  it('creates the admin on a fresh server, the schema, a read-only user and one write-only user per edge file', async () => {
    const report = await provisionInflux(readSetupSettings(env));
    expect(report).toEqual({
      adminCreated: true,
      database: 'flymining',
      reader: reader.username,
      edges: { kept: [], created: ['edge-C02', 'edge-C03'], dropped: [] },
    });
    // Nothing without credentials.
    expect((await asUser(server.url, undefined, 'query', 'SHOW MEASUREMENTS')).status).toBe(401);
    // The edge writes, and cannot read back what it (or anyone) wrote.
    const line = `edge_heartbeat,site=s,container=C02,edge=edge-C02,source=miner seq=1i ${Date.now()}`;
    expect((await asUser(server.url, edgeC02, 'write', line)).status).toBe(204);
    const edgeRead = await asUser(server.url, edgeC02, 'query', 'SELECT * FROM edge_heartbeat');
    expect(edgeRead.status).toBe(403);
    expect(edgeRead.body).toContain('requires READ');
    // The reader sees it and cannot write.
    const read = await asUser(server.url, reader, 'query', 'SELECT seq FROM edge_heartbeat');
    expect(read.status).toBe(200);
    expect(read.body).toContain('"seq"');
    expect((await asUser(server.url, reader, 'write', line)).status).toBe(403);
    // Neither is an admin.
    expect((await asUser(server.url, edgeC02, 'query', 'SHOW USERS')).body).toContain('requires admin');
    expect((await asUser(server.url, reader, 'query', 'DROP DATABASE flymining')).body).toContain('requires admin');
    // The schema's retention policies: raw is the default.
    const policies = await asUser(server.url, reader, 'query', 'SHOW RETENTION POLICIES ON flymining');
    expect(policies.body).toMatch(/\["raw","[^"]+","[^"]+",1,true\]/);
  });

  it('reconciles on a re-run: a removed edge file revokes that edge, a changed file rotates its password', async () => {
    unlinkSync(path.join(dir, 'edges/edge-C03.password'));
    secret('edges/edge-C02.password', 'edge-c02-rotated');
    const report = await provisionInflux(readSetupSettings(env));
    expect(report.adminCreated).toBe(false);
    expect(report.edges).toEqual({ kept: ['edge-C02'], created: [], dropped: ['edge-C03'] });
    const line = `edge_heartbeat,site=s,container=C03,edge=edge-C03,source=miner seq=2i ${Date.now()}`;
    expect((await asUser(server.url, edgeC03, 'write', line)).status).toBe(401);
    expect((await asUser(server.url, edgeC02, 'write', line)).status).toBe(401);
    expect((await asUser(server.url, { ...edgeC02, password: 'edge-c02-rotated' }, 'write', line)).status).toBe(204);
  });

  describe('findings of docs/security.md, replayed on InfluxDB itself (what the gateway is for)', () => {
    const edgeNow = { username: 'edge-C02', password: 'edge-c02-rotated' };

    it('F5: a write grant is per database: edge-C02 writes series of container C01', async () => {
      const line = `fault,site=s,container=C01,miner=m1 active=1i ${Date.now()}`;
      expect((await asUser(server.url, edgeNow, 'write', line)).status).toBe(204);
      const seen = await asUser(server.url, reader, 'query', "SELECT count(active) FROM fault WHERE container = 'C01'");
      expect(seen.body).toContain('"count"');
    });

    it('F1: a write-only user may DELETE any series of the database through /query', async () => {
      const del = await asUser(server.url, edgeNow, 'query', "DELETE FROM fault WHERE container = 'C01'");
      expect(del.status).toBe(200);
      const left = await asUser(server.url, reader, 'query', "SELECT count(active) FROM fault WHERE container = 'C01'");
      expect(left.body).not.toContain('"count"');
    });

    it('F2: /debug/vars answers without credentials (database names, command line, statistics)', async () => {
      const res = await fetch(`${server.url}/debug/vars`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('"database":"flymining"');
    });

    it('F3: a write grant covers every retention policy: an edge writes into rollup', async () => {
      const res = await fetch(`${server.url}/write?db=flymining&rp=rollup&precision=ms`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${edgeNow.username}:${edgeNow.password}`).toString('base64')}` },
        body: `miner,site=s,container=C02,miner=m1 mean_hashrate_ths=1 ${Date.now()}`,
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(204);
    });

    it('F4: InfluxDB takes the password in the URL (u=, p=), where logs and proxies keep it', async () => {
      const query = new URLSearchParams({ db: 'flymining', precision: 'ms', u: edgeNow.username, p: edgeNow.password });
      const res = await fetch(`${server.url}/write?${query.toString()}`, {
        method: 'POST',
        body: `edge_heartbeat,site=s,container=C02,edge=edge-C02,source=miner seq=10i ${Date.now()}`,
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(204);
    });
  });

  it('refuses a wrong admin password without printing any password', () => {
    const wrong = { ...env, FLYMINING_INFLUX_PASSWORD_FILE: secret('wrong-admin', 'wrong-admin-pw') };
    const result = spawnSync(process.execPath, ['-r', 'tsx/cjs', path.join(repoRoot, 'docker/influx-setup.ts')], {
      env: { ...cleanEnv({}), ...wrong },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('InfluxDB refused the admin admin');
    for (const pw of ['wrong-admin-pw', admin.password, reader.password, 'edge-c02-rotated']) expect(result.stderr + result.stdout).not.toContain(pw);
  });

  it('refuses an InfluxDB that answers without credentials', async () => {
    const open = process.env.FLYMINING_TEST_INFLUX_URL as string;
    await expect(provisionInflux(readSetupSettings({ ...env, FLYMINING_INFLUX_URL: open }))).rejects.toThrow(/auth-enabled = true/);
  });

  describe('docker/uplink-gateway.conf in a real nginx in front of it (TLS with a test CA)', () => {
    let gatewayDir: string;
    let nginx: ChildProcess;
    let port: number;
    let ca: Buffer;
    let log = '';
    const edgeNow = { username: 'edge-C02', password: 'edge-c02-rotated' };

    // The maintenance service behind /edge/control/v1/ (real PostgreSQL and Redis tokens), with a two-container farm.
    let maintenance: StaffServer;
    const edgeTokens: Record<string, string> = {};

    /** A request to the gateway over TLS, trusting only the test CA; status and body. */
    const viaGateway = (method: string, pathAndQuery: string, account?: { username: string; password: string } | { bearer: string }, body = '') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (account && 'bearer' in account) headers.Authorization = `Bearer ${account.bearer}`;
        else if (account) headers.Authorization = `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`;
        if (pathAndQuery.startsWith('/query')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
        if (body && !pathAndQuery.startsWith('/query') && !pathAndQuery.startsWith('/write')) headers['Content-Type'] = 'application/json';
        // The path as written (a URL string would have its dot segments resolved before nginx sees them).
        const req = https.request({ host: '127.0.0.1', port, path: pathAndQuery, method, headers, ca, timeout: 10_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
      });

    beforeAll(async () => {
      const nginxFound = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
      if (nginxFound.error) throw new Error("nginx is not installed: 'apt-get install nginx-light' (scripts/test.sh installs it)");
      gatewayDir = mkdtempSync(path.join(os.tmpdir(), 'flymining-uplink-gateway-'));
      // Run as root, nginx's workers run as nobody: they write request bodies to the temp folders.
      chmodSync(gatewayDir, 0o777);
      const certs = makeTestCertificates(path.join(gatewayDir, 'tls'));
      ca = readFileSync(certs.caFile);
      port = await freePort();
      writeFileSync(
        path.join(gatewayDir, 'farm.yaml'),
        ['C01', 'C02'].map((c, i) => `  - name: ${c}\n    racks: [{ name: R1, shelves: [{ name: S1, slots: [{ slot: 1, host: 10.0.${i + 1}.11, model: Antminer S19 Pro }] }] }]`).reduce((yaml, c) => `${yaml}${c}\n`, 'site: s\ncontainers:\n'),
      );
      const farm = loadInventory(path.join(gatewayDir, 'farm.yaml'));
      maintenance = await startStaffServer('gateway', { control: { inventory: () => farm } });
      for (const c of ['C01', 'C02']) edgeTokens[c] = (await maintenance.tokens.store.add(`edge-${c}`, ['control:edge'])).token;
      const gateway = readFileSync(path.join(repoRoot, 'docker/uplink-gateway.conf'), 'utf8')
        .replace('listen 8443 ssl;', `listen 127.0.0.1:${port} ssl;`)
        .replace('/etc/nginx/tls/server.crt', certs.certFile)
        .replace('/etc/nginx/tls/server.key', certs.keyFile)
        // Node gives nginx a socket for stdout, which nginx cannot open by name: the log goes to a file here.
        .replace('access_log /dev/stdout uplink;', `access_log ${path.join(gatewayDir, 'access.log')} uplink;`)
        .replace('error_log /dev/stderr warn;', 'error_log stderr warn;')
        .split('http://influxdb:8086')
        .join(server.url)
        .replace('maintenance:3400', maintenance.url.replace('http://', ''));
      writeFileSync(path.join(gatewayDir, 'gateway.conf'), gateway);
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((t) => `${t}_temp_path ${path.join(gatewayDir, t)};`)
        .join('\n  ');
      writeFileSync(
        path.join(gatewayDir, 'nginx.conf'),
        `daemon off;\nworker_processes 1;\npid ${gatewayDir}/nginx.pid;\nerror_log stderr warn;\nevents { worker_connections 64; }\n` +
          `http {\n  ${temp}\n  include ${gatewayDir}/gateway.conf;\n}\n`,
      );
      nginx = spawn('nginx', ['-e', 'stderr', '-p', gatewayDir, '-c', path.join(gatewayDir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (d: Buffer) => {
        log = (log + d.toString()).slice(-8000);
      };
      nginx.stdout?.on('data', keep);
      nginx.stderr?.on('data', keep);
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (nginx.exitCode !== null) throw new Error(`nginx exited: ${log}`);
        const ping = await viaGateway('GET', '/ping').catch(() => undefined);
        if (ping?.status === 204) break;
        if (Date.now() > deadline) throw new Error(`the gateway did not answer /ping within 15 s: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    afterAll(async () => {
      if (nginx && nginx.exitCode === null) {
        await new Promise<void>((resolve) => {
          nginx.once('exit', () => resolve());
          nginx.kill('SIGQUIT');
          setTimeout(() => nginx.kill('SIGKILL'), 5000).unref();
        });
      }
      await maintenance?.close();
      rmSync(gatewayDir, { recursive: true, force: true });
    });

    it('passes an edge’s write through to InfluxDB, where the reader sees it', async () => {
      const at = Date.now();
      const line = `edge_heartbeat,site=s,container=C02,edge=edge-C02,source=climate seq=7i ${at}`;
      expect(await viaGateway('POST', '/write?db=flymining&rp=raw&precision=ms', edgeNow, line)).toEqual({ status: 204, body: '' });
      expect((await viaGateway('POST', '/write?db=flymining&precision=ms', edgeNow, line)).status).toBe(204);
      const read = await asUser(server.url, reader, 'query', `SELECT seq FROM edge_heartbeat WHERE source = 'climate' AND time = ${at}ms`);
      // InfluxDB writes RFC 3339 without trailing zeros (…34.26Z): compare the instant, not the text.
      const values = (JSON.parse(read.body) as { results: Array<{ series?: Array<{ values: Array<[string, number]> }> }> }).results[0]?.series?.[0]?.values ?? [];
      expect(values.map(([t, seq]) => [Date.parse(t), seq])).toEqual([[at, 7]]);
    });

    it('leaves the password check to InfluxDB: a wrong or missing password is refused', async () => {
      const line = `edge_heartbeat,site=s,container=C02,edge=edge-C02,source=miner seq=8i ${Date.now()}`;
      expect((await viaGateway('POST', '/write?db=flymining&precision=ms', { ...edgeNow, password: 'guess' }, line)).status).toBe(401);
      expect((await viaGateway('POST', '/write?db=flymining&precision=ms', undefined, line)).status).toBe(401);
    });

    it('refuses everything else before InfluxDB sees it: /query (F1), /debug (F2), other databases and policies (F3), passwords in the URL (F4)', async () => {
      const line = `edge_heartbeat,site=s,container=C02,edge=edge-C02,source=miner seq=9i ${Date.now()}`;
      const refused = [
        await viaGateway('POST', '/query?db=flymining', edgeNow, new URLSearchParams({ q: 'DELETE FROM edge_heartbeat' }).toString()),
        await viaGateway('GET', '/query?q=SHOW%20DATABASES', edgeNow),
        await viaGateway('GET', '/debug/vars'),
        await viaGateway('GET', '/debug/requests'),
        await viaGateway('POST', '/write?db=flymining&rp=rollup&precision=ms', edgeNow, line),
        await viaGateway('POST', '/write?db=_internal&precision=ms', edgeNow, line),
        await viaGateway('POST', `/write?db=flymining&u=edge-C02&p=${edgeNow.password}`, undefined, line),
        await viaGateway('GET', '/write?db=flymining', edgeNow),
      ];
      expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 403, 403]);
      // The DELETE did not run: the climate heartbeat written above is still there.
      expect((await asUser(server.url, reader, 'query', "SELECT count(seq) FROM edge_heartbeat WHERE source = 'climate'")).body).toContain('"count"');
      // The access log names the user and the path, never the query string with its password.
      const accessLog = () => readFileSync(path.join(gatewayDir, 'access.log'), 'utf8');
      const deadline = Date.now() + 5000;
      while (!accessLog().includes('"GET /write" 403') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(accessLog()).toContain('edge-C02');
      expect(accessLog()).toContain('"POST /write" 403');
      expect(accessLog()).not.toContain(edgeNow.password);
    });

    /** A staff action queued at the center itself (not through the gateway): its id. */
    const queueAction = async (target: string, reason: string): Promise<number> => {
      const res = await fetch(`${maintenance.url}/api/control/requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await maintenance.tokens.token('control:write')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ targets: [target], action: { kind: 'blink' }, reason }),
      });
      return ((await res.json()) as { requests: Array<{ id: number }> }).requests[0]!.id;
    };

    it("passes an edge's control requests to the maintenance service, which checks its token and container", async () => {
      const id = await queueAction('C02-R1-S1-1', 'find it on site');
      const pending = await viaGateway('GET', '/edge/control/v1/pending?container=C02', { bearer: edgeTokens.C02! });
      expect(pending.status).toBe(200);
      expect((JSON.parse(pending.body) as { requests: Array<{ id: number; reason: string }> }).requests.map((r) => [r.id, r.reason])).toEqual([[id, 'find it on site']]);
      expect((await viaGateway('GET', '/edge/control/v1/pending?container=C02')).status).toBe(401);
      expect((await viaGateway('GET', '/edge/control/v1/pending?container=C02', { bearer: edgeTokens.C01! })).status).toBe(403);
      const claimed = await viaGateway('POST', `/edge/control/v1/${id}/claim`, { bearer: edgeTokens.C02! }, '{}');
      expect([claimed.status, (JSON.parse(claimed.body) as { request: { id: number } }).request.id]).toEqual([200, id]);
      const results = { results: [{ miner: 'C02-R1-S1-1', place: 'C02/R1/S1/1', outcome: 'sent', detail: 'blink on accepted', reply: '', durationMs: 80, confirmMs: null, mode: null }], done: true };
      expect(await viaGateway('POST', `/edge/control/v1/${id}/results`, { bearer: edgeTokens.C02! }, JSON.stringify(results))).toEqual({ status: 200, body: JSON.stringify({ id, status: 'done' }) });
    });

    it('keeps the staff pages and API of the maintenance service off the uplink, however the path is spelled', async () => {
      const secret = 'staff-only reason text';
      await queueAction('C01-R1-S1-1', secret);
      const staff = { bearer: await maintenance.tokens.token('control:write', 'maintenance:write') };
      // The service itself would answer these for this token.
      expect((await fetch(`${maintenance.url}/api/control/requests`, { headers: { authorization: `Bearer ${staff.bearer}` } })).status).toBe(200);
      const tries = [
        await viaGateway('GET', '/api/control/requests', staff),
        await viaGateway('GET', '/control', staff),
        await viaGateway('GET', '/api/tickets', staff),
        await viaGateway('GET', '/edge/control/v1/../../../api/control/requests', staff),
        await viaGateway('GET', '/edge/control/v1/%2e%2e/%2e%2e/%2e%2e/api/control/requests', staff),
        await viaGateway('GET', '/edge/control/v1/..%2f..%2f..%2fapi/control/requests', staff),
        await viaGateway('GET', '/edge/control/v1', staff),
        await viaGateway('DELETE', '/edge/control/v1/pending', { bearer: edgeTokens.C01! }),
        await viaGateway('PUT', '/edge/control/v1/1/results', { bearer: edgeTokens.C01! }, '{}'),
        // Into the edge prefix from elsewhere: the service gets the normalized path, i.e. the edge API, which refuses staff.
        await viaGateway('GET', '/control/../edge/control/v1/pending', staff),
        await viaGateway('GET', '/api/control/requests/%2e%2e/%2e%2e/%2e%2e/edge/control/v1/pending', staff),
      ];
      // 301: nginx's redirect of the bare prefix to /edge/control/v1/.
      expect(tries.map((t) => t.status)).toEqual([403, 403, 403, 403, 403, 403, 301, 403, 403, 403, 403]);
      for (const t of tries) expect(t.body).not.toContain(secret);
      // The service routes what nginx matched: the same detour with the edge's own token reaches the edge API.
      const detour = await viaGateway('GET', '/control/../edge/control/v1/pending', { bearer: edgeTokens.C01! });
      expect([detour.status, (JSON.parse(detour.body) as { requests: Array<{ reason: string }> }).requests.map((r) => r.reason)]).toEqual([200, [secret]]);
    });

    it('answers only TLS clients that trust the farm CA', async () => {
      ca = readFileSync(path.join(gatewayDir, 'tls/other-ca.pem'));
      try {
        await expect(viaGateway('GET', '/ping')).rejects.toThrow(/self[- ]signed|unable to (verify|get)/i);
      } finally {
        ca = readFileSync(path.join(gatewayDir, 'tls/ca.pem'));
      }
    });
  });
});

describe('docker/with-secrets.sh: a secret file into the environment of an image that needs a variable', () => {
  const wrapper = path.join(repoRoot, 'docker/with-secrets.sh');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-with-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sets NAME from NAME_FILE (trailing newline dropped) and hides the file variable from the command', () => {
    writeFileSync(path.join(dir, 'pw'), 'a b$c\n');
    const result = spawnSync('sh', [wrapper, 'sh', '-c', 'printf "[%s][%s]" "$FLYMINING_INFLUX_PASSWORD" "${FLYMINING_INFLUX_PASSWORD_FILE-unset}"'], {
      env: { PATH: process.env.PATH, FLYMINING_SECRET_ENV: 'FLYMINING_INFLUX_PASSWORD', FLYMINING_INFLUX_PASSWORD_FILE: path.join(dir, 'pw') },
      encoding: 'utf8',
    });
    expect(result.stdout).toBe('[a b$c][unset]');
    expect(result.status).toBe(0);
  });

  it.each([
    ['a missing file', 'missing', /FLYMINING_INFLUX_PASSWORD_FILE: cannot read .*missing/],
    ['an empty file', 'empty', /FLYMINING_INFLUX_PASSWORD_FILE: .*empty is empty/],
  ])('refuses %s, naming the variable and the file, and does not start the command', (_what, file, message) => {
    writeFileSync(path.join(dir, 'empty'), '\n');
    const result = spawnSync('sh', [wrapper, 'sh', '-c', 'echo started'], {
      env: { PATH: process.env.PATH, FLYMINING_SECRET_ENV: 'FLYMINING_INFLUX_PASSWORD', FLYMINING_INFLUX_PASSWORD_FILE: path.join(dir, file) },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain('started');
  });
});
