/**
 * The `container_sweep` rows (issue 17): per container and sweep, the sums, extremes and counts the farm-wide
 * panels show, folded from the very `miner` fields the sweep writes (so a container's hashrate is the sum of its
 * miners' rows of that sweep). The miner exporter feeds it while it scrapes; the dashboards bench builds its fixture
 * with it.
 */
import type { SchemaPoint } from './schema';

/** The `miner` fields a container row is folded from (those of samplePoints()' `miner` point). */
export interface MinerSweepFields {
  hashrate_ths?: number | string | boolean;
  nominal_ths?: number | string | boolean;
  power_w?: number | string | boolean;
  efficiency_jth?: number | string | boolean;
  temp_max_c?: number | string | boolean;
  ambient_c?: number | string | boolean;
  hashing?: number | string | boolean;
}

interface ContainerTotals {
  reachable: number;
  hashing: number;
  hashrateThs: number;
  nominalThs: number;
  powerW: number;
  powered: number;
  efficiencySum: number;
  efficiencies: number;
  tempMaxC: number | undefined;
  ambientSum: number;
  ambients: number;
}

/** A container the edge serves: where it is and how many miners the inventory lists in it. */
export interface ServedContainer {
  site: string;
  container: string;
  watched: number;
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export class ContainerSweepTotals {
  private readonly byContainer = new Map<string, ContainerTotals>();

  /** One miner that answered this sweep, by its `miner` point's fields. */
  addAnswered(container: string, fields: MinerSweepFields): void {
    let c = this.byContainer.get(container);
    if (!c) {
      c = { reachable: 0, hashing: 0, hashrateThs: 0, nominalThs: 0, powerW: 0, powered: 0, efficiencySum: 0, efficiencies: 0, tempMaxC: undefined, ambientSum: 0, ambients: 0 };
      this.byContainer.set(container, c);
    }
    c.reachable++;
    if (fields.hashing === 1) c.hashing++;
    c.hashrateThs += finite(fields.hashrate_ths) ?? 0;
    c.nominalThs += finite(fields.nominal_ths) ?? 0;
    const power = finite(fields.power_w);
    if (power !== undefined && power >= 0) {
      c.powerW += power;
      c.powered++;
    }
    const efficiency = finite(fields.efficiency_jth);
    if (efficiency !== undefined && efficiency > 0) {
      c.efficiencySum += efficiency;
      c.efficiencies++;
    }
    const temp = finite(fields.temp_max_c);
    if (temp !== undefined && (c.tempMaxC === undefined || temp > c.tempMaxC)) c.tempMaxC = temp;
    const ambient = finite(fields.ambient_c);
    if (ambient !== undefined) {
      c.ambientSum += ambient;
      c.ambients++;
    }
  }

  /**
   * One row per container the edge serves (`watched`: its miners in the inventory), at the sweep's time; a
   * container none of whose miners answered still gets its counts (0 reachable), without sums it does not have.
   */
  points(served: Iterable<ServedContainer>, time: number): Array<SchemaPoint<'container_sweep'>> {
    const points: Array<SchemaPoint<'container_sweep'>> = [];
    for (const { site, container, watched } of served) {
      const c = this.byContainer.get(container);
      points.push({
        measurement: 'container_sweep',
        tags: { site, container },
        fields: {
          miners: watched,
          reachable: c?.reachable ?? 0,
          hashing: c?.hashing ?? 0,
          hashrate_ths: c ? round(c.hashrateThs) : undefined,
          nominal_ths: c ? round(c.nominalThs) : undefined,
          power_w: c && c.powered > 0 ? round(c.powerW) : undefined,
          efficiency_jth: c && c.efficiencies > 0 ? round(c.efficiencySum / c.efficiencies) : undefined,
          temp_max_c: c?.tempMaxC,
          ambient_c: c && c.ambients > 0 ? round(c.ambientSum / c.ambients) : undefined,
        },
        time,
      });
    }
    return points;
  }

  /** Watts of the miners that answered, per container that has any (what the climate exporter reads). */
  powerByContainer(): Record<string, number> {
    const watts: Record<string, number> = {};
    for (const [container, c] of this.byContainer) if (c.powered > 0) watts[container] = c.powerW;
    return watts;
  }
}

/** Sums of floats to 4 decimals: the row is for panels, and it keeps line protocol short. */
function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
