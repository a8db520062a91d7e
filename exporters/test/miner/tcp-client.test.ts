import net from 'node:net';
import { MinerConnectionError, sendCommand } from '../../src/miner/transports/cgminer-tcp';

/** A real TCP server on 127.0.0.1 that answers every connection with `behave`. */
async function server(behave: (socket: net.Socket, request: string) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (d) => behave(socket, d.toString()));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

const fast = { connectTimeoutMs: 1000, readTimeoutMs: 500, maxBytes: 1024 * 1024 };

async function failure(p: Promise<unknown>): Promise<MinerConnectionError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MinerConnectionError) return err;
    throw err;
  }
  throw new Error('expected a MinerConnectionError');
}

describe('CGMiner API transport', () => {
  test('sends the JSON request and strips the NUL terminator', async () => {
    let seen = '';
    const s = await server((sock, req) => {
      seen = req;
      sock.end(Buffer.from('{"STATUS":[{"STATUS":"S"}],"id":1}\0'));
    });
    const reply = await sendCommand('127.0.0.1', s.port, 'summary', undefined, fast);
    expect(JSON.parse(seen)).toEqual({ command: 'summary' });
    expect(reply.toString()).toBe('{"STATUS":[{"STATUS":"S"}],"id":1}');
    await s.close();
  });

  test('a reply that ends in NUL but keeps the socket open completes at once', async () => {
    const s = await server((sock) => sock.write('{"id":1}\0'));
    const t0 = Date.now();
    expect((await sendCommand('127.0.0.1', s.port, 'version', undefined, { ...fast, readTimeoutMs: 5000 })).toString()).toBe('{"id":1}');
    expect(Date.now() - t0).toBeLessThan(1000);
    await s.close();
  });

  test('refused, stalled, endless and oversized replies fail with their kind within the limits', async () => {
    const closed = await server(() => undefined);
    const port = closed.port;
    await closed.close();
    expect((await failure(sendCommand('127.0.0.1', port, 'summary', undefined, fast))).kind).toBe('refused');

    const stall = await server(() => undefined);
    let t0 = Date.now();
    const stalled = await failure(sendCommand('127.0.0.1', stall.port, 'summary', undefined, fast));
    expect(stalled.kind).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(1500);
    await stall.close();

    // Trickles a byte every 20 ms forever: only the overall deadline stops it.
    const endless = await server((sock) => {
      const timer = setInterval(() => (sock.destroyed ? clearInterval(timer) : sock.write('{')), 20);
    });
    t0 = Date.now();
    const never = await failure(sendCommand('127.0.0.1', endless.port, 'stats', undefined, fast));
    expect(never.kind).toBe('timeout');
    expect(never.message).toMatch(/reply not complete within 500 ms/);
    expect(Date.now() - t0).toBeLessThan(1500);
    await endless.close();

    // 50 MB reply: cut at the cap, memory stays bounded.
    const huge = await server((sock) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      let sent = 0;
      const pump = (): void => {
        while (sent < 50 && !sock.destroyed) {
          sent++;
          if (!sock.write(chunk)) return void sock.once('drain', pump);
        }
        sock.end();
      };
      pump();
    });
    const before = process.memoryUsage().rss;
    const big = await failure(sendCommand('127.0.0.1', huge.port, 'stats', undefined, { ...fast, readTimeoutMs: 5000 }));
    expect(big.kind).toBe('too-large');
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
    await huge.close();
  });

  test('a connection closed without a byte is an empty reply, binary garbage is returned for the parser to judge', async () => {
    const empty = await server((sock) => sock.end());
    expect((await failure(sendCommand('127.0.0.1', empty.port, 'summary', undefined, fast))).kind).toBe('empty');
    await empty.close();
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x80]);
    const bin = await server((sock) => sock.end(garbage));
    expect([...(await sendCommand('127.0.0.1', bin.port, 'summary', undefined, fast))]).toEqual([0xff, 0xfe, 0x00, 0x13, 0x37, 0x80]);
    await bin.close();
  });
});
