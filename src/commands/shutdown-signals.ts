// SIGTERM/SIGINT handling shared by the long-running commands: the first signal runs the graceful shutdown and exits
// 0 (1 if it fails); a second signal exits at once.
import type { Logger } from '../log.ts';

export function exitOnSignals(log: Logger, shutdown: () => Promise<void>): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down');
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
