/**
 * Discovery: scan an address range for CGMiner-style APIs and compare what answers with the inventory —
 * miners nobody listed, and listed slots whose miner no longer answers.
 */
import type { Inventory } from '@flymining/shared';
import ipaddr from 'ipaddr.js';
import { Limiter } from './scheduler';
import { scrapeMiner } from './miner/scrape';
import type { TransportOptions } from './miner/transports/cgminer-tcp';

export interface FoundMiner {
  host: string;
  port: number;
  family?: string;
  model?: string;
  hashrateThs?: number;
  /** Set when the API answered but the firmware was not recognised. */
  note?: string;
}

export interface DiscoveryReport {
  scanned: number;
  found: FoundMiner[];
  /** Found, but not in the inventory. */
  unknown: FoundMiner[];
  /** In the inventory and inside the scanned range, but nothing answered there. */
  missing: Array<{ id: string; host: string; port: number; where: string }>;
}

/** A /16: what one scan may cover (65,536 probes at the default concurrency take a few minutes). */
const MAX_PREFIX_ADDRESSES = 65536;

/**
 * Expands "10.0.0.0/24" (or a single IPv4 address) into the addresses to probe, without the network and broadcast
 * addresses of a real subnet (/31 and /32 have none). Only dotted four-part decimal: "10.1" or "012.0.0.1" mean
 * other addresses to different tools, so they are refused rather than guessed. At most a /16; IPv6 is refused
 * (a /64 cannot be swept; miners there are found through the inventory).
 */
export function expandCidr(cidr: string): string[] {
  const text = cidr.trim();
  const [address = '', prefix, ...rest] = text.split('/');
  if (ipaddr.IPv6.isValid(address)) throw new Error(`"${cidr}" is IPv6: discovery scans IPv4 ranges only (e.g. 10.0.1.0/24)`);
  if (rest.length > 0) throw new Error(`"${cidr}" has more than one "/": a range is one address and one prefix length (e.g. 10.0.1.0/24)`);
  if (!ipaddr.IPv4.isValidFourPartDecimal(address)) {
    throw new Error(`"${cidr}" is not an IPv4 address or CIDR range (e.g. 10.0.1.0/24): ${describeAddressProblem(address)}`);
  }
  if (prefix !== undefined && !(/^\d{1,2}$/.test(prefix) && Number(prefix) <= 32)) {
    throw new Error(`"${cidr}": the prefix length after "/" is a whole number 0-32, not "${prefix}"`);
  }
  const range = prefix === undefined ? `${address}/32` : text;
  const bits = ipaddr.IPv4.parseCIDR(range)[1];
  const size = 2 ** (32 - bits);
  if (size > MAX_PREFIX_ADDRESSES) throw new Error(`"${cidr}" has ${size} addresses; scan at most a /16 at a time`);
  const network = ipv4Number(ipaddr.IPv4.networkAddressFromCIDR(range));
  const broadcast = ipv4Number(ipaddr.IPv4.broadcastAddressFromCIDR(range));
  const [first, last] = bits <= 30 ? [network + 1, broadcast - 1] : [network, broadcast];
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(ipv4FromNumber(n).toString());
  return out;
}

function describeAddressProblem(address: string): string {
  if (address === '') return 'no address before "/"';
  // inet_aton reads "10.1" as 10.0.0.1 and "012.0.0.1" as 10.0.0.1 (octal): say so rather than guess.
  if (ipaddr.IPv4.isValid(address)) return `write all four parts in decimal without leading zeros ("${address}" is ${ipaddr.IPv4.parse(address).toString()} to some tools)`;
  const parts = address.split('.');
  if (parts.length === 4 && parts.every((p) => /^\d+$/.test(p))) return 'each part of an IPv4 address is 0-255';
  return 'an IPv4 address is four numbers 0-255 separated by dots';
}

function ipv4Number(address: ipaddr.IPv4): number {
  return address.toByteArray().reduce((acc, byte) => acc * 256 + byte, 0);
}

function ipv4FromNumber(n: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([Math.floor(n / 2 ** 24) % 256, Math.floor(n / 2 ** 16) % 256, Math.floor(n / 256) % 256, n % 256]);
}

export async function discover(
  cidr: string,
  options: {
    port?: number;
    concurrency?: number;
    /** At most this many probes started per second (a scheduled scan must not flood a container's switch). */
    ratePerS?: number;
    transport?: TransportOptions;
    inventory?: Inventory;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<DiscoveryReport> {
  const port = options.port ?? 4028;
  const addresses = expandCidr(cidr);
  const gapMs = options.ratePerS && options.ratePerS > 0 ? 1000 / options.ratePerS : 0;
  let nextStartMs = Date.now();
  /** Claims the next start slot synchronously, then waits for it: probes start at most ratePerS per second. */
  const pace = async (): Promise<void> => {
    if (gapMs === 0) return;
    const at = Math.max(Date.now(), nextStartMs);
    nextStartMs = at + gapMs;
    const waitMs = at - Date.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  };
  const limiter = new Limiter(options.concurrency ?? 256);
  const transport = options.transport ?? { connectTimeoutMs: 1500, readTimeoutMs: 5000, maxBytes: 1024 * 1024 };
  const found: FoundMiner[] = [];
  let done = 0;
  await Promise.all(
    addresses.map((host) =>
      limiter.run(async () => {
        await pace();
        const r = await scrapeMiner({ host, port }, { transport });
        done++;
        if (done % 64 === 0 || done === addresses.length) options.onProgress?.(done, addresses.length);
        if (r.ok) found.push({ host, port, family: r.dialect.family, model: r.sample.model, hashrateThs: r.sample.hashrateThs });
        else if (r.failure.kind === 'unknown-firmware' || r.failure.kind === 'malformed')
          found.push({ host, port, note: r.failure.message });
      }),
    ),
  );
  const byAddress = (a: { host: string; port: number }): string => `${a.host}:${a.port}`;
  found.sort((a, b) => ipOrder(a.host) - ipOrder(b.host));
  const listed = new Map<string, { id: string; where: string }>();
  const scannedSet = new Set(addresses);
  for (const m of options.inventory?.miners.values() ?? []) {
    const l = m.location;
    listed.set(byAddress(m), { id: m.id, where: `${l.container}/${l.rack}/${l.shelf}/${l.slot}` });
  }
  const foundSet = new Set(found.map(byAddress));
  const unknown = options.inventory ? found.filter((f) => !listed.has(byAddress(f))) : [];
  const missing = [...(options.inventory?.miners.values() ?? [])]
    .filter((m) => m.port === port && scannedSet.has(m.host) && !foundSet.has(byAddress(m)))
    .map((m) => ({ id: m.id, host: m.host, port: m.port, where: listed.get(byAddress(m))?.where ?? '' }));
  return { scanned: addresses.length, found, unknown, missing };
}

function ipOrder(ip: string): number {
  return ipv4Number(ipaddr.IPv4.parse(ip));
}
