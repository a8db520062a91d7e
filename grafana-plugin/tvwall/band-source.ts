/**
 * The band's maintenance figures from PostgreSQL, through the maintenance package (the same queries as the staff
 * pages): open tickets by age, MTTR this week and last week (weeks in the rota's time zone, UTC without a rota), who is on call.
 */
import { backlog, onCallAt, RotaStore, weekOverWeek } from '@flymining/maintenance';
import type { Pool } from 'pg';
import type { MaintenanceBand } from './band-figures';

export async function readMaintenanceBand(pool: Pool | undefined, now = new Date()): Promise<MaintenanceBand> {
  if (!pool) return { configured: false };
  const rota = await new RotaStore(pool).load();
  const timeZone = rota?.timeZone ?? 'UTC';
  const [open, weeks] = await Promise.all([backlog(pool, now), weekOverWeek(pool, now, timeZone)]);
  const shift = rota ? onCallAt(rota, now) : undefined;
  return {
    configured: true,
    now: now.getTime(),
    tickets: {
      open: open.open,
      under1h: open.byAge.under1h,
      under4h: open.byAge.under4h,
      under24h: open.byAge.under24h,
      // The wall's last bucket is "a day or more".
      older: open.byAge.under7d + open.byAge.older,
      oldestS: open.oldestS,
    },
    mttr: { thisWeekS: weeks.thisWeek.mttrS, lastWeekS: weeks.lastWeek.mttrS },
    onCall: shift ? { name: shift.person.name, until: shift.until.getTime() } : null,
    timeZone,
  };
}
