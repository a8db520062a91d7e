import type { Dialect } from './types';
import { bitmainVersionText, classifyBitmainFirmware, parseAntminerReplies } from './antminer-common';

/** Stock Bitmain firmware (bmminer / Bitmain's cgminer fork): S9 … S19, T15, S9k, L3+. */
export const antminerStock: Dialect = {
  family: 'antminer-stock',
  vendor: 'antminer',
  commands: ['version', 'stats', 'summary', 'pools'],
  requiredCommands: ['stats'],
  matches: (probe) => classifyBitmainFirmware(probe) === 'antminer-stock',
  parse: (replies) =>
    parseAntminerReplies(replies, {
      family: 'antminer-stock',
      trustChipErrors: true,
      firmwareVersion: (version, statsVersion) => bitmainVersionText(version, statsVersion),
    }),
};
