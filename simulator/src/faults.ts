/**
 * Faults the simulator can inject into one miner at run time. The request schema doubles as the control API's input
 * validation, so the HTTP layer and programmatic callers accept exactly the same things.
 */
import { z } from 'zod';

const toggle = { on: z.boolean().default(true) };

export const faultRequestSchema = z.discriminatedUnion('fault', [
  /** index: 0-based position among the unit's real fans (not the firmware's fanN slot). */
  z.object({ fault: z.literal('stopFan'), index: z.int().min(0) }),
  /** board: 0-based hashboard position. missing=true: chips vanish from the chain instead of reading 'x'. */
  z.object({
    fault: z.literal('killChips'),
    board: z.int().min(0),
    count: z.int().min(1),
    missing: z.boolean().default(false),
  }),
  z.object({ fault: z.literal('dropBoard'), board: z.int().min(0) }),
  z.object({ fault: z.literal('overheat'), ...toggle }),
  z.object({ fault: z.literal('sleep'), ...toggle }),
  z.object({ fault: z.literal('offline'), ...toggle }),
  z.object({ fault: z.literal('hang'), ...toggle }),
  z.object({ fault: z.literal('poolsDead'), ...toggle }),
  /** ms: delay before each reply; 0 removes it. */
  z.object({ fault: z.literal('slow'), ms: z.int().min(0).max(600_000) }),
  z.object({ fault: z.literal('garbage'), kind: z.enum(['binary', 'truncated', 'off']).default('binary') }),
  /** downSeconds: API refuses connections this long; warmupSeconds: then answers but does not hash yet. */
  z.object({
    fault: z.literal('reboot'),
    downSeconds: z.number().min(0).max(3600).default(0),
    warmupSeconds: z.number().min(0).max(3600).default(5),
  }),
  z.object({ fault: z.literal('clear') }),
]);

export type FaultRequest = z.input<typeof faultRequestSchema>;
export type ParsedFaultRequest = z.output<typeof faultRequestSchema>;
export type FaultName = ParsedFaultRequest['fault'];

/** What is currently wrong with a miner; absent fields mean healthy. Reported as-is by GET /miners. */
export interface ActiveFaults {
  stoppedFans: number[];
  /** Per board: chips reading 'x'. */
  deadChips: number[];
  /** Per board: chips no longer found on the chain. */
  missingChips: number[];
  droppedBoards: number[];
  overheat: boolean;
  sleep: boolean;
  offline: boolean;
  hang: boolean;
  poolsDead: boolean;
  slowMs: number;
  garbage: 'binary' | 'truncated' | null;
}

/** A fault request that does not fit the miner (board 5 on a 3-board unit, sleep on firmware without sleep ...). */
export class FaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultError';
  }
}
