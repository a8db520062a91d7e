/**
 * Avalon (Canaan cgminer 4.11.1) replies: MH/s in summary/devs, and nearly everything about the hardware packed into
 * the `MM ID0` string of `stats` in Key[value] form (QUIRKS §8). `When` counts seconds since boot (QUIRKS §4.6).
 */
import type { WireObject } from '../json';
import type { MinerReading, SimWorkMode } from '../miner';
import { cgminerWrite, failReply, splitParameter, successReply } from './cgminer-writes';
import {
  CGMINER4_POOLS,
  f2,
  f4,
  f6,
  f8,
  macFromId,
  poolsReply,
  round2,
  sectionReply,
  stableHex,
  type DialectWriter,
  type PoolFormat,
  type ReplyContext,
  type ReplyText,
} from './common';

const CGMINER_VERSION = '4.11.1';
/** `ascset|0,worklevel,set,<n>`: 0, 1, 2 (pyasic's mapping of low, normal, high). */
const AVALON_WORK_LEVEL: readonly SimWorkMode[] = ['low', 'normal', 'high'];
const MM_VERSION = '1246-83-21072802_4ec6bb0_211fc46';

/** Per-chip temperatures as the firmware prints them: each value right-aligned in 3 characters. */
function chipTemps(avg: number, chips: number, dead: number, seedLabel: string): string {
  const hex = stableHex(seedLabel, chips);
  const parts: string[] = [];
  for (let i = 0; i < chips; i++) {
    const wobble = parseInt(hex[i] ?? '8', 16) - 8;
    const t = i < chips - dead ? Math.round(avg + wobble * 0.8) : 0;
    parts.push(String(t).padStart(3, ' '));
  }
  return parts.join(' ');
}

function mmIdString(ctx: ReplyContext): string {
  const { reading: r, profile: p } = ctx;
  const present = r.boards.map((b, i) => ({ b, i })).filter(({ b }) => b.present);
  const working = r.mode === 'hashing' || r.mode === 'no-work';
  const sleeping = r.mode === 'sleeping';
  const tMax = Math.round(Math.max(0, ...present.map(({ b }) => b.chipTempC + 6)));
  const tAvg = Math.round(present.length > 0 ? present.reduce((s, { b }) => s + b.chipTempC, 0) / present.length : 0);
  const fans = r.fansRpm.map((rpm, i) => `Fan${i + 1}[${rpm}]`).join(' ');
  const dh = r.hwErrors > 0 ? Math.min(5, (r.hwErrors / Math.max(1, r.accepted)) * 0.5) : 0;
  const fields = [
    `Ver[${ctx.miner.versionOr(MM_VERSION)}]`,
    `DNA[${stableHex(ctx.miner.identityKey, 16)}]`,
    'MEMFREE[1201472.0]',
    'NETFAIL[0 0 0 0 0 0 0 0]',
    `SYSTEMSTATU[Work: ${sleeping ? 'In Idle' : 'In Work'}, Hash Board: ${present.length} ]`,
    `Elapsed[${r.uptimeS}]`,
    'BOOTBY[0x08.00000000]',
    `LW[${r.uptimeS * 995}]`,
    `MH[${present.map(() => 0).join(' ')}]`,
    `HW[${r.hwErrors}]`,
    `DH[${dh.toFixed(3)}%]`,
    `Temp[${Math.round(r.intakeC)}]`,
    `TMax[${tMax}]`,
    `TAvg[${tAvg}]`,
    fans,
    `FanR[${Math.round(r.fanPercent)}%]`,
    'Vo[329]',
    `PS[0 1214 1316 242 ${Math.round(r.powerW * 0.93)} 1320 ${Math.round(r.powerW)}]`,
    `GHSspd[${(working ? r.rateGhs : 0).toFixed(2)}]`,
    `DHspd[${dh.toFixed(3)}%]`,
    `GHSmm[${r.idealGhs.toFixed(2)}]`,
    `GHSavg[${r.avg30mGhs.toFixed(2)}]`,
    `WU[${(r.rateGhs * 13.7).toFixed(2)}]`,
    `Freq[${p.frequencyMhz.toFixed(2)}]`,
    `Led[${ctx.miner.commandedState().blinking ? 1 : 0}]`,
    `MGHS[${present.map(({ b }) => b.rateGhs.toFixed(2)).join(' ')}]`,
    `MTmax[${present.map(({ b }) => Math.round(b.chipTempC + 6)).join(' ')}]`,
    `MTavg[${present.map(({ b }) => Math.round(b.chipTempC)).join(' ')}]`,
    'TA[360]',
    'Core[A3201]',
    'PING[443]',
    'POWS[0]',
    `HASHS[${present.map(() => 0).join(' ')}]`,
    'POOLS[0]',
    `SoftOFF[${sleeping ? 1 : 0}]`,
    `ECHU[${present.map(() => 0).join(' ')}]`,
    'ECMM[0]',
    ...present.map(({ b, i }) => `PVT_T${i}[${chipTemps(b.chipTempC, p.chipsPerBoard, b.chipsBad + (p.chipsPerBoard - b.chipsFound), `${ctx.miner.identityKey}/${i}`)}]`),
    `WORKMODE[1]`,
    `WORKLEVEL[${AVALON_WORK_LEVEL.indexOf(ctx.miner.commandedState().workMode)}]`,
  ];
  return fields.join(' ');
}

function summaryItem(r: MinerReading): WireObject {
  return {
    Elapsed: r.uptimeS,
    'MHS av': f2(r.avgGhs * 1000),
    'MHS 30s': f2(r.rateGhs * 1000),
    'MHS 1m': f2(r.rateGhs * 1000),
    'MHS 5m': f2(r.avg30mGhs * 1000),
    'MHS 15m': f2(r.avg30mGhs * 1000),
    'Found Blocks': 0,
    Getworks: Math.floor(r.uptimeS / 36),
    Accepted: r.accepted,
    Rejected: r.rejected,
    'Hardware Errors': r.hwErrors,
    Utility: f2(r.uptimeS > 0 ? (r.accepted * 60) / r.uptimeS : 0),
    Discarded: r.uptimeS * 11,
    Stale: 0,
    'Get Failures': 0,
    'Local Work': r.uptimeS * 5,
    'Remote Failures': 0,
    'Network Blocks': Math.floor(r.uptimeS / 600),
    'Total MH': f4(Math.round(r.avgGhs * 1000 * r.uptimeS)),
    'Work Utility': f2(r.rateGhs * 13.7),
    'Difficulty Accepted': f8(r.difficultyAccepted),
    'Difficulty Rejected': f8(r.difficultyRejected),
    'Difficulty Stale': f8(0),
    'Best Share': r.bestShare,
    'Device Hardware%': f4(0),
    'Device Rejected%': f4(r.accepted > 0 ? round2((r.rejected / (r.accepted + r.rejected)) * 100) : 0),
    'Pool Rejected%': f4(0),
    'Pool Stale%': f4(0),
    'Last getwork': 0,
  };
}

function poolStats(r: MinerReading): WireObject[] {
  return r.pools.map((pool, i) => ({
    STATS: i + 1,
    ID: `POOL${i}`,
    Elapsed: r.uptimeS,
    Calls: 0,
    Wait: f6(0),
    Max: f6(0),
    Min: f6(99999999),
    'Pool Calls': 0,
    'Pool Attempts': 0,
    'Pool Wait': f6(0),
    'Pool Max': f6(0),
    'Pool Min': f6(99999999),
    'Pool Av': f6(0),
    'Work Had Roll Time': false,
    'Work Can Roll': false,
    'Work Had Expire': false,
    'Work Roll Time': 0,
    'Work Diff': f8(pool.difficulty),
    'Min Diff': f8(pool.difficulty),
    'Max Diff': f8(pool.difficulty),
    'Min Diff Count': pool.accepted > 0 ? 1 : 0,
    'Max Diff Count': pool.accepted,
    'Times Sent': pool.getworks,
    'Bytes Sent': pool.getworks * 130,
    'Times Recv': pool.getworks * 2,
    'Bytes Recv': pool.getworks * 1000,
    'Net Bytes Sent': pool.getworks * 130,
    'Net Bytes Recv': pool.getworks * 1000,
  }));
}

/** Avalon: cgminer 4.11 extended pool fields, last share on the seconds-since-boot clock. */
const AVALON_POOLS: PoolFormat = {
  ...CGMINER4_POOLS,
  extended: true,
  lastShareTime: (ago, r) => (ago === null ? 0 : Math.max(0, r.uptimeS - ago)),
};

export const avalonWriter: DialectWriter = {
  description: () => `cgminer ${CGMINER_VERSION}`,
  writeOptions: {},
  control: (ctx, command, request) => (command === undefined ? undefined : avalonControl(ctx, command, request.parameter)),
  // Avalon control boards have no clock: When is seconds since boot, a little ahead of Elapsed.
  when: (r) => r.uptimeS + 17,
  commands: {
    version: (ctx) =>
      sectionReply(ctx, avalonWriter, 22, 'CGMiner versions', 'VERSION', [
        {
          CGMiner: CGMINER_VERSION,
          API: '3.7',
          PROD: ctx.profile.model,
          MODEL: '1246',
          HWTYPE: 'MM3v2_X3',
          SWTYPE: 'MM314',
          DNA: stableHex(ctx.miner.identityKey, 16),
          MAC: macFromId(ctx.miner.identityKey),
        },
      ]),
    summary: (ctx) => sectionReply(ctx, avalonWriter, 11, 'Summary', 'SUMMARY', [summaryItem(ctx.reading)]),
    stats: (ctx) =>
      sectionReply(ctx, avalonWriter, 70, 'CGMiner stats', 'STATS', [
        {
          STATS: 0,
          ID: 'AVA100',
          Elapsed: ctx.reading.uptimeS,
          Calls: 0,
          Wait: f6(0),
          Max: f6(0),
          Min: f6(99999999),
          'MM ID0': mmIdString(ctx),
          'MM Count': 1,
          'Smart Speed': 1,
          'Voltage Level Offset': 0,
          'Nonce Mask': 25,
        },
        ...poolStats(ctx.reading),
      ]),
    devs: (ctx) => {
      const r = ctx.reading;
      return sectionReply(ctx, avalonWriter, 9, '1 ASC(s)', 'DEVS', [
        {
          ASC: 0,
          Name: 'AVA10',
          ID: 0,
          Enabled: 'Y',
          Status: 'Alive',
          Temperature: f2(r.intakeC),
          'MHS av': f2(r.avgGhs * 1000),
          'MHS 30s': f2(r.rateGhs * 1000),
          'MHS 1m': f2(r.rateGhs * 1000),
          'MHS 5m': f2(r.avg30mGhs * 1000),
          'MHS 15m': f2(r.avg30mGhs * 1000),
          Accepted: r.accepted,
          Rejected: r.rejected,
          'Hardware Errors': r.hwErrors,
          Utility: f2(r.uptimeS > 0 ? (r.accepted * 60) / r.uptimeS : 0),
          'Last Share Pool': 0,
          'Last Share Time': r.uptimeS,
          'Total MH': f4(Math.round(r.avgGhs * 1000 * r.uptimeS)),
          'Diff1 Work': r.accepted * 8,
          'Difficulty Accepted': f8(r.difficultyAccepted),
          'Difficulty Rejected': f8(r.difficultyRejected),
          'Last Share Difficulty': f8(r.pools[0]?.difficulty ?? 0),
          'Last Valid Work': r.uptimeS,
          'Device Hardware%': f4(0),
          'Device Rejected%': f4(0),
          'Device Elapsed': r.uptimeS,
        },
      ]);
    },
    pools: (ctx) => poolsReply(ctx, avalonWriter, AVALON_POOLS),
  },
};

/**
 * Canaan's cgminer grants the API privileged access (public clients send ascset and restart to it): `ascset|0,<opt>`
 * answers `ASC 0 set info: …` (I, 118) for soft-off/on and `ASC 0 set OK` (S, 119) for settings, `ASC 0 set failed:
 * …` (E, 120) otherwise (cgminer api.c; avalon-q-ascset-*.json); restart and the pool commands are cgminer's own.
 */
function avalonControl(ctx: ReplyContext, command: string, parameter: unknown): ReplyText | undefined {
  const description = avalonWriter.description(ctx.profile);
  const miner = ctx.miner;
  const common = cgminerWrite(ctx, description, 'avalon', command, parameter);
  if (common || command !== 'ascset') return common;
  const [device, option, ...args] = splitParameter(parameter);
  if (device === undefined || option === undefined) return failReply(ctx, description, 15, 'Missing option after ASC number');
  if (device !== '0') return failReply(ctx, description, 107, `Invalid ASC id ${device} - range is 0 - 0`);
  const setOk = (): ReplyText => successReply(ctx, description, 'S', 119, 'ASC 0 set OK');
  const failed = (why: string): ReplyText => failReply(ctx, description, 120, `ASC 0 set failed: ${why}`);
  switch (option) {
    case 'help':
      return successReply(ctx, description, 'I', 118, 'ASC 0 set info: help|voltage|fan-spd|led|workmode|worklevel|reboot|softon|softoff|frequency|');
    case 'softoff':
    case 'softon': {
      const at = /^1:(\d+)$/.exec(args[0] ?? '')?.[1];
      if (at === undefined) return failed(`${option} needs 1:<time>`);
      if (option === 'softoff') miner.commandSleep('avalon');
      else miner.commandWake('avalon');
      return successReply(ctx, description, 'I', 118, `ASC 0 set info: success ${option}:${at}`);
    }
    case 'worklevel': {
      const level = Number(args[1]);
      const mode = args[0] === 'set' && Number.isInteger(level) ? AVALON_WORK_LEVEL[level] : undefined;
      if (!mode) return failed(`invalid worklevel '${args.join(',')}'`);
      miner.commandWorkMode('avalon', mode);
      return setOk();
    }
    case 'led': {
      if (args[0] !== '1-1' && args[0] !== '1-0') return failed(`invalid led '${args[0] ?? ''}'`);
      miner.commandBlink('avalon', args[0] === '1-1');
      return setOk();
    }
    case 'reboot':
      miner.commandReboot('avalon');
      return setOk();
  }
  return failed(`unknown option '${option}'`);
}
