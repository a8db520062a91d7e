/**
 * bosminer (Braiins OS) replies: serde-written JSON (alphabetical keys, full-precision floats, whole floats as `53.0`),
 * MH/s everywhere, boards numbered by connector (6, 7, 8 on an S9), and no `stats` (QUIRKS §12).
 */
import type { WireObject } from '../json';
import type { MinerReading } from '../miner';
import { sectionReply, serdeFloat, unixSeconds, type DialectWriter, type ReplyContext } from './common';

const BOSMINER_VERSION = '0.2.0-d360818';
/** bosminer lists four fan slots on an S9, which has two fans (QUIRKS §7). */
const BOSMINER_FAN_SLOTS = 4;

/** Rolling averages that, like bosminer's, start near zero after boot and catch up over their window (QUIRKS §10). */
function windowed(r: MinerReading, ghs: number, windowS: number): number {
  return ghs * 1000 * Math.min(1, r.uptimeS / windowS);
}

function bosSummary(r: MinerReading): WireObject {
  const pct = r.accepted + r.rejected > 0 ? (r.rejected / (r.accepted + r.rejected)) * 100 : 0;
  return {
    Accepted: r.accepted,
    'Best Share': r.bestShare,
    'Device Hardware%': serdeFloat(0),
    'Device Rejected%': serdeFloat(pct),
    'Difficulty Accepted': serdeFloat(r.difficultyAccepted),
    'Difficulty Rejected': serdeFloat(r.difficultyRejected),
    'Difficulty Stale': serdeFloat(0),
    Discarded: 0,
    Elapsed: r.uptimeS,
    'Found Blocks': 0,
    'Get Failures': 0,
    Getworks: Math.floor(r.uptimeS / 13),
    'Hardware Errors': r.hwErrors,
    'Last getwork': unixSeconds(r),
    'Local Work': r.uptimeS * 3900,
    'MHS 15m': serdeFloat(windowed(r, r.avg30mGhs, 900)),
    'MHS 1m': serdeFloat(windowed(r, r.rateGhs, 60)),
    'MHS 24h': serdeFloat(windowed(r, r.avgGhs, 86400)),
    'MHS 5m': serdeFloat(windowed(r, r.avg30mGhs, 300)),
    'MHS 5s': serdeFloat(r.rateGhs * 1000),
    'MHS av': serdeFloat(r.avgGhs * 1000),
    'Network Blocks': 0,
    'Pool Rejected%': serdeFloat(pct),
    'Pool Stale%': serdeFloat(0),
    Rejected: r.rejected,
    'Remote Failures': 0,
    Stale: 0,
    'Total MH': serdeFloat(r.avgGhs * 1000 * r.uptimeS),
    Utility: serdeFloat(r.uptimeS > 0 ? (r.accepted * 60) / r.uptimeS : 0),
    'Work Utility': serdeFloat(r.uptimeS > 0 ? (r.difficultyAccepted * 60) / r.uptimeS : 0),
  };
}

function bosDevs(ctx: ReplyContext): WireObject[] {
  const { reading: r, profile: p } = ctx;
  const devs: WireObject[] = [];
  r.boards.forEach((b, i) => {
    // A board bosminer cannot see is simply not listed.
    if (!b.present) return;
    const mhs = b.rateGhs * 1000;
    devs.push({
      ASC: i,
      Accepted: b.accepted,
      'Device Elapsed': r.uptimeS,
      'Device Hardware%': serdeFloat(0),
      'Device Rejected%': serdeFloat(0),
      'Diff1 Work': b.accepted * 64,
      'Difficulty Accepted': serdeFloat(b.accepted * 65536),
      'Difficulty Rejected': serdeFloat(0),
      Enabled: 'Y',
      'Hardware Error MHS 15m': serdeFloat(0),
      'Hardware Errors': b.hwErrors,
      ID: p.chainBase + i,
      'Last Share Difficulty': serdeFloat(65536),
      'Last Share Pool': -1,
      'Last Share Time': unixSeconds(r),
      'Last Valid Work': unixSeconds(r),
      'MHS 15m': serdeFloat(windowed(r, b.rateGhs, 900)),
      'MHS 1m': serdeFloat(windowed(r, b.rateGhs, 60)),
      'MHS 5m': serdeFloat(windowed(r, b.rateGhs, 300)),
      'MHS 5s': serdeFloat(mhs),
      'MHS av': serdeFloat(r.boards.length > 0 ? (r.avgGhs * 1000) / r.boards.length : 0),
      Name: '',
      'Nominal MHS': serdeFloat(b.idealGhs * 1000),
      Rejected: 0,
      Status: 'Alive',
      // bosminer does not fill the per-device temperature (QUIRKS §8).
      Temperature: serdeFloat(0),
      'Total MH': serdeFloat((r.avgGhs * 1000 * r.uptimeS) / r.boards.length),
      Utility: serdeFloat(0),
    });
  });
  return devs;
}

export const bosminerWriter: DialectWriter = {
  description: () => `BOSminer ${BOSMINER_VERSION}`,
  writeOptions: { sortKeys: true },
  commands: {
    version: (ctx) => sectionReply(ctx, bosminerWriter, 22, 'BOSminer versions', 'VERSION', [{ API: '3.7', BOSminer: ctx.miner.versionOr(BOSMINER_VERSION) }]),
    summary: (ctx) => sectionReply(ctx, bosminerWriter, 11, 'Summary', 'SUMMARY', [bosSummary(ctx.reading)]),
    devs: (ctx) => {
      const devs = bosDevs(ctx);
      return sectionReply(ctx, bosminerWriter, 9, `${devs.length} ASC(s)`, 'DEVS', devs);
    },
    edevs: (ctx) => {
      const devs = bosDevs(ctx);
      return sectionReply(ctx, bosminerWriter, 9, `${devs.length} ASC(s)`, 'DEVS', devs);
    },
    temps: (ctx) => {
      const temps: WireObject[] = [];
      ctx.reading.boards.forEach((b, i) => {
        if (!b.present) return;
        temps.push({ Board: serdeFloat(Math.round(b.boardTempC)), Chip: serdeFloat(0), ID: ctx.profile.chainBase + i, TEMP: temps.length });
      });
      return sectionReply(ctx, bosminerWriter, 201, `${temps.length} Temp(s)`, 'TEMPS', temps);
    },
    fans: (ctx) => {
      const r = ctx.reading;
      const fans = Array.from({ length: BOSMINER_FAN_SLOTS }, (_, i) => ({
        FAN: i,
        ID: i,
        RPM: r.fansRpm[i] ?? 0,
        Speed: Math.round(r.fanPercent),
      }));
      return sectionReply(ctx, bosminerWriter, 202, `${fans.length} Fan(s)`, 'FANS', fans);
    },
    pools: (ctx) => {
      const r = ctx.reading;
      const items: WireObject[] = r.pools.map((pool, i) => ({
        Accepted: pool.accepted,
        AsicBoost: true,
        'Bad Work': 0,
        'Best Share': pool.active ? r.bestShare : 0,
        'Current Block Height': 0,
        'Current Block Version': pool.active ? 536870912 : 0,
        'Diff1 Shares': pool.accepted * 64,
        'Difficulty Accepted': serdeFloat(pool.accepted * pool.difficulty),
        'Difficulty Rejected': serdeFloat(pool.rejected * pool.difficulty),
        'Difficulty Stale': serdeFloat(0),
        Discarded: 0,
        'Get Failures': pool.alive ? 0 : 3,
        Getworks: pool.getworks,
        'Has GBT': false,
        'Has Stratum': true,
        'Has Vmask': true,
        'Last Share Difficulty': serdeFloat(pool.difficulty),
        'Last Share Time': pool.lastShareAgoS === null ? 0 : unixSeconds(r) - pool.lastShareAgoS,
        'Long Poll': 'N',
        POOL: i,
        'Pool Rejected%': serdeFloat(0),
        'Pool Stale%': serdeFloat(0),
        Priority: i,
        Proxy: '',
        'Proxy Type': '',
        Quota: 1,
        Rejected: pool.rejected,
        'Remote Failures': 0,
        Stale: 0,
        Status: pool.alive ? 'Alive' : 'Dead',
        'Stratum Active': pool.active,
        'Stratum Difficulty': serdeFloat(pool.difficulty),
        'Stratum URL': pool.url.replace(/^stratum\+tcp:\/\//, ''),
        URL: pool.url,
        User: pool.user,
        'Work Difficulty': serdeFloat(pool.difficulty),
        Works: pool.getworks * 60000,
      }));
      return sectionReply(ctx, bosminerWriter, 7, `${items.length} Pool(s)`, 'POOLS', items);
    },
  },
};
