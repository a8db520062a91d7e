/**
 * Importers from settings. Each pool's key comes from a file (`..._FILE`, preferred) or the environment, never
 * from the command line; messages name the setting, never the key.
 *   FLYMINING_POOL_FOUNDRY_API_KEY[_FILE], FLYMINING_POOL_FOUNDRY_ACCOUNT (sub-account), FLYMINING_POOL_FOUNDRY_URL
 *   FLYMINING_POOL_BRAIINS_TOKEN[_FILE], FLYMINING_POOL_BRAIINS_ACCOUNT, FLYMINING_POOL_BRAIINS_URL
 *   FLYMINING_POOL_F2POOL_SECRET[_FILE], FLYMINING_POOL_F2POOL_ACCOUNT (mining user), FLYMINING_POOL_F2POOL_URL
 *   FLYMINING_POOL_VIABTC_API_KEY[_FILE], FLYMINING_POOL_VIABTC_ACCOUNT, FLYMINING_POOL_VIABTC_URL
 *   FLYMINING_NETWORK_URL (mempool.space or a self-hosted mempool)
 */
import { readSecretFile } from '@flymining/shared';
import { BraiinsImporter } from './braiins';
import { F2PoolImporter } from './f2pool';
import { FoundryImporter } from './foundry';
import { MempoolNetworkSource } from './mempool';
import type { PoolImporter } from './types';
import { ViaBtcImporter } from './viabtc';

export const POOL_NAMES = ['foundry', 'braiins', 'f2pool', 'viabtc'] as const;
export type PoolName = (typeof POOL_NAMES)[number];

const KEY_VAR: Record<PoolName, string> = {
  foundry: 'FLYMINING_POOL_FOUNDRY_API_KEY',
  braiins: 'FLYMINING_POOL_BRAIINS_TOKEN',
  f2pool: 'FLYMINING_POOL_F2POOL_SECRET',
  viabtc: 'FLYMINING_POOL_VIABTC_API_KEY',
};

function secret(env: NodeJS.ProcessEnv, name: string): { value: string; setting: string } {
  const file = env[`${name}_FILE`];
  if (file) return { value: readSecretFile(file, `${name}_FILE`), setting: `${name}_FILE` };
  const value = env[name];
  if (value) return { value, setting: name };
  throw new Error(`no API key: set ${name}_FILE (a file holding the key) or ${name}`);
}

export function isPoolName(name: string): name is PoolName {
  return (POOL_NAMES as readonly string[]).includes(name);
}

export function importerFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): PoolImporter {
  if (!isPoolName(name)) throw new Error(`--pool: "${name}" is not one of ${POOL_NAMES.join(', ')}`);
  const upper = name.toUpperCase();
  const key = secret(env, KEY_VAR[name]);
  const account = env[`FLYMINING_POOL_${upper}_ACCOUNT`];
  if (!account) throw new Error(`FLYMINING_POOL_${upper}_ACCOUNT: the ${name} account (sub-account or mining user) is not set`);
  const baseUrl = env[`FLYMINING_POOL_${upper}_URL`] || undefined;
  switch (name) {
    case 'foundry':
      return new FoundryImporter({ apiKey: key.value, subAccount: account, baseUrl, keySetting: key.setting });
    case 'braiins':
      return new BraiinsImporter({ token: key.value, account, baseUrl, keySetting: key.setting });
    case 'f2pool':
      return new F2PoolImporter({ secret: key.value, user: account, baseUrl, keySetting: key.setting });
    case 'viabtc':
      return new ViaBtcImporter({ apiKey: key.value, account, baseUrl, keySetting: key.setting });
  }
}

/** The pools named in FLYMINING_POOL_IMPORT (comma-separated), for the scheduled import. */
export function scheduledImportersFromEnv(env: NodeJS.ProcessEnv = process.env): PoolImporter[] {
  return (env.FLYMINING_POOL_IMPORT ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((name) => importerFromEnv(name, env));
}

export function networkSourceFromEnv(env: NodeJS.ProcessEnv = process.env): MempoolNetworkSource {
  return new MempoolNetworkSource({ baseUrl: env.FLYMINING_NETWORK_URL || undefined });
}
