/**
 * Reads the farm for the TV wall from InfluxDB through the shared storage layer, with the panel's own queries:
 * scrape attempts, latest miner values, fault transitions, container climate and the edges' heartbeats.
 */
import type { InfluxStore } from '@flymining/shared';
import { expandMacros, regexValue } from '../src/macros';
import { RACKMAP_QUERIES } from '../src/queries';
import { readingsFromRows, type FarmReadings } from '../src/rows';

export interface FarmSnapshot extends FarmReadings {
  /** Server time the snapshot was taken (ms): the page judges staleness against it, not its own clock. */
  now: number;
}

export async function readFarm(store: InfluxStore, options: { site?: string; windowMinutes: number }): Promise<FarmSnapshot> {
  const now = Date.now();
  const values = {
    timeFilter: `time > now() - ${Math.max(1, Math.round(options.windowMinutes))}m`,
    interval: '1m',
    // The queries' end of range, as Grafana's ${__to} (the rack map reads its newest minutes).
    variables: { site: options.site ? regexValue(options.site) : '.*', __to: String(now) },
  };
  const results = await Promise.all(
    Object.values(RACKMAP_QUERIES).map((q) =>
      store.queryRows(expandMacros(q, values)).catch((err: unknown) => {
        // A measurement nobody writes yet (climate_container before the climate exporter runs) is not an error.
        if (err instanceof Error && /measurement not found/i.test(err.message)) return [];
        throw err;
      }),
    ),
  );
  return { ...readingsFromRows(results.flat()), now };
}
