/**
 * `npm run maintenance -- [--port 3400] [--host 127.0.0.1] [--rota FILE]`: the maintenance staff server.
 * PostgreSQL from FLYMINING_PG_URL (migrated on start); authentication as the other center services
 * (shared/src/auth/README.md: FLYMINING_REDIS_URL, the portal's session secret). `--rota FILE` is imported when the
 * database has no rota yet. With InfluxDB settings (FLYMINING_INFLUX_URL, ...) a job fills the lost TH·h and BTC of
 * closed tickets every few minutes; without them the figures show no losses. With FLYMINING_INVENTORY (the farm
 * inventory, re-read when it changes) staff can send miner actions to the edges (/control, docs/control.md).
 */
import { createLogger, InfluxStore, InventoryHolder, loadInfluxConfig, openAuthenticator, readAuthSettings, runService } from '@flymining/shared';
import { Pool } from 'pg';
import { migrateMaintenance } from './db';
import { fillTicketLosses } from './figures/loss';
import { loadRotaFile, RotaStore } from './rota/store';
import { createStaffApp, MAINTENANCE_TOKEN_COOKIE } from './staff/app';

const LOSS_INTERVAL_MS = 5 * 60_000;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<() => Promise<void>> {
  const log = createLogger('maintenance');
  const portText = flag('port') ?? process.env.FLYMINING_MAINTENANCE_PORT ?? '3400';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new Error(`--port: "${portText}" is not a port number`);
  const host = flag('host') ?? process.env.FLYMINING_MAINTENANCE_HOST ?? '127.0.0.1';
  const pool = new Pool({ connectionString: process.env.FLYMINING_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/flymining', max: 10 });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle PostgreSQL connection lost'));
  await migrateMaintenance(pool);

  const rotaFile = flag('rota');
  if (rotaFile) {
    const rota = new RotaStore(pool);
    if (await rota.exists()) log.info({ file: rotaFile }, 'a rota is already in the database: --rota not imported (use flymining oncall import to replace it)');
    else {
      await rota.importFile(loadRotaFile(rotaFile), `file:${rotaFile}`);
      log.info({ file: rotaFile }, 'rota imported');
    }
  }

  let influx: InfluxStore | undefined;
  let lossTimer: NodeJS.Timeout | undefined;
  if (process.env.FLYMINING_INFLUX_URL) {
    const store = new InfluxStore(loadInfluxConfig({}, process.env, 'FLYMINING_INFLUX_*'), { spool: false });
    influx = store;
    let running = false;
    const fill = (): void => {
      if (running) return;
      running = true;
      fillTicketLosses(pool, store)
        .then((n) => n > 0 && log.info({ tickets: n }, 'lost TH·h and BTC filled'))
        .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'filling ticket losses failed; retried next round'))
        .finally(() => (running = false));
    };
    fill();
    lossTimer = setInterval(fill, LOSS_INTERVAL_MS);
  } else {
    log.info('no InfluxDB settings (FLYMINING_INFLUX_URL): lost TH·h and BTC of tickets are not computed');
  }

  // The inventory tells which container (which edge) a miner is in; a bad edit keeps the last good one.
  const inventoryFile = process.env.FLYMINING_INVENTORY;
  const inventory = inventoryFile
    ? new InventoryHolder(inventoryFile, (r) => (r.ok ? log.info(`inventory reloaded from ${inventoryFile}`) : log.error(`inventory edit refused, still using the last good one: ${r.error.message}`)))
    : undefined;
  inventory?.watch();
  if (!inventory) log.info('no inventory (FLYMINING_INVENTORY): miner actions from the staff page are off');

  const auth = openAuthenticator(readAuthSettings(process.env), log, { tokenCookie: MAINTENANCE_TOKEN_COOKIE });
  const app = createStaffApp({ pool, authenticator: auth.authenticator, log, defaultTimeZone: process.env.FLYMINING_TIME_ZONE, influx, control: { inventory: () => inventory?.current } });
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(Number(portText), host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  log.info({ url: `http://${host}:${portText}/` }, 'maintenance staff pages listening');
  return async () => {
    if (lossTimer) clearInterval(lossTimer);
    inventory?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await influx?.close();
    await auth.close();
    await pool.end();
  };
}

runService('maintenance', main);
