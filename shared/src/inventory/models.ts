import type { Cooling, MinerThresholds } from './types';

/** What a model is expected to report; the inventory may override any of it per slot. */
export interface ModelExpectations {
  nominalThs: number;
  fans: number;
  hashboards: number;
  chipsPerBoard: number;
  cooling: Cooling;
  thresholds?: Partial<MinerThresholds>;
}

/**
 * Nameplate figures of common models (vendors' spec sheets). Chip counts per board are the ones the firmware
 * reports in chain_acn / Effective Chips (the Whatsminer counts are those of the captures in the test fixtures). Extend through the inventory's `models:` section rather than here.
 */
export const MODEL_CATALOG: Readonly<Record<string, ModelExpectations>> = {
  'Antminer S9': { nominalThs: 13.5, fans: 2, hashboards: 3, chipsPerBoard: 63, cooling: 'air' },
  'Antminer S9k': { nominalThs: 13.5, fans: 2, hashboards: 3, chipsPerBoard: 60, cooling: 'air' },
  'Antminer T15': { nominalThs: 23, fans: 2, hashboards: 3, chipsPerBoard: 30, cooling: 'air' },
  'Antminer S17 Pro': { nominalThs: 53, fans: 4, hashboards: 3, chipsPerBoard: 48, cooling: 'air' },
  'Antminer S17+': { nominalThs: 73, fans: 4, hashboards: 3, chipsPerBoard: 65, cooling: 'air' },
  'Antminer T17+': { nominalThs: 64, fans: 4, hashboards: 3, chipsPerBoard: 44, cooling: 'air' },
  'Antminer S19': { nominalThs: 95, fans: 4, hashboards: 3, chipsPerBoard: 76, cooling: 'air' },
  'Antminer S19 Pro': { nominalThs: 110, fans: 4, hashboards: 3, chipsPerBoard: 114, cooling: 'air' },
  'Antminer S19k Pro': { nominalThs: 120, fans: 4, hashboards: 3, chipsPerBoard: 77, cooling: 'air' },
  // Chip count not seen in any capture (unverified; the simulator uses the same figure).
  'Antminer S21 XP Hyd.': {
    nominalThs: 473,
    fans: 0,
    hashboards: 3,
    chipsPerBoard: 110,
    cooling: 'hydro',
    thresholds: { boardOverheatC: 80 },
  },
  'WhatsMiner M20S': { nominalThs: 68, fans: 2, hashboards: 3, chipsPerBoard: 111, cooling: 'air' },
  'WhatsMiner M30S': { nominalThs: 86, fans: 2, hashboards: 3, chipsPerBoard: 156, cooling: 'air' },
  'WhatsMiner M31S': { nominalThs: 76, fans: 2, hashboards: 3, chipsPerBoard: 105, cooling: 'air' },
  'AvalonMiner 1047': { nominalThs: 37, fans: 2, hashboards: 3, chipsPerBoard: 114, cooling: 'air' },
  'AvalonMiner 1246': { nominalThs: 90, fans: 4, hashboards: 3, chipsPerBoard: 120, cooling: 'air' },
};

export const DEFAULT_THRESHOLDS: MinerThresholds = {
  chipOverheatC: 95,
  boardOverheatC: 85,
  lowHashrateShare: 0.8,
  lowHashrateScrapes: 3,
  fanStoppedRpm: 300,
};
