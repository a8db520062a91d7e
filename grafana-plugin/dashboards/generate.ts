/** Writes the dashboards of dashboards.ts to provisioning/grafana/dashboards/ (run after changing them). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DASHBOARDS } from './dashboards';

export const DASHBOARD_DIR = path.join(__dirname, '../../provisioning/grafana/dashboards');

export function dashboardFileText(name: string): string {
  return `${JSON.stringify(DASHBOARDS[name], null, 2)}\n`;
}

if (require.main === module) {
  for (const name of Object.keys(DASHBOARDS)) writeFileSync(path.join(DASHBOARD_DIR, name), dashboardFileText(name));
  console.log(`wrote ${Object.keys(DASHBOARDS).length} dashboards to ${DASHBOARD_DIR}`);
}
