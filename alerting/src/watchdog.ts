/**
 * Alerting watching itself: the dead man's switch Prometheus users know as the Watchdog alert. Every interval the
 * lease holder POSTs an always-firing notice to an outside heartbeat service (healthchecks.io, a pager's
 * heartbeat endpoint); when the POSTs stop (host down, Redis lost, pipeline stuck) that service pages on-call.
 * Only a leader whose evaluations are current posts, so a wedged pipeline stops the heartbeat too.
 */
import { hostname } from 'node:os';
import type { Logger } from '@flymining/shared';
import { WATCHDOG, type WatchdogConfig } from './config';
import type { AlertingMetrics } from './metrics';

/** What the watchdog needs of the service. */
export interface WatchedService {
  readonly isLeader: boolean;
  readonly lastEvaluationAt: number;
  readonly config: { evaluation_interval: number; listen: string };
}

export interface WatchdogNotice {
  alertname: typeof WATCHDOG;
  status: 'firing';
  instance: string;
  /** Unix ms of the last completed evaluation. */
  lastEvaluationMs: number;
  sentAtMs: number;
  summary: string;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private failing = false;
  readonly instance: string;

  constructor(
    private readonly config: WatchdogConfig,
    private readonly service: WatchedService,
    private readonly metrics: AlertingMetrics,
    private readonly logger: Logger,
  ) {
    this.instance = `${hostname()}:${service.config.listen}`;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.sending) this.sending = this.beat().then(() => (this.sending = undefined));
    }, this.config.interval);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sending;
  }

  /** One POST, if this instance leads and evaluated within the last three intervals. */
  async beat(now = Date.now()): Promise<boolean> {
    if (!this.config.url || !this.service.isLeader) return false;
    if (now - this.service.lastEvaluationAt > 3 * this.service.config.evaluation_interval) return false;
    const notice: WatchdogNotice = {
      alertname: WATCHDOG,
      status: 'firing',
      instance: this.instance,
      lastEvaluationMs: this.service.lastEvaluationAt,
      sentAtMs: now,
      summary: 'FlyMining alerting is evaluating and can send notices; page when this heartbeat stops',
    };
    try {
      const res = await fetch(this.config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(notice),
        signal: AbortSignal.timeout(this.config.timeout),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.metrics.watchdogPosts.inc({ outcome: 'sent' });
      if (this.failing) this.logger.warn('watchdog heartbeat delivered again');
      this.failing = false;
      return true;
    } catch (e) {
      this.metrics.watchdogPosts.inc({ outcome: 'failed' });
      // The URL may carry a token: only its host is logged.
      if (!this.failing) this.logger.error({ host: new URL(this.config.url).host, err: (e as Error).message }, 'watchdog heartbeat failed');
      this.failing = true;
      return false;
    }
  }
}
