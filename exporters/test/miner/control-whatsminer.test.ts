/**
 * Whatsminer writes against the simulated units over their real protocols: an M60S on API v3 (TCP 4433, tokens from
 * the admin password and the device salt, encrypted pool lists) and an M31S on API v2 (btminer on 4028, get_token
 * and AES frames). Each write is read back as the exporter reads the unit.
 */
import { COMMANDED_REBOOT, WAKE_WARMUP_SECONDS } from '../../../simulator/src/miner';
import { setWhatsminerWriteApi } from '@flymining/simulator';
import { whatsminerV2Control, whatsminerV3Control } from '../../src/miner/backends/whatsminer/control';
import { ControlError } from '../../src/miner/control/types';
import { ControlFarm, rejection, type Unit } from './control-tcp-farm';

const PASSWORD = 'super';
const ADMIN = { user: 'super', password: PASSWORD };
const POOLS = [
  { url: 'stratum+tcp://new.pool.example:3333', user: 'farm.w1', password: 'x' },
  { url: 'stratum+tcp://new-backup.pool.example:443', user: 'farm.w1', password: 'x' },
];

const farm = new ControlFarm('127.151.0.1', [
  { profile: 'whatsminer-m60s', backend: 'whatsminer/v3', protocol: 'whatsminer-v3' },
  { profile: 'whatsminer-m31s', backend: 'whatsminer', protocol: 'cgminer' },
]);
const [v3, v2] = farm.units as [Unit, Unit];

beforeAll(() => farm.start());
afterAll(() => farm.stop());

describe.each([
  ['API v3 (M60S)', () => v3],
  ['API v2 (M31S)', () => v2],
])('Whatsminer %s', (_name, unitOf) => {
  it('sleeps (read: sleeping, little power), wakes (booting, then hashing)', async () => {
    const unit = unitOf();
    expect((await farm.read(unit)).mode).toBe('hashing');
    await farm.act(unit, { kind: 'sleep' }, ADMIN);
    const asleep = await farm.read(unit);
    expect(asleep.mode).toBe('sleeping');
    expect(asleep.powerW ?? 0).toBeLessThan(100);
    await farm.act(unit, { kind: 'wake' }, ADMIN);
    // Warming up: awake, not hashing yet (the Whatsminer APIs have no booting flag the read backends use).
    const warming = await farm.read(unit);
    expect(['booting', 'idle']).toContain(warming.mode);
    expect(warming.hashrateThs ?? 0).toBe(0);
    await farm.advance((WAKE_WARMUP_SECONDS + 5) * 1000);
    expect((await farm.read(unit)).mode).toBe('hashing');
  });

  it('low power mode: the read shows the lower limit and lower power; normal restores it', async () => {
    const unit = unitOf();
    const before = await farm.read(unit);
    await farm.act(unit, { kind: 'power', target: { mode: 'low' } }, ADMIN);
    await farm.advance(2000);
    const low = await farm.read(unit);
    expect([before.workMode, low.workMode]).toEqual(['normal', 'low']);
    expect(low.powerTargetW).toBeLessThan(before.powerTargetW ?? 0);
    expect(low.powerW).toBeLessThan((before.powerW ?? 0) * 0.8);
    await farm.act(unit, { kind: 'power', target: { mode: 'normal' } }, ADMIN);
    await farm.advance(2000);
    expect((await farm.read(unit)).powerTargetW).toBe(before.powerTargetW);
  });

  it('replaces the pools; the read lists the new ones, the first active', async () => {
    const unit = unitOf();
    await farm.act(unit, { kind: 'pools', pools: POOLS }, ADMIN);
    const pools = (await farm.read(unit)).pools;
    expect(pools.map((p) => [p.url, p.user])).toEqual(POOLS.map((p) => [p.url, p.user]));
    expect(pools[0]?.active).toBe(true);
  });

  it('blinks the locate LED and stops it', async () => {
    const unit = unitOf();
    await farm.act(unit, { kind: 'blink', on: true }, ADMIN);
    expect(unit.miner.commandedState().blinking).toBe(true);
    await farm.act(unit, { kind: 'blink', on: false }, ADMIN);
    expect(unit.miner.commandedState().blinking).toBe(false);
  });

  it('reboots: the API goes away, then comes back with its uptime restarted', async () => {
    const unit = unitOf();
    const before = await farm.read(unit);
    const reply = await farm.act(unit, { kind: 'reboot' }, ADMIN);
    expect(reply.settleMs).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(await farm.unreachable(unit)).toBe(true);
    await farm.advance((COMMANDED_REBOOT.downSeconds + 2) * 1000);
    const after = await farm.read(unit);
    expect(after.uptimeS).toBeLessThan(before.uptimeS ?? 0);
    expect(after.uptimeS).toBeLessThan(60);
  });

  it('refuses a write with the wrong password (code -4 / refused), the password in no message', async () => {
    const unit = unitOf();
    const wrong = 'Wr0ng-Secret-77';
    const err = await rejection(farm.act(unit, { kind: 'blink', on: true }, { user: 'super', password: wrong }));
    expect(err).toBeInstanceOf(ControlError);
    expect((err as ControlError).kind).toBe('refused');
    expect((err as ControlError).retryable).toBe(false);
    expect(err.message).not.toContain(wrong);
    expect(unit.miner.commandedState().blinking).toBe(false);
  });

  it('refuses every write while the write API is switched off, and names the switch', async () => {
    const unit = unitOf();
    setWhatsminerWriteApi(unit.miner, false);
    try {
      const err = await rejection(farm.act(unit, { kind: 'sleep' }, ADMIN));
      expect((err as ControlError).kind).toBe('refused');
      expect(err.message).toMatch(/write API/);
      expect((await farm.read(unit)).mode).not.toBe('sleeping');
    } finally {
      setWhatsminerWriteApi(unit.miner, true);
    }
  });

  it('refuses without credentials before sending anything', async () => {
    const unit = unitOf();
    const writes = unit.miner.writes().length;
    const err = await rejection(farm.act(unit, { kind: 'reboot' }));
    expect((err as ControlError).kind).toBe('refused');
    expect(err.message).toMatch(/admin password/);
    expect(unit.miner.writes().length).toBe(writes);
  });

  it('has no pool switch and no power target in watts: clear refusals from its capabilities', async () => {
    const unit = unitOf();
    expect((await rejection(farm.act(unit, { kind: 'switch-pool', index: 1 }, ADMIN))).message).toMatch(/switch the active pool/);
    expect((await rejection(farm.act(unit, { kind: 'power', target: { watts: 3000 } }, ADMIN))).message).toMatch(/work modes \(low, normal, high\)/);
  });
});

it('an M60S refuses the v2 write path on its port 4028 (firmware from 2024-11 on writes over API v3 only)', async () => {
  const port4028 = farm.link({ ...v3, protocol: 'cgminer', port: 4028 }, ADMIN);
  const err = await rejection(whatsminerV2Control.execute({ kind: 'blink', on: true }, port4028, await farm.read(v3)));
  expect((err as ControlError).kind).toBe('refused');
  expect(err.message).toMatch(/get_token/);
  expect(v3.miner.commandedState().blinking).toBe(false);
});

it.each([
  ['API v3, a reply cut short', () => v3, 'truncated', whatsminerV3Control],
  ['API v2, random bytes', () => v2, 'binary', whatsminerV2Control],
] as const)('%s to a write: a failed action, not a crash', async (_name, unitOf, kind, control) => {
  const unit = unitOf();
  const sample = await farm.read(unit);
  unit.miner.applyFault({ fault: 'garbage', kind });
  try {
    const err = await rejection(control.execute({ kind: 'blink', on: true }, farm.link(unit, ADMIN), sample));
    expect(err).toBeInstanceOf(ControlError);
    expect((err as ControlError).kind).toBe('failed');
    expect((err as ControlError).retryable).toBe(true);
  } finally {
    unit.miner.applyFault({ fault: 'garbage', kind: 'off' });
  }
});
