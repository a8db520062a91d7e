/**
 * A machine's maintenance history shows what the exporter recorded of it (issue 15's audit history): a pool list
 * that changed, a new firmware, for each slot the machine stood in, from a real InfluxDB.
 */
import type { InfluxStore } from '@flymining/shared';
import { openTestStore } from '../../shared/test/influx/helpers';
import { machineRef, syncTickets } from '../src';
import { firing } from './alerts';
import { startStaffServer, type StaffServer } from './staff-server';

let influx: InfluxStore;
let server: StaffServer;
let token: string;

beforeAll(async () => {
  influx = await openTestStore('machine_changes');
  server = await startStaffServer('changes', { influx });
  token = await server.tokens.token('maintenance:read');
  const t = Date.now() - 3600_000;
  const tags = 'site=north-1,container=C07,rack=R1,shelf=S1,slot=4,miner=C07-R1-S1-4';
  influx.write([
    `miner_change,${tags},kind=pools before="stratum+tcp://btc.pool.example:3333 flymining.C07-R1-S1-4",after="stratum+tcp://evil.example:3333 thief.1" ${t}`,
    `miner_change,${tags},kind=firmware before="2024.1",after="<b>2025.9</b>" ${t + 60_000}`,
  ]);
  await influx.flush();
  await syncTickets(server.db.pool, [firing('C07-R1-S1-4', 'POOL_HIJACK', '', t, { machine: machineRef('C07-R1-S1-4', { serial: 'SN-C07-4' }) })], t);
});
afterAll(async () => {
  await server.close();
  await influx.close();
});

test("the machine page lists its recorded changes, newest first, escaped", async () => {
  const res = await fetch(`${server.url}/machines/SN-C07-4`, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } });
  expect(res.status).toBe(200);
  const page = await res.text();
  const section = page.slice(page.indexOf('<h2>Changes</h2>'));
  expect(section).toContain('evil.example:3333 thief.1');
  expect(section).toContain('&lt;b&gt;2025.9&lt;/b&gt;');
  expect(section.indexOf('firmware')).toBeLessThan(section.indexOf('pools'));
});

test('without InfluxDB settings the page says the changes are not configured', async () => {
  const plain = await startStaffServer('changes_plain');
  try {
    await syncTickets(plain.db.pool, [firing('C07-R1-S1-4', 'POOL_HIJACK', '', Date.now(), { machine: machineRef('C07-R1-S1-4', { serial: 'SN-C07-4' }) })], Date.now());
    const res = await fetch(`${plain.url}/machines/SN-C07-4`, { headers: { authorization: `Bearer ${await plain.tokens.token('maintenance:read')}`, accept: 'text/html' } });
    expect(await res.text()).toContain('not configured for this server');
  } finally {
    await plain.close();
  }
});
