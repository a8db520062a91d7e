import type { JsonObject } from '@flymining/shared';
import { checkEnvelope, parseMinerReply, splitMultiReply, statusDescription } from '../../src/miner';
import { rawFixture } from './fixtures';

const parsed = (name: string): JsonObject => parseMinerReply(rawFixture(name), name).value;

describe('checkEnvelope on the corpus', () => {
  it('L3+ refusing switchpool (STATUS E, Code 45) is access-denied, naming the command', () => {
    const result = checkEnvelope('switchpool', parsed('antminer-l3plus-switchpool-access-denied.json'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual({
      command: 'switchpool',
      kind: 'access-denied',
      message: "switchpool: miner answered STATUS E code 45: Access denied to 'switchpool' command",
    });
  });

  it('Whatsminer multi-command sent under "cmd" (Code 24) is a status error', () => {
    const result = checkEnvelope('pools+summary+edevs', parsed('whatsminer-m30s-cmd-multicommand-error.json'));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe('status');
      expect(result.error.message).toContain("Missing JSON 'command'");
      expect(result.status?.code).toBe(24);
    }
  });

  it.each([
    ['avalon-q-ascset-help.json', 'ascset', 'I', 118],
    ['avalon-q-ascset-softoff.json', 'ascset', 'I', 118],
    ['avalon-q-check.json', 'check', 'S', 72],
    ['avalon-q-devdetails.json', 'devdetails', 'S', 69],
    ['avalon-q-devs.json', 'devs', 'S', 9],
    ['avalon-q-litestats.json', 'litestats', 'S', 70],
    ['luxos-logon-docs.json', 'logon', 'S', 316],
    ['luxos-session-docs.json', 'session', 'S', 319],
    ['luxos-antminer-s9-asc-docs.json', 'asc', 'S', 106],
    ['braiins-bosplus-s9-0.4.0-devs.json', 'devs', 'S', 9],
  ])('%s is a success (STATUS %s, Code %d)', (file, command, letter, code) => {
    const result = checkEnvelope(command, parsed(file));
    expect(result.ok).toBe(true);
    expect(result.status?.letter).toBe(letter);
    expect(result.status?.code).toBe(code);
  });

  it('the softoff write result is only in Msg', () => {
    const result = checkEnvelope('ascset', parsed('avalon-q-ascset-softoff.json'));
    expect(result.status?.message).toBe('ASC 0 set info: success softoff:1753434821');
  });

  it.each([
    ['whatsminer-m31s-sleeping-status.json', { btmineroff: 'true', 'Firmware Version': "'20210109.22.REL'" }],
    ['whatsminer-fw20210322-status.json', { 'Firmware Version': "'20210322.22.REL'", btmineroff: 'true' }],
    ['whatsminer-fw20210322-get_version.json', { api_ver: 'whatsminer v1.4.0', fw_ver: '20210322.22.REL' }],
    ['whatsminer-fw20210322-get_psu.json', { hw_version: '', model: 'P21-12-3600-E', name: 'P21', sw_version: '102220.009' }],
  ])('Whatsminer API 2.x %s: plain-string STATUS, Code 131, Msg object', (file, message) => {
    const result = checkEnvelope('status', parsed(file));
    expect(result.ok).toBe(true);
    expect(result.status).toMatchObject({ letter: 'S', code: 131, message });
  });

  it('a reply without STATUS is malformed', () => {
    const result = checkEnvelope('summary', { SUMMARY: [] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.kind).toBe('malformed');
  });

  it('restart answers {"STATUS":"RESTART"}: success, the miner is going down', () => {
    expect(checkEnvelope('restart', { STATUS: 'RESTART', id: 1 }).ok).toBe(true);
  });

  it("Whatsminer \"can't access write cmd\" is access-denied", () => {
    const result = checkEnvelope('update_pools', { STATUS: 'E', When: 1, Code: 45, Msg: "can't access write cmd", Description: '' });
    expect(result.ok ? undefined : result.error.kind).toBe('access-denied');
  });
});

describe('splitMultiReply', () => {
  it('splits the Avalon 1047 pools+summary+stats reply by key, whatever the section order', () => {
    const split = splitMultiReply('pools+summary+stats', parsed('avalon-1047-pools+summary+stats.json'));
    expect(Object.keys(split).sort()).toEqual(['pools', 'stats', 'summary']);
    const summary = split.summary;
    expect(summary?.ok).toBe(true);
    if (summary?.ok) {
      expect(summary.status.code).toBe(11);
      expect((summary.reply.SUMMARY as JsonObject[])[0]?.['MHS 30s']).toBe(32247416.81);
    }
    const pools = split.pools;
    expect(pools?.ok && (pools.reply.POOLS as JsonObject[]).length).toBe(3);
  });

  it('the nan variant splits too; its nan is null', () => {
    const split = splitMultiReply('pools+summary+stats', parsed('avalon-1047-pools+summary+stats-nan.json'));
    const summary = split.summary;
    expect(summary?.ok && (summary.reply.SUMMARY as JsonObject[])[0]?.['MHS av']).toBeNull();
    expect(split.stats?.ok).toBe(true);
  });

  it('a top-level error (Whatsminer Code 24) is the error of every requested command', () => {
    const split = splitMultiReply('pools+summary+edevs', parsed('whatsminer-m30s-cmd-multicommand-error.json'));
    for (const command of ['pools', 'summary', 'edevs']) {
      const result = split[command];
      expect(result?.ok).toBe(false);
      if (result && !result.ok) expect(result.error).toMatchObject({ command, kind: 'status' });
    }
  });

  it('an invalid sub-command gets its own error while the others succeed', () => {
    const reply = {
      summary: [{ STATUS: [{ STATUS: 'S', Code: 11 }], SUMMARY: [{ Elapsed: 5 }], id: 1 }],
      bogus: [{ STATUS: [{ STATUS: 'E', Code: 14, Msg: 'Invalid command' }], id: 1 }],
      id: 1,
    };
    const split = splitMultiReply('summary+bogus+pools', reply);
    expect(split.summary?.ok).toBe(true);
    expect(split.bogus?.ok ? 'ok' : split.bogus?.error.message).toBe('bogus: miner answered STATUS E code 14: Invalid command');
    expect(split.pools?.ok ? 'ok' : split.pools?.error.kind).toBe('malformed');
  });
});

describe('statusDescription: where firmware names itself', () => {
  it('reads the first STATUS block (cgminer), the reply beside a top-level STATUS (Whatsminer 2.x), else nothing', () => {
    expect(statusDescription({ STATUS: [{ STATUS: 'S', Description: 'BOSminer+ 0.2.0-abc' }], SUMMARY: [] })).toBe('BOSminer+ 0.2.0-abc');
    expect(statusDescription({ STATUS: [{ STATUS: 'E', Description: 'LUXminer 2024.1' }] })).toBe('LUXminer 2024.1');
    expect(statusDescription({ STATUS: 'S', Code: 131, Description: 'whatsminer v1.1' })).toBe('whatsminer v1.1');
    expect(statusDescription({ STATUS: [{ STATUS: 'S', Description: 7 }] })).toBe('');
    expect(statusDescription({ STATUS: ['S'] })).toBe('');
    expect(statusDescription({ SUMMARY: [] })).toBe('');
    expect(statusDescription(undefined)).toBe('');
  });

  it('names the firmware of real replies in the corpus', () => {
    expect(statusDescription(parsed('braiins-bos-s9-summary.json'))).toBe('BOSminer 0.2.0-d360818');
    expect(statusDescription(parsed('whatsminer-m31s-pools.json'))).toBe('btminer');
    expect(statusDescription(parsed('luxos-antminer-s19kpro-summary.json'))).toMatch(/^LUXminer/);
  });
});
