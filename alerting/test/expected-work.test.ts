/**
 * A reflashed firmware or a swapped miner is expected while a technician holds a repair ticket on that very miner
 * (lowered to info, off the pager), and pages otherwise: a ticket on another miner of the container explains nothing.
 */
import pino from 'pino';
import { syncTickets, TicketStore } from '@flymining/maintenance';
import type { TestDatabase } from '../../billing/test/pg';
import { createMaintenanceDatabase } from '../../maintenance/test/db';
import { firing } from '../../maintenance/test/alerts';
import { lowerExpectedDuringWork } from '../src/expected-work';
import type { Condition } from '../src/pipeline/evaluate';

let db: TestDatabase;
beforeAll(async () => {
  db = await createMaintenanceDatabase('expected_work');
  const { opened } = await syncTickets(db.pool, [firing('C05-R1-S1-1', 'BOARD_MISSING', 'board 2', Date.now() - 60_000)], Date.now());
  await new TicketStore(db.pool).take(opened[0]!, 'ana@farm.example');
});
afterAll(async () => db.drop());

const condition = (fault: string, miner: string): Condition => {
  const [container = '', rack = '', shelf = '', slot = ''] = miner.split('-');
  return {
    labels: { alertname: fault, site: 'north-1', container, rack, shelf, slot, miner, fault, severity: 'warning' },
    annotations: { summary: fault, message: `${miner}: ${fault}` },
    since: Date.now(),
    forMs: 0,
    keepFiringForMs: 0,
  };
};

test('FIRMWARE_CHANGED and MINER_SWAPPED on the miner in repair are info with the reason; on its neighbour they page', async () => {
  const conditions = new Map<string, Condition>([
    ['flash', condition('FIRMWARE_CHANGED', 'C05-R1-S1-1')],
    ['swap', condition('MINER_SWAPPED', 'C05-R1-S1-1')],
    ['neighbour', condition('MINER_SWAPPED', 'C05-R1-S1-2')],
    ['hijack', condition('POOL_HIJACK', 'C05-R1-S1-1')],
  ]);
  await lowerExpectedDuringWork(conditions, new Map(), { windows: [], tickets: new TicketStore(db.pool), logger: pino({ level: 'silent' }) }, Date.now());
  for (const key of ['flash', 'swap']) {
    expect(conditions.get(key)?.labels.severity).toBe('info');
    expect(conditions.get(key)?.annotations.expected).toMatch(/^ticket #\d+ in repair by ana@farm\.example$/);
  }
  expect(conditions.get('neighbour')?.labels.severity).toBe('warning');
  // A hijacked pool is never explained by work on site.
  expect(conditions.get('hijack')?.labels.severity).toBe('warning');
});
