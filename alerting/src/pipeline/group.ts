/**
 * Stage 2, group: alerts that share a route and the values of its group_by labels become one notice
 * ("everything wrong in container C3"), so a storm is one page. `...` in group_by means every label.
 */
import type { Alert, Labels } from '../types';
import { routesFor, type Route } from './route';

export interface AlertGroup {
  /** Route id + group label values: stable across restarts, used for the notification log and acknowledgements. */
  key: string;
  /** URL-safe form of the key, used in acknowledge links and the API. */
  id: string;
  route: Route;
  groupLabels: Labels;
  alerts: Alert[];
}

export function groupKeyOf(route: Route, groupLabels: Labels): string {
  return `${route.id}:${Object.keys(groupLabels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(groupLabels[k])}`)
    .join(',')}`;
}

export function groupAlerts(alerts: Iterable<Alert>, tree: Route): Map<string, AlertGroup> {
  const groups = new Map<string, AlertGroup>();
  for (const alert of alerts) {
    for (const route of routesFor(tree, alert.labels)) {
      const groupLabels: Labels = {};
      if (route.groupBy.includes('...')) Object.assign(groupLabels, alert.labels);
      else for (const name of route.groupBy) groupLabels[name] = alert.labels[name] ?? '';
      const key = groupKeyOf(route, groupLabels);
      let group = groups.get(key);
      if (!group) {
        group = { key, id: Buffer.from(key).toString('base64url'), route, groupLabels, alerts: [] };
        groups.set(key, group);
      }
      group.alerts.push(alert);
    }
  }
  return groups;
}
