/**
 * Miner logins for the web and REST APIs (issue 13). The inventory names an entry (`credentials: antminer-web`, per
 * site in `defaults`, per model in `models`, or per slot); the secret lives in files, never in the inventory:
 *
 *   $FLYMINING_MINER_CREDENTIALS_DIR/<name>.password   the password (first line; required)
 *   $FLYMINING_MINER_CREDENTIALS_DIR/<name>.user       the user name (first line; optional, default per protocol)
 *
 * The reserved name `firmware-default` uses the password each firmware ships with (root/root on Antminer and Braiins
 * OS, admin on VNish, letmein on ePIC); it is used only where the inventory names it. Secrets never reach a log line or
 * an error message: errors name the entry and the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MinerProtocol } from '@flymining/shared';
import type { MinerCredentials } from './transports/http-client';

export const FIRMWARE_DEFAULT_CREDENTIALS = 'firmware-default';

/** What each firmware ships with (pyasic settings, PROTOCOLS.md of each family). */
const FIRMWARE_DEFAULTS: Readonly<Partial<Record<MinerProtocol, MinerCredentials>>> = {
  'antminer-web': { user: 'root', password: 'root' },
  'braiins-rest': { user: 'root', password: 'root' },
  vnish: { user: 'admin', password: 'admin' },
  epic: { user: 'root', password: 'letmein' },
  'whatsminer-v3': { user: 'super', password: 'super' },
};

const DEFAULT_USER: Readonly<Partial<Record<MinerProtocol, string>>> = { vnish: 'admin', 'whatsminer-v3': 'super' };

/** The credentials of one protocol, resolved when the protocol is known (detection may pick it). */
export type CredentialSource = MinerCredentials | ((protocol: MinerProtocol) => MinerCredentials | undefined);

export function credentialsFor(source: CredentialSource | undefined, protocol: MinerProtocol): MinerCredentials | undefined {
  return typeof source === 'function' ? source(protocol) : source;
}

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

/** Reads a secret's first line; a missing or empty file is a CredentialsError naming the file, not its content. */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CredentialsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line.length === 0 || line.length > 1024) throw new CredentialsError(`${path}: expected the secret on its first line`);
  return line;
}

/** Named credential entries read from a folder, each once (re-created on inventory reload). */
export class CredentialStore {
  private readonly cache = new Map<string, { user?: string; password: string }>();

  constructor(private readonly dir: string | undefined = process.env.FLYMINING_MINER_CREDENTIALS_DIR) {}

  /** The source for an inventory reference, or undefined when the miner has none. Throws CredentialsError. */
  source(name: string | undefined): CredentialSource | undefined {
    if (name === undefined) return undefined;
    if (name === FIRMWARE_DEFAULT_CREDENTIALS) return (protocol) => FIRMWARE_DEFAULTS[protocol];
    const entry = this.entry(name);
    return (protocol) => ({ user: entry.user ?? DEFAULT_USER[protocol] ?? 'root', password: entry.password });
  }

  private entry(name: string): { user?: string; password: string } {
    const known = this.cache.get(name);
    if (known) return known;
    if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) throw new CredentialsError(`credentials "${name}": not a valid entry name`);
    if (!this.dir) throw new CredentialsError(`credentials "${name}": set FLYMINING_MINER_CREDENTIALS_DIR to the folder holding ${name}.password`);
    const password = readSecretFile(join(this.dir, `${name}.password`));
    let user: string | undefined;
    try {
      user = readSecretFile(join(this.dir, `${name}.user`));
    } catch {
      user = undefined;
    }
    const entry = user === undefined ? { password } : { user, password };
    this.cache.set(name, entry);
    return entry;
  }
}
