/** Issue 15: the poolHijack, firmwareChange and swap faults show in the replies of every CGMiner-style profile. */
import { PROFILE_IDS } from '../src/catalog';
import { FaultError } from '../src/faults';
import { startMiner } from './helpers';

const IDENTITY_COMMANDS = ['version', 'stats', 'summary', 'get_version', 'devdetails'];

describe.each(PROFILE_IDS.map((id, i) => [id, i] as const))('%s', (profile, i) => {
  const host = `127.48.0.${i + 1}`;

  async function replies(unit: Awaited<ReturnType<typeof startMiner>>, commands: string[]): Promise<string> {
    const texts: string[] = [];
    for (const c of commands) texts.push((await unit.command(c)).text);
    return texts.join('\n');
  }

  test('poolHijack points the active pool (or all with all:true) at a foreign pool and worker; on:false restores', async () => {
    const unit = await startMiner(profile, host);
    try {
      const before = await replies(unit, ['pools']);
      expect(before).toContain('btc.pool.example:3333');
      unit.miner.applyFault({ fault: 'poolHijack', url: 'stratum+tcp://evil.example:4444', worker: 'thief.w1' });
      const one = await replies(unit, ['pools']);
      const entries = [...one.matchAll(/\{[^{}]*"URL":"([^"]*)"[^{}]*\}/g)].map((m) => m[1]);
      expect(entries.filter((url) => url?.includes('evil.example:4444'))).toHaveLength(1);
      expect(one).toContain('thief.w1');
      expect(one).toContain('backup.pool.example:3333');
      unit.miner.applyFault({ fault: 'poolHijack', url: 'stratum+tcp://evil.example:4444', worker: 'thief.w1', all: true });
      const all = await replies(unit, ['pools']);
      expect(all).not.toContain('pool.example');
      unit.miner.applyFault({ fault: 'poolHijack', on: false });
      expect(await replies(unit, ['pools'])).toContain('btc.pool.example:3333');
    } finally {
      await unit.stop();
    }
  });

  test('firmwareChange is reported as the version; swap changes the identity the unit reports', async () => {
    const unit = await startMiner(profile, host);
    try {
      const before = await replies(unit, IDENTITY_COMMANDS);
      unit.miner.applyFault({ fault: 'firmwareChange', version: 'evil-9.9.9' });
      expect(await replies(unit, IDENTITY_COMMANDS)).toContain('evil-9.9.9');
      unit.miner.applyFault({ fault: 'clear' });
      const key = unit.miner.identityKey;
      unit.miner.applyFault({ fault: 'swap' });
      expect(unit.miner.identityKey).not.toBe(key);
      const ids = (text: string): string[] => [...text.matchAll(/"(?:MAC|DNA|miner_id|MACAddr)":"([^"]+)"|DNA\[([0-9a-f]+)\]/g)].map((m) => m[1] ?? m[2] ?? '');
      const after = await replies(unit, IDENTITY_COMMANDS);
      if (ids(before).length > 0) expect(ids(after)).not.toEqual(ids(before));
    } finally {
      await unit.stop();
    }
  });
});

test('a firmwareChange version must be printable and bounded', () => {
  const check = async (): Promise<void> => {
    const unit = await startMiner('antminer-s19pro', '127.48.1.1');
    try {
      expect(() => unit.miner.applyFault({ fault: 'firmwareChange', version: 'a\nb' })).toThrow(FaultError);
      expect(() => unit.miner.applyFault({ fault: 'firmwareChange', version: 'x'.repeat(200) })).toThrow(FaultError);
    } finally {
      await unit.stop();
    }
  };
  return check();
});
