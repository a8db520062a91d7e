/**
 * The rota in PostgreSQL: staff with their contacts, the rotation order, settings and overrides. It starts from
 * a YAML file (provisioning/maintenance/rota.yaml: `flymining oncall import FILE`, or the first start of a service
 * given --rota) and is then edited by staff (CLI, staff page). Every change records who made it.
 */
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { parse } from 'yaml';
import { z } from 'zod';
import { formatIssues, parseDuration, YamlLocator } from '@flymining/shared';
import { inTransaction } from '../db';
import { actorSchema, TicketError } from '../domain';
import { rotaSettingsSchema, type Rota, type RotaOverride, type StaffMember } from './schedule';

const personSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  email: z.email('an email address').optional(),
  telegram: z.union([z.string().regex(/^-?\d{1,20}$/, 'a Telegram chat id (digits)'), z.number().int()]).transform(String).optional(),
  slack: z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'a Slack member id such as U012AB3CD').optional(),
  active: z.boolean().default(true),
});

/** rota.yaml: settings, then the people in rotation order. */
export const rotaFileSchema = rotaSettingsSchema.extend({
  members: z.array(personSchema).min(1, 'list at least one person').max(200),
});
export type RotaFile = z.output<typeof rotaFileSchema>;

export class RotaConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`rota file is not valid:\n  ${problems.join('\n  ')}`);
  }
}

/** Parses a rota file; errors name file:line and the field. */
export function parseRotaFile(text: string, source: string): RotaFile {
  const locator = new YamlLocator(text, source);
  let data: unknown;
  try {
    data = parse(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    throw new RotaConfigError([`${source}: ${(e as Error).message}`]);
  }
  const parsed = rotaFileSchema.safeParse(data);
  if (!parsed.success) throw new RotaConfigError(formatIssues(parsed.error, { locate: (p) => locator.where(p), limit: 20 }));
  const names = new Set<string>();
  const problems: string[] = [];
  parsed.data.members.forEach((m, i) => {
    if (names.has(m.name)) problems.push(`${locator.where(['members', i, 'name'])}: "${m.name}" is listed twice`);
    names.add(m.name);
  });
  if (problems.length) throw new RotaConfigError(problems);
  return parsed.data;
}

export function loadRotaFile(file: string): RotaFile {
  return parseRotaFile(readFileSync(file, 'utf8'), file);
}

export class RotaStore {
  constructor(private readonly pool: Pool) {}

  /** Is there a rota at all (settings recorded)? */
  async exists(): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM maintenance.rota_settings WHERE id = 1');
    return rows.length > 0;
  }

  /** Replaces settings and rotation with the file's; keeps overrides and staff not in it (marked inactive). */
  async importFile(rota: RotaFile, by: string): Promise<void> {
    const who = actorSchema.parse(by);
    await inTransaction(this.pool, async (tx) => {
      await tx.query(
        `INSERT INTO maintenance.rota_settings (id, time_zone, handover, shift, anchor, escalate_after_s, updated_by) VALUES (1, $1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET time_zone = $1, handover = $2, shift = $3, anchor = $4, escalate_after_s = $5, updated_at = now(), updated_by = $6`,
        [rota.time_zone, rota.handover, rota.shift, rota.anchor, Math.round(parseDuration(rota.escalate_after) / 1000), who],
      );
      await tx.query('UPDATE maintenance.staff SET active = false');
      await tx.query('DELETE FROM maintenance.rota_members');
      for (const [position, m] of rota.members.entries()) {
        await tx.query(
          `INSERT INTO maintenance.staff (name, email, telegram, slack, active) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (name) DO UPDATE SET email = $2, telegram = $3, slack = $4, active = $5`,
          [m.name, m.email ?? null, m.telegram ?? null, m.slack ?? null, m.active],
        );
        await tx.query('INSERT INTO maintenance.rota_members (position, name) VALUES ($1, $2)', [position, m.name]);
      }
    });
  }

  /** The rota as schedule.ts reads it; undefined when none was ever set up. */
  async load(): Promise<Rota | undefined> {
    const settings = await this.pool.query<{ time_zone: string; handover: string; shift: 'daily' | 'weekly'; anchor: string; escalate_after_s: number }>(
      `SELECT time_zone, handover, shift, to_char(anchor, 'YYYY-MM-DD') AS anchor, escalate_after_s FROM maintenance.rota_settings WHERE id = 1`,
    );
    const s = settings.rows[0];
    if (!s) return undefined;
    const [members, overrides] = await Promise.all([
      this.pool.query<{ name: string; email: string | null; telegram: string | null; slack: string | null; active: boolean }>(
        'SELECT s.name, s.email, s.telegram, s.slack, s.active FROM maintenance.rota_members r JOIN maintenance.staff s ON s.name = r.name ORDER BY r.position',
      ),
      this.pool.query<{ id: string; name: string; starts_at: Date; ends_at: Date; reason: string }>(
        `SELECT id, name, starts_at, ends_at, reason FROM maintenance.rota_overrides WHERE ends_at > now() - interval '30 days' ORDER BY starts_at DESC`,
      ),
    ]);
    return {
      timeZone: s.time_zone,
      handover: s.handover,
      shift: s.shift,
      anchor: s.anchor,
      escalateAfterMs: s.escalate_after_s * 1000,
      members: members.rows.map(personOf),
      overrides: overrides.rows.map((o) => ({ id: Number(o.id), name: o.name, startsAt: o.starts_at, endsAt: o.ends_at, reason: o.reason })),
    };
  }

  /** Puts `name` on call from .. to (a swap or cover). The person must be on the staff list. */
  async addOverride(override: Omit<RotaOverride, 'id'>, by: string): Promise<number> {
    const who = actorSchema.parse(by);
    if (!(override.endsAt > override.startsAt)) throw new TicketError('an override must end after it starts', 400);
    const staff = await this.pool.query('SELECT 1 FROM maintenance.staff WHERE name = $1', [override.name]);
    if (staff.rows.length === 0) throw new TicketError(`"${override.name}" is not on the staff list (add them to the rota file first)`, 404);
    const { rows } = await this.pool.query<{ id: string }>(
      'INSERT INTO maintenance.rota_overrides (name, starts_at, ends_at, reason, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [override.name, override.startsAt, override.endsAt, override.reason.slice(0, 500), who],
    );
    return Number(rows[0]!.id);
  }

  async removeOverride(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM maintenance.rota_overrides WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  /** Moves the rotation: new order of names (each must be on the staff list). */
  async setMembers(names: readonly string[], by: string): Promise<void> {
    const who = actorSchema.parse(by);
    if (names.length === 0) throw new TicketError('the rotation needs at least one person', 400);
    if (new Set(names).size !== names.length) throw new TicketError('a person can be in the rotation once', 400);
    await inTransaction(this.pool, async (tx) => {
      const known = await tx.query<{ name: string }>('SELECT name FROM maintenance.staff WHERE name = ANY($1)', [names]);
      const missing = names.filter((n) => !known.rows.some((r) => r.name === n));
      if (missing.length) throw new TicketError(`not on the staff list: ${missing.join(', ')}`, 404);
      await tx.query('DELETE FROM maintenance.rota_members');
      for (const [position, name] of names.entries()) await tx.query('INSERT INTO maintenance.rota_members (position, name) VALUES ($1, $2)', [position, name]);
      await tx.query('UPDATE maintenance.rota_settings SET updated_at = now(), updated_by = $1 WHERE id = 1', [who]);
    });
  }
}

function personOf(r: { name: string; email: string | null; telegram: string | null; slack: string | null; active: boolean }): StaffMember {
  return { name: r.name, active: r.active, ...(r.email ? { email: r.email } : {}), ...(r.telegram ? { telegram: r.telegram } : {}), ...(r.slack ? { slack: r.slack } : {}) };
}
