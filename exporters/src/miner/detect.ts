import { DIALECTS, type Dialect, type Replies } from './backends';

/**
 * Commands that identify a miner, sent in this order, one per connection, until detectDialect answers
 * (QUIRKS §5). `version` settles most firmware; Whatsminer is recognised by its `summary`; Vnish S17+ answers
 * `version` without Type, so its `stats` (Type "… (vnish 2.0.3)") decides.
 */
export const DETECTION_COMMANDS: readonly string[] = ['version', 'summary', 'stats'];

/** The dialect whose marks the replies carry, or undefined while they are not conclusive. */
export function detectDialect(probe: Replies): Dialect | undefined {
  return DIALECTS.find((dialect) => dialect.matches(probe));
}
