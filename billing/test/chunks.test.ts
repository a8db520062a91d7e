/** How a day's credits are cut into chunks: whole investors per chunk, so chunks in flight never share one. */
import type { ContractAllocation } from '../src/allocate';
import { investorChunks } from '../src/services/daily-run';

const allocation = (id: string, investorId: string): ContractAllocation => ({
  contract: { id, investorId, hashrateThs: '10', maintenanceUsdPerThsDay: '0', revenueFeePct: '0' },
  quotaSat: '0',
  grossSat: 0,
  maintenanceUsd: '0',
  maintenanceFeeSat: 0,
  revenueFeeSat: 0,
  netSat: 0,
});

test('every investor’s contracts are in one chunk, in the order given, and no contract is lost or repeated', () => {
  let seed = 5;
  const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  // Contracts in id order with investors spread over the whole day, as a farm's are.
  const allocations = Array.from({ length: 5000 }, (_, i) => allocation(`c${String(i).padStart(5, '0')}`, `inv${Math.floor(next() * 700)}`));
  const chunks = investorChunks(allocations, 100);
  const chunkOf = new Map<string, number>();
  chunks.forEach((chunk, n) => {
    for (const a of chunk) {
      const seen = chunkOf.get(a.contract.investorId);
      expect(seen === undefined || seen === n).toBe(true);
      chunkOf.set(a.contract.investorId, n);
    }
  });
  expect(chunks.flat().map((a) => a.contract.id).sort()).toEqual(allocations.map((a) => a.contract.id));
  for (const chunk of chunks) {
    const ids = chunk.map((a) => a.contract.id);
    // Each investor's own contracts keep their order (the book settles them in it).
    for (const investor of new Set(chunk.map((a) => a.contract.investorId))) {
      const own = chunk.filter((a) => a.contract.investorId === investor).map((a) => a.contract.id);
      expect(own).toEqual([...own].sort());
    }
    expect(ids.length).toBeGreaterThan(0);
  }
  // About the size asked for: full but for the last, and never over it (no investor here has 100 contracts).
  expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(100);
  expect(chunks.length).toBeLessThanOrEqual(Math.ceil(5000 / 90));
});

test('an investor with more contracts than a chunk holds gets one chunk of their own', () => {
  const allocations = [
    allocation('a1', 'small'),
    ...Array.from({ length: 7 }, (_, i) => allocation(`b${i}`, 'large')),
    allocation('c1', 'other'),
  ];
  const chunks = investorChunks(allocations, 3);
  expect(chunks.map((c) => c.map((a) => a.contract.id))).toEqual([['a1'], ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6'], ['c1']]);
});
