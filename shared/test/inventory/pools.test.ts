import { InventoryError, parseInventory } from '../../src/inventory';
import { refusalProblems } from '../problems';

const FARM = `site: north-1
pools:
  - { host: Stratum.Example.com, port: 3333, worker: "acct.{miner}" }
devfee: { maxMinutes: 5, pools: [{ firmware: vnish, host: fee.vendor.example }] }
containers:
  - name: C01
    subnet: 10.10.1.0/24
    racks:
      - name: R1
        shelves:
          - name: S1
            slots:
              - { slot: 1, host: 10.10.1.11, model: Antminer S19 Pro }
              - slot: 2
                host: 10.10.1.12
                model: Antminer S19 Pro
                pools: [{ host: solo.example.net, port: 4444, worker: "solo.{container}-{rack}-{shelf}-{slot}" }]
  - name: C02
    pools: [{ host: c02.pool.example, port: 3333, worker: "acct.*" }]
    racks:
      - name: R1
        shelves:
          - { name: S1, slots: [{ slot: 1, id: m21, host: 10.10.2.11, model: Antminer S19 Pro }] }
`;

function problemsOf(text: string): string[] {
  return refusalProblems(() => parseInventory(text, 'farm.yaml'), InventoryError, 'the inventory');
}

describe('inventory expected pools', () => {
  it('inherits site → container → slot, nearest list wins, placeholders resolved per miner', () => {
    const inv = parseInventory(FARM, 'farm.yaml');
    const m1 = inv.miners.get('C01-R1-S1-1')!;
    expect(m1.expectedPools?.pools).toEqual([{ host: 'stratum.example.com', port: 3333, worker: 'acct.C01-R1-S1-1' }]);
    expect(m1.expectedPools?.devfeeMaxS).toBe(300);
    expect(m1.expectedPools?.devfeePools).toEqual([{ firmware: 'vnish', host: 'fee.vendor.example' }]);
    expect(inv.miners.get('C01-R1-S1-2')!.expectedPools?.pools).toEqual([{ host: 'solo.example.net', port: 4444, worker: 'solo.C01-R1-S1-2' }]);
    expect(inv.miners.get('m21')!.expectedPools?.pools).toEqual([{ host: 'c02.pool.example', port: 3333, worker: 'acct.*' }]);
    expect(inv.containers[0]!.subnet).toBe('10.10.1.0/24');
  });

  it('without pools: anywhere, miners have no expectation (pools not judged)', () => {
    const inv = parseInventory(FARM.replace(/^pools:\n.*\n/m, '').replace(/^ {4}pools: .*\n/m, ''), 'farm.yaml');
    expect(inv.miners.get('C01-R1-S1-1')!.expectedPools).toBeUndefined();
  });

  it('refuses bad pool entries with file:line and the field', () => {
    const bad = FARM.replace('worker: "acct.{miner}"', 'worker: "acct.{serial}"').replace('port: 4444', 'port: 70000').replace('worker: "acct.*"', 'worker: "a*b"');
    const problems = problemsOf(bad);
    expect(problems.join('\n')).toMatch(/farm\.yaml:3:\d+: pools\[0\]\.worker: placeholders are \{miner\}/);
    expect(problems.join('\n')).toMatch(/farm\.yaml:17:\d+: .*slots\[1\]\.pools\[0\]\.port/);
    expect(problems.join('\n')).toMatch(/farm\.yaml:19:\d+: containers\[1\]\.pools\[0\]\.worker: .*only at the end/);
  });

  it('refuses a scheme in the host, a bad subnet and hostile worker text', () => {
    const bad = FARM.replace('host: Stratum.Example.com', 'host: "stratum+tcp://x.example:3333"')
      .replace('10.10.1.0/24', '10.10.1.0/8')
      .replace('worker: "acct.*"', `worker: "${'w'.repeat(300)}"`);
    const text = problemsOf(bad).join('\n');
    expect(text).toMatch(/farm\.yaml:3.*host.*without scheme/);
    expect(text).toMatch(/farm\.yaml:7:\d+: containers\[0\]\.subnet: .*prefix 16 to 32/);
    expect(text).toMatch(/farm\.yaml:19:\d+: containers\[1\]\.pools\[0\]\.worker: .*128 characters/);
    expect(problemsOf(FARM.replace('"acct.{miner}"', '"acct.\\u0007{miner}"')).join('\n')).toMatch(/farm\.yaml:3.*worker/);
  });
});
