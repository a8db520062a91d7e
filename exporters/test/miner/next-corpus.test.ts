/**
 * Every reply of the newer-protocol corpus the exporter reads, parsed by its backend and checked value by value
 * against the raw reply (values are read from the raw file, not typed in), as the CGMiner-API corpus is.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ANTMINER_CGI,
  antminerNewApi,
  antminerWeb,
  braiinsRest,
  BRAIINS_REST,
  epicV1,
  EPIC_PATHS,
  V3_COMMANDS,
  whatsminerV3,
  type Replies,
} from '../../src/miner';
import { NEXT_DIR, nextReply, rawJson, V3 } from './next-fixtures';

describe('fixtures/miner-api-next', () => {
  test('every copied reply is byte for byte the corpus file its SOURCES.md hashes', () => {
    const lines = readFileSync(join(NEXT_DIR, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(25);
    for (const line of lines) {
      const [hash, file] = line.split(/\s+/) as [string, string];
      expect(createHash('sha256').update(readFileSync(join(NEXT_DIR, file))).digest('hex')).toBe(hash);
      // The publisher-side hash in the family's SOURCES.md is the same: the copy is the corpus file.
      expect(readFileSync(join(NEXT_DIR, file.split('/')[0] as string, 'SOURCES.md'), 'utf8')).toContain(hash);
    }
  });
});

describe('Whatsminer API v3 (M60S_VK40, fw 20251209.16.Rel2)', () => {
  const info = rawJson('whatsminer-v3', V3('get.device.info')).msg;
  const summary = rawJson('whatsminer-v3', V3('get.miner.status-summary')).msg.summary;
  const edevs = rawJson('whatsminer-v3', V3('get.miner.status-edevs')).msg.edevs;
  const pools = rawJson('whatsminer-v3', V3('get.miner.status-pools')).msg.pools;
  const replies: Replies = {
    [V3_COMMANDS.deviceInfo]: nextReply('whatsminer-v3', V3('get.device.info'), 'whatsminer-v3'),
    [V3_COMMANDS.summary]: nextReply('whatsminer-v3', V3('get.miner.status-summary'), 'whatsminer-v3'),
    [V3_COMMANDS.edevs]: nextReply('whatsminer-v3', V3('get.miner.status-edevs'), 'whatsminer-v3'),
    [V3_COMMANDS.pools]: nextReply('whatsminer-v3', V3('get.miner.status-pools'), 'whatsminer-v3'),
  };
  const sample = whatsminerV3.parse(replies);

  test('identity: model from miner.type, serial, MAC, firmware version, PSU from power', () => {
    expect(sample.model).toBe(`WhatsMiner ${info.miner.type.split('_')[0]}`);
    expect(sample).toMatchObject({ vendor: 'whatsminer', firmware: 'whatsminer', protocol: 'whatsminer-v3' });
    expect(sample.serial).toBe(info.miner['miner-sn']);
    expect(sample.mac).toBe(info.network.mac);
    expect(sample.firmwareVersion).toBe(info.system.fwversion);
    expect(sample.psu).toEqual({ model: info.power.model, serial: info.power.sn, firmwareVersion: info.power.swversion, fanRpm: info.power.fanspeed });
    // No error-code key in this capture: the firmware reports none.
    expect(info['error-code']).toBeUndefined();
    expect(sample.firmwareErrors).toEqual([]);
  });

  test('summary: TH/s figures, power, J/TH, uptime, ambient, power limit, both fans', () => {
    expect(sample.hashrateThs).toBe(summary['hash-realtime']);
    expect(sample.hashrateAvgThs).toBe(summary['hash-average']);
    expect(sample.nominalThs).toBe(summary['factory-hash']);
    expect(sample.powerW).toBe(summary['power-realtime']);
    expect(sample.efficiencyJth).toBe(summary['power-rate']);
    expect(sample.uptimeS).toBe(summary.elapsed);
    expect(sample.ambientTempC).toBe(summary['environment-temperature']);
    expect(sample.powerTargetW).toBe(summary['power-limit']);
    expect(sample.fans).toEqual([
      { index: 0, rpm: summary['fan-speed-in'] },
      { index: 1, rpm: summary['fan-speed-out'] },
    ]);
    expect(sample.mode).toBe('hashing');
  });

  test('boards from edevs, with board temperature from summary and serial from pcbsn<id>', () => {
    expect(sample.boards).toHaveLength(edevs.length);
    for (const d of edevs) {
      const board = sample.boards.find((b) => b.index === d.id);
      expect(board).toEqual({
        index: d.id,
        present: true,
        hashrateThs: d['hash-realtime'],
        chipsFound: d['effective-chips'],
        chipTempC: d['chip-temp-max'],
        boardTempC: summary['board-temperature'][d.id],
        frequencyMhz: d.freq,
        serial: info.miner[`pcbsn${d.id}`],
      });
    }
  });

  test('pools: account as user, priority as index, stratum-active as the active one', () => {
    expect(sample.pools).toEqual(
      pools.map((p: any) => ({ index: p['pool-priority'], url: p.url, user: p.account, status: 'alive', active: p['stratum-active'] })),
    );
  });
});

describe('Antminer web CGI (S23 Hyd. stats.cgi/summary.cgi, S19 Pro/L3+/S9 system info and miner conf)', () => {
  const statsRaw = rawJson('antminer-cgi', 'antminer-s23-hydro-stats.cgi.json');
  const summaryRaw = rawJson('antminer-cgi', 'antminer-s23-hydro-summary.cgi.json');
  const stats = nextReply('antminer-cgi', 'antminer-s23-hydro-stats.cgi.json', 'antminer-web');
  const summary = nextReply('antminer-cgi', 'antminer-s23-hydro-summary.cgi.json', 'antminer-web');

  test('S23 Hyd.: per-chain boards (GH/s → TH/s, chips, serial, temperatures) and water inlet/outlet', () => {
    const sample = antminerWeb.parse({ [ANTMINER_CGI.summary]: summary, [ANTMINER_CGI.stats]: stats });
    const data = statsRaw.STATS[0];
    expect(sample).toMatchObject({ vendor: 'antminer', firmware: 'antminer-stock', protocol: 'antminer-web', model: statsRaw.INFO.type, mode: 'hashing' });
    expect(sample.firmwareVersion).toBe(statsRaw.INFO.CompileTime);
    expect(sample.hashrateThs).toBeCloseTo(data.rate_5s / 1000, 9);
    expect(sample.hashrateAvgThs).toBeCloseTo(summaryRaw.SUMMARY[0].rate_avg / 1000, 9);
    expect(sample.nominalThs).toBeCloseTo(data.rate_ideal / 1000, 9);
    expect(sample.powerW).toBe(data.watt);
    expect(sample.uptimeS).toBe(summaryRaw.SUMMARY[0].elapsed);
    expect(sample.hwErrors).toBe(summaryRaw.SUMMARY[0].hw_all);
    expect(sample.fans).toEqual([]); // hydro: fan [] and fan_num 0
    expect(sample.boards).toHaveLength(data.chain.length);
    for (const chain of data.chain) {
      const board = sample.boards.find((b) => b.index === chain.index)!;
      expect(board.hashrateThs).toBeCloseTo(chain.rate_real / 1000, 9);
      expect(board.chipsFound).toBe(chain.asic_num);
      expect(board.chipsOk).toBe([...chain.asic].filter((c) => c === 'o').length);
      expect(board.chipsBad).toBe(0);
      expect(board.serial).toBe(chain.sn);
      expect(board.boardTempC).toBe(Math.max(...chain.temp_pcb));
      expect(board.chipTempC).toBe(Math.max(...chain.temp_chip));
      expect(board.frequencyMhz).toBe(chain.freq_avg);
      expect(board.inletTempC).toBe(chain.temp_pcb[0]);
      expect(board.outletTempC).toBe(chain.temp_pcb[2]);
    }
    expect(sample.water).toEqual({
      inletTempC: Math.min(...data.chain.map((c: any) => c.temp_pcb[0])),
      outletTempC: Math.max(...data.chain.map((c: any) => c.temp_pcb[2])),
    });
  });

  test('summary status: all "s" or "" (hydro fans) is no firmware error; an "e" entry is one, coded <type>:<code>', () => {
    const sample = antminerWeb.parse({ [ANTMINER_CGI.summary]: summary });
    expect(summaryRaw.SUMMARY[0].status.map((s: any) => s.status)).toEqual(['s', 's', '', 's']);
    expect(sample.firmwareErrors).toEqual([]);
    const failing = structuredClone(summaryRaw);
    failing.SUMMARY[0].status[2] = { ...failing.SUMMARY[0].status[2], status: 'e', code: 7, msg: 'fan lost' };
    const withError = antminerWeb.parse({ [ANTMINER_CGI.summary]: failing });
    expect(withError.firmwareErrors).toEqual([{ code: 'fans:7', text: 'fan lost', component: 'fans', level: 'error' }]);
  });

  test.each([
    ['antminer-s19pro-get_system_info.json', 'antminer-s19pro-get_miner_conf-redacted.json', 'normal'],
    ['antminer-l3plus-get_system_info.json', 'antminer-l3plus-get_miner_conf.json', undefined],
    ['vnish-antminer-s17plus-get_system_info.json', 'antminer-s9-get_miner_conf.json', undefined],
    ['antminer-s19pro-get_system_info.json', 'antminer-s19pro-unconfigured-get_miner_conf.json', undefined],
  ])('%s + %s: MAC and serial from system info, work mode from miner conf', (infoFile, confFile, mode) => {
    const info = rawJson('antminer-cgi', infoFile);
    const conf = rawJson('antminer-cgi', confFile);
    const sample = antminerWeb.parse({
      [ANTMINER_CGI.summary]: summary,
      [ANTMINER_CGI.systemInfo]: nextReply('antminer-cgi', infoFile, 'antminer-web'),
      [ANTMINER_CGI.minerConf]: nextReply('antminer-cgi', confFile, 'antminer-web'),
    });
    expect(sample.mac).toBe(info.macaddr);
    expect(sample.serial).toBe(info.serinum); // only newer firmware has serinum: undefined on these
    expect(sample.model).toBe(info.minertype); // no stats: the model comes from get_system_info
    expect(conf['bitmain-work-mode']).toBe(mode === 'normal' ? '0' : conf['bitmain-work-mode']);
    expect(sample.workMode).toBe(mode);
  });

  test('the same bodies over TCP 4028 with new_api (antminer/new-api) read the same, plus cgminer pools', () => {
    const web = antminerWeb.parse({ [ANTMINER_CGI.summary]: summary, [ANTMINER_CGI.stats]: stats });
    const tcp = antminerNewApi.parse({ summary, stats });
    // The CGI backend does not read pools (no pools.cgi capture): it says so, the TCP one reads cgminer pools.
    expect(web.unreported).toEqual(['pools']);
    expect({ ...tcp, protocol: 'antminer-web', unreported: ['pools'] }).toEqual(web);
    expect(antminerNewApi.requestFor?.('stats')).toEqual({ command: 'stats', new_api: true });
  });
});

describe('Braiins OS REST (25.07 S19 XP, 25.11 errors, 26.04 S21 Pro)', () => {
  const file = (version: string, model: string, name: string): string => `bos-${version}-${model}-${name}.json`;
  const read = (version: string, model: string, name: string): any => rawJson('braiins-rest', file(version, model, name));
  const reply = (version: string, model: string, name: string) => nextReply('braiins-rest', file(version, model, name), 'braiins-rest');
  const ths = (x: { gigahash_per_second: number }): number => x.gigahash_per_second / 1000;

  test('25.07: details, stats, hashboards, cooling, pools and tuner state, value by value', () => {
    const replies: Replies = {
      [BRAIINS_REST.details]: reply('25.07', 's19xp', 'miner_details'),
      [BRAIINS_REST.stats]: reply('25.07', 's19xp', 'miner_stats'),
      [BRAIINS_REST.hashboards]: reply('25.07', 's19xp', 'miner_hw_hashboards'),
      [BRAIINS_REST.cooling]: reply('25.07', 's19xp', 'cooling_state'),
      [BRAIINS_REST.pools]: reply('25.07', 's19xp', 'pools'),
      [BRAIINS_REST.tuner]: reply('25.07', 's19xp', 'performance_tuner_state'),
      [BRAIINS_REST.errors]: reply('25.07', 's19xp', 'miner_errors'),
    };
    const sample = braiinsRest.parse(replies);
    const details = read('25.07', 's19xp', 'miner_details');
    const stats = read('25.07', 's19xp', 'miner_stats');
    const boards = read('25.07', 's19xp', 'miner_hw_hashboards').hashboards;
    const cooling = read('25.07', 's19xp', 'cooling_state');
    const groups = read('25.07', 's19xp', 'pools');
    const tuner = read('25.07', 's19xp', 'performance_tuner_state');
    expect(sample).toMatchObject({ vendor: 'braiins', firmware: 'braiins-os', protocol: 'braiins-rest', model: details.miner_identity.miner_model, mode: 'hashing' });
    expect(sample.firmwareVersion).toBe(details.bos_version.current);
    expect(sample.mac).toBe(details.mac_address);
    expect(details.serial_number).toBeNull();
    expect(sample.serial).toBeUndefined();
    expect(sample.psu).toEqual({ model: details.psu_info.model_name }); // serial and fw_version are null here
    expect(sample.uptimeS).toBe(details.bosminer_uptime_s);
    expect(sample.nominalThs).toBe(ths(details.sticker_hashrate));
    expect(sample.hashrateThs).toBe(ths(stats.miner_stats.real_hashrate.last_5s));
    expect(sample.hashrateAvgThs).toBe(ths(stats.miner_stats.real_hashrate.since_restart));
    expect(sample.powerW).toBe(stats.power_stats.approximated_consumption.watt);
    expect(sample.efficiencyJth).toBe(stats.power_stats.efficiency.joule_per_terahash);
    expect(sample.boards).toEqual(
      boards.map((b: any) => ({
        index: Number(b.id),
        present: b.enabled,
        hashrateThs: ths(b.stats.real_hashrate.last_5s),
        chipsFound: b.chips_count,
        boardTempC: b.board_temp.degree_c,
        chipTempC: b.highest_chip_temp.temperature.degree_c,
        frequencyMhz: b.current_frequency.hertz / 1e6,
        voltageV: b.current_voltage.volt,
        serial: b.serial_number,
      })),
    );
    expect(sample.fans).toEqual(cooling.fans.map((f: any) => ({ index: f.position, rpm: f.rpm, percent: f.target_speed_ratio * 100 })));
    const rawPools = groups.flatMap((g: any) => g.pools);
    expect(sample.pools).toEqual(
      rawPools.map((p: any, i: number) => ({
        index: i,
        url: p.url,
        user: p.user,
        status: 'alive',
        active: p.active,
        accepted: p.stats.accepted_shares,
        rejected: p.stats.rejected_shares,
        stale: p.stats.stale_shares,
        lastShareTime: p.stats.last_share_time.seconds * 1000,
      })),
    );
    expect(sample.workMode).toBe('power-target');
    expect(sample.powerTargetW).toBe(tuner.mode_state.powertargetmodestate.current_target.watt);
    // 25.07's error log holds resolver failures only: no codes.
    expect(read('25.07', 's19xp', 'miner_errors').errors.every((e: any) => e.error_codes.length === 0)).toBe(true);
    expect(sample.firmwareErrors).toEqual([]);
  });

  test('26.04 S21 Pro: model 0 in the deprecated enum, name from miner_model; serials of miner, PSU and boards', () => {
    const details = read('26.04', 's21pro', 'miner_details');
    const sample = braiinsRest.parse({
      [BRAIINS_REST.details]: reply('26.04', 's21pro', 'miner_details'),
      [BRAIINS_REST.stats]: reply('26.04', 's21pro', 'miner_stats'),
      [BRAIINS_REST.hashboards]: reply('26.04', 's21pro', 'miner_hw_hashboards'),
    });
    expect(details.miner_identity.model).toBe(0);
    expect(sample.model).toBe(details.miner_identity.miner_model);
    expect(sample.serial).toBe(details.serial_number);
    expect(sample.psu).toEqual({ model: details.psu_info.model_name, serial: details.psu_info.serial_number, firmwareVersion: String(details.psu_info.fw_version) });
    const boards = read('26.04', 's21pro', 'miner_hw_hashboards').hashboards;
    expect(sample.boards.map((b) => b.serial)).toEqual(boards.map((b: any) => b.serial_number));
    expect(sample.hashrateThs).toBe(ths(read('26.04', 's21pro', 'miner_stats').miner_stats.real_hashrate.last_5s));
  });

  test.each([
    ['25.11', 's19xp'],
    ['26.04', 's21pro'],
  ])('%s error log: every coded entry kept once per code and component, newest, reason as given', (version, model) => {
    const raw = read(version, model, 'miner_errors').errors;
    // 25.11 has no stats capture: any object stands in for the required stats reply; only the errors are judged.
    const sample = braiinsRest.parse({ [BRAIINS_REST.stats]: {}, [BRAIINS_REST.errors]: reply(version, model, 'miner_errors') });
    const expected = new Map<string, { code: string; text: string; time: number; component?: string }>();
    for (const e of raw) {
      const c = e.components[0];
      const component = c ? `${c.name} ${c.index}` : undefined;
      for (const code of e.error_codes) {
        const key = `${code.code}|${component ?? ''}`;
        const time = Date.parse(e.timestamp);
        const known = expected.get(key);
        if (!known || time >= known.time) expected.set(key, { code: code.code, text: code.reason, time, ...(component ? { component } : {}) });
      }
    }
    expect(expected.size).toBeGreaterThan(0);
    expect(new Set(sample.firmwareErrors?.map((e) => `${e.code}|${e.component ?? ''}`))).toEqual(new Set(expected.keys()));
    for (const e of sample.firmwareErrors ?? []) expect(e).toEqual(expected.get(`${e.code}|${e.component ?? ''}`));
  });
});

describe('ePIC PowerPlay on umcOS (S19 XP): summary, capabilities, network, temps, hashrate', () => {
  const summary = rawJson('epic', 'epic-umc-s19xp-summary.json');
  const capabilities = rawJson('epic', 'epic-umc-s19xp-capabilities.json');
  const network = rawJson('epic', 'epic-umc-s19xp-network.json');
  const temps = rawJson('epic', 'epic-umc-s19xp-temps.json');
  const chips = rawJson('epic', 'epic-umc-s19xp-hashrate.json');
  const sample = epicV1.parse({
    [EPIC_PATHS.summary]: nextReply('epic', 'epic-umc-s19xp-summary.json', 'epic'),
    [EPIC_PATHS.capabilities]: nextReply('epic', 'epic-umc-s19xp-capabilities.json', 'epic'),
    [EPIC_PATHS.network]: nextReply('epic', 'epic-umc-s19xp-network.json', 'epic'),
    [EPIC_PATHS.temps]: nextReply('epic', 'epic-umc-s19xp-temps.json', 'epic'),
    [EPIC_PATHS.hashrate]: nextReply('epic', 'epic-umc-s19xp-hashrate.json', 'epic'),
  });

  test('identity, MH/s → TH/s, uptime, PSU input power, power target, tune algorithm, MAC', () => {
    expect(sample).toMatchObject({ firmware: 'epic', protocol: 'epic', model: capabilities.Model, firmwareVersion: summary.Software, mode: 'hashing' });
    const hbs = summary.HBs;
    expect(sample.hashrateThs).toBeCloseTo(hbs.reduce((s: number, hb: any) => s + hb.Hashrate[0], 0) / 1e6, 9);
    expect(sample.hashrateAvgThs).toBeCloseTo(summary.Session['Average MHs'] / 1e6, 9);
    expect(sample.nominalThs).toBe(capabilities['Default Hashrate']);
    expect(sample.uptimeS).toBe(summary.Session.Uptime);
    expect(sample.powerW).toBe(summary['Power Supply Stats']['Input Power']);
    expect(sample.psu).toEqual({ outputVoltageV: summary['Power Supply Stats']['Output Voltage'], inputPowerW: summary['Power Supply Stats']['Input Power'] });
    expect(sample.powerTargetW).toBe(summary.PresetInfo['Target Power']);
    expect(sample.workMode).toBe(Object.keys(summary.PerpetualTune.Algorithm)[0]);
    expect(sample.mac).toBe(network.dhcp.mac_address);
    expect(summary.Status['Last Error']).toBeNull();
    expect(sample.firmwareErrors).toEqual([]);
  });

  test('boards from HBStatus: slot 0 detected but disabled has no hash; 1 and 2 hash, with per-chip counts', () => {
    expect(sample.boards.map((b) => b.index)).toEqual(summary.HBStatus.map((s: any) => s.Index));
    const slot0 = sample.boards.find((b) => b.index === 0)!;
    expect(slot0.hashrateThs).toBeUndefined();
    expect(slot0.boardTempC).toBe(Math.max(...temps.find((t: any) => t.Index === 0).Data));
    for (const hb of summary.HBs) {
      const board = sample.boards.find((b) => b.index === hb.Index)!;
      const perChip = chips.find((c: any) => c.Index === hb.Index).Data;
      expect(board).toEqual({
        index: hb.Index,
        present: true,
        hashrateThs: hb.Hashrate[0] / 1e6,
        chipsFound: perChip.length,
        chipsOk: perChip.filter((c: number[]) => (c[0] as number) > 0).length,
        boardTempC: hb.Temperature,
        frequencyMhz: hb['Core Clock Avg'],
        voltageV: hb['Input Voltage'],
      });
    }
  });

  test('fans: RPM per slot, the dead fan as 0, absent slots (null) left out; the one pool without its password', () => {
    const rpms = Object.entries(summary['Fans Rpm']).filter(([, v]) => v !== null);
    expect(sample.fans).toEqual(rpms.map(([k, v]) => ({ index: Number(/\d+$/.exec(k)![0]) - 1, rpm: v, percent: summary.Fans['Fans Speed'] })));
    expect(sample.fans.find((f) => f.index === 1)?.rpm).toBe(0);
    expect(sample.pools).toEqual([
      { index: 0, url: summary.Stratum['Current Pool'], user: summary.Stratum['Current User'], status: 'alive', active: true, accepted: summary.Session.Accepted, rejected: summary.Session.Rejected },
    ]);
    expect(JSON.stringify(sample)).not.toContain(summary.StratumConfigs[0].password === 'password' ? '"password"' : summary.StratumConfigs[0].password);
  });
});
