/** Which addresses `flymining discover <cidr>` probes, and how it refuses a range it will not scan. */
import { BlockList, isIPv4 } from 'node:net';
import fc from 'fast-check';
import { discover, expandCidr } from '../src/discovery';

function toNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

describe('expandCidr', () => {
  test('every address of the subnet (per Node’s own BlockList) once, in order, without network and broadcast', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 20, max: 32 }), (address, bits) => {
        const cidr = `${address}/${bits}`;
        const subnet = new BlockList();
        subnet.addSubnet(address, bits, 'ipv4');
        const expanded = expandCidr(cidr);
        const size = 2 ** (32 - bits);
        expect(expanded).toHaveLength(bits <= 30 ? size - 2 : size);
        expect(expanded.every((ip) => isIPv4(ip) && subnet.check(ip, 'ipv4'))).toBe(true);
        const numbers = expanded.map(toNumber);
        expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true);
        if (bits <= 30) {
          // The first and last addresses of the block are its network and broadcast: never probed.
          expect(numbers[0]! % size).toBe(1);
          expect(numbers[numbers.length - 1]! % size).toBe(size - 2);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('a single address is itself; host bits in a range do not shift it', () => {
    expect(expandCidr('10.20.30.40')).toEqual(['10.20.30.40']);
    expect(expandCidr(' 10.0.1.77/24 ')).toEqual(expandCidr('10.0.1.0/24'));
    expect(expandCidr('10.0.1.0/24')[0]).toBe('10.0.1.1');
    expect(expandCidr('192.168.7.6/31')).toEqual(['192.168.7.6', '192.168.7.7']);
  });

  test('a /16 is the largest range; anything larger is refused naming its size', () => {
    expect(expandCidr('172.16.0.0/16')).toHaveLength(65_534);
    expect(() => expandCidr('172.16.0.0/15')).toThrow('"172.16.0.0/15" has 131072 addresses; scan at most a /16 at a time');
    expect(() => expandCidr('0.0.0.0/0')).toThrow('scan at most a /16');
  });

  test.each([
    ['10.0.0.256/24', 'each part of an IPv4 address is 0-255'],
    ['10.0.0.0/33', 'the prefix length after "/" is a whole number 0-32, not "33"'],
    ['10.0.0.0/', 'not ""'],
    ['10.0.0.0/x', 'not "x"'],
    ['10.0.0.0/24/8', 'more than one "/"'],
    ['10.1/24', 'write all four parts in decimal'],
    ['012.0.0.1', 'without leading zeros'],
    ['miners.local', 'an IPv4 address is four numbers 0-255 separated by dots'],
    ['/24', 'no address before "/"'],
    ['fd00::/64', 'is IPv6: discovery scans IPv4 ranges only'],
    ['::ffff:10.0.0.1', 'is IPv6'],
  ])('"%s" is refused: %s', (cidr, message) => {
    expect(() => expandCidr(cidr)).toThrow(message);
    expect(() => expandCidr(cidr)).toThrow(`"${cidr}"`);
  });

  test('discover refuses a bad range before probing anything', async () => {
    const progress: number[] = [];
    await expect(discover('fd00::/120', { onProgress: (done) => progress.push(done) })).rejects.toThrow('is IPv6');
    expect(progress).toEqual([]);
  });
});
