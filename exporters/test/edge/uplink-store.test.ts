/**
 * An edge account may only write (GRANT WRITE): the exporter's start-up says in plain words that the center sets up
 * the database instead of warning as if InfluxDB were down, and its writes still arrive. With an account that may
 * set up the schema (single box), the database is made at start.
 */
import pino from 'pino';
import { InfluxTestServer } from '../../../scripts/jest/influx-server';
import { openUplinkStore } from '../../src/common/edge/uplink-store';

const ENV_KEYS = ['FLYMINING_INFLUX_URL', 'FLYMINING_INFLUX_DB', 'FLYMINING_INFLUX_USERNAME', 'FLYMINING_INFLUX_PASSWORD', 'FLYMINING_INFLUX_SPOOL_DIR'] as const;
let server: InfluxTestServer;
const saved = new Map<string, string | undefined>();

function capture(): { log: pino.Logger; lines: () => Array<{ level: number; msg: string }> } {
  let text = '';
  const log = pino({ level: 'info' }, { write: (line: string) => void (text += line) });
  return { log, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

beforeAll(async () => {
  for (const k of ENV_KEYS) saved.set(k, process.env[k]);
  server = await InfluxTestServer.create({ auth: true });
  await server.start();
  await server.createAdmin({ username: 'admin', password: 'admin-pass' });
  await server.query('CREATE DATABASE "edge_only"');
  await server.query('CREATE RETENTION POLICY "raw" ON "edge_only" DURATION 40d REPLICATION 1 DEFAULT');
  await server.createWriter({ username: 'edge-c09', password: 'edge-pass' }, 'edge_only');
});

afterAll(async () => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await server?.destroy();
});

function useAccount(username: string, password: string, db: string): void {
  process.env.FLYMINING_INFLUX_URL = server.url;
  process.env.FLYMINING_INFLUX_DB = db;
  process.env.FLYMINING_INFLUX_USERNAME = username;
  process.env.FLYMINING_INFLUX_PASSWORD = password;
  process.env.FLYMINING_INFLUX_SPOOL_DIR = `.flymining/test-spool/uplink-store-${db}-${process.pid}`;
}

it('a write-only edge account: start-up says the center sets up the database, no warning, and writes arrive', async () => {
  useAccount('edge-c09', 'edge-pass', 'edge_only');
  const { log, lines } = capture();
  const store = await openUplinkStore(log, 'samples');
  try {
    store.write([`edge_heartbeat,site=s,container=C09,edge=edge-C09,source=miner seq=1i ${Date.now()}`]);
    await store.flush();
    expect(store.stats().written).toBe(1);
  } finally {
    await store.close();
  }
  const said = lines();
  expect(said.some((l) => l.level === 30 && /edge-c09 may only write: the center sets up the database/.test(l.msg))).toBe(true);
  expect(said.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
});

it('an account that may set up the schema makes the database and its policies at start', async () => {
  useAccount('admin', 'admin-pass', 'edge_made_here');
  const { log, lines } = capture();
  const store = await openUplinkStore(log, 'samples');
  await store.close();
  const policies = JSON.stringify(await server.query('SHOW RETENTION POLICIES ON "edge_made_here"'));
  expect(policies).toContain('"raw"');
  expect(policies).toContain('"rollup"');
  expect(lines().filter((l) => l.level >= 40)).toEqual([]);
});
