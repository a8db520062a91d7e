/**
 * docker-compose.yml, the production stack: docker-compose (1.29, no Docker engine needed) accepts it, every
 * image is pinned to a version, every service has a health check and waits for healthy dependencies.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

const repoRoot = path.resolve(__dirname, '../../..');
const composeFile = path.join(repoRoot, 'docker-compose.yml');

interface ComposeService {
  image?: string;
  build?: unknown;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: string[];
  command?: string[] | string;
  ports?: string[];
}

/** The secrets .env must provide (docker/env.example lists them); compose refuses to interpolate without them. */
function secretsFromEnvExample(): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const line of readFileSync(path.join(repoRoot, 'docker/env.example'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) secrets[match[1] as string] = match[2] as string;
  }
  return secrets;
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

function composeConfig(file: string, env: NodeJS.ProcessEnv): ComposeResult {
  return runCompose(file, ['config', '-q'], env);
}

/** The stack as compose resolves it (variables filled in with env.example's values and the file's defaults). */
function resolvedStack(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  const result = runCompose(composeFile, ['--profile', 'demo', 'config'], { ...process.env, ...secretsFromEnvExample() });
  if (result.status !== 0) throw new Error(`docker-compose config failed: ${result.output}`);
  return parse(result.stdout) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
}

const stack = resolvedStack();
const services = stack.services;

describe('docker-compose.yml', () => {
  it('is accepted by docker-compose with the settings docker/env.example lists', () => {
    const result = composeConfig(composeFile, { ...process.env, ...secretsFromEnvExample() });
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('names the missing secret instead of starting with an empty password', () => {
    const env = { ...process.env, ...secretsFromEnvExample() };
    delete env.FLYMINING_PG_PASSWORD;
    const result = composeConfig(composeFile, env);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('set FLYMINING_PG_PASSWORD in .env');
  });

  it('is rejected by the same check when a service has an invalid option', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flymining-compose-'));
    try {
      const broken = path.join(dir, 'docker-compose.yml');
      copyFileSync(composeFile, broken);
      writeFileSync(broken, readFileSync(broken, 'utf8').replace('restart: unless-stopped', 'restart_policy_typo: always'));
      const result = composeConfig(broken, { ...process.env, ...secretsFromEnvExample() });
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('restart_policy_typo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs InfluxDB 2.7, Grafana 12, Redis, PostgreSQL, Mosquitto, mailpit, the exporter and the simulator', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['alerting', 'climate', 'exporter', 'grafana', 'influxdb', 'mailpit', 'mosquitto', 'portal', 'postgres', 'redis', 'simulator'].sort(),
    );
    // Alerting mails through mailpit (the SMTP URL every service gets) and reads its rules from the config folder.
    expect(services.alerting?.command).toEqual(expect.arrayContaining(['alerting/src/main.ts', '/config/alerting.yaml']));
    // The portal trusts one proxy hop: it is published on 127.0.0.1 for the TLS proxy in front of it.
    expect(services.portal?.command).toEqual(expect.arrayContaining(['billing/src/portal/main.ts', '--trust-proxy', '1']));
    expect(String(services.portal?.ports)).toMatch(/^127\.0\.0\.1:8480:8480(\/tcp)?$/);
    expect(services.influxdb?.image).toMatch(/^influxdb:2\.7\.\d+$/);
    expect(services.grafana?.image).toMatch(/^grafana\/grafana:12\.\d+\.\d+$/);
  });

  it.each(Object.entries(services))('pins the image of %s to a version', (_name, service) => {
    expect(service.image).toBeDefined();
    const tag = (service.image as string).split(':')[1] ?? '';
    expect(tag).toMatch(/\d/);
    expect(tag).not.toMatch(/latest/);
  });

  it.each(Object.entries(services))('gives %s a health check and waits for healthy dependencies', (_name, service) => {
    expect(service.healthcheck?.disable).not.toBe(true);
    expect(service.healthcheck?.test).toBeDefined();
    const dependsOn = service.depends_on ?? {};
    expect(Array.isArray(dependsOn)).toBe(false);
    for (const dependency of Object.values(dependsOn)) expect(dependency).toEqual({ condition: 'service_healthy' });
  });

  it('keeps data in named volumes and mounts the rack-map plugin and Grafana provisioning', () => {
    const named = new Set(Object.keys(stack.volumes));
    for (const name of ['influxdb', 'grafana', 'redis', 'postgres', 'mosquitto', 'mailpit']) {
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
    for (const name of ['exporter', 'simulator']) expect(services[name]?.build).toBeDefined();
  });

  it('maps InfluxDB 2 database "flymining" / retention policy "raw" for the v1 API with an executable init script', () => {
    const script = path.join(repoRoot, 'provisioning/influxdb/init/10-flymining-v1.sh');
    // The influxdb image runs only executable *.sh files from /docker-entrypoint-initdb.d.
    expect(statSync(script).mode & 0o111).not.toBe(0);
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    const text = readFileSync(script, 'utf8');
    expect(text).toMatch(/influx v1 dbrp create[\s\S]*--db flymining[\s\S]*--rp raw/);
    expect(text).toMatch(/influx v1 auth create/);
    expect(services.influxdb?.volumes).toContain(`${path.join(repoRoot, 'provisioning/influxdb/init')}:/docker-entrypoint-initdb.d:ro`);
  });
});
