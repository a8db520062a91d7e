/**
 * Firmware vendors' own pools, where custom firmware takes its development fee by pointing the miner's hashrate at
 * them for a short while at a regular period (issue 15). A switch to one of these, on a miner running that firmware,
 * for at most the inventory's `devfee.maxMinutes`, is recorded in the miner's change history and not paged.
 *
 * Evidence (public material read 2026-11-27; facts only, no text copied):
 * - The mechanism: custom ASIC firmware "periodically" directs a fraction of the hashrate to the developer's pool;
 *   Braiins OS+ about 2-2.5 % depending on the model (d-central.tech mining glossary, "firmware dev fee").
 * - The pattern of the switch: a fixed short slice at a fixed period, e.g. 1 minute every 99-100 minutes, with the
 *   switch itself visible to the operator (xmr-stak issue #200, a GPU miner; the same scheme as ASIC firmware).
 * - Braiins OS takes its fee to Braiins Pool (formerly Slush Pool); mining on Braiins Pool waives it (Braiins
 *   Academy product summary). Its stratum hosts are listed below.
 * - VNish, Hiveon ASIC and LuxOS also charge a devfee (vendors' pages, about 2-3 %), but their devfee pool host
 *   names were not found in public material we could read, and whether their pool list shows the switch at all
 *   differs by version. They are therefore NOT listed here: a farm that sees them in its captures adds them in the
 *   inventory (`devfee: { pools: [{ firmware: vnish, host: ... }] }`), so nothing is whitelisted on a guess.
 *
 * A hijacker can point a miner at one of these hosts too: past maxMinutes the switch pages as POOL_HIJACK anyway.
 */
import type { DevfeePool, FirmwareFamily } from '@flymining/shared';

export const BUILTIN_DEVFEE_POOLS: readonly DevfeePool[] = [
  { firmware: 'braiins-os', host: 'stratum.braiins.com' },
  { firmware: 'braiins-os', host: 'stratum.slushpool.com' },
];

/** Whether `host:port` is a devfee pool of this firmware (built-in table plus the inventory's additions). */
export function isDevfeePool(firmware: FirmwareFamily, host: string, port: number | undefined, extra: readonly DevfeePool[]): boolean {
  const matches = (d: DevfeePool): boolean =>
    d.firmware === firmware && (host === d.host || host.endsWith(`.${d.host}`)) && (d.port === undefined || d.port === port);
  return BUILTIN_DEVFEE_POOLS.some(matches) || extra.some(matches);
}
