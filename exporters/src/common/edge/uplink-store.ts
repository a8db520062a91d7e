/**
 * The edge's end of the uplink: the InfluxDB store both exporters write through, with the schema set up when the
 * account may do it. An edge account usually may only write (docs/deployment.md): then the database is the center's
 * job, which is said once in plain words instead of a warning that looks like an outage.
 */
import { InfluxQueryError, InfluxStore, ensureDatabase, loadInfluxConfig, schemaRetention, type Logger } from '@flymining/shared';

/** InfluxDB 1.x answers a write-only account's CREATE DATABASE with this (HTTP 403). */
const NOT_AUTHORIZED = /not authorized|authorization failed|403/i;

export async function openUplinkStore(log: Logger, what: string): Promise<InfluxStore> {
  const store: InfluxStore = new InfluxStore(loadInfluxConfig({}), {
    logger: log,
    // A database dropped at the center is set up again as soon as a write finds it missing (when this account may).
    onSchemaMissing: async () => {
      await ensureDatabase(store, schemaRetention());
    },
  });
  try {
    await ensureDatabase(store, schemaRetention());
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof InfluxQueryError && NOT_AUTHORIZED.test(message)) {
      log.info(`InfluxDB account ${store.config.username ?? '(token)'} may only write: the center sets up the database and its retention policies`);
    } else {
      log.warn(`InfluxDB not ready (${message}); ${what} go to the spool until it answers`);
    }
  }
  return store;
}
