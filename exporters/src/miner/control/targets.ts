/**
 * Turns what staff type into miners to act on: an inventory id (`C02-R01-S02-3`), a slot path (`C02`, `C02/R01`,
 * `C02/R01/S02`, `C02/R01/S02/3`), a host (`10.2.0.15` or `10.2.0.15:4028`), or every miner of a container
 * (`--all-in C02`). The inventory also gives each miner's protocol, backend and credentials entry. Anything that
 * matches nothing is an error naming it, never a silent no-op.
 */
import type { Inventory, MinerSpec } from '@flymining/shared';
import { CredentialStore, type CredentialSource } from '../credentials';
import type { ControlTarget } from './executor';

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

export function targetFromSpec(spec: MinerSpec, credentials: CredentialStore): ControlTarget {
  const l = spec.location;
  return {
    id: spec.id,
    site: l.site,
    container: l.container,
    rack: l.rack,
    shelf: l.shelf,
    slot: l.slot,
    host: spec.host,
    port: spec.port,
    protocol: spec.protocol,
    backend: spec.backend,
    firmware: spec.firmware,
    credentials: credentials.source(spec.credentials),
  };
}

const HOST_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9][A-Za-z0-9.-]{0,252})(?::(\d{1,5}))?$/;

export interface ResolveOptions {
  inventory?: Inventory;
  allIn?: readonly string[];
  /** For hosts the inventory does not list: credentials from the command line. */
  adHocCredentials?: CredentialSource;
  credentials?: CredentialStore;
}

/** The miners the words name, each once, in inventory order for listed ones. Throws TargetError. */
export function resolveTargets(words: readonly string[], options: ResolveOptions): ControlTarget[] {
  const inv = options.inventory;
  const store = options.credentials ?? new CredentialStore();
  const chosen = new Map<string, ControlTarget>();
  const add = (spec: MinerSpec): void => {
    if (!chosen.has(spec.id)) chosen.set(spec.id, targetFromSpec(spec, store));
  };
  const miners = inv ? [...inv.miners.values()] : [];

  for (const name of options.allIn ?? []) {
    if (!inv) throw new TargetError(`--all-in ${name}: needs --inventory (which miners stand in ${name})`);
    const container = inv.containers.find((c) => c.name === name);
    if (!container) throw new TargetError(`--all-in ${name}: no container "${name}" in ${inv.source} (it has ${inv.containers.map((c) => c.name).join(', ')})`);
    const inIt = miners.filter((m) => m.location.container === name);
    if (inIt.length === 0) throw new TargetError(`--all-in ${name}: container ${name} has no miners in ${inv.source}`);
    inIt.forEach(add);
  }

  for (const word of words) {
    if (word.length > 300) throw new TargetError(`"${word.slice(0, 40)}…": too long for a miner id, slot path or host`);
    const byId = inv?.miners.get(word);
    if (byId) {
      add(byId);
      continue;
    }
    if (inv && (word.includes('/') || inv.containers.some((c) => c.name === word))) {
      const parts = word.split('/');
      if (parts.length > 4 || parts.some((p) => p === '')) throw new TargetError(`"${word}": a slot path is CONTAINER[/RACK[/SHELF[/SLOT]]]`);
      const [container, rack, shelf, slot] = parts;
      const hits = miners.filter(
        (m) =>
          m.location.container === container &&
          (rack === undefined || m.location.rack === rack) &&
          (shelf === undefined || m.location.shelf === shelf) &&
          (slot === undefined || m.location.slot === slot),
      );
      if (hits.length === 0) throw new TargetError(`"${word}": no miner stands at ${word} in ${inv?.source}`);
      hits.forEach(add);
      continue;
    }
    const hp = HOST_PORT.exec(word);
    if (!hp) throw new TargetError(`"${word}": not a miner id, slot path (C02/R01) or host[:port]`);
    const host = hp[1] as string;
    const port = hp[2] === undefined ? undefined : Number(hp[2]);
    if (port !== undefined && !(port >= 1 && port <= 65535)) throw new TargetError(`"${word}": port must be 1-65535`);
    const listed = miners.filter((m) => m.host === host && (port === undefined || m.port === port));
    if (listed.length > 0) {
      listed.forEach(add);
      continue;
    }
    if (inv && !/^\d{1,3}(\.\d{1,3}){3}$/.test(host) && !host.includes('.')) {
      throw new TargetError(`"${word}": no miner with this id in ${inv.source}, and it does not look like a host name`);
    }
    const id = `${host}:${port ?? 4028}`;
    if (!chosen.has(id)) chosen.set(id, { id, site: inv?.site ?? '-', container: '', host, port: port ?? 4028, credentials: options.adHocCredentials });
  }
  if (chosen.size === 0) throw new TargetError('no miners named: give miner ids, slot paths, hosts or --all-in CONTAINER');
  return [...chosen.values()];
}
