import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BoardSample, JsonObject } from '@flymining/shared';
import { checkEnvelope, parseMinerReply, type ParsedMiner } from '../../src/miner';

/** The project's copy of the shared miner API corpus (see fixtures/miner-api/PROVENANCE.md). */
export const CORPUS_DIR = join(__dirname, '..', 'fixtures', 'miner-api');

export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

export function rawFixture(name: string): Buffer {
  return readFileSync(join(CORPUS_DIR, name));
}

/** A corpus reply after repair and the STATUS check, as the scraper hands it to a dialect. */
export function reply(name: string): JsonObject {
  const checked = checkEnvelope(name, parseMinerReply(rawFixture(name), name).value);
  if (!checked.ok) throw new Error(`fixture ${name} is an error reply: ${checked.error.message}`);
  return checked.reply;
}

/** Replies keyed by command, from a map command → corpus file. */
export function replies(files: Record<string, string>): Record<string, JsonObject> {
  return Object.fromEntries(Object.entries(files).map(([command, file]) => [command, reply(file)]));
}

/** The board a sample reports under the firmware's own index; fails the test when it is absent. */
export function board(sample: ParsedMiner, index: number): BoardSample {
  const found = sample.boards.find((b) => b.index === index);
  if (!found) throw new Error(`no board ${index} in ${JSON.stringify(sample.boards.map((b) => b.index))}`);
  return found;
}
