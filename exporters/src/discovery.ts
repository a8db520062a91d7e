/**
 * Discovery: scan an address range for CGMiner-style APIs and compare what answers with the inventory —
 * miners nobody listed, and listed slots whose miner no longer answers.
 */
import type { Inventory } from '@flymining/shared';
import { Limiter } from './scheduler';
import { scrapeMiner } from './miner/scrape';
import type { TransportOptions } from './miner/tcp-client';

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

const MAX_ADDRESSES = 65536;

/** Expands "10.0.0.0/24" (or a single IPv4 address) into addresses; refuses ranges over a /16. */
export function expandCidr(cidr: string): string[] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr.trim());
  if (!m) throw new Error(`"${cidr}" is not an IPv4 address or CIDR range (e.g. 10.0.1.0/24)`);
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw new Error(`"${cidr}": each part of an IPv4 address is 0-255`);
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  if (bits > 32) throw new Error(`"${cidr}": prefix length is 0-32`);
  const size = 2 ** (32 - bits);
  if (size > MAX_ADDRESSES) throw new Error(`"${cidr}" has ${size} addresses; scan at most a /16 at a time`);
  const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const start = (base & (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0)) >>> 0;
  // Skip network and broadcast addresses of real subnets (/31 and /32 have none).
  const first = bits <= 30 ? 1 : 0;
  const last = bits <= 30 ? size - 1 : size;
  const out: string[] = [];
  for (let i = first; i < last; i++) {
    const a = (start + i) >>> 0;
    out.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`);
  }
  return out;
}

export async function discover(
  cidr: string,
  options: { port?: number; concurrency?: number; transport?: TransportOptions; inventory?: Inventory; onProgress?: (done: number, total: number) => void } = {},
): Promise<DiscoveryReport> {
  const port = options.port ?? 4028;
  const addresses = expandCidr(cidr);
  const limiter = new Limiter(options.concurrency ?? 256);
  const transport = options.transport ?? { connectTimeoutMs: 1500, readTimeoutMs: 5000, maxBytes: 1024 * 1024 };
  const found: FoundMiner[] = [];
  let done = 0;
  await Promise.all(
    addresses.map((host) =>
      limiter.run(async () => {
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
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
