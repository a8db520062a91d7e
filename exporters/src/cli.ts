/** The exporter's staff commands: `flymining scrape`, `flymining discover`, `flymining miner changes`. */
import {
  DEFAULT_PROTOCOL_PORTS,
  InfluxStore,
  loadInfluxConfig,
  readMinerChanges,
  parseDuration,
  DEFAULT_THRESHOLDS,
  MINER_PROTOCOLS,
  MODEL_CATALOG,
  loadInventory,
  type Fault,
  type Inventory,
  type MinerProtocol,
  type MinerSample,
  type MinerSpec,
} from '@flymining/shared';
import type { Command } from 'commander';
import { discover, type DiscoveryReport } from './discovery';
import { MINER_CHANGE_KINDS, evaluateMinerHealth, emptyHealthState } from './miner/health';
import { scrapeMiner } from './miner/scrape';
import { backendId } from './miner/backends/types';
import { CredentialStore, readSecretFile, type CredentialSource } from './miner/credentials';
import { DEFAULT_TRANSPORT } from './miner/transports/cgminer-tcp';
import { registerControlCommands } from './miner/control/cli';

function parseEndpoint(text: string, defaultPort = 4028): { host: string; port: number; portGiven: boolean } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (!m || !m[1] || port < 1 || port > 65535) throw new Error(`"${text}" is not HOST or HOST:PORT`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port, portGiven: m[2] !== undefined };
}

/** Without an inventory entry, judge the miner by its model's catalog figures, else by what it reports itself. */
function specFor(host: string, port: number, sample: MinerSample | undefined, inventory: Inventory | undefined): MinerSpec {
  const listed = [...(inventory?.miners.values() ?? [])].find((m) => m.host === host && m.port === port);
  if (listed) return listed;
  const model = sample?.model ? MODEL_CATALOG[sample.model] : undefined;
  const boards = sample?.boards.length ?? 0;
  const chips = Math.max(0, ...(sample?.boards.map((b) => b.chipsFound ?? 0) ?? [0]));
  return {
    id: `${host}:${port}`,
    host,
    port,
    model: sample?.model ?? 'unknown',
    nominalThs: model?.nominalThs ?? sample?.nominalThs ?? sample?.hashrateAvgThs ?? 0,
    fans: model?.fans ?? sample?.fans.length ?? 0,
    hashboards: model?.hashboards ?? (boards || 1),
    chipsPerBoard: model?.chipsPerBoard ?? (chips || 1),
    cooling: model?.cooling ?? 'air',
    thresholds: { ...DEFAULT_THRESHOLDS, ...(model?.thresholds ?? {}) },
    location: { site: '-', container: '-', rack: '-', shelf: '-', slot: `${host}:${port}` },
  };
}

const fmt = (v: number | undefined, digits = 1, unit = ''): string => (v === undefined ? '-' : `${v.toFixed(digits)}${unit}`);

function duration(s: number | undefined): string {
  if (s === undefined) return '-';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}

function printSample(endpoint: string, s: MinerSample, faults: Fault[], out: NodeJS.WritableStream): void {
  const lines: string[] = [];
  lines.push(`${endpoint}  ${s.model ?? 'unknown model'}  (${s.firmware}${s.firmwareVersion ? `, ${s.firmwareVersion}` : ''})  ${s.mode}`);
  lines.push(
    `  hashrate  ${fmt(s.hashrateThs, 2, ' TH/s')} (avg ${fmt(s.hashrateAvgThs, 2)}, nominal ${fmt(s.nominalThs, 2)})` +
      `   power ${fmt(s.powerW, 0, ' W')}   ${fmt(s.efficiencyJth, 1, ' J/TH')}   uptime ${duration(s.uptimeS)}`,
  );
  for (const b of s.boards) {
    lines.push(
      `  board ${b.index}  ${b.present ? fmt(b.hashrateThs, 2, ' TH/s') : 'MISSING'}  chips ${b.chipsFound ?? '-'}` +
        `${b.chipsBad ? ` (${b.chipsBad} bad)` : ''}  chip ${fmt(b.chipTempC, 0, '°C')}  board ${fmt(b.boardTempC, 0, '°C')}`,
    );
  }
  lines.push(`  fans      ${s.fans.length ? s.fans.map((f) => `#${f.index} ${f.rpm} rpm`).join('  ') : 'none reported'}`);
  for (const p of s.pools) {
    lines.push(`  pool ${p.index}    ${p.status}${p.active ? ' (active)' : ''}  ${p.url}  ${p.user}  accepted ${p.accepted ?? '-'} rejected ${p.rejected ?? '-'}`);
  }
  const identity = [s.serial && `serial ${s.serial}`, s.mac && `mac ${s.mac}`, s.workMode && `work mode ${s.workMode}`, s.powerTargetW !== undefined && `power target ${s.powerTargetW} W`]
    .filter(Boolean)
    .join('   ');
  if (identity) lines.push(`  ${identity}`);
  if (s.water) lines.push(`  water     in ${fmt(s.water.inletTempC, 1, '°C')}  out ${fmt(s.water.outletTempC, 1, '°C')}  flow ${fmt(s.water.flowLpm, 1, ' l/min')}`);
  if (s.psu) lines.push(`  psu       ${s.psu.model ?? '-'}  serial ${s.psu.serial ?? '-'}  in ${fmt(s.psu.inputPowerW, 0, ' W')}  out ${fmt(s.psu.outputVoltageV, 2, ' V')}`);
  for (const e of s.firmwareErrors ?? []) lines.push(`  firmware  error ${e.code}${e.text ? ` "${e.text}"` : ''}${e.component ? ` (${e.component})` : ''}`);
  for (const e of s.errors) lines.push(`  note      ${e.command}: ${e.kind}: ${e.message}`);
  lines.push(faults.length ? '  faults' : '  faults    none');
  for (const f of faults) lines.push(`    [${f.severity}] ${f.code}${f.part ? ` ${f.part}` : ''}: ${f.message}`);
  out.write(lines.join('\n') + '\n');
}

export function registerExporterCommands(program: Command): void {
  program
    .command('scrape')
    .description("read one miner's API and print its normalized sample and faults")
    .argument('<host[:port]>', 'miner address; port defaults to 4028 (or the --protocol default)')
    .option('--json', 'print exactly one JSON object on stdout')
    .option('--inventory <file>', 'judge the miner by its inventory entry (expected fans, boards, chips)')
    .option('--timeout <ms>', 'read timeout per command', (v) => Number(v), DEFAULT_TRANSPORT.readTimeoutMs)
    .option('--protocol <protocol>', `force a protocol: ${MINER_PROTOCOLS.join(', ')} (detected when absent)`)
    .option('--port <port>', "the protocol's port (default: 4028 cgminer and epic, 4433 whatsminer-v3, 80 web/REST)", (v) => Number(v))
    .option('--user <user>', 'login for the web/REST API (default root; VNish admin)')
    .option('--password-file <file>', 'file whose first line is the password (never give a password on the command line)')
    .action(async (target: string, opts: { json?: boolean; inventory?: string; timeout: number; protocol?: string; port?: number; user?: string; passwordFile?: string }) => {
      if (opts.protocol !== undefined && !(MINER_PROTOCOLS as readonly string[]).includes(opts.protocol)) {
        throw new Error(`--protocol must be one of ${MINER_PROTOCOLS.join(', ')}`);
      }
      const protocol = opts.protocol as MinerProtocol | undefined;
      if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 1 && opts.port <= 65535)) throw new Error('--port must be 1-65535');
      const parsed = parseEndpoint(target, protocol ? DEFAULT_PROTOCOL_PORTS[protocol] : 4028);
      const inventory = opts.inventory ? loadInventory(opts.inventory) : undefined;
      // A miner the inventory lists (by its host, and its port when one is given) is read as the exporter reads it:
      // its pinned protocol, port, backend and credentials entry, unless the command line says otherwise.
      const listed = protocol === undefined ? [...(inventory?.miners.values() ?? [])].find((m) => m.host === parsed.host && (!parsed.portGiven || m.port === parsed.port)) : undefined;
      const host = parsed.host;
      const port = opts.port ?? (listed?.protocol ? listed.port : parsed.port);
      const password = opts.passwordFile ? readSecretFile(opts.passwordFile) : undefined;
      const credentials: CredentialSource | undefined =
        password === undefined ? (listed?.credentials ? new CredentialStore().source(listed.credentials) : undefined) : (p: MinerProtocol) => ({ user: opts.user ?? (p === 'vnish' ? 'admin' : 'root'), password });
      const scrapeTarget = { host, port, protocol: protocol ?? listed?.protocol, backend: listed?.backend, firmware: listed?.firmware, credentials };
      const result = await scrapeMiner(scrapeTarget, { transport: { ...DEFAULT_TRANSPORT, readTimeoutMs: opts.timeout } });
      if (!result.ok) {
        const message = `cannot read miner ${host}:${port}: ${result.failure.kind}: ${result.failure.message}`;
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, endpoint: `${host}:${port}`, error: result.failure }) + '\n');
        process.stderr.write(`flymining: ${message}\n`);
        process.exitCode = 2;
        return;
      }
      const spec = specFor(host, port, result.sample, inventory);
      const { faults } = evaluateMinerHealth(result.sample, spec, emptyHealthState(), result.sample.time);
      const s = result.sample;
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({
            ok: true,
            endpoint: `${host}:${port}`,
            vendor: s.vendor,
            firmware: s.firmware,
            firmwareVersion: s.firmwareVersion,
            model: s.model,
            mode: s.mode,
            hashrateThs: s.hashrateThs,
            hashrateAvgThs: s.hashrateAvgThs,
            nominalThs: s.nominalThs,
            powerW: s.powerW,
            efficiencyJth: s.efficiencyJth,
            uptimeS: s.uptimeS,
            hwErrors: s.hwErrors,
            protocol: s.protocol ?? 'cgminer',
            backend: backendId(result.dialect),
            // Always present (null = the firmware does not report it), so scripts can rely on the keys.
            serial: s.serial ?? null,
            mac: s.mac ?? null,
            workMode: s.workMode,
            powerTargetW: s.powerTargetW,
            water: s.water,
            psu: s.psu,
            boards: s.boards,
            fans: s.fans,
            pools: s.pools,
            // `errors`: API commands that failed (as before); `firmwareErrors`: the firmware's own error codes.
            errors: s.errors,
            firmwareErrors: s.firmwareErrors ?? [],
            faults,
            time: s.time,
          }) + '\n',
        );
      } else {
        printSample(`${host}:${port}`, s, faults, process.stdout);
      }
    });

  program
    .command('discover')
    .description('scan an address range for miner APIs and compare with the inventory')
    .argument('<cidr>', 'IPv4 range, e.g. 10.0.1.0/24 (at most a /16)')
    .option('--port <port>', 'API port', (v) => Number(v), 4028)
    .option('--inventory <file>', 'report miners missing from it and slots whose miner is gone')
    .option('--concurrency <n>', 'addresses probed at once', (v) => Number(v), 256)
    .option('--json', 'print the report as JSON')
    .action(async (cidr: string, opts: { port: number; inventory?: string; concurrency: number; json?: boolean }) => {
      const inventory = opts.inventory ? loadInventory(opts.inventory) : undefined;
      const progress = process.stderr.isTTY && !opts.json;
      const report = await discover(cidr, {
        port: opts.port,
        concurrency: opts.concurrency,
        inventory,
        onProgress: progress ? (done, total) => process.stderr.write(`\rscanning ${done}/${total}`) : undefined,
      });
      if (progress) process.stderr.write('\n');
      if (opts.json) process.stdout.write(JSON.stringify(report) + '\n');
      else printDiscovery(report, inventory !== undefined, process.stdout);
    });
}

/** A miner id as the inventory allows it (it becomes a tag): anything else is refused before a query is built. */
const MINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** The change history is kept with the raw samples (40 days); a longer window asks for nothing more. */
const MAX_CHANGES_SINCE_MS = 400 * 86_400_000;
/** Control characters from a miner never reach the terminal as such. */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function registerMinerCommands(program: Command): void {
  const miner = program.command('miner').description("a miner's records, and actions on miners (reboot, sleep, wake, power, pools, blink)");
  registerControlCommands(miner);
  miner
    .command('changes')
    .description("a miner's change history: pools, firmware/version, serial/MAC, devfee switches (from InfluxDB, miner_change)")
    .argument('<miner>', 'inventory id of the miner (or an address, for unknown devices)')
    .option('--since <duration>', 'how far back (e.g. 24h, 7d; at most 400d)', '7d')
    .option('--kind <kind>', `only one kind: ${MINER_CHANGE_KINDS.join(', ')}`)
    .option('--json', 'print the rows as one JSON array')
    .action(async (id: string, opts: { since: string; kind?: string; json?: boolean }) => {
      try {
        if (!MINER_ID.test(id)) throw new Error(`"${id.slice(0, 80)}" is not a miner id (letters, digits and _ . : -, at most 64)`);
        const sinceMs = parseDuration(opts.since, { what: '--since' });
        if (sinceMs <= 0 || sinceMs > MAX_CHANGES_SINCE_MS) throw new Error('--since: between 1s and 400d');
        if (opts.kind !== undefined && !(MINER_CHANGE_KINDS as readonly string[]).includes(opts.kind)) throw new Error(`--kind must be one of ${MINER_CHANGE_KINDS.join(', ')}`);
        const store = new InfluxStore(loadInfluxConfig({ url: 'http://127.0.0.1:8086' }), { spool: false });
        try {
          const rows = await readMinerChanges(store, id, sinceMs, opts.kind);
          if (opts.json) {
            process.stdout.write(JSON.stringify(rows) + '\n');
            return;
          }
          const lines = [rows.length ? `${rows.length} change${rows.length === 1 ? '' : 's'} of ${id} since ${opts.since} ago (newest first)` : `no changes of ${id} in the last ${opts.since}`];
          for (const r of rows) {
            lines.push(`  ${new Date(r.time).toISOString()}  ${r.kind.padEnd(14)} ${r.where}`);
            lines.push(`      before: ${printable(r.before) || '-'}`);
            lines.push(`      after:  ${printable(r.after) || '-'}`);
          }
          process.stdout.write(lines.join('\n') + '\n');
        } finally {
          await store.close();
        }
      } catch (err) {
        process.stderr.write(`flymining miner changes: ${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}

function printDiscovery(r: DiscoveryReport, withInventory: boolean, out: NodeJS.WritableStream): void {
  const lines = [`scanned ${r.scanned} addresses, found ${r.found.length} miner API${r.found.length === 1 ? '' : 's'}`];
  for (const f of r.found) {
    lines.push(`  ${`${f.host}:${f.port}`.padEnd(22)} ${(f.family ?? '?').padEnd(15)} ${(f.model ?? f.note ?? '').padEnd(28)} ${f.hashrateThs === undefined ? '' : `${f.hashrateThs.toFixed(2)} TH/s`}`);
  }
  if (withInventory) {
    lines.push(r.unknown.length ? `not in the inventory (${r.unknown.length}):` : 'every miner found is in the inventory');
    for (const f of r.unknown) lines.push(`  ${f.host}:${f.port}  ${f.model ?? f.family ?? ''}`);
    lines.push(r.missing.length ? `listed but not answering (${r.missing.length}):` : 'every listed miner in this range answered');
    for (const m of r.missing) lines.push(`  ${m.id.padEnd(20)} ${m.host}:${m.port}  ${m.where}`);
  }
  out.write(lines.join('\n') + '\n');
}
