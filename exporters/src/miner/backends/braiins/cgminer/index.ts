import type { BoardSample, FanSample, JsonObject, MinerMode } from '@flymining/shared';
import type { Dialect, ParsedMiner, Replies } from '../../types';
import { statusDescription } from '../../../envelope';
import { bitmainStyleDialect, bitmainVersionText, versionEntry } from '../../antminer/common';
import { compact, firstDefined, mhsToThs, modeFromHashrate, num, parsePools, positive, requireSection, sectionOf, text } from '../../common/values';

/**
 * Braiins OS / OS+ (bosminer, QUIRKS §12): `summary`/`devs` in MH/s, `temps` and `fans` commands, no useful
 * `stats`. Boards are numbered by S9 connector (6, 7, 8). Early Braiins OS (2018) was still bmminer and
 * speaks the Bitmain `stats` layout: that is the separate `braiinsOsBmminer` dialect below.
 */

const PROGRAM_KEYS = ['BOSminer+', 'BOSminer'] as const;

function bosminerVersion(replies: Replies): string | undefined {
  const version = versionEntry(replies);
  for (const key of PROGRAM_KEYS) {
    const value = text(version?.[key]);
    if (value !== undefined) return `${key} ${value}`;
  }
  return undefined;
}

function isBosminer(probe: Replies): boolean {
  const version = versionEntry(probe);
  if (PROGRAM_KEYS.some((key) => version?.[key] !== undefined)) return true;
  // Without `version`, bosminer still names itself in every STATUS Description ("BOSminer+ 0.2.0-…").
  return Object.values(probe).some((reply) => statusDescription(reply).startsWith('BOSminer'));
}

function readBoards(replies: Replies): BoardSample[] {
  const boards = new Map<number, BoardSample>();
  for (const dev of sectionOf(replies.devs, 'DEVS')) {
    const index = num(dev.ID) ?? num(dev.ASC) ?? boards.size;
    const hashrateThs = mhsToThs(num(dev['MHS 5s']));
    boards.set(
      index,
      compact({
        index,
        present: text(dev.Status) === 'Alive' || (hashrateThs ?? 0) > 0,
        hashrateThs,
        hwErrors: num(dev['Hardware Errors']),
      }),
    );
  }
  for (const temp of sectionOf(replies.temps, 'TEMPS')) {
    const index = num(temp.ID) ?? -1;
    const board: BoardSample = boards.get(index) ?? { index, present: true };
    // "Chip":0.0 means not measured (QUIRKS §9), as does "Temperature":0.0 in devs.
    const boardTempC = positive(temp.Board);
    const chipTempC = positive(temp.Chip);
    if (boardTempC !== undefined) board.boardTempC = boardTempC;
    if (chipTempC !== undefined) board.chipTempC = chipTempC;
    boards.set(index, board);
  }
  return [...boards.values()].sort((a, b) => a.index - b.index);
}

function readFans(fansReply: JsonObject | undefined): FanSample[] {
  // bosminer lists 4 fan slots on an S9 that has 2 fans; the unused slots read RPM 0 (QUIRKS §7).
  return sectionOf(fansReply, 'FANS')
    .map((entry, i) => compact({ index: num(entry.ID) ?? i, rpm: num(entry.RPM) ?? 0, percent: num(entry.Speed) }))
    .filter((fan) => fan.rpm > 0);
}

function parseBosminer(replies: Replies): ParsedMiner {
  const summary = requireSection(replies, 'summary', 'SUMMARY');
  const devs = sectionOf(replies.devs, 'DEVS');
  const hashrateThs = mhsToThs(firstDefined(num(summary['MHS 5s']), num(summary['MHS 1m'])));
  const mode: MinerMode = modeFromHashrate(hashrateThs);
  const nominalMhs = devs.map((d) => num(d['Nominal MHS'])).filter((n): n is number => n !== undefined);
  return compact({
    vendor: 'braiins',
    firmware: 'braiins-os',
    firmwareVersion: bosminerVersion(replies),
    mode,
    hashrateThs,
    hashrateAvgThs: mhsToThs(num(summary['MHS av'])),
    nominalThs: nominalMhs.length > 0 ? mhsToThs(nominalMhs.reduce((a, b) => a + b, 0)) : undefined,
    boards: readBoards(replies),
    fans: readFans(replies.fans),
    pools: parsePools(replies.pools),
    uptimeS: num(summary.Elapsed),
    hwErrors: num(summary['Hardware Errors']),
  });
}

export const braiinsOs: Dialect = {
  family: 'braiins-os',
  vendor: 'braiins',
  commands: ['version', 'summary', 'devs', 'temps', 'fans', 'pools'],
  requiredCommands: ['summary'],
  matches: isBosminer,
  parse: parseBosminer,
};

/** Braiins OS before bosminer (2018, `"Type":"braiins-am1-s9"`): bmminer with the Bitmain `stats` layout. */
export const braiinsOsBmminer = bitmainStyleDialect('braiins-bmminer', {
  family: 'braiins-os',
  vendor: 'braiins',
  trustChipErrors: true,
  firmwareVersion: (version, statsVersion) => text(version?.BMMiner) ?? bitmainVersionText(version, statsVersion),
});
