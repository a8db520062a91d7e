import type { BoardSample, FanSample, JsonObject, MinerMode } from '@flymining/shared';
import type { Dialect, ParsedMiner, Replies } from '../../types';
import { classifyBitmainFirmware, cleanModel, readAntminerStats, versionEntry, type AntminerStatsReading } from '../../antminer/common';
import {
  compact,
  deriveEfficiency,
  firstDefined,
  firstOf,
  ghsToThs,
  max,
  mhsToThs,
  modeFromHashrate,
  num,
  parsePools,
  requireSection,
  sectionOf,
  sum,
  text,
} from '../../common/values';

/**
 * LuxOS (LUXminer) on Antminer. Reads `summary` for totals and `devs` per board (LuxOS numbers boards from 0;
 * stats chain N is board N-1). The stats totals are not trusted (QUIRKS §6: "total rate" of one board).
 */

const TEMP_POSITIONS = ['TopLeft', 'TopRight', 'BottomLeft', 'BottomRight'] as const;

function boardFromDev(dev: JsonObject, chain: BoardSample | undefined, temps: JsonObject | undefined): BoardSample {
  const index = num(dev.ID) ?? num(dev.ASC) ?? 0;
  const sensorTemps = TEMP_POSITIONS.map((p) => num(temps?.[p]));
  const hashrateThs = mhsToThs(num(dev['MHS 5s']));
  return compact({
    ...chain,
    index,
    present: text(dev.Status) === 'Alive' || (hashrateThs ?? 0) > 0 || chain?.present === true,
    hashrateThs,
    boardTempC: firstDefined(chain?.boardTempC, max(sensorTemps), num(dev.Temperature)),
    hwErrors: firstDefined(num(dev['Hardware Errors']), chain?.hwErrors),
  });
}

function readBoards(replies: Replies, stats: AntminerStatsReading | undefined): BoardSample[] {
  const chains = new Map<number, BoardSample>();
  for (const board of stats?.boards ?? []) chains.set(board.index - 1, { ...board, index: board.index - 1 });
  const temps = new Map<number, JsonObject>();
  for (const entry of sectionOf(replies.temps, 'TEMPS')) temps.set(num(entry.ID) ?? -1, entry);
  const devs = sectionOf(replies.devs, 'DEVS');
  if (devs.length === 0) return [...chains.values()];
  return devs
    .map((dev) => {
      const id = num(dev.ID) ?? num(dev.ASC) ?? 0;
      return boardFromDev(dev, chains.get(id), temps.get(id));
    })
    .sort((a, b) => a.index - b.index);
}

function readFans(replies: Replies, stats: AntminerStatsReading | undefined): FanSample[] {
  const entries = sectionOf(replies.fans, 'FANS');
  if (entries.length === 0) return stats?.fans ?? [];
  // FAN labels ("FAN4" for ID 0) don't follow the index; the ID does.
  return entries.map((entry, i) =>
    compact({ index: num(entry.ID) ?? i, rpm: num(entry.RPM) ?? 0, percent: num(entry.Speed) }),
  );
}

function parseLuxos(replies: Replies): ParsedMiner {
  const summary = requireSection(replies, 'summary', 'SUMMARY');
  const stats = replies.stats ? readAntminerStats(replies.stats, { trustChipErrors: true }) : undefined;
  const version = versionEntry(replies);
  const config = firstOf(replies.config, 'CONFIG');
  const devs = sectionOf(replies.devs, 'DEVS');

  const hashrateThs = ghsToThs(num(summary['GHS 5s']));
  const curtailed = /sleep/i.test(text(config?.CurtailMode) ?? '');
  const mode: MinerMode = curtailed ? 'sleeping' : modeFromHashrate(hashrateThs);
  const powerW = num(firstOf(replies.power, 'POWER')?.Watts);
  const luxVersion = text(version?.LUXminer);

  return compact({
    vendor: 'antminer',
    firmware: 'luxos',
    firmwareVersion: luxVersion === undefined ? undefined : `LUXminer ${luxVersion}`,
    model: cleanModel(firstDefined(text(version?.Type), text(config?.Model), text(stats?.versionInfo?.Type))),
    mode,
    hashrateThs,
    hashrateAvgThs: ghsToThs(num(summary['GHS av'])),
    // Nominal of the running profile: sum of per-board Nominal MHS (the config NameplateTHS is the model's label).
    nominalThs: firstDefined(mhsToThs(sum(devs.map((d) => num(d['Nominal MHS'])))), stats?.nominalThs),
    boards: readBoards(replies, stats),
    fans: readFans(replies, stats),
    pools: parsePools(replies.pools),
    powerW,
    efficiencyJth: mode === 'hashing' ? deriveEfficiency(powerW, ghsToThs(num(summary['GHS av'])) ?? hashrateThs) : undefined,
    uptimeS: num(summary.Elapsed),
    hwErrors: num(summary['Hardware Errors']),
    // The running profile ("default", "290MHz"): what profileset and ATM change.
    workMode: text(config?.Profile),
  });
}

export const luxos: Dialect = {
  family: 'luxos',
  vendor: 'antminer',
  commands: ['version', 'summary', 'stats', 'devs', 'pools', 'fans', 'temps', 'power', 'config'],
  requiredCommands: ['summary'],
  matches: (probe) => classifyBitmainFirmware(probe) === 'luxos',
  parse: parseLuxos,
};
