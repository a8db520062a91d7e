/**
 * Every family's write path, by the read backends it acts for. Adding a firmware's writes = one control.ts beside its
 * read backend, listed here.
 */
import { antminerControl } from '../backends/antminer/control';
import { braiinsControl } from '../backends/braiins/control';
import { vnishControl } from '../backends/vnish/control';
import type { ControlBackend } from './types';
import { avalonControl } from '../backends/avalon/control';
import { hiveonControl } from '../backends/common/cgminer-control';
import { epicControl } from '../backends/epic/control';
import { luxosControl } from '../backends/luxos/control';
import { whatsminerV2Control, whatsminerV3Control } from '../backends/whatsminer/control';

export const CONTROL_BACKENDS: readonly ControlBackend[] = [
  antminerControl,
  braiinsControl,
  vnishControl,
  whatsminerV3Control,
  whatsminerV2Control,
  luxosControl,
  epicControl,
  avalonControl,
  hiveonControl,
];

/** The write path for a read backend id (`backendId(dialect)`), or undefined when none is written yet. */
export function controlBackendFor(readBackendId: string): ControlBackend | undefined {
  return CONTROL_BACKENDS.find((b) => b.backends.includes(readBackendId));
}
