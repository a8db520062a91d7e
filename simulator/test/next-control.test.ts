/** The control API's new faults, and the demo farm's composition and inventory. */
import { parse } from 'yaml';
import { parseInventory } from '@flymining/shared';
import { startControlServer, type ControlServer } from '../src/control';
import { DEMO_PROFILE_MIX, DEMO_REQUIRED_PROFILES, SimulatedFarm, generateFarmSpecs } from '../src/farm';
import { inventoryYaml } from '../src/write-inventory';
import { V3Client } from './next-helpers';
import { obj } from './helpers';

describe('demo farm', () => {
  it('--seed 1 with 200 miners holds every required newer-API profile, with web and v3 ports', () => {
    const specs = generateFarmSpecs({ miners: 200, seed: 1, profileMix: DEMO_PROFILE_MIX, ensureProfiles: DEMO_REQUIRED_PROFILES });
    for (const id of DEMO_REQUIRED_PROFILES) expect(specs.some((s) => s.profile === id)).toBe(true);
    const wm = specs.find((s) => s.profile === 'whatsminer-m60s')!;
    expect(wm).toMatchObject({ port: 4028, v3Port: 4433 });
    expect(specs.find((s) => s.profile === 'antminer-s23-hyd')).toMatchObject({ httpPort: 80 });
    expect(specs.find((s) => s.profile === 'antminer-s19pro')).not.toHaveProperty('httpPort');
  });

  it('a tiny farm still gets each required profile; ports mode gives each unit its own web and v3 ports', () => {
    const specs = generateFarmSpecs({ miners: 6, seed: 1, bind: 'ports', basePort: 30000, profileMix: { 'antminer-s19pro': 1 }, ensureProfiles: DEMO_REQUIRED_PROFILES });
    expect(new Set(specs.map((s) => s.profile)).size).toBe(6);
    const ports = specs.flatMap((s) => [s.port, s.httpPort, s.v3Port].filter((p) => p !== undefined));
    expect(new Set(ports).size).toBe(ports.length);
    expect(specs.find((s) => s.profile === 'whatsminer-m60s')!.v3Port).toBeGreaterThanOrEqual(30012);
  });

  type Doc = { containers: Array<{ racks: Array<{ shelves: Array<{ slots: Array<Record<string, unknown>> }> }> }> };
  const slotsOf = (yaml: string): Array<Record<string, unknown>> =>
    (parse(yaml) as Doc).containers.flatMap((c) => c.racks.flatMap((r) => r.shelves.flatMap((sh) => sh.slots)));

  it('without the protocol fields in the schema: no pins, and the ePIC unit without a firmware family', () => {
    const specs = generateFarmSpecs({ miners: 5, seed: 1, profileMix: { 'epic-s19xp': 1 } });
    const slot = slotsOf(inventoryYaml(specs, { protocols: false }))[0]!;
    expect(slot).toMatchObject({ vendor: 'antminer', model: 'AntMiner S19 XP' });
    expect(slot).not.toHaveProperty('firmware');
    expect(slot).not.toHaveProperty('protocol');
  });

  it('the inventory written by default loads with this tree\'s inventory schema', () => {
    const specs = generateFarmSpecs({ miners: 40, seed: 1, profileMix: DEMO_PROFILE_MIX, ensureProfiles: DEMO_REQUIRED_PROFILES });
    expect(parseInventory(inventoryYaml(specs), 'farm.yaml').miners.size).toBe(40);
  });

  it('with the protocol fields: each newer-API unit names its protocol, port and credentials entry', () => {
    const specs = generateFarmSpecs({ miners: 6, seed: 1, bind: 'ports', basePort: 31000, profileMix: { 'antminer-s19pro': 1 }, ensureProfiles: DEMO_REQUIRED_PROFILES });
    const slots = new Map(slotsOf(inventoryYaml(specs, { protocols: true })).map((s) => [s.id, s]));
    const pinOf = (profile: string) => {
      const spec = specs.find((s) => s.profile === profile)!;
      return { spec, slot: slots.get(spec.id)! };
    };
    const v3 = pinOf('whatsminer-m60s');
    expect(v3.slot).toMatchObject({ protocol: 'whatsminer-v3', port: v3.spec.v3Port });
    expect(v3.slot).not.toHaveProperty('credentials');
    const web = pinOf('antminer-s23-hyd');
    expect(web.slot).toMatchObject({ protocol: 'antminer-web', port: web.spec.httpPort, credentials: 'firmware-default' });
    expect(pinOf('braiins-s21pro').slot).toMatchObject({ protocol: 'braiins-rest', credentials: 'firmware-default' });
    expect(pinOf('epic-s19xp').slot).toMatchObject({ protocol: 'epic', port: pinOf('epic-s19xp').spec.port, firmware: 'epic' });
    expect(pinOf('antminer-s19pro').slot).not.toHaveProperty('protocol');
  });
});

describe('control API faults for the newer APIs', () => {
  let farm: SimulatedFarm;
  let control: ControlServer;
  const specs = generateFarmSpecs({ miners: 2, baseAddress: '127.211.5.1', seed: 2, profileMix: { 'whatsminer-m60s': 1, 'antminer-s19pro': 1 }, ensureProfiles: ['whatsminer-m60s', 'antminer-s19pro'] });
  beforeAll(async () => {
    farm = new SimulatedFarm({ specs, seed: 2 });
    await farm.start();
    control = await startControlServer(farm, 0);
  });
  afterAll(async () => {
    await control.close();
    await farm.stop();
  });
  const post = async (id: string, body: unknown) => {
    const r = await fetch(`${control.url}/miners/${id}/faults`, { method: 'POST', body: JSON.stringify(body) });
    return { status: r.status, body: obj(await r.json()) };
  };
  const wm = specs.find((s) => s.profile === 'whatsminer-m60s')!;
  const s19 = specs.find((s) => s.profile === 'antminer-s19pro')!;

  it('firmwareError and psuFault show in GET /miners and on the wire', async () => {
    const r = await post(wm.id, { fault: 'firmwareError', code: '531' });
    expect(r.status).toBe(200);
    expect(obj(r.body.faults).firmwareErrors).toEqual([expect.objectContaining({ code: '531' })]);
    const c = await V3Client.connect(wm.host, wm.v3Port);
    const info = await c.request({ cmd: 'get.device.info', param: 'error-code' });
    c.close();
    expect(JSON.stringify(info)).toContain('Slot1 not found.');
  });

  it('refuses what the unit cannot show, naming the miner and the field', async () => {
    const cg = await post(s19.id, { fault: 'firmwareError', code: '531' });
    expect(cg.status).toBe(400);
    expect(String(cg.body.error)).toContain(s19.id);
    expect((await post(s19.id, { fault: 'authChange' })).status).toBe(400);
    const bad = await post(wm.id, { fault: 'hostile', mode: 'nonsense' });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toContain('mode');
    expect((await post(wm.id, { fault: 'firmwareError', code: 'a b' })).status).toBe(400);
    const noHttp = await post(wm.id, { fault: 'hostile', mode: 'digest-loop' });
    expect(noHttp.status).toBe(400);
    expect(String(noHttp.body.error)).toContain('no transport for hostile mode "digest-loop"');
    expect((await post(s19.id, { fault: 'hostile', mode: 'v3-huge-length' })).status).toBe(400);
  });

  it('authChange is reported without the password', async () => {
    const r = await post(wm.id, { fault: 'authChange', password: 'hunter2' });
    expect(obj(r.body.faults).changedPassword).toBe('(changed)');
    expect(JSON.stringify(r.body)).not.toContain('hunter2');
    await post(wm.id, { fault: 'authChange', on: false });
  });

  it('hostile modes are set and cleared through the API', async () => {
    expect(obj((await post(wm.id, { fault: 'hostile', mode: 'v3-huge-length' })).body.faults).hostile).toBe('v3-huge-length');
    expect(obj((await post(wm.id, { fault: 'hostile', mode: 'off' })).body.faults).hostile).toBeNull();
  });
});
