/**
 * A UTC day's delivered hashrate from InfluxDB (docs/schema.md): per miner, mean(miner.hashrate_ths) over the
 * scrapes that answered times mean(miner_up.reachable) over every attempt, so an unreachable half-day counts as
 * half the hashrate. Summed per container and for the farm, with the reachable and hashing uptimes.
 */
import { InfluxStore, quoteString, readCurtailedHours, timeLiteral, type CurtailedDay } from '@flymining/shared';
import Decimal from 'decimal.js';
import { BillingDecimal as D } from './fpps';

export interface ContainerHashrate {
  container: string;
  miners: number;
  deliveredThs: string;
  nominalThs: string;
  reachableUptime: string;
  hashingUptime: string;
}

export interface DayHashrate {
  deliveredThs: string;
  nominalThs: string;
  miners: number;
  reachableUptime: string; // mean over miners of mean(reachable)
  hashingUptime: string; // mean over miners of mean(hashing)
  containers: ContainerHashrate[];
}

/** Where the daily run gets hashrate; tests and the benchmark may pass a fixed one. */
export interface HashrateSource {
  dayHashrate(day: string): Promise<DayHashrate>;
  /** The day's curtailed miner-hours (control audit); a source without it credits no curtailment. */
  curtailedDay?(day: string): Promise<CurtailedDay>;
}

function num(v: unknown): Decimal {
  return typeof v === 'number' && Number.isFinite(v) ? new D(String(v)) : new D(0);
}

export function dayBounds(day: string): { start: number; end: number } {
  const start = Date.parse(`${day}T00:00:00Z`);
  return { start, end: start + 86_400_000 };
}

export class InfluxHashrateSource implements HashrateSource {
  constructor(private readonly store: InfluxStore, private readonly site?: string) {}

  curtailedDay(day: string): Promise<CurtailedDay> {
    return readCurtailedHours(this.store, day, { site: this.site });
  }

  async dayHashrate(day: string): Promise<DayHashrate> {
    const { start, end } = dayBounds(day);
    const where = `time >= ${timeLiteral(start)} AND time < ${timeLiteral(end)}${this.site ? ` AND "site" = ${quoteString(this.site)}` : ''}`;
    const [hash, up] = await Promise.all([
      this.store.queryRows(`SELECT mean("hashrate_ths") AS hashrate, mean("nominal_ths") AS nominal FROM "miner" WHERE ${where} GROUP BY "container", "miner"`),
      this.store.queryRows(`SELECT mean("reachable") AS reachable, mean("hashing") AS hashing FROM "miner_up" WHERE ${where} GROUP BY "container", "miner"`),
    ]);
    const perMiner = new Map<string, { container: string; hashrate: Decimal; nominal: Decimal; reachable: Decimal; hashing: Decimal; seenUp: boolean }>();
    const entry = (row: Record<string, unknown>) => {
      const container = String(row.container ?? '');
      const key = `${container}|${String(row.miner ?? '')}`;
      let m = perMiner.get(key);
      if (!m) {
        m = { container, hashrate: new D(0), nominal: new D(0), reachable: new D(0), hashing: new D(0), seenUp: false };
        perMiner.set(key, m);
      }
      return m;
    };
    for (const row of hash) {
      const m = entry(row);
      m.hashrate = num(row.hashrate);
      m.nominal = num(row.nominal);
    }
    for (const row of up) {
      const m = entry(row);
      m.reachable = num(row.reachable);
      m.hashing = num(row.hashing);
      m.seenUp = true;
    }
    const byContainer = new Map<string, { miners: number; delivered: Decimal; nominal: Decimal; reachable: Decimal; hashing: Decimal }>();
    for (const m of perMiner.values()) {
      // Without miner_up points (an exporter older than the schema) the answered scrapes are all we know.
      const reachable = m.seenUp ? m.reachable : new D(1);
      const c = byContainer.get(m.container) ?? { miners: 0, delivered: new D(0), nominal: new D(0), reachable: new D(0), hashing: new D(0) };
      c.miners += 1;
      c.delivered = c.delivered.add(m.hashrate.mul(reachable));
      c.nominal = c.nominal.add(m.nominal);
      c.reachable = c.reachable.add(reachable);
      c.hashing = c.hashing.add(m.seenUp ? m.hashing : reachable);
      byContainer.set(m.container, c);
    }
    const containers = [...byContainer.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([container, c]): ContainerHashrate => ({
        container,
        miners: c.miners,
        deliveredThs: c.delivered.toDecimalPlaces(6).toString(),
        nominalThs: c.nominal.toDecimalPlaces(6).toString(),
        reachableUptime: c.reachable.div(c.miners).toDecimalPlaces(6).toString(),
        hashingUptime: c.hashing.div(c.miners).toDecimalPlaces(6).toString(),
      }));
    const miners = containers.reduce((s, c) => s + c.miners, 0);
    const sum = (f: (c: ContainerHashrate) => string) => containers.reduce((s, c) => s.add(f(c)), new D(0));
    const weighted = (f: (c: ContainerHashrate) => string) =>
      miners === 0 ? '0' : containers.reduce((s, c) => s.add(new D(f(c)).mul(c.miners)), new D(0)).div(miners).toDecimalPlaces(6).toString();
    return {
      deliveredThs: sum((c) => c.deliveredThs).toString(),
      nominalThs: sum((c) => c.nominalThs).toString(),
      miners,
      reachableUptime: weighted((c) => c.reachableUptime),
      hashingUptime: weighted((c) => c.hashingUptime),
      containers,
    };
  }
}
