/** Fault injection shows up in replies the way real firmware shows it, over real TCP. */
import { FaultError } from '../src/faults';
import { BTMINER_PROCESS_DOWN } from '../src/replies';
import { arr, first, obj, startMiner, type SingleMiner } from './helpers';

let nextHost = 10;
const miners: SingleMiner[] = [];
async function start(profile: Parameters<typeof startMiner>[0]): Promise<SingleMiner> {
  const m = await startMiner(profile, `127.202.0.${nextHost++}`);
  miners.push(m);
  return m;
}
afterAll(() => Promise.all(miners.map((m) => m.stop())));

const s19Stats = async (m: SingleMiner) => first(await m.json('stats'), 'STATS', 1);

describe('hardware faults on a stock S19 Pro', () => {
  it('a stopped fan reads 0 rpm in its own slot while the others speed up', async () => {
    const m = await start('antminer-s19pro');
    const before = await s19Stats(m);
    m.miner.applyFault({ fault: 'stopFan', index: 2 });
    m.clock.now += 5000;
    const after = await s19Stats(m);
    expect(after.fan3).toBe(0);
    expect(after.fan_num).toBe(4);
    expect(Number(after.fan1)).toBeGreaterThan(Number(before.fan1));
    expect(after.fan1).toBeGreaterThan(0);
  });

  it("dead chips read 'x' in chain_acsN and lower that chain's rate", async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'killChips', board: 1, count: 20 });
    m.clock.now += 5000;
    const s = await s19Stats(m);
    const chips = String(s.chain_acs2).replace(/ /g, '');
    expect(chips).toHaveLength(114);
    expect(chips.split('x')).toHaveLength(21);
    expect(String(s.chain_acs1)).not.toContain('x');
    expect(Number(s.chain_rate2)).toBeLessThan(Number(s.chain_rate1) * 0.9);
  });

  it('chips that vanish lower chain_acnN', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'killChips', board: 0, count: 10, missing: true });
    m.clock.now += 5000;
    const s = await s19Stats(m);
    expect(s.chain_acn1).toBe(104);
    expect(String(s.chain_acs1).replace(/ /g, '')).toBe('o'.repeat(104));
  });

  it('a dropped board has chain_acn 0, empty strings and no temp keys', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'dropBoard', board: 1 });
    m.clock.now += 5000;
    const s = await s19Stats(m);
    expect(s).toMatchObject({ chain_acn2: 0, chain_acs2: '', chain_rate2: '', miner_count: 2, temp_num: 2, temp_pcb2: '0-0-0-0' });
    expect(s).not.toHaveProperty('temp2');
    expect(s).not.toHaveProperty('temp2_2');
    expect(s).toHaveProperty('temp1');
    expect(Number(s['GHS 5s'])).toBeLessThan(80_000);
  });

  it('overheating: chip temperatures near 95 °C, fans flat out, hashing stops, chips read x', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'overheat', on: true });
    m.clock.now += 5000;
    const s = await s19Stats(m);
    expect(Number(s.temp2_1)).toBeGreaterThanOrEqual(88);
    expect(s['GHS 5s']).toBe(0);
    expect(Number(s['GHS av'])).toBeGreaterThan(50_000);
    expect(String(s.chain_acs1)).not.toContain('o');
    expect(Number(s.fan1)).toBeGreaterThanOrEqual(5700);
  });

  it('sleeping: Mode 254, no hashrate, fans slow', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'sleep', on: true });
    m.clock.now += 5000;
    const s = await s19Stats(m);
    expect(s.Mode).toBe(254);
    expect(s['GHS 5s']).toBe(0);
    expect(Number(s.fan1)).toBeLessThan(1000);
    m.miner.applyFault({ fault: 'sleep', on: false });
    m.clock.now += 5000;
    expect((await s19Stats(m)).Mode).toBe(2);
  });

  it('dead pools: every pool reads Dead and hashing stops', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'poolsDead' });
    m.clock.now += 5000;
    const pools = arr((await m.json('pools')).POOLS).map((p) => obj(p));
    expect(pools.map((p) => p.Status)).toEqual(['Dead', 'Dead', 'Dead']);
    expect(pools.some((p) => p['Stratum Active'] === true)).toBe(false);
    expect(first(await m.json('summary'), 'SUMMARY')['GHS 5s']).toBe(0);
  });

  it('reboot: uptime and averages restart, not hashing during warm-up, then hashing again', async () => {
    const m = await start('antminer-s19pro');
    const before = first(await m.json('summary'), 'SUMMARY');
    expect(before.Elapsed).toBeGreaterThan(3600);
    m.miner.applyFault({ fault: 'reboot', warmupSeconds: 10 });
    m.clock.now += 3000;
    const booting = first(await m.json('summary'), 'SUMMARY');
    expect(booting.Elapsed).toBe(3);
    expect(booting['GHS 5s']).toBe(0);
    expect(booting.Accepted).toBe(0);
    m.clock.now += 60_000;
    const after = first(await m.json('summary'), 'SUMMARY');
    expect(after['GHS 5s']).toBeGreaterThan(100_000);
    expect(Number(after['GHS av'])).toBeLessThan(Number(after['GHS 5s']));
  });

  it('clear() brings everything back', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'stopFan', index: 0 });
    m.miner.applyFault({ fault: 'dropBoard', board: 2 });
    m.miner.applyFault({ fault: 'clear' });
    m.clock.now += 5000;
    const s = await s19Stats(m);
    expect(s.fan1).toBeGreaterThan(0);
    expect(s.chain_acn3).toBe(114);
  });

  it('rejects faults that do not fit the hardware', async () => {
    const m = await start('antminer-s19pro');
    expect(() => m.miner.applyFault({ fault: 'dropBoard', board: 3 })).toThrow(FaultError);
    expect(() => m.miner.applyFault({ fault: 'stopFan', index: 4 })).toThrow(/has 4 fan/);
  });
});

describe('faults in other dialects', () => {
  it('S9: a stopped fan is 0 in fan5; a dropped board leaves chain 7 empty', async () => {
    const m = await start('antminer-s9');
    m.miner.applyFault({ fault: 'stopFan', index: 0 });
    m.miner.applyFault({ fault: 'dropBoard', board: 1 });
    m.clock.now += 5000;
    const s = first(await m.json('stats'), 'STATS', 1);
    expect(s.fan5).toBe(0);
    expect(s.fan6).toBeGreaterThan(0);
    expect(s).toMatchObject({ chain_acn7: 0, chain_acs7: '', chain_rate7: '', temp7: 0, chain_acn6: 63 });
    expect(() => m.miner.applyFault({ fault: 'sleep' })).toThrow(/no sleep mode/);
  });

  it('Whatsminer: a stopped outlet fan reads Fan Speed Out 0; a dead board drops out of edevs', async () => {
    const m = await start('whatsminer-m31s');
    m.miner.applyFault({ fault: 'stopFan', index: 1 });
    m.miner.applyFault({ fault: 'dropBoard', board: 2 });
    m.clock.now += 5000;
    expect(first(await m.json('summary'), 'SUMMARY')['Fan Speed Out']).toBe(0);
    expect(arr((await m.json('edevs')).DEVS).map((d) => obj(d).Slot)).toEqual([0, 1]);
    expect(obj(arr((await m.json('devs')).DEVS)[2]).Status).toBe('Dead');
  });

  it('Whatsminer asleep: status says btmineroff, cgminer commands answer with the plain-text error', async () => {
    const m = await start('whatsminer-m31s');
    m.miner.applyFault({ fault: 'sleep', on: true });
    m.clock.now += 5000;
    expect((await m.json('status')).Msg).toMatchObject({ btmineroff: 'true' });
    const summary = await m.command('summary');
    expect(summary.text).toBe(BTMINER_PROCESS_DOWN);
    expect(summary.endsWithNul).toBe(false);
  });

  it('Avalon asleep: SYSTEMSTATU In Idle; a dropped board lowers the Hash Board count', async () => {
    const m = await start('avalon-1246');
    m.miner.applyFault({ fault: 'sleep', on: true });
    m.miner.applyFault({ fault: 'dropBoard', board: 0 });
    m.clock.now += 5000;
    const mm = String(first(await m.json('stats'), 'STATS')['MM ID0']);
    expect(mm).toContain('SYSTEMSTATU[Work: In Idle, Hash Board: 2 ]');
    expect(mm).toMatch(/GHSspd\[0\.00\]/);
  });

  it('bosminer: dead chips lower one board in devs; a dropped board disappears from devs and temps', async () => {
    const m = await start('braiins-s9');
    m.miner.applyFault({ fault: 'killChips', board: 0, count: 30 });
    m.miner.applyFault({ fault: 'dropBoard', board: 2 });
    m.clock.now += 5000;
    const devs = arr((await m.json('devs')).DEVS).map((d) => obj(d));
    expect(devs.map((d) => d.ID)).toEqual([6, 7]);
    expect(Number(devs[0]?.['MHS 5s'])).toBeLessThan(Number(devs[1]?.['MHS 5s']) * 0.7);
    expect(arr((await m.json('temps')).TEMPS).map((t) => obj(t).ID)).toEqual([6, 7]);
  });
});

describe('transport faults', () => {
  it('offline: connection refused, and back when cleared', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'offline' });
    await m.server.sync();
    await expect(m.command('summary')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    m.miner.applyFault({ fault: 'offline', on: false });
    await m.server.sync();
    expect((await m.command('summary')).endsWithNul).toBe(true);
  });

  it('hang: accepts the connection but never answers', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'hang' });
    await expect(m.command('summary', 400)).rejects.toThrow(/no reply/);
  });

  it('slow: answers after the delay', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'slow', ms: 300 });
    const started = Date.now();
    const reply = await m.command('version');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(reply.endsWithNul).toBe(true);
  });

  it('garbage: binary noise or a truncated reply without NUL', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'garbage', kind: 'binary' });
    const noise = await m.command('summary');
    expect(() => JSON.parse(noise.text)).toThrow();
    m.miner.applyFault({ fault: 'garbage', kind: 'truncated' });
    const cut = await m.command('stats');
    expect(cut.endsWithNul).toBe(false);
    expect(cut.text.startsWith('{"STATUS":[')).toBe(true);
    expect(() => JSON.parse(cut.text)).toThrow();
  });

  it('reboot with downtime: refused while down, answering afterwards with a fresh uptime', async () => {
    const m = await start('antminer-s19pro');
    m.miner.applyFault({ fault: 'reboot', downSeconds: 0.3, warmupSeconds: 0 });
    await m.server.sync();
    await expect(m.command('summary')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    m.clock.now += 1000;
    await new Promise((r) => setTimeout(r, 500));
    const summary = first(await m.json('summary'), 'SUMMARY');
    expect(summary.Elapsed).toBeLessThan(5);
  });
});
