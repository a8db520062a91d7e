/**
 * Settings every edge exporter shares (miner and climate): the edge's name, its state folder and the clock
 * tolerance. Flags first, then FLYMINING_* environment variables, then defaults; the two exporters of one edge
 * take the same name and state folder (each keeps its own file in it).
 */
import { hostname } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { formatIssues } from '@flymining/shared';
import { z } from 'zod';

export const edgeSettingsSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'use 1 to 64 letters, digits and _ . : - (--name or FLYMINING_EDGE_NAME)'),
  containers: z.array(z.string().min(1)),
  stateDir: z.string().min(1, 'must not be empty (--state-dir or FLYMINING_EDGE_STATE_DIR)'),
  clockToleranceS: z
    .number({ error: 'must be a number of seconds (--clock-tolerance or FLYMINING_EDGE_CLOCK_TOLERANCE_S)' })
    .min(1, 'at least 1 s (--clock-tolerance or FLYMINING_EDGE_CLOCK_TOLERANCE_S)')
    .max(86_400, 'at most 86400 s (--clock-tolerance or FLYMINING_EDGE_CLOCK_TOLERANCE_S)'),
});

export type EdgeSettings = z.infer<typeof edgeSettingsSchema>;

/** Adds --name, --containers, --state-dir and --clock-tolerance to an exporter's command line. */
export function addEdgeOptions(program: Command, env: NodeJS.ProcessEnv): Command {
  return program
    .option('--name <name>', 'edge name, e.g. edge-C02: tags every heartbeat and fault_state row', env.FLYMINING_EDGE_NAME ?? env.FLYMINING_EXPORTER_NAME ?? `edge-${hostname()}`)
    .option('--containers <list>', 'the containers this edge serves (comma separated); all of the inventory when empty', env.FLYMINING_CONTAINERS ?? '')
    .option('--state-dir <dir>', 'where the edge keeps its health state across restarts (default .flymining/edge/<name>)', env.FLYMINING_EDGE_STATE_DIR)
    .option('--clock-tolerance <s>', 'report the edge clock when it is off the center by more than this', env.FLYMINING_EDGE_CLOCK_TOLERANCE_S ?? '600');
}

/** The edge part of parsed options, ready for edgeSettingsSchema (or a schema extending it). */
export function edgeSettingsInput(o: Record<string, string | undefined>): Record<keyof EdgeSettings, unknown> {
  const name = o.name ?? '';
  return {
    name,
    containers: (o.containers ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    stateDir: o.stateDir ?? path.join('.flymining', 'edge', name),
    clockToleranceS: Number(o.clockTolerance),
  };
}

/** One message naming every bad setting. */
export function settingsError(what: string, error: z.ZodError): Error {
  return new Error(`invalid ${what} settings:\n  ${formatIssues(error).join('\n  ')}`);
}
