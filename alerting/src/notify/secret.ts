/**
 * Secrets of receiver sections (a bot token, a bearer token, an HMAC key): read from a file while the config is
 * checked, so a missing or empty file stops the start with the field named, and held in a wrapper that prints as
 * "[secret]" if a config object ever reaches a log line or JSON.
 */
import { inspect } from 'node:util';
import { SecretFileError, readSecretFile } from '@flymining/shared';
import type { z } from 'zod';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself: for the request that needs it, never for a message. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}

/**
 * Reads `file` inside a zod transform; a problem becomes an issue at `field` (the message names the file, never
 * its content). `setting` is what the message calls the source when it is not the field (an environment variable).
 */
export function readSecretField(ctx: z.RefinementCtx, file: string, field: string, setting = field): Secret | undefined {
  try {
    return new Secret(readSecretFile(file, setting).trim());
  } catch (e) {
    if (!(e instanceof SecretFileError)) throw e;
    // readSecretFile's message starts with the setting; the issue's path already names the field.
    ctx.addIssue({ code: 'custom', message: setting === field ? e.message.slice(setting.length + 2) : e.message, path: [field] });
    return undefined;
  }
}
