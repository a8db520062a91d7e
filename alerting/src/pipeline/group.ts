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
  // A route's alerts with the same group_by values share a group: found by those values (length-prefixed, so no
  // two lists read alike), the sorted and quoted key is built once per group instead of once per alert.
  const byValues = new Map<Route, Map<string, AlertGroup>>();
  for (const alert of alerts) {
    for (const route of routesFor(tree, alert.labels)) {
      const everyLabel = route.groupBy.includes('...');
      let values: string | undefined;
      let ofRoute: Map<string, AlertGroup> | undefined;
      if (!everyLabel) {
        values = '';
        for (const name of route.groupBy) {
          const value = alert.labels[name] ?? '';
          values += `${value.length}:${value}`;
        }
        ofRoute = byValues.get(route);
        if (!ofRoute) byValues.set(route, (ofRoute = new Map()));
        const known = ofRoute.get(values);
        if (known) {
          known.alerts.push(alert);
          continue;
        }
      }
      const groupLabels: Labels = {};
      if (everyLabel) Object.assign(groupLabels, alert.labels);
      else for (const name of route.groupBy) groupLabels[name] = alert.labels[name] ?? '';
      const key = groupKeyOf(route, groupLabels);
      let group = groups.get(key);
      if (!group) {
        group = { key, id: Buffer.from(key).toString('base64url'), route, groupLabels, alerts: [] };
        groups.set(key, group);
      }
      if (ofRoute) ofRoute.set(values!, group);
      group.alerts.push(alert);
    }
  }
  return groups;
}
