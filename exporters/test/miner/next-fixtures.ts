/** The project's copy of the newer-protocol corpus (fixtures/miner-api-next, see PROVENANCE.md) and its readers. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, MinerProtocol } from '@flymining/shared';
import { parseMinerReply } from '../../src/miner';
import { readCommandReply } from '../../src/miner/scrape';

export const NEXT_DIR = join(__dirname, '..', 'fixtures', 'miner-api-next');

export type NextFamily = 'whatsminer-v3' | 'antminer-cgi' | 'braiins-rest' | 'epic';

export function nextRaw(family: NextFamily, file: string): Buffer {
  return readFileSync(join(NEXT_DIR, family, file));
}

/**
 * The raw reply as plain data, the reference the tests compare against: JSON.parse where the file is valid JSON,
 * else the repairing parser (the unconfigured S19 Pro get_miner_conf is invalid on purpose).
 */
export function rawJson(family: NextFamily, file: string): any {
  const text = nextRaw(family, file).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return parseMinerReply(text, file).value;
  }
}

/** The reply as the scraper hands it to a backend: repaired, envelope checked for its protocol. */
export function nextReply(family: NextFamily, file: string, protocol: MinerProtocol): JsonObject {
  const outcome = readCommandReply(nextRaw(family, file), 'fixture', file, undefined, protocol);
  if (!outcome.ok) throw new Error(`fixture ${family}/${file} is an error reply: ${outcome.error.message}`);
  return outcome.reply;
}

export const V3 = (name: string): string => `whatsminer-m60s-vk40-${name}.json`;
