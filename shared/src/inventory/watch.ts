import { watchFile, unwatchFile } from 'node:fs';
import { InventoryError, loadInventory } from './load';
import type { Inventory } from './types';

export type ReloadResult = { ok: true; inventory: Inventory } | { ok: false; error: InventoryError; inventory: Inventory };

/**
 * Holds the inventory a service runs with. A bad file is refused at start (the constructor throws);
 * a bad edit later is reported and the last good inventory stays in use, so a typo never stops scraping.
 */
export class InventoryHolder {
  private inventory: Inventory;
  private watching = false;

  constructor(
    readonly path: string,
    private readonly onReload: (result: ReloadResult) => void = () => {},
  ) {
    this.inventory = loadInventory(path);
  }

  get current(): Inventory {
    return this.inventory;
  }

  reload(): ReloadResult {
    let result: ReloadResult;
    try {
      this.inventory = loadInventory(this.path);
      result = { ok: true, inventory: this.inventory };
    } catch (err) {
      const error = err instanceof InventoryError ? err : new InventoryError(this.path, [String(err)]);
      result = { ok: false, error, inventory: this.inventory };
    }
    this.onReload(result);
    return result;
  }

  /** Polls the file's mtime (works on bind mounts and editors that replace the file, unlike fs.watch). */
  watch(intervalMs = 2000): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.path, { interval: intervalMs, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) this.reload();
    });
  }

  close(): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
  }
}
