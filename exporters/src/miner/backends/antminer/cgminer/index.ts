import { bitmainStyleDialect, bitmainVersionText } from '../../antminer/common';

/** Stock Bitmain firmware (bmminer / Bitmain's cgminer fork): S9 … S19, T15, S9k, L3+. */
export const antminerStock = bitmainStyleDialect('antminer-stock', {
  family: 'antminer-stock',
  trustChipErrors: true,
  firmwareVersion: (version, statsVersion) => bitmainVersionText(version, statsVersion),
});
