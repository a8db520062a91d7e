/**
 * Joined commands (`summary+stats+pools`, QUIRKS §2) over real TCP against simulated units that answer them as
 * cgminer does (LuxOS, Avalon, Braiins OS, old bmminer with its `}{`) or refuse them (stock S19, btminer): one
 * connection per scrape where the miner joins, the same readings as one command per connection, and a refusing
 * miner read one command per connection, asked the joined way again only after the retry time.
 */
import net from 'node:net';
import { SimMiner, answerRequest, type SimMinerSpec } from '@flymining/simulator';
import { JoinedCommandRefusals } from '../../src/miner/joined';
import { scrapeMiner, type ScrapeOptions, type ScrapeResult } from '../../src/miner/scrape';
import type { FirmwareFamily } from '@flymining/shared';

/** Simulated unit behind a server of ours that records each request (one per connection, as cgminer). */
async function countingUnit(profile: SimMinerSpec['profile']): Promise<{ port: number; requests: string[]; close: () => Promise<void> }> {
  const now = Date.parse('2026-05-01T12:00:00Z');
  const miner = new SimMiner({ id: `T-${profile}`, host: '127.0.0.1', port: 4028, profile, position: { site: 'T', container: 'C01', rack: 'R01', shelf: 'S1', slot: '1' } }, 7, () => now);
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      try {
        requests.push(String((JSON.parse(text) as { command: string }).command));
      } catch {
        return; // not whole yet
      }
      const reply = answerRequest(miner, text, now);
      socket.end(reply.nul ? `${reply.text}\0` : reply.text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function sampleOf(result: ScrapeResult): Omit<Extract<ScrapeResult, { ok: true }>['sample'], 'time'> {
  if (!result.ok) throw new Error(`scrape failed: ${result.failure.message}`);
  const { time: _time, ...rest } = result.sample;
  return rest;
}

const JOINING: Array<[SimMinerSpec['profile'], FirmwareFamily]> = [
  ['antminer-s19kpro-luxos', 'luxos'],
  ['avalon-1246', 'avalon'],
  ['braiins-s9', 'braiins-os'],
  ['antminer-s9', 'antminer-stock'],
];

describe.each(JOINING)('%s (joins commands)', (profile, firmware) => {
  it('is read in one connection, with the readings of one command per connection', async () => {
    const unit = await countingUnit(profile);
    try {
      const target = { host: '127.0.0.1', port: unit.port, firmware };
      const joined = await scrapeMiner(target, { joined: new JoinedCommandRefusals() });
      expect(unit.requests).toHaveLength(1);
      expect(unit.requests[0]).toContain('+');
      unit.requests.length = 0;
      const separate = await scrapeMiner(target, { joined: false });
      expect(unit.requests.length).toBeGreaterThan(2);
      expect(unit.requests.some((r) => r.includes('+'))).toBe(false);
      expect(sampleOf(joined)).toEqual(sampleOf(separate));
      expect(sampleOf(joined).hashrateThs).toBeGreaterThan(0);
    } finally {
      await unit.close();
    }
  });
});

describe.each([
  ['antminer-s19pro', 'antminer-stock'],
  ['whatsminer-m31s', 'whatsminer'],
] as Array<[SimMinerSpec['profile'], FirmwareFamily]>)('%s (refuses joined commands)', (profile, firmware) => {
  it('is read one command per connection, and asked the joined way again only after the retry time', async () => {
    const unit = await countingUnit(profile);
    let now = Date.parse('2026-05-01T12:00:00Z');
    const refusals = new JoinedCommandRefusals(60_000);
    const options: ScrapeOptions = { joined: refusals, now: () => now };
    try {
      const target = { host: '127.0.0.1', port: unit.port, firmware };
      const first = await scrapeMiner(target, options);
      const separate = unit.requests.filter((r) => !r.includes('+'));
      expect(unit.requests.filter((r) => r.includes('+'))).toHaveLength(1);
      expect(separate.length).toBeGreaterThan(2);
      expect(sampleOf(first).errors).toEqual([]);

      unit.requests.length = 0;
      now += 30_000;
      const second = await scrapeMiner(target, options);
      expect(unit.requests).toEqual(separate);
      expect(sampleOf(second)).toEqual(sampleOf(first));

      unit.requests.length = 0;
      now += 60_000;
      await scrapeMiner(target, options);
      expect(unit.requests.filter((r) => r.includes('+'))).toHaveLength(1);
    } finally {
      await unit.close();
    }
  });
});

it('a joined reply cut short is not used: the commands are asked one per connection, and the miner remembered', async () => {
  const unit = await countingUnit('antminer-s19kpro-luxos');
  // A firmware whose buffer the joined reply overflows: the joined form is cut, single commands come whole.
  const cutting = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (d: Buffer) => {
      const upstream = net.connect(unit.port, '127.0.0.1', () => upstream.write(d));
      const chunks: Buffer[] = [];
      upstream.on('data', (c: Buffer) => chunks.push(c));
      upstream.on('end', () => {
        const whole = Buffer.concat(chunks);
        socket.end(d.toString().includes('+') ? whole.subarray(0, Math.floor(whole.length / 2)) : whole);
      });
    });
  });
  await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
  const refusals = new JoinedCommandRefusals();
  try {
    const target = { host: '127.0.0.1', port: (cutting.address() as net.AddressInfo).port, firmware: 'luxos' as const };
    const result = await scrapeMiner(target, { joined: refusals });
    expect(sampleOf(result).errors).toEqual([]);
    expect(unit.requests.filter((r) => r.includes('+'))).toHaveLength(1);
    expect(unit.requests.filter((r) => !r.includes('+')).length).toBeGreaterThan(2);
    expect(refusals.size).toBe(1);
  } finally {
    await new Promise<void>((resolve) => cutting.close(() => resolve()));
    await unit.close();
  }
});
