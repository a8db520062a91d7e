/**
 * Which container each target of a staff request belongs to, by the center's inventory (FLYMINING_INVENTORY): one
 * request per container, since each container's edge fetches its own. Words are resolved exactly as the edge and
 * the CLI resolve them (resolveTargets), and sent on as typed, so the edge acts on what stands in that slot by its
 * own copy of the inventory. Hosts the inventory does not list are refused: the center acts on listed miners only.
 */
import type { Inventory } from '@flymining/shared';
import { resolveTargets, TargetError } from '@flymining/exporters/src/miner/control/targets';

export interface ContainerPart {
  container: string;
  /** The words for this container, in the order given. */
  targets: string[];
  /** Miners these words name in the center's inventory. */
  miners: number;
}

/** Each container's words, or the problems (one per bad word, naming it). */
export function splitByContainer(inventory: Inventory, words: readonly string[], allIn: readonly string[]): { parts: ContainerPart[] } | { problems: string[] } {
  const problems: string[] = [];
  const parts = new Map<string, { targets: string[]; miners: Set<string> }>();
  const add = (container: string, word: string, minerIds: readonly string[]): void => {
    let part = parts.get(container);
    if (!part) {
      part = { targets: [], miners: new Set() };
      parts.set(container, part);
    }
    if (!part.targets.includes(word)) part.targets.push(word);
    for (const id of minerIds) part.miners.add(id);
  };
  const resolve = (label: string, word: string, options: { allIn?: string[] }): void => {
    try {
      const found = resolveTargets(options.allIn ? [] : [word], { inventory, ...options });
      const unlisted = found.filter((t) => !inventory.miners.has(t.id));
      if (unlisted.length > 0) {
        problems.push(`${label}: "${word}" is not a miner of ${inventory.source} (the center acts on listed miners only: give its id or slot path)`);
        return;
      }
      const byContainer = new Map<string, string[]>();
      for (const t of found) byContainer.set(t.container, [...(byContainer.get(t.container) ?? []), t.id]);
      if (byContainer.size > 1) problems.push(`${label}: "${word}" names miners of several containers (${[...byContainer.keys()].join(', ')}): give them one by one`);
      else for (const [container, ids] of byContainer) add(container, word, ids);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      problems.push(`${label}: ${err.message.replace(/needs --inventory[^)]*\)/, 'needs an inventory')}`);
    }
  };
  words.forEach((word, i) => resolve(`targets[${i}]`, word, {}));
  allIn.forEach((name, i) => resolve(`allIn[${i}]`, name, { allIn: [name] }));
  if (problems.length > 0) return { problems };
  if (parts.size === 0) return { problems: ['targets: name at least one miner id or slot path, or a container in allIn'] };
  return { parts: [...parts].map(([container, p]) => ({ container, targets: p.targets, miners: p.miners.size })) };
}
