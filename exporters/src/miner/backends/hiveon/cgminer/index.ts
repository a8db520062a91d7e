import { bitmainStyleDialect, bitmainVersionText } from '../../antminer/common';

/** Hiveon firmware on Antminer: Bitmain `stats` layout, "rwglr" in BMMiner, "Hiveon" in Type. */
export const hiveon = bitmainStyleDialect('hiveon', {
  family: 'hiveon',
  // Hiveon S19x88 marks most chips 'x' while hashing normally (QUIRKS §8): not a dead-chip signal.
  trustChipErrors: false,
  firmwareVersion: (version, statsVersion) => {
    const base = bitmainVersionText(version, statsVersion);
    return base === undefined ? undefined : `Hiveon ${base}`;
  },
});
