/** Real TCP round trips: every profile answers its commands in its firmware's own dialect. */
import { PROFILES, PROFILE_IDS } from '../src/catalog';
import { arr, first, obj, startMiner, type SingleMiner } from './helpers';

const HOST_PREFIX = '127.201.0.';

describe.each(PROFILE_IDS.map((id, i) => [id, i] as const))('profile %s', (profileId, i) => {
  let m: SingleMiner;
  beforeAll(async () => {
    m = await startMiner(profileId, `${HOST_PREFIX}${i + 10}`);
  });
  afterAll(() => m.stop());

  it.each(PROFILES[profileId].commands.map((c) => [c]))('answers %s with a success envelope and a trailing NUL', async (command) => {
    const reply = await m.command(command);
    expect(reply.endsWithNul).toBe(true);
    expect(reply.bytes.indexOf(0)).toBe(reply.bytes.length - 1);
    const parsed = obj(JSON.parse(reply.text.replace(/\}\{/g, '},{')));
    const status = parsed.STATUS;
    const letter = typeof status === 'string' ? status : obj(arr(status)[0]).STATUS;
    expect(letter).toBe('S');
  });

  it('answers an unknown command with STATUS E code 14', async () => {
    const parsed = await m.json('frobnicate');
    expect(first(parsed, 'STATUS')).toMatchObject({ STATUS: 'E', Code: 14, Msg: 'Invalid command' });
  });

  // LuxOS and Canaan's cgminer grant their API privileged commands (public clients switch pools and ascset through
  // it); the others refuse them as a read-only cgminer API does.
  const privileged = profileId === 'antminer-s19kpro-luxos' || profileId === 'avalon-1246';
  it(privileged ? 'takes privileged commands: switchpool without an id is cgminer\'s 25' : 'refuses a privileged command with code 45', async () => {
    const parsed = await m.json('switchpool');
    if (privileged) expect(first(parsed, 'STATUS')).toMatchObject({ STATUS: 'E', Code: 25, Msg: 'Missing pool id parameter' });
    else expect(first(parsed, 'STATUS')).toMatchObject({ STATUS: 'E', Code: 45, Msg: "Access denied to 'switchpool' command" });
  });
});

describe('dialect details that parsers depend on', () => {
  const miners: SingleMiner[] = [];
  const start = async (id: Parameters<typeof startMiner>[0], n: number) => {
    const m = await startMiner(id, `127.201.1.${n}`);
    miners.push(m);
    return m;
  };
  afterAll(() => Promise.all(miners.map((m) => m.stop())));

  it('stock S19 Pro: numeric GHS, string chain rates, 3 boards of 114 chips, chain 4 padded empty', async () => {
    const m = await start('antminer-s19pro', 10);
    const stats = await m.json('stats');
    expect(first(stats, 'STATS', 0)).toMatchObject({ BMMiner: '1.0.0', Type: 'Antminer S19 Pro' });
    const s = first(stats, 'STATS', 1);
    expect(typeof s['GHS 5s']).toBe('number');
    expect(s['GHS 5s']).toBeGreaterThan(100_000);
    expect(s['GHS 5s']).toBeLessThan(120_000);
    expect(typeof s.chain_rate1).toBe('string');
    expect(s).toMatchObject({ rate_unit: 'GH', chain_acn1: 114, chain_acn4: 0, chain_acs4: '', chain_rate4: '', fan_num: 4, Mode: 2 });
    expect(String(s.chain_acs1).replace(/ /g, '')).toBe('o'.repeat(114));
    expect(s).toHaveProperty('total rate');
    const pools = first(await m.json('pools'), 'POOLS');
    expect(pools).toHaveProperty(['Pool Stale%%']);
    const devs = first(await m.json('devs'), 'DEVS');
    expect(devs).toMatchObject({ Name: 'BTM_SOC', Tenperature: 0 });
  });

  it('stock S9: STATS objects joined with }{, numbers as strings, chains 6-8, fans in fan5/fan6', async () => {
    const m = await start('antminer-s9', 11);
    const raw = await m.command('stats');
    expect(raw.text).toContain('"Type":"Antminer S9"}{"STATS":0');
    expect(() => JSON.parse(raw.text)).toThrow();
    const s = first(JSON.parse(raw.text.replace('}{', '},{')) as Record<string, unknown>, 'STATS', 1);
    expect(typeof s['GHS 5s']).toBe('string');
    expect(typeof s['GHS av']).toBe('number');
    expect(s).toMatchObject({ chain_acn6: 63, chain_acn7: 63, chain_acn8: 63, chain_acn1: 0, chain_rate1: '', fan1: 0 });
    expect(s.fan5).toBeGreaterThan(0);
    expect(s.fan6).toBeGreaterThan(0);
    expect(raw.text).toContain('"Wait":0.000000');
    const summary = first(await m.json('summary'), 'SUMMARY');
    expect(typeof summary['GHS 5s']).toBe('string');
  });

  it('Hiveon and Vnish S9 identify themselves the way their firmware does', async () => {
    const hiveon = await start('antminer-s9-hiveon', 12);
    expect(first(await hiveon.json('version'), 'VERSION')).toMatchObject({ BMMiner: '2.0.0 rwglr', Type: 'Antminer S9 Hiveon' });
    const vnish = await start('antminer-s9-vnish', 13);
    expect(first(await vnish.json('version'), 'VERSION')).toMatchObject({ CGMiner: '4.11.1', Type: 'Antminer S9 (vnish 3.8.6)' });
    const stats = await vnish.json('stats');
    expect(first(stats, 'STATS', 0)).toHaveProperty('Cgminer', '4.11.1');
    expect(typeof first(stats, 'STATS', 1).frequency).toBe('string');
  });

  it('LuxOS: LUXminer version key, fans with labels that do not follow the index, power in watts', async () => {
    const m = await start('antminer-s19kpro-luxos', 14);
    expect(first(await m.json('version'), 'VERSION')).toHaveProperty('LUXminer');
    const fans = arr((await m.json('fans')).FANS);
    expect(obj(fans[0])).toMatchObject({ FAN: 'FAN4', ID: 0 });
    const power = first(await m.json('power'), 'POWER');
    expect(power.Watts).toBeGreaterThan(2000);
    expect(first(await m.json('pools'), 'POOLS')).toHaveProperty('Long Pool', 'N');
  });

  it('bosminer: MH/s, boards 6/7/8, no stats, rejects a trailing NUL in the request', async () => {
    const m = await start('braiins-s9', 15);
    const summary = first(await m.json('summary'), 'SUMMARY');
    expect(summary['MHS 5s']).toBeGreaterThan(10_000_000);
    const devs = arr((await m.json('devs')).DEVS).map((d) => obj(d).ID);
    expect(devs).toEqual([6, 7, 8]);
    expect(first(await m.json('stats'), 'STATUS')).toMatchObject({ STATUS: 'E', Code: 14 });
    const withNul = await m.raw('{"command":"summary"}\0');
    expect(first(JSON.parse(withNul.text) as Record<string, unknown>, 'STATUS')).toMatchObject({ Code: 23, Msg: 'Invalid JSON' });
    const fans = arr((await m.json('fans')).FANS).map((f) => obj(f).RPM);
    expect(fans).toHaveLength(4);
    expect(fans.filter((rpm) => rpm === 0)).toHaveLength(2);
  });

  it('Whatsminer: API-2 status with a bare STATUS string, MH/s summary with fan in/out, pools from 1', async () => {
    const m = await start('whatsminer-m31s', 16);
    const status = await m.json('status');
    expect(status).toMatchObject({ STATUS: 'S', Code: 131, Msg: { btmineroff: 'false' } });
    expect(status).not.toHaveProperty('id');
    const viaCmd = await m.raw('{"cmd":"get_version"}');
    expect(JSON.parse(viaCmd.text)).toMatchObject({ Code: 131, Msg: { fw_ver: '20210322.22.REL' } });
    const summary = first(await m.json('summary'), 'SUMMARY');
    expect(summary['MHS 5s']).toBeGreaterThan(60_000_000);
    expect(summary['Fan Speed In']).toBeGreaterThan(0);
    expect(summary['Fan Speed Out']).toBeGreaterThan(0);
    expect(first(await m.json('pools'), 'POOLS').POOL).toBe(1);
    expect(arr((await m.json('edevs')).DEVS)).toHaveLength(3);
    const multi = await m.raw('{"cmd":"summary+pools"}');
    expect(first(JSON.parse(multi.text) as Record<string, unknown>, 'STATUS')).toMatchObject({ Code: 24 });
  });

  it("Avalon: MM ID0 Key[value] string, When counts seconds since boot, multi-command sections are one-element arrays", async () => {
    const m = await start('avalon-1246', 17);
    const stats = await m.json('stats');
    const mm = String(first(stats, 'STATS')['MM ID0']);
    expect(mm).toMatch(/SYSTEMSTATU\[Work: In Work, Hash Board: 3 \]/);
    expect(mm).toMatch(/MGHS\[[\d.]+ [\d.]+ [\d.]+\]/);
    expect(mm).toMatch(/Fan1\[\d+\] Fan2\[\d+\] Fan3\[\d+\] Fan4\[\d+\] FanR\[\d+%\]/);
    const when = Number(first(stats, 'STATUS').When);
    const elapsed = Number(first(stats, 'STATS').Elapsed);
    expect(when).toBeLessThan(1_000_000_000);
    expect(when).toBeGreaterThanOrEqual(elapsed);
    const multi = JSON.parse((await m.raw('{"command":"pools+summary+stats"}')).text) as Record<string, unknown>;
    expect(Object.keys(multi).sort()).toEqual(['id', 'pools', 'stats', 'summary']);
    expect(arr(multi.summary)).toHaveLength(1);
    expect(first(obj(arr(multi.summary)[0]), 'SUMMARY')).toHaveProperty('MHS av');
  });

  it('stock S19 refuses + multi-commands (parsers must fall back to one command per connection)', async () => {
    const m = miners[0] ?? (await start('antminer-s19pro', 18));
    const multi = JSON.parse((await m.raw('{"command":"summary+stats"}')).text) as Record<string, unknown>;
    expect(first(multi, 'STATUS')).toMatchObject({ STATUS: 'E', Code: 14 });
  });

  it('S21 XP Hyd.: fan_num 4 with every fan at 0, water inlet/outlet in temp_chipN', async () => {
    const m = await start('antminer-s21xp-hyd', 19);
    const s = first(await m.json('stats'), 'STATS', 1);
    expect(s).toMatchObject({ fan_num: 4, fan1: 0, fan2: 0, fan3: 0, fan4: 0 });
    const [inlet1, inlet2, outlet1, outlet2] = String(s.temp_chip1).split('-').map(Number);
    expect(inlet1).toBe(inlet2);
    expect(outlet1).toBe(outlet2);
    expect(outlet1).toBeGreaterThan(inlet1 ?? 0);
    expect(s['GHS 5s']).toBeGreaterThan(400_000);
  });
});
