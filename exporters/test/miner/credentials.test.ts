/** Miner credentials by reference: secret files, per-protocol defaults only on request, errors without secrets. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CredentialStore, credentialsFor, CredentialsError } from '../../src/miner/credentials';

describe('CredentialStore', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flymining-creds-'));
  writeFileSync(path.join(dir, 'antminer-web.password'), 's3cret-pw\n', { mode: 0o600 });
  writeFileSync(path.join(dir, 'bos.password'), 'bos-pw\nignored second line\n', { mode: 0o600 });
  writeFileSync(path.join(dir, 'bos.user'), 'operator\n', { mode: 0o600 });

  test('an entry reads <name>.password and, when present, <name>.user; without one the user is the firmware default', () => {
    const store = new CredentialStore(dir);
    expect(credentialsFor(store.source('antminer-web'), 'antminer-web')).toEqual({ user: 'root', password: 's3cret-pw' });
    expect(credentialsFor(store.source('antminer-web'), 'vnish')).toEqual({ user: 'admin', password: 's3cret-pw' });
    expect(credentialsFor(store.source('bos'), 'braiins-rest')).toEqual({ user: 'operator', password: 'bos-pw' });
    expect(store.source(undefined)).toBeUndefined();
  });

  test('firmware-default gives what each firmware ships, and only where the inventory names it', () => {
    const store = new CredentialStore(undefined);
    const source = store.source('firmware-default');
    expect(credentialsFor(source, 'antminer-web')).toEqual({ user: 'root', password: 'root' });
    expect(credentialsFor(source, 'braiins-rest')).toEqual({ user: 'root', password: 'root' });
    expect(credentialsFor(source, 'cgminer')).toBeUndefined();
  });

  test('a missing entry or folder is an error naming the entry and the file, never a secret', () => {
    expect(() => new CredentialStore(dir).source('nope')).toThrow(new CredentialsError(`cannot read ${path.join(dir, 'nope.password')}: ENOENT`));
    expect(() => new CredentialStore(undefined).source('antminer-web')).toThrow(/set FLYMINING_MINER_CREDENTIALS_DIR/);
    writeFileSync(path.join(dir, 'empty.password'), '\nsecond-line-secret\n');
    let message = '';
    try {
      new CredentialStore(dir).source('empty');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('empty.password');
    expect(message).not.toContain('second-line-secret');
  });
});
