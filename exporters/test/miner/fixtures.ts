import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { DEFAULT_THRESHOLDS, MODEL_CATALOG, type BoardSample, type JsonObject, type MinerSpec } from '@flymining/shared';
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

/** Replies keyed by command, each from the corpus file `<prefix>-<command>.json`. */
export function repliesOf(prefix: string, ...commands: string[]): Record<string, JsonObject> {
  return replies(Object.fromEntries(commands.map((command) => [command, `${prefix}-${command}.json`])));
}

/** The board a sample reports under the firmware's own index; fails the test when it is absent. */
export function board(sample: ParsedMiner, index: number): BoardSample {
  const found = sample.boards.find((b) => b.index === index);
  if (!found) throw new Error(`no board ${index} in ${JSON.stringify(sample.boards.map((b) => b.index))}`);
  return found;
}

/** The inventory entry of an air-cooled catalog model in one slot: catalog boards, chips and fans. */
export function catalogSpec(modelName = 'Antminer S19 Pro', id = 'C01-R01-S1-1'): MinerSpec {
  const model = MODEL_CATALOG[modelName];
  if (!model) throw new Error(`no ${modelName} in the model catalog`);
  return {
    id,
    host: '127.0.0.1',
    port: 4028,
    model: modelName,
    nominalThs: model.nominalThs,
    fans: model.fans,
    hashboards: model.hashboards,
    chipsPerBoard: model.chipsPerBoard,
    cooling: 'air',
    thresholds: DEFAULT_THRESHOLDS,
    location: { site: 'north-1', container: 'C01', rack: 'R01', shelf: 'S1', slot: '1' },
  };
}

/** A miner of ours on a real TCP port: answers each command with `answer(command)` (as sent, then closes). */
export async function replayMiner(answer: (command: string) => Buffer | string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (d) => {
      const { command } = JSON.parse(d.toString()) as { command: string };
      socket.end(answer(command));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
