/**
 * ePIC PowerPlay writes against a simulated S19 XP on ePIC firmware (HTTP on 4028, the password in each POST body):
 * /miner Stop and Autostart, /perpetualtune/algo PowerTune, /coin, /identify, /reboot. Each write is read back as
 * the exporter reads the unit.
 */
import { COMMANDED_REBOOT, WAKE_WARMUP_SECONDS } from '../../../simulator/src/miner';
import { epicControl } from '../../src/miner/backends/epic/control';
import { ControlError } from '../../src/miner/control/types';
import { ControlFarm, rejection, type Unit } from './control-tcp-farm';

const LOGIN = { user: 'root', password: 'letmein' };
const farm = new ControlFarm('127.154.0.1', [{ profile: 'epic-s19xp', backend: 'epic/v1', protocol: 'epic' }]);
const [unit] = farm.units as [Unit];

beforeAll(() => farm.start());
afterAll(() => farm.stop());

it('idles with /miner Stop (read: sleeping), Autostart brings it back to hashing', async () => {
  await farm.act(unit, { kind: 'sleep' }, LOGIN);
  const asleep = await farm.read(unit);
  expect(asleep.mode).toBe('sleeping');
  expect(asleep.powerW ?? 0).toBeLessThan(100);
  await farm.act(unit, { kind: 'wake' }, LOGIN);
  expect((await farm.read(unit)).mode).toBe('booting');
  await farm.advance((WAKE_WARMUP_SECONDS + 5) * 1000);
  expect((await farm.read(unit)).mode).toBe('hashing');
});

it('a power target runs PowerTune: the read shows the algorithm, the target and less power', async () => {
  const before = await farm.read(unit);
  const caps = epicControl.capabilities(before);
  expect(caps.power).toEqual({ kind: 'watts', minW: 1505, maxW: 3010 });
  await farm.act(unit, { kind: 'power', target: { watts: 2000 } }, LOGIN);
  await farm.advance(2000);
  const after = await farm.read(unit);
  expect(after.workMode).toBe('PowerTune');
  expect(after.powerTargetW).toBe(2000);
  expect(after.powerW).toBeLessThan((before.powerW ?? 0) * 0.8);
  // Outside the unit's range: refused by the capabilities, nothing sent.
  expect((await rejection(farm.act(unit, { kind: 'power', target: { watts: 4000 } }, LOGIN))).message).toMatch(/outside 1505-3010 W/);
});

it('sets the pools with /coin: the read shows the new current pool', async () => {
  const pools = [
    { url: 'stratum+tcp://epic-a.pool.example:3333', user: 'farm.e1', password: 'x' },
    { url: 'stratum+tcp://epic-b.pool.example:3333', user: 'farm.e1', password: 'x' },
  ];
  await farm.act(unit, { kind: 'pools', pools }, LOGIN);
  const read = await farm.read(unit);
  expect(read.pools[0]?.url).toBe('epic-a.pool.example:3333');
  expect(read.pools[0]?.user).toBe('farm.e1');
  expect(unit.miner.commandedState().pools?.map((p) => p.url)).toEqual(pools.map((p) => p.url));
});

it('blinks with /identify and stops', async () => {
  await farm.act(unit, { kind: 'blink', on: true }, LOGIN);
  expect(unit.miner.commandedState().blinking).toBe(true);
  await farm.act(unit, { kind: 'blink', on: false }, LOGIN);
  expect(unit.miner.commandedState().blinking).toBe(false);
});

it('reboots: the API goes away, then the uptime restarts', async () => {
  const before = await farm.read(unit);
  await farm.act(unit, { kind: 'reboot' }, LOGIN);
  await new Promise((r) => setTimeout(r, 50));
  expect(await farm.unreachable(unit)).toBe(true);
  await farm.advance((COMMANDED_REBOOT.downSeconds + 2) * 1000);
  expect((await farm.read(unit)).uptimeS).toBeLessThan(Math.min(60, before.uptimeS ?? 0));
});

it('a wrong password is refused without the password in the message; no password at all is refused before sending', async () => {
  const wrong = 'not-the-Pw-123';
  const err = await rejection(farm.act(unit, { kind: 'blink', on: true }, { user: 'root', password: wrong }));
  expect((err as ControlError).kind).toBe('refused');
  expect(err.message).toMatch(/refused the password/);
  expect(err.message).not.toContain(wrong);
  expect((await rejection(farm.act(unit, { kind: 'blink', on: true }))).message).toMatch(/need the miner password/);
  expect(unit.miner.commandedState().blinking).toBe(false);
});

it('refuses a pool switch and a work mode with the reason; garbage to a write is a failed action', async () => {
  expect((await rejection(farm.act(unit, { kind: 'switch-pool', index: 1 }, LOGIN))).message).toMatch(/switch the active pool/);
  expect((await rejection(farm.act(unit, { kind: 'power', target: { mode: 'low' } }, LOGIN))).message).toMatch(/in watts/);
  const sample = await farm.read(unit);
  // Past the unit's own limit the firmware answers result:false with its reason: a refusal carrying it.
  const beyond = await rejection(epicControl.execute({ kind: 'power', target: { watts: 5000 } }, farm.link(unit, LOGIN), sample));
  expect((beyond as ControlError).kind).toBe('refused');
  expect(beyond.message).toMatch(/5000 W outside/);
  unit.miner.applyFault({ fault: 'garbage', kind: 'binary' });
  try {
    const err = await rejection(epicControl.execute({ kind: 'sleep' }, farm.link(unit, LOGIN), sample));
    expect((err as ControlError).kind).toBe('failed');
  } finally {
    unit.miner.applyFault({ fault: 'garbage', kind: 'off' });
  }
});
