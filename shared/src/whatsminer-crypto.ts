/**
 * The ciphers of Whatsminer's write APIs, used by the exporter (which signs writes) and the simulator (which checks
 * them), so both sides compute them one way (shared/miner-api QUIRKS §11, miner-api-next/whatsminer-v3 PROTOCOLS §4):
 *
 * - API v2 (btminer, TCP 4028): `get_token` gives salt, newsalt and time; the key material is the hash part of
 *   md5-crypt(password, salt), the signature that of md5-crypt(key material + time, newsalt); commands travel
 *   AES-256-ECB encrypted (zero-padded, key SHA-256 of the key material) in `{"enc":1,"data":<base64>}`.
 * - API v3 (TCP 4433): SHA-256(cmd + password + salt + ts); its base64 cut to 8 characters is the token, its 32 raw
 *   bytes the AES-256-ECB key of `set.miner.pools` parameters.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const MD5_CRYPT_MAGIC = '$1$';

function md5(...parts: Array<string | Buffer>): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The 22-character hash part of FreeBSD md5-crypt (`$1$<salt>$<hash>`); the salt is cut at 8 characters or a `$`. */
export function md5CryptHash(password: string, salt: string): string {
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.replace(/^\$1\$/, '').split('$')[0] ?? '', 'utf8').subarray(0, 8);
  const alternate = md5(pw, s, pw);
  const ctx = createHash('md5');
  ctx.update(pw);
  ctx.update(MD5_CRYPT_MAGIC);
  ctx.update(s);
  for (let left = pw.length; left > 0; left -= 16) ctx.update(alternate.subarray(0, Math.min(16, left)));
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let digest = ctx.digest();
  // 1000 rounds, as the algorithm prescribes, to make guessing slow.
  for (let i = 0; i < 1000; i++) {
    const round = createHash('md5');
    round.update(i & 1 ? pw : digest);
    if (i % 3) round.update(s);
    if (i % 7) round.update(pw);
    round.update(i & 1 ? digest : pw);
    digest = round.digest();
  }
  const d = (i: number): number => digest[i] ?? 0;
  let out = '';
  const to64 = (value: number, chars: number): void => {
    let v = value;
    for (let n = 0; n < chars; n++) {
      out += ITOA64[v & 0x3f];
      v >>= 6;
    }
  };
  for (const [a, b, c] of [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]] as const) to64((d(a) << 16) | (d(b) << 8) | d(c), 4);
  to64(d(11), 2);
  return out;
}

/** AES-256-ECB over the text zero-padded to 16 bytes, base64 without line breaks (both APIs). */
export function aesEcbEncrypt(key: Buffer, plaintext: string): string {
  const data = Buffer.from(plaintext, 'utf8');
  const padded = Buffer.alloc(Math.ceil(Math.max(1, data.length) / 16) * 16);
  data.copy(padded);
  const cipher = createCipheriv('aes-256-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/** The reverse of aesEcbEncrypt; trailing NULs removed. Throws on input that is not whole AES blocks. */
export function aesEcbDecrypt(key: Buffer, base64: string): string {
  const data = Buffer.from(base64, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new Error(`not AES blocks (${data.length} bytes)`);
  const decipher = createDecipheriv('aes-256-ecb', key, null);
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8').replace(/\0+$/, '');
}

/** API v2: what the password and a `get_token` answer give, the key material and the signature of writes. */
export function btminerToken(password: string, token: { salt: string; newsalt: string; time: string }): { key: Buffer; sign: string } {
  const passwdMd5 = md5CryptHash(password, token.salt);
  return { key: createHash('sha256').update(passwdMd5).digest(), sign: md5CryptHash(passwdMd5 + token.time, token.newsalt) };
}

/** API v3: SHA-256(cmd + password + salt + ts), raw; the token is `v3TokenOf` of it. */
export function v3Digest(cmd: string, password: string, salt: string, ts: number): Buffer {
  return createHash('sha256').update(`${cmd}${password}${salt}${ts}`).digest();
}

export function v3TokenOf(digest: Buffer): string {
  return digest.toString('base64').slice(0, 8);
}
