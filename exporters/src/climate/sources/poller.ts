/** Runs one read per sensor every interval, never two at once for the same sensor; shared by the pull sources. */
export class Poller {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly busy = new Set<string>();

  every(key: string, intervalMs: number, read: () => Promise<void>): void {
    const tick = (): void => {
      if (this.busy.has(key)) return; // a slow device skips a turn instead of piling up requests
      this.busy.add(key);
      void read().finally(() => this.busy.delete(key));
    };
    tick();
    this.timers.push(setInterval(tick, intervalMs));
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }
}
