/** ePIC umcOS / PowerPlay: HTTP on port 4028, unauthenticated reads shaped like the captures, password-in-body writes. */
import { sendCommand } from '../src/client';
import { arr, obj } from './helpers';
import { fixture, httpRequest, shapeDifferences, startUnit, type NextUnit } from './next-helpers';

const HOST = '127.211.3.10';
let unit: NextUnit;
beforeAll(async () => {
  unit = await startUnit('epic-s19xp', HOST);
});
afterAll(() => unit.stop());
afterEach(() => unit.miner.applyFault({ fault: 'clear' }));

const getJson = async (path: string): Promise<unknown> => {
  const r = await httpRequest(HOST, 4028, 'GET', path);
  expect(r.status).toBe(200);
  return JSON.parse(r.body);
};

describe('ePIC reads on port 4028', () => {
  it.each([
    ['/summary', 'epic-umc-s19xp-summary.json'],
    ['/capabilities', 'epic-umc-s19xp-capabilities.json'],
    ['/network', 'epic-umc-s19xp-network.json'],
    ['/temps', 'epic-umc-s19xp-temps.json'],
    ['/temps/chip', 'epic-umc-s19xp-temps-chip.json'],
    ['/hashrate', 'epic-umc-s19xp-hashrate.json'],
    ['/clocks', 'epic-umc-s19xp-clocks.json'],
  ])('%s matches %s key for key and type', async (path, file) => {
    expect(shapeDifferences(await getJson(path), fixture('epic', file))).toEqual([]);
  });

  it('summary: MH/s, three HBStatus slots, 12 fan slots with nulls for absent fans', async () => {
    const s = obj(await getJson('/summary'));
    const mhs = Number(obj(s.Session)['Average MHs']);
    expect(mhs).toBeGreaterThan(120e6);
    expect(mhs).toBeLessThan(160e6);
    expect(arr(s.HBStatus)).toHaveLength(3);
    const fans = obj(s['Fans Rpm']);
    expect(Object.keys(fans)).toHaveLength(12);
    expect(fans['Fans Speed 5']).toBeNull();
    expect(Number(fans['Fans Speed 1'])).toBeGreaterThan(0);
  });

  it('a dropped board disappears from HBs and shows as not detected; faults set Last Error', async () => {
    unit.miner.applyFault({ fault: 'dropBoard', board: 0 });
    unit.miner.applyFault({ fault: 'firmwareError', code: 'E17', reason: 'Hashboard 0 lost communication' });
    const s = obj(await getJson('/summary'));
    expect(arr(s.HBs).map((h) => obj(h).Index)).toEqual([1, 2]);
    expect(obj(arr(s.HBStatus)[0])).toEqual({ Index: 0, Enabled: false, Detected: false });
    expect(obj(s.Status)['Last Error']).toBe('Hashboard 0 lost communication');
  });

  it('a CGMiner JSON line on port 4028 gets an HTTP error back', async () => {
    const reply = await sendCommand(HOST, 4028, 'summary');
    expect(reply.text).toMatch(/^HTTP\/1\.1 400 Bad Request/);
  });

  it('writes carry the password in the body: wrong password refused, right one obeyed', async () => {
    const wrong = await httpRequest(HOST, 4028, 'POST', '/miner', {}, JSON.stringify({ param: 'Stop', password: 'nope' }));
    expect(wrong.status).toBe(401);
    expect(obj(JSON.parse(wrong.body))).toEqual({ result: false, error: 'Incorrect password' });
    const ok = await httpRequest(HOST, 4028, 'POST', '/miner', {}, JSON.stringify({ param: 'Stop', password: 'letmein' }));
    expect(obj(JSON.parse(ok.body))).toEqual({ result: true, error: null });
    unit.clock.now += 2000;
    expect(obj(obj(await getJson('/summary')).Status)['Operating State']).toBe('Idling');
  });
});
