/**
 * Two real alerting processes (alerting/src/main.ts run by node with tsx) share one Redis. The lease holder is
 * SIGKILLed while the SMTP server holds the DATA phase of its first mail (the mail is never acknowledged, so it is
 * not delivered); the standby takes the lease over and sends the notice. Exactly one mail arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InfluxStore } from '@flymining/shared';
import type { ParsedMail } from 'mailparser';
import { freshStore } from '../../exporters/test/e2e/helpers';
import { TestEdge, minerFault } from './edge';
import { freePort, sleep, startMailbox, startOwnRedis, waitFor, type Mailbox, type OwnRedis } from './helpers';

const DB = 'alerting_failover';
const ROOT = path.join(__dirname, '../..');

interface Instance {
  child: ChildProcess;
  url: string;
  output: string[];
}

describe('lease holder killed mid-send', () => {
  let store: InfluxStore;
  let own: OwnRedis;
  let smtp: Mailbox;
  let delivered: ParsedMail[];
  /** DATA phases started, in order; the first is held (no reply) until its client is gone. */
  let dataStarted: number[];
  const instances: Instance[] = [];
  const edge = () => new TestEdge(store, 'north-1', 'C41');
  let beating: TestEdge | undefined;

  beforeAll(async () => {
    store = await freshStore(DB);
    own = await startOwnRedis();
    smtp = await startMailbox({ holdFirstData: true }); // the first mail is read and held: no reply ever comes
    ({ mails: delivered, dataStarted } = smtp);
  });

  afterAll(async () => {
    await beating?.stop();
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    await own.stop();
    await store.close();
    await smtp.close();
  });

  async function startInstance(dir: string): Promise<Instance> {
    const port = await freePort();
    const file = path.join(dir, `alerting-${port}.yaml`);
    writeFileSync(
      file,
      `
redis: ${own.url}
listen: 127.0.0.1:${port}
evaluation_interval: 500ms
influx: { url: '${process.env.FLYMINING_TEST_INFLUX_URL}', database: ${DB} }
rules: [{ name: FanFailure, faults: [FAN_STOPPED] }]
route: { receiver: oncall, group_by: [site, container, alertname], group_wait: 0s, group_interval: 1s }
receivers: [{ name: oncall, email: { to: [oncall@farm.example], smarthost: '${smtp.url}' } }]
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'alerting/src/main.ts', '--config', file], {
      cwd: ROOT,
      env: { ...process.env, FLYMINING_LOG_LEVEL: 'info', FLYMINING_INFLUX_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const instance = { child, url: `http://127.0.0.1:${port}`, output: [] as string[] };
    child.stdout!.on('data', (d: Buffer) => instance.output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => instance.output.push(d.toString()));
    instances.push(instance);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${instance.url}/healthz`).then((r) => r.ok, () => false);
      if (ok) return instance;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`alerting did not come up:\n${instance.output.join('').slice(-3000)}`);
      await sleep(200);
    }
  }

  const isLeader = async (i: Instance): Promise<boolean> => ((await (await fetch(`${i.url}/healthz`)).json()) as { leader: boolean }).leader;

  test('the standby finishes the job: exactly one mail arrives', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'alerting-failover-'));
    const first = await startInstance(dir);
    await waitFor(() => first.output.join('').includes('alerting API listening'), 10_000, 'first instance up');
    const second = await startInstance(dir);
    // The edge reports a stopped fan; the leader starts its mail and the SMTP server holds it.
    beating = edge();
    beating.faults = [minerFault('north-1', 'C41', 2)];
    beating.beat();
    await waitFor(() => dataStarted.length === 1, 20_000, 'the first mail reaching DATA');
    const leaders = [];
    for (const i of [first, second]) if (await isLeader(i)) leaders.push(i);
    expect(leaders).toHaveLength(1);
    const [leader] = leaders;
    const standby = leader === first ? second : first;
    const killedAt = Date.now();
    leader!.child.kill('SIGKILL');

    await waitFor(() => delivered.length === 1, 40_000, `the standby's mail; standby log:\n${standby.output.join('').slice(-2000)}`);
    const takeoverMs = Date.now() - killedAt;
    await sleep(3000); // group_interval several times over: a second mail would be here
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.subject).toMatch(/^\[FIRING:1\] north-1 container C41 FAN_STOPPED/);
    expect(dataStarted).toHaveLength(2);
    expect(await isLeader(standby)).toBe(true);
    process.stdout.write(`failover: lease holder killed mid-send → standby's mail in ${takeoverMs} ms\n`);
  }, 180_000); // two processes compiling TypeScript at start, on a loaded machine
});
