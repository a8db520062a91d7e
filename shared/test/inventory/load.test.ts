import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InventoryError, InventoryHolder, loadInventory, parseInventory } from '../../src/inventory';
import { refusalProblems } from '../problems';

const GOOD = `site: north-1
defaults:
  thresholds: { lowHashrateScrapes: 4 }
models:
  Custom X1: { nominalThs: 50, fans: 3, hashboards: 2, chipsPerBoard: 40 }
containers:
  - name: C01
    sensors:
      - { id: c01-intake, position: intake, protocol: mqtt, topic: tele/c01-intake/SENSOR }
    racks:
      - name: R1
        shelves:
          - name: S1
            slots:
              - { slot: 1, host: 10.0.0.11, model: Antminer S19 Pro }
              - { slot: 2, host: 10.0.0.12, port: 4029, model: Custom X1, thresholds: { chipOverheatC: 90 } }
              - { slot: 3 }
`;

function problemsOf(text: string): string[] {
  return refusalProblems(() => parseInventory(text, 'farm.yaml'), InventoryError, 'the inventory');
}

describe('inventory', () => {
  test('builds miners with catalog expectations, model overrides and empty slots', () => {
    const inv = parseInventory(GOOD, 'farm.yaml');
    expect(inv.site).toBe('north-1');
    const s19 = inv.miners.get('C01-R1-S1-1');
    expect(s19).toMatchObject({ host: '10.0.0.11', port: 4028, nominalThs: 110, fans: 4, hashboards: 3, chipsPerBoard: 114 });
    expect(s19?.thresholds.lowHashrateScrapes).toBe(4);
    expect(s19?.location).toEqual({ site: 'north-1', container: 'C01', rack: 'R1', shelf: 'S1', slot: '1' });
    const custom = inv.miners.get('C01-R1-S1-2');
    expect(custom).toMatchObject({ port: 4029, nominalThs: 50, fans: 3, cooling: 'air' });
    expect(custom?.thresholds.chipOverheatC).toBe(90);
    expect(inv.containers[0]?.slots).toHaveLength(3);
    expect(inv.containers[0]?.slots[2]?.miner).toBeUndefined();
    expect(inv.containers[0]?.sensors[0]).toEqual({
      id: 'c01-intake',
      position: 'intake',
      protocol: 'mqtt',
      settings: { topic: 'tele/c01-intake/SENSOR' },
    });
  });

  test('a wrong type is reported with file, line and field', () => {
    const bad = GOOD.replace('port: 4029', 'port: "x"');
    const [problem] = problemsOf(bad);
    expect(problem).toMatch(/^farm\.yaml:16:\d+: containers\[0\]\.racks\[0\]\.shelves\[0\]\.slots\[1\]\.port: /);
  });

  test('an unknown key is refused, naming it', () => {
    const problems = problemsOf(GOOD.replace('{ slot: 3 }', '{ slot: 3, hots: 10.0.0.13 }'));
    expect(problems.join('\n')).toMatch(/farm\.yaml:17:\d+: .*slots\[2\].*hots/);
  });

  test('a model without known expectations names what is missing', () => {
    const problems = problemsOf(GOOD.replace('model: Antminer S19 Pro', 'model: Mystery 9000'));
    expect(problems[0]).toMatch(/farm\.yaml:15:\d+: .*nominalThs, fans, hashboards, chipsPerBoard missing.*"Mystery 9000"/);
  });

  test('two miners on one address and YAML syntax errors are refused', () => {
    expect(problemsOf(GOOD.replace('port: 4029', 'port: 4028').replace('10.0.0.12', '10.0.0.11'))[0]).toMatch(
      /10\.0\.0\.11:4028 is already the address of miner "C01-R1-S1-1"/,
    );
    expect(problemsOf(GOOD + '  - name: [unclosed\n')[0]).toMatch(/^farm\.yaml:\d+:\d+: YAML syntax/);
  });

  test('an inventory with anchors and aliases reads as the same inventory written out (two YAML readers, one meaning)', () => {
    const aliased = GOOD.replace('model: Antminer S19 Pro }', 'model: &s19 Antminer S19 Pro }').replace('{ slot: 3 }', '{ slot: 3, host: 10.0.0.13, model: *s19 }');
    const written = GOOD.replace('{ slot: 3 }', '{ slot: 3, host: 10.0.0.13, model: Antminer S19 Pro }');
    const a = parseInventory(aliased, 'farm.yaml');
    const b = parseInventory(written, 'farm.yaml');
    expect([...a.miners.values()]).toEqual([...b.miners.values()]);
    expect(a.miners.get('C01-R1-S1-3')?.model).toBe('Antminer S19 Pro');
    // A key given twice is refused by either reader, with the line.
    expect(problemsOf(written.replace('site: north-1', 'site: north-1\nsite: north-2'))[0]).toMatch(/farm\.yaml:2/);
    expect(problemsOf(aliased.replace('site: north-1', 'site: north-1\nsite: north-2'))[0]).toMatch(/farm\.yaml:2/);
  });

  test('names that could break tags or keys are refused', () => {
    expect(problemsOf(GOOD.replace('name: C01', 'name: "C 01,x=y"'))[0]).toMatch(/containers\[0\]\.name: use letters/);
  });

  test('a bad edit on reload keeps the last good inventory', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inv-'));
    const file = path.join(dir, 'farm.yaml');
    writeFileSync(file, GOOD);
    const results: boolean[] = [];
    const holder = new InventoryHolder(file, (r) => results.push(r.ok));
    writeFileSync(file, GOOD.replace('10.0.0.11', 'not a host!'));
    const r = holder.reload();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(file);
    expect(holder.current.miners.get('C01-R1-S1-1')?.host).toBe('10.0.0.11');
    writeFileSync(file, GOOD.replace('10.0.0.11', '10.0.0.21'));
    expect(holder.reload().ok).toBe(true);
    expect(holder.current.miners.get('C01-R1-S1-1')?.host).toBe('10.0.0.21');
    expect(results).toEqual([false, true]);
    expect(() => new InventoryHolder(path.join(dir, 'missing.yaml'))).toThrow(/missing\.yaml.*cannot read/s);
  });
});

test('the example inventory shipped in provisioning/ is valid', () => {
  const inv = loadInventory(path.resolve(__dirname, '../../../provisioning/inventory/example-farm.yaml'));
  expect(inv.miners.size).toBe(7);
  expect(inv.miners.get('C02-R1-S1-1')).toMatchObject({ cooling: 'hydro', fans: 0 });
});
