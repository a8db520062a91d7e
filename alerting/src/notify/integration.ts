/**
 * What one kind of receiver (email, Slack, later Telegram or a webhook) provides: its config section, how to build
 * its notifier, and how an acknowledgement names whom it reached. Each lives in a folder of its own under notify/
 * and is listed once in registry.ts; config, dedup, the service and the API read the registry.
 */
import type { z } from 'zod';
import type { Notifier } from './notice';

export interface IntegrationDefinition<Name extends string = string, Config = unknown> {
  /** Its key in a receiver's config, in the notification log and in acknowledge links. */
  readonly name: Name;
  /** The receiver's section for it (zod: errors name the field). */
  readonly schema: z.ZodType<Config, unknown>;
  create(config: Config): Notifier;
  /** Whom a notice reached, as an acknowledgement made through its link records it. */
  recipient(config: Config, receiverName: string): string;
}
