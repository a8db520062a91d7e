/**
 * `flymining edges ...`: what the center knows of each edge, and taking an edge out of service. A container that is
 * dismantled or an edge box that is replaced under another name would otherwise page ContainerSilent for ever.
 */
import type { Command } from 'commander';
import { REDIS_KEYS, withRedisConnection, type EdgeStatus, type RetiredEdge } from '@flymining/shared';

const DEFAULT_REDIS = 'redis://127.0.0.1:6379/0';

interface EdgeRow {
  key: string;
  state: 'reporting' | 'silent' | 'catching up';
  lastHeardS: number;
  spoolLines: number;
  uplink: string;
  clockOffsetS?: number;
  edge: string;
}

function describe(key: string, s: EdgeStatus, now: number): EdgeRow {
  const state = s.silentSinceMs === undefined ? 'reporting' : s.returning ? 'catching up' : 'silent';
  return {
    key,
    state,
    lastHeardS: Math.round((now - s.receivedAtMs) / 1000),
    spoolLines: s.last.spoolLines,
    uplink: s.last.uplink,
    clockOffsetS: s.last.clockOffsetMs === undefined ? undefined : Math.round(s.last.clockOffsetMs / 1000),
    edge: s.edge,
  };
}

export function registerAlertingCommands(program: Command): void {
  const edges = program.command('edges').description("the container edges as the center's alerting sees them");
  edges
    .command('list')
    .description('each edge (site/container/source): reporting, silent or catching up, last heard, spool, uplink, clock')
    .option('--redis <url>', 'Redis of the center', process.env.FLYMINING_REDIS_URL ?? DEFAULT_REDIS)
    .option('--json', 'one JSON array on stdout')
    .action(async (opts: { redis: string; json?: boolean }) => {
      const now = Date.now();
      const rows = await withRedisConnection(opts.redis, async (redis) => {
        const raw = await redis.hgetall(REDIS_KEYS.edges);
        return Object.entries(raw)
          .map(([key, value]) => describe(key, JSON.parse(value) as EdgeStatus, now))
          .sort((a, b) => a.key.localeCompare(b.key));
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows) + '\n');
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no edge has reported yet (is alerting running with an influx section?)\n');
        return;
      }
      const header = ['EDGE (site/container/source)', 'STATE', 'LAST HEARD', 'SPOOL', 'UPLINK', 'CLOCK'];
      const lines = rows.map((r) => [
        `${r.key} (${r.edge})`,
        r.state,
        `${r.lastHeardS} s ago`,
        String(r.spoolLines),
        r.uplink,
        r.clockOffsetS === undefined ? '-' : `${r.clockOffsetS > 0 ? '+' : ''}${r.clockOffsetS} s`,
      ]);
      const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
      for (const l of [header, ...lines]) process.stdout.write(l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    });
  edges
    .command('retire')
    .description('take an edge out of service: no more ContainerSilent for it, its last faults cleared; it is taken back if it reports again')
    .argument('<site/container>', 'e.g. north-1/C04 (see `flymining edges list`)')
    .option('--source <source>', 'miner, climate or all', 'all')
    .option('--redis <url>', 'Redis of the center', process.env.FLYMINING_REDIS_URL ?? DEFAULT_REDIS)
    .option('--by <name>', 'who retires it (kept with the record)', process.env.USER)
    .action(async (place: string, opts: { source: string; redis: string; by?: string }) => {
      if (!/^[^/]+\/[^/]+$/.test(place)) throw new Error(`expected SITE/CONTAINER, e.g. north-1/C04, got "${place}"`);
      if (!['miner', 'climate', 'all'].includes(opts.source)) throw new Error(`--source: expected miner, climate or all, got "${opts.source}"`);
      const sources = opts.source === 'all' ? ['miner', 'climate'] : [opts.source];
      const retired = await withRedisConnection(opts.redis, async (redis) => {
        const done: string[] = [];
        for (const source of sources) {
          const key = `${place}/${source}`;
          const raw = await redis.hget(REDIS_KEYS.edges, key);
          if (!raw) continue;
          const status = JSON.parse(raw) as EdgeStatus;
          const record: RetiredEdge = { atMs: Date.now(), lastTimeMs: status.last.time, by: opts.by };
          await redis.multi().hset(REDIS_KEYS.retiredEdges, key, JSON.stringify(record)).hdel(REDIS_KEYS.edges, key).exec();
          done.push(key);
        }
        return done;
      });
      if (retired.length === 0) {
        process.stderr.write(`flymining: no edge known at ${place} (see \`flymining edges list\`)\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(`retired ${retired.join(', ')}: alerting clears their faults and ContainerSilent within one evaluation\n`);
    });
}
