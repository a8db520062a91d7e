/** Whatsminer API v3 over TCP 4433 with our own framing client: replies shaped like the captures, tokens, faults. */
import net from 'node:net';
import { sendCommand } from '../src/client';
import { fixture, shapeDifferences, startUnit, v3Frame, V3Client, v3TokenOf, type NextUnit } from './next-helpers';
import { obj } from './helpers';

const HOST = '127.211.0.10';
let unit: NextUnit;
beforeAll(async () => {
  unit = await startUnit('whatsminer-m60s', HOST);
});
afterAll(() => unit.stop());
afterEach(() => unit.miner.applyFault({ fault: 'clear' }));

async function once(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const c = await V3Client.connect(HOST);
  try {
    return await c.request(body);
  } finally {
    c.close();
  }
}

describe('Whatsminer API v3 replies over TCP 4433', () => {
  it('get.device.info has the captured keys and string values, the model and the live MAC', async () => {
    const reply = await once({ cmd: 'get.device.info' });
    // power.mode (the work mode) is not in this capture; asic-rs reads it from get.device.info on other firmware.
    const differences = shapeDifferences(reply, fixture('whatsminer-v3', 'whatsminer-m60s-vk40-get.device.info.json'), ['$.when']);
    expect(differences.filter((d) => d !== '$.msg.power.mode: not in the capture')).toEqual([]);
    const msg = obj(reply.msg);
    const miner = obj(msg.miner);
    expect(miner.type).toBe('M60S_VK40');
    expect(miner['board-num']).toBe('3');
    expect(String(miner['detect-hash-rate']).split(':')).toHaveLength(3);
    expect(obj(msg.network).ip).toBe(HOST);
    expect(msg).not.toHaveProperty('error-code');
    expect(reply).toMatchObject({ code: 0, desc: 'get.device.info' });
  });

  it.each([
    ['summary', 'whatsminer-m60s-vk40-get.miner.status-summary.json'],
    ['edevs', 'whatsminer-m60s-vk40-get.miner.status-edevs.json'],
    ['pools', 'whatsminer-m60s-vk40-get.miner.status-pools.json'],
  ])('get.miner.status %s matches the capture key for key and type', async (section, file) => {
    const reply = await once({ cmd: 'get.miner.status', param: section });
    expect(shapeDifferences(reply, fixture('whatsminer-v3', file))).toEqual([]);
  });

  it('summary hash rates are live TH/s; sections join with +; param null is accepted', async () => {
    const reply = await once({ cmd: 'get.miner.status', param: 'summary+edevs', ts: null });
    const msg = obj(reply.msg);
    const hash = Number(obj(msg.summary)['hash-realtime']);
    expect(hash).toBeGreaterThan(150);
    expect(hash).toBeLessThan(200);
    expect(Object.keys(msg).sort()).toEqual(['edevs', 'summary']);
    const info = await once({ cmd: 'get.device.info', param: null });
    expect(obj(info.msg)).toHaveProperty('salt');
  });

  it('get.system.setting matches the M50 capture', async () => {
    const reply = await once({ cmd: 'get.system.setting' });
    expect(shapeDifferences(reply, fixture('whatsminer-v3', 'whatsminer-m50-get.system.setting.json'))).toEqual([]);
  });

  it('keeps the connection for several frames and ignores zero-length heartbeats', async () => {
    const c = await V3Client.connect(HOST);
    c.sendRaw(Buffer.alloc(4));
    const a = await c.request({ cmd: 'get.miner.status', param: 'pools' });
    c.sendRaw(Buffer.alloc(4));
    const b = await c.request({ cmd: 'get.device.info', param: 'salt' });
    c.close();
    expect(obj(a.msg)).toHaveProperty('pools');
    expect(Object.keys(obj(b.msg))).toEqual(['salt']);
  });

  it('answers an unknown command with -2 and broken JSON with -3', async () => {
    expect(await once({ cmd: 'get.frobnicate' })).toMatchObject({ code: -2 });
    const c = await V3Client.connect(HOST);
    c.sendRaw(v3Frame('{"cmd":'));
    const reply = JSON.parse((await c.readFrame()).toString()) as Record<string, unknown>;
    c.close();
    expect(reply.code).toBe(-3);
  });
});

describe('v3 write tokens', () => {
  const write = async (password: string, tsOffset = 0): Promise<Record<string, unknown>> => {
    const salt = String(obj((await once({ cmd: 'get.device.info', param: 'salt' })).msg).salt);
    const ts = Math.floor(unit.clock.now / 1000) + tsOffset;
    const cmd = 'set.system.led';
    return once({ cmd, param: 'auto', ts, account: 'super', token: v3TokenOf(cmd, password, salt, ts) });
  };

  it('accepts a token made with the password and the salt, refuses a wrong one with -4', async () => {
    expect(await write('super')).toMatchObject({ code: 0, msg: 'ok' });
    expect(await write('admin')).toMatchObject({ code: -4 });
    expect(await write('super', -3600)).toMatchObject({ code: -4 });
  });

  it('authChange makes the configured password fail; clearing it restores it', async () => {
    unit.miner.applyFault({ fault: 'authChange' });
    expect(await write('super')).toMatchObject({ code: -4 });
    unit.miner.applyFault({ fault: 'authChange', on: false });
    expect(await write('super')).toMatchObject({ code: 0 });
  });
});

describe('firmware error codes in get.device.info', () => {
  it('lists injected codes as {"<code>": time, "reason": text}', async () => {
    unit.miner.applyFault({ fault: 'firmwareError', code: '531' });
    unit.miner.applyFault({ fault: 'firmwareError', code: '9999', reason: 'something new' });
    const list = obj((await once({ cmd: 'get.device.info', param: 'error-code' })).msg)['error-code'] as Array<Record<string, unknown>>;
    expect(list).toEqual([
      { '531': '2026-11-24 20:00:00', reason: 'Slot1 not found.' },
      { '9999': '2026-11-24 20:00:00', reason: 'something new' },
    ]);
  });

  it('a PSU fault reports code 202, zero power and no hashing', async () => {
    unit.miner.applyFault({ fault: 'psuFault' });
    unit.clock.now += 2000;
    const info = obj((await once({ cmd: 'get.device.info' })).msg);
    expect(JSON.stringify(info['error-code'])).toContain('"202"');
    const summary = obj(obj((await once({ cmd: 'get.miner.status', param: 'summary' })).msg).summary);
    expect(summary['power-realtime']).toBe(0);
    expect(summary['hash-realtime']).toBe(0);
  });

  it('refuses a non-numeric code for a Whatsminer', () => {
    expect(() => unit.miner.applyFault({ fault: 'firmwareError', code: 'V2' })).toThrow(/numbers/);
  });
});

describe('port 4028 of a v3 unit', () => {
  it('answers pools and uptime but no hashboards or model', async () => {
    const summary = JSON.parse((await sendCommand(HOST, 4028, 'summary')).text) as Record<string, unknown>;
    const item = obj((summary.SUMMARY as unknown[])[0]);
    expect(Object.keys(item)).toEqual(['Elapsed']);
    const pools = JSON.parse((await sendCommand(HOST, 4028, 'pools')).text) as Record<string, unknown>;
    expect((pools.POOLS as unknown[]).length).toBe(3);
    for (const command of ['devs', 'edevs', 'stats', 'get_version']) {
      const reply = JSON.parse((await sendCommand(HOST, 4028, command)).text) as Record<string, unknown>;
      expect(obj((reply.STATUS as unknown[])[0])).toMatchObject({ STATUS: 'E', Code: 14 });
    }
  });
});

describe('hostile v3 modes', () => {
  it('v3-garbage-after-frame: a valid frame, then bytes that are no frame, then close', async () => {
    unit.miner.applyFault({ fault: 'hostile', mode: 'v3-garbage-after-frame' });
    const c = await V3Client.connect(HOST);
    const reply = await c.request({ cmd: 'get.miner.status', param: 'pools' });
    await c.waitFor(96);
    expect(reply.code).toBe(0);
    expect(c.rest().length).toBe(96);
    c.close();
  });

  it('v3-huge-length: the prefix announces 4 GB and the connection then stays silent', async () => {
    unit.miner.applyFault({ fault: 'hostile', mode: 'v3-huge-length' });
    const c = await V3Client.connect(HOST);
    c.sendRaw(v3Frame('{"cmd":"get.device.info"}'));
    await c.waitFor(8);
    expect(c.rest().readUInt32LE(0)).toBe(0xffffffff);
    await expect(c.readFrame()).rejects.toThrow(/announces 4294967295 bytes/);
    expect(c.closed).toBe(false);
    c.close();
  });

  it('refuses an 11th client at once', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => V3Client.connect(HOST)));
    const eleventh = net.connect({ host: HOST, port: 4433 });
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      eleventh.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      eleventh.on('error', () => undefined);
    });
    expect(closed).toBe(true);
    for (const c of clients) c.close();
  });
});
