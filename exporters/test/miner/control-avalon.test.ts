/**
 * Avalon writes (ascset softoff/softon, worklevel, led; cgminer restart and pool commands) against a simulated
 * AvalonMiner 1246, and the generic cgminer module against a Hiveon S9 whose API, like stock Bitmain cgminer, refuses
 * privileged commands. Each write is read back as the exporter reads the unit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMANDED_REBOOT, WAKE_WARMUP_SECONDS } from '../../../simulator/src/miner';
import { avalonControl } from '../../src/miner/backends/avalon/control';
import { hiveonControl } from '../../src/miner/backends/common/cgminer-control';
import { ControlError } from '../../src/miner/control/types';
import { ControlFarm, rejection, type Unit } from './control-tcp-farm';

const FIXTURES = path.join(__dirname, '../fixtures/miner-api');
const farm = new ControlFarm('127.153.0.1', [
  { profile: 'avalon-1246', backend: 'avalon', protocol: 'cgminer' },
  { profile: 'antminer-s9-hiveon', backend: 'hiveon', protocol: 'cgminer' },
]);
const [avalon, hiveon] = farm.units as [Unit, Unit];

beforeAll(() => farm.start());
afterAll(() => farm.stop());

describe('Avalon 1246', () => {
  it('soft-off answers like the captured Avalon Q reply, and the read shows it sleeping; soft-on wakes it', async () => {
    const captured = JSON.parse(readFileSync(path.join(FIXTURES, 'avalon-q-ascset-softoff.json'), 'utf8')) as { STATUS: Array<Record<string, unknown>> };
    const reply = await farm.act(avalon, { kind: 'sleep' });
    const [status, code, msg] = [captured.STATUS[0]?.STATUS, captured.STATUS[0]?.Code, String(captured.STATUS[0]?.Msg)];
    expect(reply.reply).toContain(`STATUS ${String(status)} ${String(code)}: ${msg.replace(/\d+$/, '')}`);
    const asleep = await farm.read(avalon);
    expect(asleep.mode).toBe('sleeping');
    await farm.act(avalon, { kind: 'wake' });
    expect((await farm.read(avalon)).mode).not.toBe('sleeping');
    await farm.advance((WAKE_WARMUP_SECONDS + 5) * 1000);
    expect((await farm.read(avalon)).mode).toBe('hashing');
  });

  it('work level low: the read shows it and draws less power; high draws more than normal', async () => {
    const normal = await farm.read(avalon);
    await farm.act(avalon, { kind: 'power', target: { mode: 'low' } });
    await farm.advance(2000);
    const low = await farm.read(avalon);
    expect(low.workMode).toBe('low');
    expect(low.powerW).toBeLessThan((normal.powerW ?? 0) * 0.8);
    await farm.act(avalon, { kind: 'power', target: { mode: 'high' } });
    await farm.advance(2000);
    const high = await farm.read(avalon);
    expect(high.workMode).toBe('high');
    expect(high.powerW).toBeGreaterThan(normal.powerW ?? 0);
    await farm.act(avalon, { kind: 'power', target: { mode: 'normal' } });
  });

  it('replaces the pools within three slots and switches the active one', async () => {
    const pools = [
      { url: 'stratum+tcp://ava-a.pool.example:3333', user: 'farm.a1', password: 'x' },
      { url: 'stratum+tcp://ava-b.pool.example:3333', user: 'farm.a1', password: 'x' },
      { url: 'stratum+tcp://ava-c.pool.example:3333', user: 'farm.a1', password: 'x' },
    ];
    await farm.act(avalon, { kind: 'pools', pools });
    expect((await farm.read(avalon)).pools.map((p) => [p.url, p.user])).toEqual(pools.map((p) => [p.url, p.user]));
    await farm.act(avalon, { kind: 'switch-pool', index: 1 });
    expect((await farm.read(avalon)).pools.find((p) => p.active)?.url).toBe(pools[1]?.url);
    // cgminer's own rules hold: the active pool cannot be removed.
    expect(JSON.stringify(await farm.link(avalon).command({ command: 'removepool', parameter: '1' }))).toMatch(/Cannot remove active pool/);
  });

  it('blinks the LED (Led[1] in stats) and stops it', async () => {
    await farm.act(avalon, { kind: 'blink', on: true });
    expect(avalon.miner.commandedState().blinking).toBe(true);
    expect(JSON.stringify(await farm.link(avalon).command({ command: 'stats' }))).toContain('Led[1]');
    await farm.act(avalon, { kind: 'blink', on: false });
    expect(avalon.miner.commandedState().blinking).toBe(false);
  });

  it('reboots (restart): the API goes away, then the uptime restarts', async () => {
    const before = await farm.read(avalon);
    await farm.act(avalon, { kind: 'reboot' });
    await new Promise((r) => setTimeout(r, 50));
    expect(await farm.unreachable(avalon)).toBe(true);
    await farm.advance((COMMANDED_REBOOT.downSeconds + 2) * 1000);
    expect((await farm.read(avalon)).uptimeS).toBeLessThan(Math.min(60, before.uptimeS ?? 0));
  });

  it('refuses a power target in watts, and a garbage reply to a write is a failed action', async () => {
    expect((await rejection(farm.act(avalon, { kind: 'power', target: { watts: 3000 } }))).message).toMatch(/work modes/);
    const sample = await farm.read(avalon);
    avalon.miner.applyFault({ fault: 'garbage', kind: 'truncated' });
    try {
      const err = await rejection(avalonControl.execute({ kind: 'blink', on: true }, farm.link(avalon), sample));
      expect((err as ControlError).kind).toBe('failed');
    } finally {
      avalon.miner.applyFault({ fault: 'garbage', kind: 'off' });
    }
  });
});

describe('generic cgminer module (Hiveon S9)', () => {
  it('offers restart and pools only, saying why', async () => {
    const caps = hiveonControl.capabilities(await farm.read(hiveon));
    expect([caps.reboot, caps.sleep, caps.power, caps.blink, caps.pools.canSwitch]).toEqual([true, false, undefined, false, true]);
    expect((await rejection(farm.act(hiveon, { kind: 'sleep' }))).message).toMatch(/no sleep/);
    expect((await rejection(farm.act(hiveon, { kind: 'blink', on: true }))).message).toMatch(/locate LED/);
  });

  it('a firmware that refuses privileged commands gives a refusal naming api-allow, as cgminer words it (45)', async () => {
    const before = await farm.read(hiveon);
    const err = await rejection(farm.act(hiveon, { kind: 'switch-pool', index: 1 }));
    expect(err).toBeInstanceOf(ControlError);
    expect((err as ControlError).kind).toBe('refused');
    expect(err.message).toMatch(/Access denied to 'switchpool' command/);
    expect(err.message).toMatch(/api-allow/);
    expect((await farm.read(hiveon)).pools.find((p) => p.active)?.url).toBe(before.pools.find((p) => p.active)?.url);
    expect((await rejection(farm.act(hiveon, { kind: 'reboot' }))).message).toMatch(/Access denied to 'restart'/);
    expect(await farm.unreachable(hiveon)).toBe(false);
  });
});
