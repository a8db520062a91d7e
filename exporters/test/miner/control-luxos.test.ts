/**
 * LuxOS writes against a simulated S19k Pro on LuxOS (CGMiner-style API on 4028): session ids from `session` /
 * `logon`, `curtail`, `profileset <n>W` with ATM capped at the chosen profile, `ledset`, `rebootdevice`, and cgminer's
 * pool commands. Each write is read back as the exporter reads the unit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMANDED_REBOOT, WAKE_WARMUP_SECONDS } from '../../../simulator/src/miner';
import { forgetLuxosSessions, luxosControl } from '../../src/miner/backends/luxos/control';
import { ControlError } from '../../src/miner/control/types';
import { ControlFarm, rejection, type Unit } from './control-tcp-farm';

const FIXTURES = path.join(__dirname, '../fixtures/miner-api');
const farm = new ControlFarm('127.152.0.1', [{ profile: 'antminer-s19kpro-luxos', backend: 'luxos', protocol: 'cgminer' }]);
const [unit] = farm.units as [Unit];

beforeAll(() => farm.start());
afterAll(() => farm.stop());
beforeEach(() => forgetLuxosSessions());

const keysOf = (value: unknown): string[] => (value && typeof value === 'object' ? Object.keys(value).sort() : []);

it('answers session and logon in the shape of the vendor examples (luxos-session-docs, luxos-logon-docs)', async () => {
  const link = farm.link(unit);
  for (const [command, file] of [['session', 'luxos-session-docs.json'], ['logon', 'luxos-logon-docs.json']] as const) {
    const captured = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as Record<string, Array<Record<string, unknown>>>;
    const ours = await link.command({ command });
    expect(keysOf(ours)).toEqual(keysOf(captured));
    expect(keysOf((ours.STATUS as unknown[])[0])).toEqual(keysOf(captured.STATUS?.[0]));
    expect((ours.STATUS as Array<Record<string, unknown>>)[0]?.Code).toBe(captured.STATUS?.[0]?.Code);
  }
});

it('sleeps with curtail (read: sleeping), wakes (booting, then hashing)', async () => {
  await farm.act(unit, { kind: 'sleep' });
  const asleep = await farm.read(unit);
  expect(asleep.mode).toBe('sleeping');
  expect(asleep.powerW).toBeLessThan(100);
  await farm.act(unit, { kind: 'wake' });
  const warming = await farm.read(unit);
  expect(warming.mode).not.toBe('sleeping');
  expect(warming.hashrateThs ?? 0).toBe(0);
  await farm.advance((WAKE_WARMUP_SECONDS + 5) * 1000);
  expect((await farm.read(unit)).mode).toBe('hashing');
});

it('a power target selects the nearest profile: the read shows it and less power; ATM is capped at it', async () => {
  const before = await farm.read(unit);
  expect(before.workMode).toBe('default');
  const caps = luxosControl.capabilities(before);
  expect(caps.power).toEqual({ kind: 'watts', minW: 1380, maxW: 2760 });
  const reply = await farm.act(unit, { kind: 'power', target: { watts: 2000 } });
  expect(reply.reply).toMatch(/ATM capped/);
  await farm.advance(2000);
  const after = await farm.read(unit);
  expect(after.workMode).not.toBe('default');
  expect(after.powerW).toBeLessThan((before.powerW ?? 0) * 0.8);
  const atm = await farm.link(unit).command({ command: 'atm' });
  expect((atm.ATM as Array<Record<string, unknown>>)[0]?.MaxProfile).toBe(after.workMode);
  await farm.act(unit, { kind: 'power', target: { watts: 2760 } });
  expect((await farm.read(unit)).workMode).toBe('default');
});

it('replaces the pools and switches between them; the read follows', async () => {
  const pools = [
    { url: 'stratum+tcp://lux-a.pool.example:3333', user: 'farm.l1', password: 'x' },
    { url: 'stratum+tcp://lux-b.pool.example:3333', user: 'farm.l1', password: 'x,y' },
    { url: 'stratum+tcp://lux-c.pool.example:3333', user: 'farm.l1', password: 'x' },
  ];
  await farm.act(unit, { kind: 'pools', pools });
  let read = await farm.read(unit);
  expect(read.pools.map((p) => p.url)).toEqual(pools.map((p) => p.url));
  expect(read.pools.find((p) => p.active)?.url).toBe(pools[0]?.url);
  await farm.act(unit, { kind: 'switch-pool', index: 2 });
  read = await farm.read(unit);
  expect(read.pools.find((p) => p.active)?.url).toBe(pools[2]?.url);
});

it('blinks the red LED (config RedLed) and stops it', async () => {
  await farm.act(unit, { kind: 'blink', on: true });
  expect(unit.miner.commandedState().blinking).toBe(true);
  const config = await farm.link(unit).command({ command: 'config' });
  expect((config.CONFIG as Array<Record<string, unknown>>)[0]?.RedLed).toBe('blink');
  await farm.act(unit, { kind: 'blink', on: false });
  expect(unit.miner.commandedState().blinking).toBe(false);
});

it('an expired session is replaced once: the write still goes through', async () => {
  await farm.act(unit, { kind: 'blink', on: true });
  // The session lapses after a minute unused; the module's cached id is then refused.
  await farm.advance(5 * 60_000);
  const writes = unit.miner.writes().length;
  await farm.act(unit, { kind: 'blink', on: false });
  expect(unit.miner.commandedState().blinking).toBe(false);
  expect(unit.miner.writes().length).toBe(writes + 1);
});

it('uses the session another client opened instead of failing its logon (one session at a time)', async () => {
  await farm.advance(5 * 60_000);
  const opened = await farm.link(unit).command({ command: 'logon' });
  const theirs = (opened.SESSION as Array<Record<string, unknown>>)[0]?.SessionID;
  expect(typeof theirs).toBe('string');
  // A second logon is refused while that session lives; the module asks `session` first and writes with it.
  expect(JSON.stringify(await farm.link(unit).command({ command: 'logon' }))).toMatch(/"STATUS":"E"/);
  await farm.act(unit, { kind: 'blink', on: true });
  expect(unit.miner.commandedState().blinking).toBe(true);
  const now = await farm.link(unit).command({ command: 'session' });
  expect((now.SESSION as Array<Record<string, unknown>>)[0]?.SessionID).toBe(theirs);
  await farm.act(unit, { kind: 'blink', on: false });
});

it('reboots (rebootdevice): the API goes away, then the uptime restarts', async () => {
  const before = await farm.read(unit);
  await farm.act(unit, { kind: 'reboot' });
  await new Promise((r) => setTimeout(r, 50));
  expect(await farm.unreachable(unit)).toBe(true);
  await farm.advance((COMMANDED_REBOOT.downSeconds + 2) * 1000);
  const after = await farm.read(unit);
  expect(after.uptimeS).toBeLessThan(Math.min(60, before.uptimeS ?? 0));
});

it('refuses a work mode (LuxOS takes watts) and an unknown model\'s power target, with the reason', async () => {
  expect((await rejection(farm.act(unit, { kind: 'power', target: { mode: 'low' } }))).message).toMatch(/not a work mode/);
  const caps = luxosControl.capabilities({ ...(await farm.read(unit)), model: 'Antminer Z15' });
  expect(caps.power).toBeUndefined();
  expect(caps.notes?.join(' ')).toMatch(/nameplate power of Antminer Z15/);
});

it('a garbage reply to a write is a failed action', async () => {
  const sample = await farm.read(unit);
  unit.miner.applyFault({ fault: 'garbage', kind: 'binary' });
  try {
    const err = await rejection(luxosControl.execute({ kind: 'sleep' }, farm.link(unit), sample));
    expect((err as ControlError).kind).toBe('failed');
  } finally {
    unit.miner.applyFault({ fault: 'garbage', kind: 'off' });
  }
  expect((await farm.read(unit)).mode).not.toBe('sleeping');
});
