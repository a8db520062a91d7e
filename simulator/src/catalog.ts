/**
 * The simulated hardware catalog: one profile per model + firmware combination the simulator can impersonate.
 * The inventory writer reads model/nominalThs/boards/chipsPerBoard/fans/cooling/firmware/vendor from here to fill
 * each miner's expectations; the reply builders read the dialect details (chain numbering, fan slots ...).
 */
import type { Cooling, FirmwareFamily, Vendor } from '@flymining/shared';

/**
 * Profiles the exporter reads over the CGMiner-style API alone (the e2e tests cycle through these).
 * API_NEXT_PROFILE_IDS are units whose data sits (partly) behind the newer APIs; ALL_PROFILE_IDS is both.
 */
export const PROFILE_IDS = [
  'antminer-s19pro',
  'antminer-s9',
  'antminer-s9-hiveon',
  'antminer-s9-vnish',
  'antminer-s19kpro-luxos',
  'antminer-s21xp-hyd',
  'braiins-s9',
  'whatsminer-m31s',
  'avalon-1246',
] as const;

/** Units of today's firmware: Whatsminer API v3, Antminer web CGI, Braiins OS REST, ePIC HTTP, VNish HTTP. */
export const API_NEXT_PROFILE_IDS = [
  'whatsminer-m60s',
  'antminer-s23-hyd',
  'braiins-s19xp',
  'braiins-s21pro',
  'epic-s19xp',
  'antminer-s19jpro-vnish',
] as const;

export const ALL_PROFILE_IDS = [...PROFILE_IDS, ...API_NEXT_PROFILE_IDS] as const;

export type ProfileId = (typeof PROFILE_IDS)[number] | (typeof API_NEXT_PROFILE_IDS)[number];

/** How replies are written; several profiles share one dialect. btminer-v3: a v3 unit's crippled port 4028. */
export type ReplyDialect = 'bmminer' | 'bmminer-s9' | 'luxos' | 'bosminer' | 'btminer' | 'btminer-v3' | 'avalon';

/** ePIC is not a firmware family of the shared sample yet; the simulator names it on its own. */
export type SimFirmware = FirmwareFamily | 'epic';

/** The HTTP API a unit serves on its web port (80, or its own port in ports mode). */
export type HttpApi = 'antminer-cgi' | 'braiins-rest' | 'vnish-rest';

/** Which transports a unit serves; absent: the CGMiner-style API on the main port only. */
export interface ApiSet {
  /** What listens on the main port (4028): the CGMiner-style API, or ePIC's HTTP API. */
  main: 'cgminer' | 'epic-http';
  /** A web API on the unit's HTTP port. */
  http?: HttpApi;
  /** Whatsminer API v3 on TCP 4433. */
  whatsminerV3?: boolean;
  /** Firmware version as the newer API reports it (BOS `bos_version.current`, v3 `fwversion`, ...). */
  firmwareVersion?: string;
  /** Braiins OS REST shape generation. */
  bosRelease?: '25.07' | '26.04';
}

export const CGMINER_ONLY: ApiSet = { main: 'cgminer' };

export interface SimProfile {
  id: ProfileId;
  vendor: Vendor;
  firmware: SimFirmware;
  /** Transports beyond the CGMiner API on the main port; absent means that API only. */
  api?: ApiSet;
  /** Model as the firmware names it in `Type` / `PROD` / summary. */
  model: string;
  nominalThs: number;
  boards: number;
  chipsPerBoard: number;
  /** Fans the unit really has (0 for hydro). */
  fans: number;
  cooling: Extract<Cooling, 'air' | 'hydro'>;
  /** Wall power while hashing at nominal. */
  typicalPowerW: number;
  dialect: ReplyDialect;
  /** Commands the firmware answers (anything else gets code 14, privileged ones code 45). */
  commands: readonly string[];
  /** Whether `a+b` multi-command requests are answered (stock S19-era bmminer and btminer refuse them). */
  multiCommand: boolean;
  /** Whether the firmware has a sleep / curtail mode we know how it reports. */
  supportsSleep: boolean;
  /** Firmware number of the first hashboard chain (S9: 6; S19: 1; bosminer devs ID 6 on S9; btminer slot 0). */
  chainBase: number;
  /** Chain slots the stats reply lists, empty ones padded (S19: 4, S9: 16). */
  chainSlots: number;
  /** `fanN` slot numbers holding the real fans, in fan order (S9 uses fan5/fan6). */
  fanSlots: readonly number[];
  /** `fanN` slots the stats reply lists in total. */
  fanSlotCount: number;
  /** Fan speed at 100 %. */
  maxFanRpm: number;
  /** chain_acs groups chips in blocks of this size. */
  chipGroup: number;
  /** Chip clock while hashing. */
  frequencyMhz: number;
}

const BMMINER_S19_COMMANDS = ['version', 'summary', 'stats', 'pools', 'devs'] as const;
const BMMINER_S9_COMMANDS = ['version', 'summary', 'stats', 'pools'] as const;

/** Stock bmminer on the S19/S21 generation: chains 1-4, no `+` multi-commands, Mode 254 sleep. */
const STOCK_BMMINER = {
  vendor: 'antminer',
  firmware: 'antminer-stock',
  dialect: 'bmminer',
  commands: BMMINER_S19_COMMANDS,
  multiCommand: false,
  supportsSleep: true,
  chainBase: 1,
  chainSlots: 4,
} as const;

const S9_HARDWARE = {
  nominalThs: 13.5,
  boards: 3,
  chipsPerBoard: 63,
  fans: 2,
  cooling: 'air',
  typicalPowerW: 1323,
  chainBase: 6,
  chainSlots: 16,
  fanSlots: [5, 6],
  fanSlotCount: 8,
  maxFanRpm: 6000,
  chipGroup: 8,
  frequencyMhz: 650,
} as const;

export const PROFILES: Readonly<Record<ProfileId, SimProfile>> = {
  'antminer-s19pro': {
    id: 'antminer-s19pro',
    ...STOCK_BMMINER,
    model: 'Antminer S19 Pro',
    nominalThs: 110,
    boards: 3,
    chipsPerBoard: 114,
    fans: 4,
    cooling: 'air',
    typicalPowerW: 3250,
    fanSlots: [1, 2, 3, 4],
    fanSlotCount: 4,
    maxFanRpm: 6000,
    chipGroup: 3,
    frequencyMhz: 525,
  },
  'antminer-s21xp-hyd': {
    id: 'antminer-s21xp-hyd',
    ...STOCK_BMMINER,
    model: 'Antminer S21 XP Hyd.',
    nominalThs: 473,
    boards: 3,
    chipsPerBoard: 110,
    fans: 0,
    cooling: 'hydro',
    typicalPowerW: 5676,
    // QUIRKS §7: the S21 XP Hyd. still lists fan_num 4 with fan1-4 reading 0.
    fanSlots: [],
    fanSlotCount: 4,
    maxFanRpm: 0,
    chipGroup: 5,
    frequencyMhz: 490,
  },
  'antminer-s9': {
    id: 'antminer-s9',
    vendor: 'antminer',
    firmware: 'antminer-stock',
    model: 'Antminer S9',
    ...S9_HARDWARE,
    dialect: 'bmminer-s9',
    commands: BMMINER_S9_COMMANDS,
    multiCommand: true,
    supportsSleep: false,
  },
  'antminer-s9-hiveon': {
    id: 'antminer-s9-hiveon',
    vendor: 'antminer',
    firmware: 'hiveon',
    model: 'Antminer S9 Hiveon',
    ...S9_HARDWARE,
    dialect: 'bmminer-s9',
    commands: BMMINER_S9_COMMANDS,
    multiCommand: true,
    supportsSleep: false,
    frequencyMhz: 550,
  },
  'antminer-s9-vnish': {
    id: 'antminer-s9-vnish',
    vendor: 'antminer',
    firmware: 'vnish',
    model: 'Antminer S9 (vnish 3.8.6)',
    ...S9_HARDWARE,
    dialect: 'bmminer-s9',
    commands: BMMINER_S9_COMMANDS,
    multiCommand: true,
    supportsSleep: false,
    frequencyMhz: 600,
  },
  'antminer-s19kpro-luxos': {
    id: 'antminer-s19kpro-luxos',
    vendor: 'antminer',
    firmware: 'luxos',
    model: 'Antminer S19k Pro',
    nominalThs: 120,
    boards: 3,
    chipsPerBoard: 77,
    fans: 4,
    cooling: 'air',
    typicalPowerW: 2760,
    dialect: 'luxos',
    commands: ['version', 'summary', 'stats', 'pools', 'devs', 'fans', 'temps', 'power', 'config'],
    multiCommand: true,
    supportsSleep: true,
    chainBase: 1,
    chainSlots: 4,
    fanSlots: [1, 2, 3, 4],
    fanSlotCount: 4,
    maxFanRpm: 6000,
    chipGroup: 4,
    frequencyMhz: 300,
  },
  'braiins-s9': {
    id: 'braiins-s9',
    vendor: 'braiins',
    firmware: 'braiins-os',
    model: 'Antminer S9',
    ...S9_HARDWARE,
    dialect: 'bosminer',
    commands: ['version', 'summary', 'devs', 'edevs', 'temps', 'fans', 'pools'],
    multiCommand: true,
    supportsSleep: false,
  },
  'whatsminer-m31s': {
    id: 'whatsminer-m31s',
    vendor: 'whatsminer',
    firmware: 'whatsminer',
    model: 'WhatsMiner M31S',
    nominalThs: 76,
    boards: 3,
    chipsPerBoard: 105,
    fans: 2,
    cooling: 'air',
    typicalPowerW: 3400,
    dialect: 'btminer',
    commands: ['summary', 'devs', 'edevs', 'pools', 'status', 'get_version'],
    multiCommand: false,
    supportsSleep: true,
    chainBase: 0,
    chainSlots: 3,
    fanSlots: [1, 2],
    fanSlotCount: 2,
    maxFanRpm: 7000,
    chipGroup: 1,
    frequencyMhz: 700,
  },
  'avalon-1246': {
    id: 'avalon-1246',
    vendor: 'avalon',
    firmware: 'avalon',
    model: 'AvalonMiner 1246',
    nominalThs: 90,
    boards: 3,
    chipsPerBoard: 120,
    fans: 4,
    cooling: 'air',
    typicalPowerW: 3420,
    dialect: 'avalon',
    commands: ['version', 'summary', 'stats', 'pools', 'devs'],
    multiCommand: true,
    supportsSleep: true,
    chainBase: 0,
    chainSlots: 3,
    fanSlots: [1, 2, 3, 4],
    fanSlotCount: 4,
    maxFanRpm: 7400,
    chipGroup: 1,
    frequencyMhz: 502,
  },
  'whatsminer-m60s': {
    id: 'whatsminer-m60s',
    vendor: 'whatsminer',
    firmware: 'whatsminer',
    // As get.device.info names it (`miner.type`); port 4028 no longer says the model at all.
    model: 'M60S_VK40',
    nominalThs: 181,
    boards: 3,
    chipsPerBoard: 75,
    fans: 2,
    cooling: 'air',
    typicalPowerW: 3150,
    dialect: 'btminer-v3',
    // Firmware from 2024-11 on: port 4028 gives pools and uptime, no hashboards or model (issue 13).
    commands: ['summary', 'pools'],
    multiCommand: false,
    supportsSleep: true,
    chainBase: 0,
    chainSlots: 3,
    fanSlots: [1, 2],
    fanSlotCount: 2,
    maxFanRpm: 6600,
    chipGroup: 1,
    frequencyMhz: 625,
    api: { main: 'cgminer', whatsminerV3: true, firmwareVersion: '20251209.16.Rel2' },
  },
  'antminer-s23-hyd': {
    id: 'antminer-s23-hyd',
    ...STOCK_BMMINER,
    model: 'Antminer S23 Hyd.',
    nominalThs: 582,
    boards: 3,
    chipsPerBoard: 84,
    fans: 0,
    cooling: 'hydro',
    typicalPowerW: 5525,
    fanSlots: [],
    fanSlotCount: 0,
    maxFanRpm: 0,
    chipGroup: 11,
    frequencyMhz: 327,
    api: { main: 'cgminer', http: 'antminer-cgi', firmwareVersion: 'platform[AML]' },
  },
  'braiins-s19xp': {
    id: 'braiins-s19xp',
    vendor: 'braiins',
    firmware: 'braiins-os',
    model: 'Antminer S19 XP',
    nominalThs: 141,
    boards: 3,
    chipsPerBoard: 110,
    fans: 4,
    cooling: 'air',
    typicalPowerW: 3137,
    dialect: 'bosminer',
    commands: ['version', 'summary', 'devs', 'edevs', 'temps', 'fans', 'pools'],
    multiCommand: true,
    supportsSleep: false,
    chainBase: 1,
    chainSlots: 3,
    fanSlots: [1, 2, 3, 4],
    fanSlotCount: 4,
    maxFanRpm: 6000,
    chipGroup: 1,
    frequencyMhz: 487,
    api: { main: 'cgminer', http: 'braiins-rest', bosRelease: '25.07', firmwareVersion: '2025-08-06-0-3881c51d-25.07-plus' },
  },
  'braiins-s21pro': {
    id: 'braiins-s21pro',
    vendor: 'braiins',
    firmware: 'braiins-os',
    model: 'Antminer S21 Pro',
    nominalThs: 234,
    boards: 3,
    chipsPerBoard: 65,
    fans: 4,
    cooling: 'air',
    typicalPowerW: 3480,
    dialect: 'bosminer',
    commands: ['version', 'summary', 'devs', 'edevs', 'temps', 'fans', 'pools'],
    multiCommand: true,
    supportsSleep: false,
    chainBase: 1,
    chainSlots: 3,
    fanSlots: [1, 2, 3, 4],
    fanSlotCount: 4,
    maxFanRpm: 6000,
    chipGroup: 1,
    frequencyMhz: 630,
    api: { main: 'cgminer', http: 'braiins-rest', bosRelease: '26.04', firmwareVersion: '2026-04-14-0-912d084c-26.04-plus' },
  },
  'epic-s19xp': {
    id: 'epic-s19xp',
    // ePIC's UMC board runs in Antminer hardware; the shared sample has no ePIC vendor or firmware family yet.
    vendor: 'antminer',
    firmware: 'epic',
    model: 'AntMiner S19 XP',
    nominalThs: 143,
    boards: 3,
    chipsPerBoard: 110,
    fans: 4,
    cooling: 'air',
    typicalPowerW: 3000,
    dialect: 'bmminer',
    commands: [],
    multiCommand: false,
    supportsSleep: true,
    chainBase: 0,
    chainSlots: 3,
    fanSlots: [1, 2, 3, 4],
    fanSlotCount: 4,
    maxFanRpm: 6000,
    chipGroup: 10,
    frequencyMhz: 485,
    api: { main: 'epic-http', firmwareVersion: 'PowerPlay-BMS v1.5.13' },
  },
  'antminer-s19jpro-vnish': {
    id: 'antminer-s19jpro-vnish',
    ...STOCK_BMMINER,
    firmware: 'vnish',
    model: 'Antminer S19j Pro (vnish 1.2.6)',
    nominalThs: 104,
    boards: 3,
    chipsPerBoard: 126,
    fans: 4,
    cooling: 'air',
    typicalPowerW: 3068,
    fanSlots: [1, 2, 3, 4],
    fanSlotCount: 4,
    maxFanRpm: 6000,
    chipGroup: 3,
    frequencyMhz: 500,
    api: { main: 'cgminer', http: 'vnish-rest', firmwareVersion: '1.2.6' },
  },
};

export function isProfileId(value: string): value is ProfileId {
  return (ALL_PROFILE_IDS as readonly string[]).includes(value);
}

/** The transports a profile serves. */
export function apiOf(profile: SimProfile): ApiSet {
  return profile.api ?? CGMINER_ONLY;
}



/** Catalog facts the inventory writer needs, without the reply-building details. */
export type ProfileSummary = Pick<
  SimProfile,
  'id' | 'vendor' | 'firmware' | 'model' | 'nominalThs' | 'boards' | 'chipsPerBoard' | 'fans' | 'cooling' | 'typicalPowerW'
>;

export function profileSummary(id: ProfileId): ProfileSummary {
  const p = PROFILES[id];
  const { vendor, firmware, model, nominalThs, boards, chipsPerBoard, fans, cooling, typicalPowerW } = p;
  return { id, vendor, firmware, model, nominalThs, boards, chipsPerBoard, fans, cooling, typicalPowerW };
}

/** The whole catalog in inventory-writer form. */
export function profileCatalog(): ProfileSummary[] {
  return ALL_PROFILE_IDS.map(profileSummary);
}
