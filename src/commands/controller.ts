// `kconmon controller`: load config, start discovery and the agents' push endpoint; on SIGTERM drop readiness, keep
// serving the agents for shutdownGracePeriod (until the Service no longer routes them here), then close their streams
// (agents fail over to another replica) and exit.
import { dirname } from 'node:path';
import { loadControllerConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { startController } from '../controller/controller.ts';
import { sleep } from '../util/sleep.ts';
import { exitOnSignals } from './shutdown-signals.ts';

export async function runControllerCommand(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const config = await loadControllerConfig(configPath);
  const log = createLogger(config.logLevel, { pod: env.POD_NAME ?? 'controller' });
  const baseDir = configPath ? dirname(configPath) : process.cwd();
  const controller = await startController({ config, log, env, baseDir, configSource: configPath ?? 'configuration' });
  exitOnSignals(log, async () => {
    controller.drain();
    if (config.shutdownGracePeriod > 0) {
      log.info({ gracePeriodMs: config.shutdownGracePeriod }, 'not ready; still serving agent streams during the grace period');
      await sleep(config.shutdownGracePeriod);
    }
    await controller.stop();
  });
}
