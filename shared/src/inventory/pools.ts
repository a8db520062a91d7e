/**
 * Expected pools (issue 15): which stratum endpoints and worker names a miner may hash on. Given per site, container
 * or slot (the nearest wins, whole list, no merging), with placeholders in the worker name resolved per miner.
 * A pool or worker outside this set is how hashrate is stolen; health raises POOL_HIJACK on it.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { FirmwareFamily } from '../sample';
import type { Location } from '../faults';

/** One allowed pool of a miner, placeholders resolved. `worker` may end in `*`: any worker with that prefix. */
export interface ExpectedPool {
  /** Lower-case host name or address. */
  host: string;
  port: number;
  worker: string;
}

/** A firmware vendor's own pool, where it takes its devfee (added by the inventory's `devfee.pools`). */
export interface DevfeePool {
  firmware: FirmwareFamily;
  host: string;
  port?: number;
}

/** What a miner's pools are judged by. */
export interface PoolExpectation {
  pools: ExpectedPool[];
  /** A switch to a known devfee pool of the miner's firmware lasting at most this long is recorded, not paged. */
  devfeeMaxS: number;
  /** Devfee pools the inventory adds to the built-in table (exporters/src/miner/health/devfee.ts). */
  devfeePools: DevfeePool[];
}

export const DEFAULT_DEVFEE_MAX_MINUTES = 15;

export const WORKER_PLACEHOLDERS = ['miner', 'container', 'rack', 'shelf', 'slot'] as const;

const poolHost = z
  .string()
  .max(253)
  .refine((h) => isIP(h) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(h), {
    message: 'must be a host name or IP address without scheme or port (e.g. stratum.example.com)',
  })
  .transform((h) => h.toLowerCase());

/**
 * A worker pattern: account and worker name as the pool expects them, with {miner} {container} {rack} {shelf} {slot}
 * placeholders, and at most one `*`, at the end, meaning "anything from here".
 */
const workerPattern = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.@:+~{}-]+\*?$/, 'letters, digits, _ . @ : + ~ - and {placeholders}, with an optional * only at the end')
  .refine((w) => [...w.matchAll(/\{([^}]*)\}/g)].every((m) => (WORKER_PLACEHOLDERS as readonly string[]).includes(m[1] ?? '')), {
    message: `placeholders are ${WORKER_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
  })
  .refine((w) => (w.match(/[{}]/g) ?? []).length % 2 === 0 && !/\{[^}]*\{/.test(w), { message: 'unbalanced { } in the worker pattern' });

export const expectedPoolSchema = z.strictObject({
  host: poolHost,
  port: z.number().int().min(1).max(65535),
  worker: workerPattern,
});

export const poolListSchema = z.array(expectedPoolSchema).min(1, 'list at least one pool, or leave pools: out').max(16);

const FIRMWARE_FAMILIES = ['antminer-stock', 'hiveon', 'vnish', 'luxos', 'braiins-os', 'whatsminer', 'avalon', 'epic'] as const;

export const devfeeSchema = z.strictObject({
  /** Longest devfee switch not paged (minutes). */
  maxMinutes: z.number().positive().max(24 * 60).optional(),
  pools: z
    .array(z.strictObject({ firmware: z.enum(FIRMWARE_FAMILIES), host: poolHost, port: z.number().int().min(1).max(65535).optional() }))
    .max(64)
    .optional(),
});

/** Resolves the worker placeholders for one miner. */
export function resolveWorker(pattern: string, minerId: string, location: Location): string {
  const values: Record<(typeof WORKER_PLACEHOLDERS)[number], string> = {
    miner: minerId,
    container: location.container,
    rack: location.rack,
    shelf: location.shelf,
    slot: location.slot,
  };
  return pattern.replace(/\{(miner|container|rack|shelf|slot)\}/g, (_m, key: keyof typeof values) => values[key]);
}

export function resolvePools(pools: ReadonlyArray<z.output<typeof expectedPoolSchema>>, minerId: string, location: Location): ExpectedPool[] {
  return pools.map((p) => ({ host: p.host, port: p.port, worker: resolveWorker(p.worker, minerId, location) }));
}
