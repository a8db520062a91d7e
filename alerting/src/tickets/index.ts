/**
 * Alerting ↔ maintenance: with a `maintenance:` section the leader keeps repair tickets in step with the alerts
 * (syncTickets each cycle), acknowledge links acknowledge tickets, `oncall:` receivers page whoever the rota has on
 * call, and unacknowledged pages escalate. PostgreSQL being down never stops alerting: each failure is counted
 * (flymining_alerting_ticket_sync_errors_total), logged once per outage, and the work is tried again next cycle;
 * notices then go to the receivers' configured addresses.
 */
import { migrateMaintenance, RotaStore, syncTickets, TicketStore } from '@flymining/maintenance';
import { redactUrl, type Logger, type MinerSpec } from '@flymining/shared';
import type { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { MaintenanceConfig, ReceiverConfig } from '../config';
import type { AlertingMetrics } from '../metrics';
import type { Dispatcher } from '../notify/dispatch';
import type { OnCallContact } from '../notify/notice';
import type { Alert } from '../types';
import { activeAlertsOf } from './active';
import { Escalator, type EscalationInput } from './escalation';
import { OnCallRota } from './rota';

export type TicketOperation = 'migrate' | 'sync' | 'acknowledge' | 'escalate' | 'rota';

export interface CycleInput extends EscalationInput {
  alerts: Iterable<Alert>;
}

export interface TicketLinkOptions {
  config: MaintenanceConfig;
  receivers: readonly ReceiverConfig[];
  keyPrefix: string;
  redis: Redis;
  dispatcher: Dispatcher;
  metrics: AlertingMetrics;
  logger: Logger;
  /** Inventory miners by id: the machine's serial/MAC and nominal hashrate. */
  miners?: ReadonlyMap<string, MinerSpec>;
}

export class TicketLink {
  readonly tickets: TicketStore;
  private readonly pool: Pool;
  private readonly rota: OnCallRota;
  private readonly escalator: Escalator;
  private readonly oncallReceivers: Set<string>;
  private migrated = false;
  /** While PostgreSQL fails: logged once when it starts failing and once when it answers again. */
  private failing = false;

  constructor(private readonly o: TicketLinkOptions) {
    // Short timeouts: a database that hangs must not hold a cycle's ticket work (or a notice's rota lookup) long.
    this.pool = new Pool({ connectionString: o.config.pg_url, max: 4, connectionTimeoutMillis: 5000, query_timeout: 15_000 });
    this.pool.on('error', (e: Error) => this.failed('sync', e)); // an idle client's connection dropped
    this.tickets = new TicketStore(this.pool);
    this.rota = new OnCallRota(new RotaStore(this.pool));
    this.oncallReceivers = new Set(o.receivers.filter((r) => r.oncall).map((r) => r.name));
    this.escalator = new Escalator(o.redis, o.keyPrefix, new Map(o.receivers.map((r) => [r.name, r])), o.dispatcher, (receiver) => o.metrics.escalations.inc({ receiver }));
  }

  /** The leader's ticket work after each cycle: migrate once, sync the tickets, then escalate. Never throws. */
  async afterCycle(input: CycleInput): Promise<void> {
    const ready = this.migrated || (await this.guard('migrate', async () => {
      const applied = await migrateMaintenance(this.pool);
      if (applied.length > 0) this.o.logger.info({ applied }, 'maintenance schema migrated');
      this.migrated = true;
      return true;
    }));
    if (!ready) return;
    const alerts = activeAlertsOf(input.alerts, input, this.o.miners);
    const outcome = await this.guard('sync', () => syncTickets(this.pool, alerts, input.now, { verifyAfterMs: this.o.config.verify_after, repeatWindowMs: this.o.config.repeat_window }));
    if (outcome && Object.values(outcome).some((ids) => ids.length > 0)) this.o.logger.info(outcome, 'tickets changed');
    if (this.escalator.enabled)
      await this.guard('escalate', () =>
        this.escalator.run(input, {
          unacknowledgedGroups: (keys) => this.tickets.unacknowledgedGroups(keys),
          rota: (now) => this.rota.load(now),
          recordEscalation: async (groupKey, to, at) => void (await this.tickets.recordEscalation(groupKey, to, at)),
        }),
      );
  }

  /** What an acknowledge link or the API does beyond Redis: the group's tickets acknowledged, its escalation ended. */
  async acknowledgeGroup(groupKey: string, by: string): Promise<number[] | undefined> {
    await this.escalator.forget([groupKey]);
    return this.guard('acknowledge', () => this.tickets.acknowledgeGroup(groupKey, by));
  }

  /** Whom a notice of `receiver` is for: undefined without `oncall:`, without a rota, or while the database fails. */
  async onCall(receiver: string, level: number, now: number): Promise<OnCallContact | undefined> {
    if (!this.oncallReceivers.has(receiver)) return undefined;
    return this.guard('rota', () => this.rota.contact(level, now));
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async guard<T>(operation: TicketOperation, work: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await work();
      if (this.failing) {
        this.failing = false;
        this.o.logger.warn({ pg: redactUrl(this.o.config.pg_url) }, 'PostgreSQL answers again: tickets and on-call routing resume');
      }
      return result;
    } catch (e) {
      this.failed(operation, e as Error);
      return undefined;
    }
  }

  private failed(operation: TicketOperation, e: Error): void {
    this.o.metrics.ticketSyncErrors.inc({ operation });
    if (this.failing) return;
    this.failing = true;
    this.o.logger.error(
      { pg: redactUrl(this.o.config.pg_url), operation, err: e.message },
      'PostgreSQL failed: tickets are not synced and pages go to the configured addresses until it answers (retried each cycle)',
    );
  }
}
