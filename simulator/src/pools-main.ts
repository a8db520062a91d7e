/**
 * The demo's mining pool: Foundry USA, Braiins Pool, F2Pool and ViaBTC API shapes plus mempool.space's network
 * figures (pools.ts), reporting what the simulated farm delivered:
 *   tsx simulator/src/pools-main.ts --delivered farm-delivered.json --key-file pool-api.key [--port 4300]
 * --delivered is the history writer's --delivered-out; --key-file holds the API key every pool accepts (the
 * importers read the same file through FLYMINING_POOL_<POOL>_..._FILE). Base URLs: http://HOST:PORT/f2pool,
 * /foundry, /braiins, /viabtc; the network at http://HOST:PORT (mempool.space's paths). Stops on SIGINT/SIGTERM.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readJsonFile, readSecretFile } from '@flymining/shared';
import { z } from 'zod';
import { demoPoolFigures, startPoolApi } from './pools';

const deliveredSchema = z.object({
  days: z.record(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day YYYY-MM-DD'), z.record(z.string(), z.number().nonnegative())),
});

async function main(): Promise<void> {
  const o = new Command('flymining-pool-api')
    .description("the demo's pool and network APIs, reporting the simulated farm's delivered hashrate")
    .requiredOption('--delivered <file>', "per closed day, each worker's delivered TH/s (history-main.ts --delivered-out)")
    .requiredOption('--key-file <file>', 'file holding the API key the pools accept')
    .option('--port <port>', 'port on 127.0.0.1 (0: any free one)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be 0 to 65535, got "${v}"`);
      return n;
    }, 4300)
    .parse()
    .opts<{ delivered: string; keyFile: string; port: number }>();
  const deliveredDays = await readJsonFile(o.delivered, '--delivered', deliveredSchema);
  const delivered = new Map(Object.entries(deliveredDays.days).map(([day, workers]) => [day, new Map(Object.entries(workers))]));
  const key = readSecretFile(o.keyFile, '--key-file');
  const server = await startPoolApi({ keys: { foundry: key, braiins: key, f2pool: key, viabtc: key }, figures: demoPoolFigures(delivered), port: o.port });
  const days = [...delivered.keys()].sort();
  console.log(`pool-api: ${server.url} (/f2pool, /foundry, /braiins, /viabtc; network at /api/v1/...): revenue of ${days.length} closed days${days.length ? `, ${days[0]} to ${days.at(-1)}` : ''}`);
  const stop = (signal: string): void => {
    console.log(`pool-api: ${signal}, stopping`);
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`pool-api: ${(err as Error).message}`);
  process.exit(1);
});
