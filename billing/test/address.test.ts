/** Withdrawal addresses: BIP 173/350 and base58check vectors; a wrong checksum or network is refused. */
import { validateBtcAddress } from '../src/address';

test.each([
  ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'p2wpkh'],
  ['bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3', 'p2wsh'],
  ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', 'p2tr'],
  ['bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y', 'segwit'],
  ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'p2pkh'],
  ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'p2sh'],
])('accepts %s as %s', (address, type) => {
  expect(validateBtcAddress(address, 'mainnet')).toEqual({ ok: true, type, network: 'mainnet' });
});

test.each([
  ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd', /bad bech32|checksum/], // v1 with a bech32 checksum
  ['bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du', /checksum/], // v2 with a bech32 checksum
  ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T5', /checksum/], // one character off
  ['bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', /mixes upper and lower case/],
  ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3', /base58check checksum/],
  ['tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', /not a mainnet address/],
  ['mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', /not a mainnet address/],
  ['hello', /wrong length/],
])('refuses %s', (address, reason) => {
  const check = validateBtcAddress(address, 'mainnet');
  expect(check.ok).toBe(false);
  if (!check.ok) expect(check.reason).toMatch(reason);
});

test('testnet addresses are accepted on testnet', () => {
  expect(validateBtcAddress('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'testnet')).toMatchObject({ ok: true, type: 'p2wpkh' });
  expect(validateBtcAddress('mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', 'testnet')).toMatchObject({ ok: true, type: 'p2pkh' });
});
