/**
 * The one list of integrations. A new kind of receiver is a folder under notify/ exporting an
 * IntegrationDefinition, added to DEFINITIONS below: the config accepts its section, dedup keeps a notification
 * log per receiver and integration, the service builds its notifier, acknowledge links name it.
 */
import type { z } from 'zod';
import { emailIntegration } from './email';
import type { IntegrationDefinition } from './integration';
import type { Notifier } from './notice';
import { slackIntegration } from './slack';
import { telegramIntegration } from './telegram';
import { webhookIntegration } from './webhook';

const DEFINITIONS = [emailIntegration, slackIntegration, telegramIntegration, webhookIntegration] as const;

export type Integration = (typeof DEFINITIONS)[number]['name'];
type ConfigOf<K extends Integration> = Extract<(typeof DEFINITIONS)[number], { name: K }> extends IntegrationDefinition<K, infer C> ? C : never;

/** A receiver's integration sections, each optional. */
export type ReceiverIntegrations = { [K in Integration]?: ConfigOf<K> };
export interface NamedReceiver extends ReceiverIntegrations {
  name: string;
}

export const INTEGRATIONS: readonly Integration[] = DEFINITIONS.map((d) => d.name);
const byName = new Map<string, IntegrationDefinition>(DEFINITIONS.map((d) => [d.name, d]));

export function isIntegration(name: string): name is Integration {
  return byName.has(name);
}

/** The receiver schema's integration fields: `email: {...}`, `slack: {...}`, each optional. */
export function receiverSections(): { [K in Integration]: z.ZodOptional<z.ZodType<ConfigOf<K>, unknown>> } {
  return Object.fromEntries(DEFINITIONS.map((d) => [d.name, d.schema.optional()])) as { [K in Integration]: z.ZodOptional<z.ZodType<ConfigOf<K>, unknown>> };
}

/** The integrations a receiver has a section for, in registry order. */
export function integrationsOf(receiver: ReceiverIntegrations): Integration[] {
  return INTEGRATIONS.filter((name) => receiver[name] !== undefined);
}

/** The dispatcher's key of one receiver's integration. */
export function notifierKey(receiver: string, integration: Integration): string {
  return `${receiver}/${integration}`;
}

/** One notifier per receiver and integration, keyed by notifierKey. */
export function createNotifiers(receivers: readonly NamedReceiver[]): Map<string, Notifier> {
  const notifiers = new Map<string, Notifier>();
  for (const receiver of receivers) {
    for (const name of integrationsOf(receiver)) notifiers.set(notifierKey(receiver.name, name), byName.get(name)!.create(receiver[name]));
  }
  return notifiers;
}

/** Whom a receiver's integration reaches (its addresses, its channel): what an acknowledgement through its link records. */
export function recipientOf(receiver: NamedReceiver | undefined, receiverName: string, integration: string): string {
  const config = isIntegration(integration) ? receiver?.[integration] : undefined;
  return config === undefined ? `${receiverName}/${integration}` : byName.get(integration)!.recipient(config, receiverName);
}
