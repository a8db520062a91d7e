/** The on-call rota as alerting reads it: loaded from the maintenance database, kept briefly (every notice asks). */
import { onCallAt, type Rota, type RotaStore } from '@flymining/maintenance';
import type { OnCallContact } from '../notify/notice';

export const ROTA_CACHE_MS = 30_000;

export class OnCallRota {
  private cached: { at: number; rota: Rota | undefined } | undefined;

  constructor(
    private readonly store: RotaStore,
    private readonly cacheMs = ROTA_CACHE_MS,
  ) {}

  /** The rota (undefined when none was set up); read again after cacheMs. Throws when the database does. */
  async load(now = Date.now()): Promise<Rota | undefined> {
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.rota;
    const rota = await this.store.load();
    this.cached = { at: now, rota };
    return rota;
  }

  /** Who answers at escalation `level` (0: on call now); undefined when nobody is left. */
  async contact(level: number, now = Date.now()): Promise<OnCallContact | undefined> {
    const rota = await this.load(now);
    return rota ? contactAt(rota, level, now) : undefined;
  }
}

export function contactAt(rota: Rota, level: number, now: number): OnCallContact | undefined {
  const shift = onCallAt(rota, new Date(now), level);
  if (!shift) return undefined;
  const { name, email, telegram, slack } = shift.person;
  return { name, level, ...(email ? { email } : {}), ...(telegram ? { telegram } : {}), ...(slack ? { slack } : {}) };
}
