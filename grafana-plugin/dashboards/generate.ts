/** Writes the dashboards of dashboards.ts and maintenance.ts to provisioning/grafana/dashboards/ (run after changing them). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DASHBOARDS } from './dashboards';
import { MAINTENANCE_DASHBOARDS } from './maintenance';

export const DASHBOARD_DIR = path.join(__dirname, '../../provisioning/grafana/dashboards');

/** Every provisioned dashboard by file name: the InfluxDB ones and those reading PostgreSQL too. */
export const ALL_DASHBOARDS = { ...DASHBOARDS, ...MAINTENANCE_DASHBOARDS };

export function dashboardFileText(name: string): string {
  return `${JSON.stringify(ALL_DASHBOARDS[name], null, 2)}\n`;
}

if (require.main === module) {
  for (const name of Object.keys(ALL_DASHBOARDS)) writeFileSync(path.join(DASHBOARD_DIR, name), dashboardFileText(name));
  console.log(`wrote ${Object.keys(ALL_DASHBOARDS).length} dashboards to ${DASHBOARD_DIR}`);
}
