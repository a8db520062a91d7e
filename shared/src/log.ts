import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stderr (stdout stays clean for CLI output such as `flymining scrape --json`).
 * FLYMINING_LOG_LEVEL sets the level (default info; tests default to warn).
 */
export function createLogger(component: string, level?: string): Logger {
  const defaultLevel = process.env.JEST_WORKER_ID ? 'warn' : 'info';
  return pino(
    { name: component, level: level ?? process.env.FLYMINING_LOG_LEVEL ?? defaultLevel, base: { component } },
    pino.destination({ fd: 2, sync: false }),
  );
}
