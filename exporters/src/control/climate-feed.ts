/**
 * The control side of container-climate.json: the climate exporter of the same edge writes each container's newest
 * readings there (atomically) after every evaluation; the agent reads them before each run of the policies. A file
 * that is missing, unreadable or invalid gives no readings at all, which freezes the temperature loop (never a guess).
 */
import type { Logger } from '@flymining/shared';
import { EdgeStateFile, containerClimatePath, containersClimateSchema, type ContainersClimate } from '../common/edge/state-file';
import type { ContainerClimate } from './types';

export class ClimateFeed {
  private readonly file: EdgeStateFile<ContainersClimate>;

  constructor(stateDir: string, log: Logger) {
    this.file = new EdgeStateFile(containerClimatePath(stateDir), containersClimateSchema, log);
  }

  get path(): string {
    return this.file.file;
  }

  /** Every container's newest readings, by container name (empty when the file is missing or refused). */
  read(): Map<string, ContainerClimate> {
    const saved = this.file.load();
    const out = new Map<string, ContainerClimate>();
    for (const [name, readings] of Object.entries(saved?.containers ?? {})) {
      // The key names the container; a body naming another one is not trusted for either.
      if (readings.container === name) out.set(name, readings);
    }
    return out;
  }
}
