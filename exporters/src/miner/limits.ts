/**
 * Bounds on what one miner reply can make the exporter do (issue #10, "Hostile miners"). A reply is at most
 * DEFAULT_TRANSPORT.maxBytes; these limits make the work and memory it drives bounded too: every count read from a
 * reply is capped by a physical maximum, every text a regex reads is cut first, and the finished sample goes through
 * boundSample, which drops (and counts) every value outside its physical range.
 */
import type { BoardSample, FanSample, PoolSample, PsuSample, WaterSample } from '@flymining/shared';
import type { ParsedMiner } from './backends/types';

/** Physical maxima: far above any real miner, far below what exhausts memory or time. */
export const MINER_LIMITS = {
  /** Hashboards of one miner (real: 3-4; an Avalon controller with several modules: a few more). */
  boards: 32,
  /** Fans of one miner, all slots counted (real: 2-8). */
  fans: 32,
  /** Configured pools (cgminer shows 3; LuxOS groups a few more). */
  pools: 32,
  /** Chips on one hashboard (real: 63-300), so also the length of any per-chip list. */
  chipsPerBoard: 1024,
  /** Entries of one reply section (STATS, DEVS, POOLS ...): the corpus has 6 at most. */
  sectionEntries: 256,
  /** `Key[value]` fields of one Avalon module string (the corpus has about 150). */
  moduleFields: 2048,
  /** Firmware error codes kept per sample (Braiins keeps a log of 100+ entries; codes are deduplicated). */
  firmwareErrors: 64,
  /** Board, fan and pool numbers (they become tags). */
  index: 1023,
} as const;

/** Text bounds: longer numbers are not numbers, longer names are garbage. */
export const TEXT_LIMITS = {
  /** A numeric field's text ("14046.04", "1.2e+3"): a number never needs more. */
  number: 64,
  /** The model tag (real: "Antminer S19 Pro Hydro", "AvalonMiner 1047"). */
  model: 64,
  /** The raw Type/Ver text a model is cleaned from; cut before any regex reads it. */
  modelSource: 256,
  firmwareVersion: 128,
  poolUrl: 512,
  poolUser: 256,
  /** A STATUS Msg as it appears in an error message and a log line. */
  statusMessage: 512,
  /** Serial numbers, MACs, PSU models, work modes, firmware error codes. */
  identifier: 64,
} as const;

interface Range {
  min: number;
  max: number;
  /** Counters and chip numbers are whole. */
  integer?: boolean;
}

const COUNTER: Range = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true };
/** Below absolute zero is no reading; dead sensors read -83 or -273 and health judges those (TEMP_SENSOR_FAULT). */
const TEMPERATURE: Range = { min: -274, max: 1000 };
const HASHRATE_THS: Range = { min: 0, max: 100_000 };
const POWER_W: Range = { min: 0, max: 100_000 };
const CHIPS: Range = { min: 0, max: MINER_LIMITS.chipsPerBoard, integer: true };
const INDEX: Range = { min: 0, max: MINER_LIMITS.index, integer: true };

const MINER_RANGES: Partial<Record<keyof ParsedMiner, Range>> = {
  hashrateThs: HASHRATE_THS,
  hashrateAvgThs: HASHRATE_THS,
  nominalThs: HASHRATE_THS,
  powerW: POWER_W,
  efficiencyJth: { min: 0, max: 100_000 },
  uptimeS: COUNTER,
  hwErrors: COUNTER,
  ambientTempC: TEMPERATURE,
  powerTargetW: POWER_W,
};

const WATER_RANGES: Partial<Record<keyof WaterSample, Range>> = {
  inletTempC: TEMPERATURE,
  outletTempC: TEMPERATURE,
  flowLpm: { min: 0, max: 10_000 },
};

const PSU_RANGES: Partial<Record<keyof PsuSample, Range>> = {
  inputVoltageV: { min: 0, max: 1000 },
  outputVoltageV: { min: 0, max: 1000 },
  inputCurrentA: { min: 0, max: 10_000 },
  outputCurrentA: { min: 0, max: 10_000 },
  inputPowerW: POWER_W,
  outputPowerW: POWER_W,
  fanRpm: { min: 0, max: 100_000 },
};

const BOARD_RANGES: Partial<Record<keyof BoardSample, Range>> = {
  hashrateThs: HASHRATE_THS,
  chipsFound: CHIPS,
  chipsOk: CHIPS,
  chipsBad: CHIPS,
  boardTempC: TEMPERATURE,
  chipTempC: TEMPERATURE,
  inletTempC: TEMPERATURE,
  outletTempC: TEMPERATURE,
  hwErrors: COUNTER,
  frequencyMhz: { min: 0, max: 100_000 },
  voltageV: { min: 0, max: 1000 },
  powerW: POWER_W,
};

const FAN_RANGES: Partial<Record<keyof FanSample, Range>> = { percent: { min: 0, max: 100 } };
const FAN_RPM: Range = { min: 0, max: 100_000 };

const POOL_RANGES: Partial<Record<keyof PoolSample, Range>> = {
  accepted: COUNTER,
  rejected: COUNTER,
  stale: COUNTER,
  lastShareTime: COUNTER,
};

function inRange(value: number, range: Range): boolean {
  return Number.isFinite(value) && value >= range.min && value <= range.max && (!range.integer || Number.isInteger(value));
}

function excerptOf(value: unknown): string {
  if (typeof value === 'string') return `${value.length} characters`;
  return String(value).slice(0, 40);
}

/** What boundSample removed: `count` values, the first few named (`boards[2].hwErrors=-5`). */
export interface DroppedValues {
  count: number;
  examples: string[];
}

const DROPPED_EXAMPLES = 5;

class DropLog implements DroppedValues {
  count = 0;
  examples: string[] = [];

  note(path: string, value: unknown, count = 1): void {
    this.count += count;
    if (this.examples.length < DROPPED_EXAMPLES) this.examples.push(`${path}=${excerptOf(value)}`);
  }

  /** Deletes every numeric property of `target` outside its range. */
  numbers<T extends object>(target: T, ranges: Partial<Record<keyof T, Range>>, path: string): void {
    for (const key of Object.keys(ranges) as Array<keyof T & string>) {
      const value: unknown = target[key];
      const range = ranges[key];
      if (value === undefined || range === undefined) continue;
      if (typeof value !== 'number' || !inRange(value, range)) {
        this.note(`${path}${key}`, value);
        delete target[key];
      }
    }
  }

  /** Entries beyond `limit` and entries whose index is not a small whole number are dropped. */
  list<T extends { index: number }>(items: T[], limit: number, path: string, valid: (item: T) => boolean = () => true): T[] {
    const kept: T[] = [];
    for (const [position, item] of items.entries()) {
      if (kept.length >= limit) {
        this.note(`${path}.length`, items.length, items.length - position);
        break;
      }
      if (inRange(item.index, INDEX) && valid(item)) kept.push(item);
      else this.note(`${path}[${excerptOf(item.index)}]`, item.index);
    }
    return kept;
  }

  /** A text longer than `limit` is cut to it (fields) ... */
  cut(value: string, limit: number, path: string): string {
    if (value.length <= limit) return value;
    this.note(path, value);
    return value.slice(0, limit);
  }

  /** ... or dropped (tags: a cut tag would be a new series). */
  text(value: string | undefined, limit: number, path: string): string | undefined {
    if (value === undefined || value.length <= limit) return value;
    this.note(path, value);
    return undefined;
  }
}

/**
 * The sample with every value outside its physical range removed (negative counters, non-finite numbers, integers
 * beyond what a counter can be, over-long texts, lists over their physical maximum), and what was removed. The
 * sample is changed in place: the dialect made it for this scrape alone.
 */
export function boundSample(sample: ParsedMiner): { sample: ParsedMiner; dropped: DroppedValues } {
  const log = new DropLog();
  log.numbers(sample, MINER_RANGES, '');
  const model = log.text(sample.model, TEXT_LIMITS.model, 'model');
  if (model === undefined) delete sample.model;
  const firmwareVersion = log.text(sample.firmwareVersion, TEXT_LIMITS.firmwareVersion, 'firmwareVersion');
  if (firmwareVersion === undefined) delete sample.firmwareVersion;

  for (const key of ['serial', 'mac', 'workMode'] as const) {
    const value = log.text(sample[key], TEXT_LIMITS.identifier, key);
    if (value === undefined) delete sample[key];
  }
  if (sample.water) log.numbers(sample.water, WATER_RANGES, 'water.');
  if (sample.psu) {
    log.numbers(sample.psu, PSU_RANGES, 'psu.');
    for (const key of ['model', 'serial', 'firmwareVersion'] as const) {
      const value = log.text(sample.psu[key], TEXT_LIMITS.identifier, `psu.${key}`);
      if (value === undefined) delete sample.psu[key];
    }
  }
  if (sample.firmwareErrors) {
    if (sample.firmwareErrors.length > MINER_LIMITS.firmwareErrors) {
      log.note('firmwareErrors.length', sample.firmwareErrors.length, sample.firmwareErrors.length - MINER_LIMITS.firmwareErrors);
      sample.firmwareErrors = sample.firmwareErrors.slice(0, MINER_LIMITS.firmwareErrors);
    }
    for (const [i, error] of sample.firmwareErrors.entries()) {
      error.code = log.cut(error.code, TEXT_LIMITS.identifier, `firmwareErrors[${i}].code`);
      error.text = log.cut(error.text, TEXT_LIMITS.statusMessage, `firmwareErrors[${i}].text`);
      if (error.component !== undefined) error.component = log.cut(error.component, TEXT_LIMITS.identifier, `firmwareErrors[${i}].component`);
    }
  }

  sample.boards = log.list(sample.boards, MINER_LIMITS.boards, 'boards');
  for (const board of sample.boards) {
    log.numbers(board, BOARD_RANGES, `boards[${board.index}].`);
    const serial = log.text(board.serial, TEXT_LIMITS.identifier, `boards[${board.index}].serial`);
    if (serial === undefined) delete board.serial;
  }

  // A fan without a usable rpm is no reading at all.
  sample.fans = log.list(sample.fans, MINER_LIMITS.fans, 'fans', (fan) => inRange(fan.rpm, FAN_RPM));
  for (const fan of sample.fans) log.numbers(fan, FAN_RANGES, `fans[${fan.index}].`);

  sample.pools = log.list(sample.pools, MINER_LIMITS.pools, 'pools');
  for (const pool of sample.pools) {
    log.numbers(pool, POOL_RANGES, `pools[${pool.index}].`);
    pool.url = log.cut(pool.url, TEXT_LIMITS.poolUrl, `pools[${pool.index}].url`);
    pool.user = log.cut(pool.user, TEXT_LIMITS.poolUser, `pools[${pool.index}].user`);
  }
  return { sample, dropped: { count: log.count, examples: log.examples } };
}
