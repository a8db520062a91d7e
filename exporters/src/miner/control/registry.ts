/**
 * Every family's write path, by the read backends it acts for. Adding a firmware's writes = one control.ts beside its
 * read backend, listed here.
 */
import type { ControlBackend } from './types';

export const CONTROL_BACKENDS: readonly ControlBackend[] = [];

/** The write path for a read backend id (`backendId(dialect)`), or undefined when none is written yet. */
export function controlBackendFor(readBackendId: string): ControlBackend | undefined {
  return CONTROL_BACKENDS.find((b) => b.backends.includes(readBackendId));
}
