/**
 * The control agent around the policies: --control and --control-audit (nothing runs without them), decisions as
 * control_decision points, the policies' faults as fault transitions that survive a restart without being raised
 * again, and a container whose actions are still under way not judged again until they are done.
 */
import net from 'node:net';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { FAULT_CODES, createLogger, parseInventory, type Fault, type MinerSpec } from '@flymining/shared';
import { generateFarmSpecs, inventoryYaml } from '@flymining/simulator';
import { ControlAgent } from '../../src/control/agent';
import { loadControlSettings } from '../../src/control/settings';
import type { ControlPolicy, PolicyContext, PolicyDecision } from '../../src/control/types';
import { ControlExecutor, type ActionResult } from '../../src/miner/control/executor';
import { ActionHistory } from '../../src/miner/control/history';
import { readSettings } from '../../src/main';
import { tempDir } from '../e2e/helpers';
import { RecordingSink } from './loop-harness';

const log = createLogger('agent-test', 'silent');
const specs = generateFarmSpecs({ miners: 2, racksPerContainer: 1, shelvesPerRack: 1, slotsPerShelf: 2, profileMix: { 'antminer-s19pro': 1 }, baseAddress: '127.219.0.1' });
const miners: MinerSpec[] = [...parseInventory(inventoryYaml(specs), 'agent.yaml').miners.values()];
const containers = [{ site: 'SIM', container: 'C01' }];

const staleFault = (since: number): Fault => ({
  code: 'CONTROL_SENSOR_STALE',
  severity: FAULT_CODES.CONTROL_SENSOR_STALE.severity,
  minerId: 'C01',
  location: { site: 'SIM', container: 'C01', rack: '-', shelf: '-', slot: '-' },
  part: 'temperature-loop',
  message: 'container C01: temperature loop frozen',
  since,
});

/** A policy that says what the test tells it to, and remembers what it was told back. */
class ScriptedPolicy implements ControlPolicy {
  readonly name = 'temperature' as const;
  next: (ctx: PolicyContext) => PolicyDecision[] = () => [];
  evaluated: string[] = [];
  results: ActionResult[] = [];
  evaluate(ctx: PolicyContext): PolicyDecision[] {
    this.evaluated.push(ctx.container);
    return this.next(ctx);
  }
  onResults(_container: string, results: readonly ActionResult[]): void {
    this.results.push(...results);
  }
}

function agentWith(policy: ControlPolicy, stateDir: string, sink: RecordingSink, readTimeoutMs = 300): ControlAgent {
  const executor = new ControlExecutor({ history: new ActionHistory(), audit: [], scrape: { transport: { connectTimeoutMs: 500, readTimeoutMs, maxBytes: 65536 } }, confirm: { wait: false } });
  return new ControlAgent({ name: 'edge-test', policies: [policy], executor, sink, log, stateDir });
}

let stateDir: string;
beforeEach(() => {
  stateDir = tempDir('control-agent');
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('--control', () => {
  test('is off unless given; the audit defaults to the state folder', () => {
    const env = { FLYMINING_INVENTORY: 'farm.yaml' };
    const plain = readSettings(['node', 'x', '--name', 'edge-C01', '--state-dir', '/var/lib/fm'], env);
    expect(plain.control).toBeUndefined();
    expect(plain.controlAudit).toBe(path.join('/var/lib/fm', 'control-audit.jsonl'));
    const on = readSettings(['node', 'x', '--control', 'control.yaml', '--control-audit', '/tmp/a.jsonl'], env);
    expect(on).toMatchObject({ control: 'control.yaml', controlAudit: '/tmp/a.jsonl' });
    expect(readSettings(['node', 'x'], { ...env, FLYMINING_CONTROL: 'c.yaml', FLYMINING_CONTROL_AUDIT_FILE: '/srv/audit.jsonl' })).toMatchObject({ control: 'c.yaml', controlAudit: '/srv/audit.jsonl' });
  });

  test('the example control.yaml loads, and every policy in it is off', () => {
    const example = loadControlSettings(path.join(__dirname, '../../../provisioning/control/control.yaml'));
    for (const container of ['C01', 'C02']) {
      const c = example.forContainer(container);
      expect([c.recovery.enabled, c.temperature.enabled, c.curtailment.enabled]).toEqual([false, false, false]);
    }
  });
});

describe('ControlAgent', () => {
  test('decisions become control_decision points; policy faults are raised once, kept across a restart, and cleared', async () => {
    const policy = new ScriptedPolicy();
    const sink = new RecordingSink();
    const since = Date.now() - 60_000;
    let frozen = true;
    policy.next = (ctx) =>
      frozen
        ? [{ policy: 'temperature', container: ctx.container, decision: 'frozen', reason: 'the intake reading is 240 s old', actions: [], faults: [staleFault(since)], intakeC: 21.5, bandLowC: 5, bandHighC: 35 }]
        : [{ policy: 'temperature', container: ctx.container, decision: 'hold', reason: 'in band', actions: [], intakeC: 22 }];
    const first = agentWith(policy, stateDir, sink);
    const out = first.afterSweep(containers, miners, () => []);
    await out.done;
    expect(out.events.map((e) => [e.type, e.fault.code, e.fault.since])).toEqual([['raised', 'CONTROL_SENSOR_STALE', since]]);
    expect(first.activeFaults()).toHaveLength(1);
    const points = sink.points('control_decision');
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ tags: { site: 'SIM', container: 'C01', policy: 'temperature', decision: 'frozen' }, fields: { reason: 'the intake reading is 240 s old', miners: '0i', intake_c: '21.5', band_low_c: '5', band_high_c: '35' } });
    // Still frozen: nothing new to announce.
    expect(first.afterSweep(containers, miners, () => []).events).toEqual([]);

    // A restarted exporter knows the fault (same since) and does not raise it again.
    const restarted = agentWith(policy, stateDir, sink);
    expect(restarted.activeFaults().map((f) => f.since)).toEqual([since]);
    expect(restarted.afterSweep(containers, miners, () => []).events).toEqual([]);
    frozen = false;
    const cleared = restarted.afterSweep(containers, miners, () => []);
    expect(cleared.events.map((e) => [e.type, e.fault.code])).toEqual([['cleared', 'CONTROL_SENSOR_STALE']]);
    expect(restarted.activeFaults()).toEqual([]);
  });

  test('a container whose actions are under way is not judged again until they are done; the policy gets the results', async () => {
    // A miner API that accepts the connection and never answers: the executor's read waits out its timeout.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(4028, specs[0]!.host, resolve));
    try {
      const policy = new ScriptedPolicy();
      const sink = new RecordingSink();
      const agent = agentWith(policy, stateDir, sink, 1500);
      const target = miners[0] as MinerSpec;
      agent.observe(target, undefined, { ok: false, failure: { kind: 'timeout', message: 'no answer' }, durationMs: 1 });
      policy.next = (ctx) => [
        {
          policy: 'temperature',
          container: ctx.container,
          decision: 'sleep',
          reason: 'too hot',
          actions: [{ action: { kind: 'sleep' }, targets: ctx.miners.filter((m) => m.target.id === target.id).map((m) => m.target), reason: 'too hot' }],
        },
      ];
      const running = agent.afterSweep(containers, miners, () => []);
      expect(running.decisions.map((d) => d.decision)).toEqual(['sleep']);
      const meanwhile = agent.afterSweep(containers, miners, () => []);
      expect(meanwhile.decisions).toEqual([]);
      expect(policy.evaluated).toEqual(['C01']);
      await running.done;
      expect(policy.results.map((r) => [r.target.id, r.action.kind, r.actor, r.outcome])).toEqual([[target.id, 'sleep', { kind: 'policy', name: 'temperature' }, 'unreachable']]);
      policy.next = () => [];
      agent.afterSweep(containers, miners, () => []);
      expect(policy.evaluated).toEqual(['C01', 'C01']);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
