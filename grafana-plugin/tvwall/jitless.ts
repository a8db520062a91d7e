/**
 * Imported first by the page bundles: @grafana/data's zod probes for eval (new Function) at its first parse, which
 * the TV wall's CSP forbids (a reported violation each load). Telling zod up front makes it skip the probe.
 */
import { config } from 'zod';

config({ jitless: true });
