/**
 * Bitcoin address validation for withdrawals: bech32 (segwit v0, BIP 173), bech32m (v1+, BIP 350) and base58check
 * (P2PKH, P2SH). Checksums are verified, so a mistyped character is refused before any coin can be lost.
 */
import { bech32, bech32m } from 'bech32';
import bs58check from 'bs58check';

export type BtcNetwork = 'mainnet' | 'testnet' | 'regtest';
export type BtcAddressType = 'p2pkh' | 'p2sh' | 'p2wpkh' | 'p2wsh' | 'p2tr' | 'segwit';

export type AddressCheck = { ok: true; type: BtcAddressType; network: BtcNetwork } | { ok: false; reason: string };

const HRP: Record<BtcNetwork, string> = { mainnet: 'bc', testnet: 'tb', regtest: 'bcrt' };
const BASE58_VERSIONS: Record<BtcNetwork, { p2pkh: number; p2sh: number }> = {
  mainnet: { p2pkh: 0x00, p2sh: 0x05 },
  testnet: { p2pkh: 0x6f, p2sh: 0xc4 },
  regtest: { p2pkh: 0x6f, p2sh: 0xc4 },
};

function checkSegwit(address: string, network: BtcNetwork): AddressCheck {
  if (address !== address.toLowerCase() && address !== address.toUpperCase()) return { ok: false, reason: 'mixes upper and lower case' };
  const lower = address.toLowerCase();
  const hrp = HRP[network];
  if (!lower.startsWith(`${hrp}1`)) return { ok: false, reason: `is not a ${network} address (expected prefix ${hrp}1)` };
  // Try bech32 first (witness v0), then bech32m (v1+); each version must use its own checksum.
  const asBech32 = bech32.decodeUnsafe(lower, 90);
  const asBech32m = asBech32 ? undefined : bech32m.decodeUnsafe(lower, 90);
  const decoded = asBech32 ?? asBech32m;
  if (!decoded) return { ok: false, reason: 'has a bad bech32/bech32m checksum or characters' };
  if (decoded.prefix !== hrp) return { ok: false, reason: `is not a ${network} address` };
  const [version, ...rest] = decoded.words;
  if (version === undefined || version > 16) return { ok: false, reason: 'has an invalid witness version' };
  if ((version === 0) !== Boolean(asBech32)) return { ok: false, reason: `witness version ${version} needs the ${version === 0 ? 'bech32' : 'bech32m'} checksum` };
  const program = bech32.fromWordsUnsafe(rest);
  if (!program || program.length < 2 || program.length > 40) return { ok: false, reason: 'has an invalid witness program length' };
  if (version === 0) {
    if (program.length === 20) return { ok: true, type: 'p2wpkh', network };
    if (program.length === 32) return { ok: true, type: 'p2wsh', network };
    return { ok: false, reason: 'witness v0 program must be 20 or 32 bytes' };
  }
  if (version === 1 && program.length === 32) return { ok: true, type: 'p2tr', network };
  return { ok: true, type: 'segwit', network };
}

function checkBase58(address: string, network: BtcNetwork): AddressCheck {
  let payload: Uint8Array | undefined;
  try {
    payload = bs58check.decodeUnsafe(address);
  } catch {
    payload = undefined;
  }
  if (!payload) return { ok: false, reason: 'has a bad base58check checksum or characters' };
  if (payload.length !== 21) return { ok: false, reason: 'has the wrong length for a base58 address' };
  const versions = BASE58_VERSIONS[network];
  if (payload[0] === versions.p2pkh) return { ok: true, type: 'p2pkh', network };
  if (payload[0] === versions.p2sh) return { ok: true, type: 'p2sh', network };
  return { ok: false, reason: `is not a ${network} address (version byte ${payload[0]})` };
}

/** Validates a withdrawal address for the given network (mainnet unless FLYMINING_BTC_NETWORK says otherwise). */
export function validateBtcAddress(address: string, network: BtcNetwork = defaultNetwork()): AddressCheck {
  const text = address.trim();
  if (text.length < 14 || text.length > 90) return { ok: false, reason: 'has the wrong length for a Bitcoin address' };
  const result = /^(bc|tb|bcrt)1/i.test(text) ? checkSegwit(text, network) : checkBase58(text, network);
  return result.ok ? result : { ok: false, reason: `"${text}" ${result.reason}` };
}

export function defaultNetwork(): BtcNetwork {
  const env = process.env.FLYMINING_BTC_NETWORK;
  return env === 'testnet' || env === 'regtest' ? env : 'mainnet';
}
