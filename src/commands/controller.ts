// `kconmon controller`: load config, start discovery and the agents' push endpoint; on SIGTERM drop readiness and
// close agent streams (agents fail over to another replica), then exit.
import { dirname } from 'node:path';
import { loadControllerConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { startController } from '../controller/controller.ts';
import { exitOnSignals } from './shutdown-signals.ts';

export async function runControllerCommand(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const config = await loadControllerConfig(configPath);
  const log = createLogger(config.logLevel, { pod: env.POD_NAME ?? 'controller' });
  const baseDir = configPath ? dirname(configPath) : process.cwd();
  const controller = await startController({ config, log, env, baseDir, configSource: configPath ?? 'configuration' });
  exitOnSignals(log, () => controller.stop());
}
