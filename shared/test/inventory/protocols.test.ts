/** Inventory fields of issue 13: pinned protocol and backend, credentials by reference per site, model or slot. */
import { InventoryError, parseInventory } from '../../src/inventory';
import { refusalProblems } from '../problems';

const FARM = `site: north-1
defaults:
  credentials: site-web
models:
  Antminer S19 Pro: { nominalThs: 110, fans: 4, hashboards: 3, chipsPerBoard: 114, credentials: s19-web }
containers:
  - name: C01
    racks:
      - name: R1
        shelves:
          - name: S1
            slots:
              - { slot: 1, host: 10.0.0.11, model: Antminer S19 Pro }
              - { slot: 2, host: 10.0.0.12, model: Antminer S19 Pro, protocol: antminer-web, credentials: firmware-default }
              - { slot: 3, host: 10.0.0.13, model: WhatsMiner M30S, protocol: whatsminer-v3 }
              - { slot: 4, host: 10.0.0.14, model: WhatsMiner M30S, backend: whatsminer/v3, protocol: whatsminer-v3, port: 14433 }
              - { slot: 5, host: 10.0.0.15, model: Antminer S19 Pro, protocol: epic }
`;

const problemsOf = (text: string): string[] => refusalProblems(() => parseInventory(text, 'farm.yaml'), InventoryError, 'the inventory');

describe('inventory protocols and credentials', () => {
  test("a pinned protocol's port defaults to that protocol's; credentials come from slot, else model, else site", () => {
    const miners = parseInventory(FARM, 'farm.yaml').miners;
    expect(miners.get('C01-R1-S1-1')).toMatchObject({ port: 4028, credentials: 's19-web' });
    expect(miners.get('C01-R1-S1-1')?.protocol).toBeUndefined();
    expect(miners.get('C01-R1-S1-2')).toMatchObject({ port: 80, protocol: 'antminer-web', credentials: 'firmware-default' });
    expect(miners.get('C01-R1-S1-3')).toMatchObject({ port: 4433, protocol: 'whatsminer-v3', credentials: 'site-web' });
    expect(miners.get('C01-R1-S1-4')).toMatchObject({ port: 14433, backend: 'whatsminer/v3' });
    expect(miners.get('C01-R1-S1-5')).toMatchObject({ port: 4028, protocol: 'epic' });
  });

  test('an unknown protocol, a malformed backend and a password where a reference belongs are refused, naming the field', () => {
    const [protocol] = problemsOf(FARM.replace('protocol: epic', 'protocol: telnet'));
    expect(protocol).toMatch(/farm\.yaml:\d+.*protocol.*cgminer, whatsminer-v3, antminer-web, braiins-rest, epic, vnish/);
    const [backend] = problemsOf(FARM.replace('backend: whatsminer/v3', 'backend: "Whatsminer V3!"'));
    expect(backend).toMatch(/backend.*a backend like whatsminer\/v3/);
    const [secret] = problemsOf(FARM.replace('credentials: firmware-default', 'credentials: "Hunter2 !"'));
    expect(secret).toMatch(/credentials.*not a password/);
    expect(secret).not.toContain('Hunter2');
  });
});
