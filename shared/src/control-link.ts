/**
 * The control link between the center and the edges (issue 14). Staff ask at the center (maintenance service,
 * /api/control); the request waits in PostgreSQL; the edge of that container fetches it over the uplink gateway
 * (/edge/control/v1), claims it once and posts each miner's outcome. The center never connects to an edge.
 *
 * Both ends validate what the other sends with these schemas, and every string and list is bounded, so neither end
 * can flood or crash the other with a bad answer.
 */
import { z } from 'zod';

/** Where the edges' half lives, on the maintenance service and through the gateway. */
export const CONTROL_EDGE_PREFIX = '/edge/control/v1';
/** An edge's token is named `edge-<container>` and serves that container only. */
export const EDGE_TOKEN_PREFIX = 'edge-';
/** A request not claimed within this long is never handed out: a reboot queued during an LTE outage must not fire late. */
export const CONTROL_REQUEST_TTL_MS = 10 * 60_000;
/** Requests one pending answer carries at most (the rest come on the next poll). */
export const MAX_PENDING_REQUESTS = 50;
/** Targets (ids, slot paths) of one request, and results one post carries. */
export const MAX_REQUEST_TARGETS = 500;
export const MAX_RESULTS = 2000;
/** The results body: 2000 results of up to ~1 kB each. */
export const MAX_RESULTS_BODY_BYTES = 2 * 1024 * 1024;

const noControl = /^[^\u0000-\u001f\u007f]*$/;

/** A miner id, slot path (`C02/R01`) or listed host, as staff type it. */
export const targetWordSchema = z
  .string()
  .trim()
  .min(1, 'empty target')
  .max(200, 'at most 200 characters')
  .regex(/^[^\s\u0000-\u001f\u007f]+$/, 'one miner id or slot path, without spaces');

export const containerNameSchema = z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a container name such as C02');

const poolSchema = z.strictObject({
  url: z.string().regex(/^stratum(\+tcp|\+ssl|2\+tcp)?:\/\/[^\s,]{3,200}$/, 'a stratum URL such as stratum+tcp://pool.example.com:3333'),
  user: z.string().min(1, 'a worker name').max(200).regex(noControl, 'no control characters'),
  password: z.string().max(200).regex(noControl, 'no control characters').default('x'),
});

/** The write path's MinerAction (exporters/src/miner/control/types.ts), as JSON. */
export const minerActionSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('reboot') }),
    z.strictObject({ kind: z.literal('sleep') }),
    z.strictObject({ kind: z.literal('wake') }),
    z.strictObject({
      kind: z.literal('power'),
      target: z.union([
        z.strictObject({ watts: z.number().int('whole watts').min(100, 'at least 100 W').max(20_000, 'at most 20000 W') }),
        z.strictObject({ mode: z.enum(['low', 'normal', 'high'], { error: 'low, normal or high' }) }),
      ]),
    }),
    z.strictObject({ kind: z.literal('pools'), pools: z.array(poolSchema).min(1, 'at least one pool').max(3, 'at most 3 pools') }),
    z.strictObject({ kind: z.literal('switch-pool'), index: z.number().int().min(0).max(9, 'a pool index 0 to 9') }),
    z.strictObject({ kind: z.literal('blink'), on: z.boolean().default(true) }),
  ],
  { error: 'kind: one of reboot, sleep, wake, power, pools, switch-pool, blink' },
);
export type RemoteMinerAction = z.output<typeof minerActionSchema>;

/** One request as the center hands it to an edge. Answers are parsed leniently (unknown keys dropped) for newer centers. */
export const remoteRequestSchema = z.object({
  id: z.number().int().positive(),
  container: containerNameSchema,
  targets: z.array(targetWordSchema).min(1).max(MAX_REQUEST_TARGETS),
  action: minerActionSchema,
  dryRun: z.boolean(),
  reason: z.string().max(500),
  requestedBy: z.string().min(1).max(200),
  createdAt: z.string().max(40),
  expiresAt: z.string().max(40),
});
export type RemoteRequest = z.output<typeof remoteRequestSchema>;

/** Each request is checked on its own (remoteRequestSchema): one the edge cannot read is skipped, not the whole answer. */
export const pendingAnswerSchema = z.object({ requests: z.array(z.unknown()).max(MAX_PENDING_REQUESTS) });
export const claimAnswerSchema = z.object({ request: remoteRequestSchema, claimedAt: z.string().max(40) });

/** The executor's outcomes, plus a target word the edge's inventory does not know. */
export const REMOTE_OUTCOMES = ['confirmed', 'sent', 'unconfirmed', 'refused', 'rate-limited', 'failed', 'unreachable', 'dry-run', 'unknown-target'] as const;
export type RemoteOutcome = (typeof REMOTE_OUTCOMES)[number];

export const MAX_RESULT_TEXT = 600;

/** One miner's outcome as the edge posts it. */
export const minerResultSchema = z.strictObject({
  miner: z.string().min(1).max(200),
  /** container/rack/shelf/slot, or the word that named nothing. */
  place: z.string().max(200),
  outcome: z.enum(REMOTE_OUTCOMES),
  detail: z.string().max(MAX_RESULT_TEXT),
  reply: z.string().max(MAX_RESULT_TEXT),
  durationMs: z.number().min(0).max(86_400_000),
  confirmMs: z.number().min(0).max(86_400_000).nullable(),
  /** The mode the confirming read showed (sleeping, hashing…). */
  mode: z.string().max(40).nullable(),
});
export type MinerResult = z.output<typeof minerResultSchema>;

/** Results so far (the whole list each time, newest wins), `done` on the last post. */
export const resultsBodySchema = z.strictObject({ results: z.array(minerResultSchema).max(MAX_RESULTS), done: z.boolean() });
export type ResultsBody = z.output<typeof resultsBodySchema>;

/** The container an edge token serves, from its name (`edge-C02` → `C02`), or undefined for other tokens. */
export function containerOfEdgeToken(tokenName: string): string | undefined {
  if (!tokenName.startsWith(EDGE_TOKEN_PREFIX)) return undefined;
  const container = tokenName.slice(EDGE_TOKEN_PREFIX.length);
  return containerNameSchema.safeParse(container).success ? container : undefined;
}
