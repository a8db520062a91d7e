/**
 * Where a click on a slot may send the browser. A link template comes from a URL parameter (TV wall `?link=`) or a
 * panel option, so it is not trusted: a `javascript:` URL would run script in the page and an outside URL would
 * make the farm's screens an open redirect. Only http(s) URLs on the page's own origin, or under one of the
 * configured Grafana base URLs, are followed.
 */

export interface LinkPolicy {
  /** The page the link is followed from (window.location.href): relative links resolve against it. */
  pageUrl: string;
  /** Absolute http(s) base URLs (e.g. https://grafana.farm.example/grafana) whose pages may be opened. */
  allowedBases: readonly string[];
}

/** The base's path as a prefix ending in '/', so /grafana allows /grafana/d/… but not /grafana-evil/. */
function pathPrefix(base: URL): string {
  return base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
}

function parse(url: string, base?: string): URL | undefined {
  try {
    return new URL(url, base);
  } catch {
    return undefined;
  }
}

/** The absolute URL to navigate to, or undefined when the policy refuses it. */
export function allowedNavigation(url: string, policy: LinkPolicy): string | undefined {
  const target = parse(url.trim(), policy.pageUrl);
  if (!target || (target.protocol !== 'http:' && target.protocol !== 'https:')) return undefined;
  // user:password@ in a link is a phishing trick, never a dashboard.
  if (target.username || target.password) return undefined;
  if (target.origin === parse(policy.pageUrl)?.origin) return target.href;
  for (const text of policy.allowedBases) {
    const base = parse(text);
    if (!base) continue;
    const basePath = pathPrefix(base);
    if (target.origin === base.origin && (`${target.pathname}/`.startsWith(basePath) || target.pathname.startsWith(basePath))) return target.href;
  }
  return undefined;
}

/** Why a link is refused, for the console and the page. */
export function refusedLinkText(url: string, allowedBases: readonly string[]): string {
  const where = ['this site', ...allowedBases].join(' or ');
  return `slot link "${url}" ignored: only http(s) links to ${where} are followed`;
}
