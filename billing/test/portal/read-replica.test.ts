/**
 * The portal's ledger pages on a real PostgreSQL streaming replica (a primary and a standby of the test's own):
 * pages are read from the replica, a session reads its own writes at once (from the primary until the replica has
 * replayed them), and the pages keep working when the replica goes away.
 */
import { Pool } from 'pg';
import { createLogger } from '@flymining/shared';
import { createContract, createInvestor } from '../../src/api';
import { migrate, migratePortal } from '../../src/db';
import { recordMarketDay, recordPoolPayout } from '../../src/market';
import { engineLedger } from '../../src/portal/ledger-adapter';
import { readPortalSettings } from '../../src/portal/main';
import { LedgerReads } from '../../src/portal/replica-reads';
import { createPortalUser } from '../../src/portal/users';
import { addDays, runDay, utcToday } from '../../src/run';
import { fixedHashrate } from '../fixtures';
import { startStreamingReplica, type StreamingReplica } from '../pg-replica';
import { HttpClient, PASSWORD, startTestPortal, type PortalUnderTest } from './harness';

jest.setTimeout(120_000);

const ADDRESS = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
const DB = 'portal_replica';

let cluster: StreamingReplica;
let primary: Pool;
let replica: Pool;
let reads: LedgerReads;
let portal: PortalUnderTest;

beforeAll(async () => {
  cluster = await startStreamingReplica();
  const admin = new Pool({ connectionString: cluster.primaryUrl() });
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  primary = new Pool({ connectionString: cluster.primaryUrl(DB), max: 8 });
  await migrate(primary);
  await migratePortal(primary);
  const day = addDays(utcToday(), -1);
  await createInvestor(primary, { id: 'ana', name: 'Ana Original', email: 'ana@example.com' });
  await createContract(primary, { id: 'ana-1', investorId: 'ana', hashrateThs: '100', startDay: day, endDay: addDays(day, 30) });
  await createPortalUser(primary, { email: 'ana@example.com', password: PASSWORD, role: 'investor', investorId: 'ana' });
  await recordMarketDay(primary, { day, difficulty: '100000000000000', subsidyBtc: '3.125', btcPriceUsd: '50000' });
  await recordPoolPayout(primary, { day, pool: 'main', amountBtc: '0.01' });
  await runDay(primary, fixedHashrate('100'), day);
  await cluster.caughtUp();
  replica = new Pool({ connectionString: cluster.replicaUrl(DB), max: 4 });
  replica.on('error', () => undefined); // the replica is stopped on purpose below
  const log = createLogger('portal-replica-test', 'silent');
  reads = new LedgerReads({ pool: primary, ledger: engineLedger(primary, { network: 'mainnet' }) }, { pool: replica, ledger: engineLedger(replica, { network: 'mainnet' }) }, log, 60_000);
  portal = await startTestPortal('replica', {}, { name: DB, url: cluster.primaryUrl(DB), pool: primary, drop: async () => undefined }, undefined, reads);
});

afterAll(async () => {
  await portal?.close();
  await primary?.end();
  await replica?.end().catch(() => undefined);
  cluster?.stop();
});

test('pages come from the replica, a session sees its own payout request at once, and pages go on without the replica', async () => {
  const ana = new HttpClient(portal.url);
  expect((await ana.signIn('ana@example.com')).status).toBe(303);
  // Replay paused: the replica now holds the book as it was, and a change on the primary does not reach it.
  await cluster.pauseReplay();
  await primary.query(`UPDATE investors SET name = 'Ana Renamed' WHERE id = 'ana'`);
  const before = { ...reads.counts };
  const start = await ana.get('/');
  expect(start.status).toBe(200);
  expect(start.text).toContain('Ana Original'); // read from the replica
  expect(reads.counts.replica).toBeGreaterThan(before.replica);

  // Her payout request goes to the primary; the page she lands on shows it although the replica has not replayed it.
  const requested = await ana.submit('/payouts', '/payouts', { amountBtc: '0.001', address: ADDRESS });
  expect(requested.status).toBe(303);
  const payouts = await ana.get('/payouts');
  expect(payouts.text).toMatch(/0\.00100000 BTC[\s\S]*requested/);
  expect(reads.counts.behind).toBeGreaterThan(before.behind);

  // Another session of hers that wrote nothing reads the replica, which does not have the request yet.
  const elsewhere = new HttpClient(portal.url);
  await elsewhere.signIn('ana@example.com');
  expect((await elsewhere.get('/payouts')).text).not.toMatch(/0\.00100000 BTC/);

  // Replayed: her pages come from the replica again, with the request on them.
  await cluster.resumeReplay();
  await cluster.caughtUp();
  const replicaReads = reads.counts.replica;
  const again = await ana.get('/payouts');
  expect(again.text).toMatch(/0\.00100000 BTC[\s\S]*requested/);
  expect(reads.counts.replica).toBeGreaterThan(replicaReads);

  // The replica stops: pages are read from the primary, nothing fails.
  cluster.stopReplica();
  const without = await ana.get('/');
  expect(without.status).toBe(200);
  expect(without.text).toContain('Ana Renamed');
  expect(reads.counts.failed).toBeGreaterThan(0);
  const contract = await ana.get('/contracts/ana-1');
  expect(contract.status).toBe(200);
});

test('the read replica is a setting of its own, checked like the primary', () => {
  const env = { FLYMINING_PORTAL_SESSION_SECRET: 'x'.repeat(40) };
  const parse = (argv: string[], extra: Record<string, string> = {}) => readPortalSettings(['node', 'portal', ...argv], { ...env, ...extra });
  expect(parse([]).pgReadUrl).toBeUndefined();
  expect(parse([], { FLYMINING_PG_READ_URL: 'postgres://reader@replica-1:5432/flymining' }).pgReadUrl).toBe('postgres://reader@replica-1:5432/flymining');
  expect(parse(['--pg-read-url', 'postgres://reader@replica-2/flymining']).pgReadUrl).toBe('postgres://reader@replica-2/flymining');
  expect(() => parse(['--pg-read-url', 'mysql://replica/flymining'])).toThrow(/pgReadUrl: a postgres:\/\/ URL/);
});
