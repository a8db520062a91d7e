/**
 * Routing tree, as in Alertmanager: an alert walks down from the top route; the first child whose matchers match
 * takes it unless that child says `continue`, in which case later siblings may take it too. A route without a
 * matching child handles the alert itself. Children inherit receiver and timings they do not set.
 */
import type { RouteConfig } from '../config';
import { matchesAll } from '../matchers';
import type { Labels, Matcher } from '../types';

export interface Route {
  /** Position in the tree ("0", "0.2.1"): part of the group key, so two routes never share a group. */
  id: string;
  receiver: string;
  matchers: Matcher[];
  continue: boolean;
  groupBy: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  routes: Route[];
}

export const ROUTE_DEFAULTS = { groupBy: ['alertname'], groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 4 * 3_600_000 };

export function buildRoute(config: RouteConfig, parent?: Route, id = '0'): Route {
  const route: Route = {
    id,
    receiver: config.receiver ?? parent?.receiver ?? '',
    matchers: config.matchers,
    continue: config.continue,
    groupBy: config.group_by ?? parent?.groupBy ?? ROUTE_DEFAULTS.groupBy,
    groupWaitMs: config.group_wait ?? parent?.groupWaitMs ?? ROUTE_DEFAULTS.groupWaitMs,
    groupIntervalMs: config.group_interval ?? parent?.groupIntervalMs ?? ROUTE_DEFAULTS.groupIntervalMs,
    repeatIntervalMs: config.repeat_interval ?? parent?.repeatIntervalMs ?? ROUTE_DEFAULTS.repeatIntervalMs,
    routes: [],
  };
  route.routes = config.routes.map((child, i) => buildRoute(child, route, `${id}.${i}`));
  return route;
}

/** The routes (leaves of the walk) that handle an alert with these labels. */
export function routesFor(route: Route, labels: Labels): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  if (route.routes.length === 0) return [route];
  const taken: Route[] = [];
  for (const child of route.routes) {
    const found = routesFor(child, labels);
    if (found.length === 0) continue;
    taken.push(...found);
    if (!child.continue) break;
  }
  return taken.length > 0 ? taken : [route];
}
