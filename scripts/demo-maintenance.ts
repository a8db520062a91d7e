/**
 * `npm start`'s maintenance set-up: the maintenance schema in the demo's database, the example rota (people with
 * addresses at farm.example, so their pages land in the demo's mail catcher) and a few weeks of ticket history for
 * the simulated farm, so the staff page, the Grafana dashboard and the TV wall have figures from the first minute.
 * Idempotent: a second start keeps the rota and history it finds.
 *
 *   tsx scripts/demo-maintenance.ts --pg-url URL --inventory farm.yaml --rota provisioning/maintenance/rota.yaml [--weeks 6]
 */
import { Command } from 'commander';
import { Pool } from 'pg';
import { loadInventory } from '@flymining/shared';
import { migrateMaintenance } from '../maintenance/src/db';
import { seedTicketHistory } from '../maintenance/src/demo-seed';
import { loadRotaFile, RotaStore } from '../maintenance/src/rota/store';

async function main(): Promise<void> {
  const opts = new Command('demo-maintenance')
    .requiredOption('--pg-url <url>')
    .requiredOption('--inventory <file>')
    .requiredOption('--rota <file>')
    .option('--weeks <n>', 'weeks of history', '6')
    .parse(process.argv)
    .opts<{ pgUrl: string; inventory: string; rota: string; weeks: string }>();
  const pool = new Pool({ connectionString: opts.pgUrl, max: 4 });
  try {
    await migrateMaintenance(pool);
    const rotaFile = loadRotaFile(opts.rota);
    const rota = new RotaStore(pool);
    if (!(await rota.exists())) await rota.importFile(rotaFile, 'demo');
    const miners = [...loadInventory(opts.inventory).miners.values()].map((m) => ({
      id: m.id,
      site: m.location.site,
      container: m.location.container,
      rack: m.location.rack,
      shelf: m.location.shelf,
      slot: m.location.slot,
      model: m.model,
      nominalThs: m.nominalThs,
    }));
    const technicians = rotaFile.members.map((m) => m.email ?? m.name);
    const written = await seedTicketHistory(pool, { weeks: Number(opts.weeks), miners, technicians, now: Date.now() });
    process.stdout.write(written > 0 ? `${written} tickets of history over ${opts.weeks} weeks` : 'ticket history already there');
  } finally {
    await pool.end();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo-maintenance: ${(e as Error).message}\n`);
  process.exit(1);
});
