/**
 * The life of a long-running process (exporters, alerting, portal, TV wall): start it, stop it once on
 * SIGINT/SIGTERM and exit 0 (1 if stopping failed), or exit 1 with a one-line reason naming the service when it
 * cannot start.
 */
export type StopService = () => Promise<void>;

export function runService(name: string, start: () => Promise<StopService>): void {
  start().then(
    (stop) => {
      let stopping = false;
      const shutdown = (): void => {
        if (stopping) return;
        stopping = true;
        stop().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`${name}: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
