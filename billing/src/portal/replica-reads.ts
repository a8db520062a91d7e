/**
 * The portal's ledger pages read from a PostgreSQL streaming replica when one is given (FLYMINING_PG_READ_URL,
 * `--pg-read-url`), so investors' and staff's pages do not load the primary that the daily run and every ledger
 * write need. Writes (payout requests, staff's payout actions) always go to the primary.
 *
 * Read your writes: after a write, the session keeps the primary's WAL position (`pg_current_wal_lsn()`); its reads
 * go to the replica only once the replica has replayed that far (`pg_last_wal_replay_lsn()`), to the primary until
 * then, so a payout just requested is on the next page. A replica that fails (down, restarting, refusing) is left
 * alone for `restMs` and its reads go to the primary meanwhile: the pages keep working, counted and logged.
 */
import type { Pool } from 'pg';
import type { Logger } from '@flymining/shared';
import type { PortalLedger } from './ledger-view';

/** What a session keeps for read-your-writes. */
export interface ReadYourWrites {
  /** The primary's WAL position after this session's last write; cleared once the replica has replayed it. */
  readAfterLsn?: string;
}

type Method = keyof PortalLedger;
type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/** Every ledger method, and whether it changes the book (always on the primary): the compiler keeps the list whole. */
const METHODS = {
  investor: 'read',
  contractsOf: 'read',
  creditsOf: 'read',
  payoutsOf: 'read',
  marketToday: 'read',
  statementCsv: 'read',
  statementMonths: 'read',
  monthlyStatement: 'read',
  investors: 'read',
  contracts: 'read',
  payouts: 'read',
  dailyRuns: 'read',
  requestPayout: 'write',
  approvePayout: 'write',
  markPayoutSent: 'write',
  rejectPayout: 'write',
} as const satisfies Record<Method, 'read' | 'write'>;

export interface ReplicaReadCounts {
  replica: number;
  primary: number;
  /** Reads moved to the primary because the replica had not replayed the session's last write. */
  behind: number;
  /** Reads moved to the primary because the replica failed. */
  failed: number;
}

export class LedgerReads {
  readonly counts: ReplicaReadCounts = { replica: 0, primary: 0, behind: 0, failed: 0 };
  private restingUntil = 0;

  constructor(
    private readonly primary: { pool: Pool; ledger: PortalLedger },
    private readonly replica: { pool: Pool; ledger: PortalLedger },
    private readonly log: Logger,
    private readonly restMs = 10_000,
  ) {}

  /** The ledger for one request of this session: reads where they may go, writes to the primary. */
  forSession(session: ReadYourWrites): PortalLedger {
    let source: Promise<'replica' | 'primary'> | undefined;
    const view: Partial<Record<Method, AnyMethod>> = {};
    for (const name of Object.keys(METHODS) as Method[]) {
      view[name] = METHODS[name] === 'write'
        ? (...args) => this.write(session, name, args)
        : async (...args) => this.read(name, args, await (source ??= this.sourceFor(session)));
    }
    return view as unknown as PortalLedger;
  }

  private async write(session: ReadYourWrites, name: Method, args: unknown[]): Promise<unknown> {
    const result = await (this.primary.ledger[name] as AnyMethod)(...args);
    const { rows } = await this.primary.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    session.readAfterLsn = rows[0]?.lsn;
    return result;
  }

  private async read(name: Method, args: unknown[], source: 'replica' | 'primary'): Promise<unknown> {
    if (source === 'replica') {
      try {
        const result = await (this.replica.ledger[name] as AnyMethod)(...args);
        this.counts.replica += 1;
        return result;
      } catch (err) {
        if (!isConnectionProblem(err)) throw err;
        this.rest(err);
      }
    }
    this.counts.primary += 1;
    return (this.primary.ledger[name] as AnyMethod)(...args);
  }

  /** Where this request's reads go: once per request, so its pages are read from one server. */
  private async sourceFor(session: ReadYourWrites): Promise<'replica' | 'primary'> {
    if (Date.now() < this.restingUntil) return 'primary';
    const after = session.readAfterLsn;
    if (after === undefined) return 'replica';
    try {
      // NULL when the server is not in recovery (a read URL that names a primary): nothing to wait for.
      const { rows } = await this.replica.pool.query<{ caught_up: boolean | null }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up', [after]);
      if (rows[0]?.caught_up === false) {
        this.counts.behind += 1;
        return 'primary';
      }
      delete session.readAfterLsn;
      return 'replica';
    } catch (err) {
      if (!isConnectionProblem(err)) throw err;
      this.rest(err);
      return 'primary';
    }
  }

  private rest(err: unknown): void {
    this.counts.failed += 1;
    if (Date.now() >= this.restingUntil) this.log.warn({ err: (err as Error).message, restMs: this.restMs }, 'read replica failed: pages read from the primary meanwhile');
    this.restingUntil = Date.now() + this.restMs;
  }
}

/**
 * A failure of the server or the link rather than of the query: the connection refused or lost, the server
 * starting, shutting down or in recovery conflict (SQLSTATE classes 08, 57P and 40001 on a standby).
 */
function isConnectionProblem(err: unknown): boolean {
  const { code, message } = err as { code?: unknown; message?: unknown };
  // node-postgres' own: a connection refused, terminated or timed out.
  if (typeof code !== 'string') return /connect|terminat|timeout|socket/i.test(String(message));
  return code.startsWith('08') || code.startsWith('57P') || code === '40001' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
}
