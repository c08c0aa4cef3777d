// `kconmon agent`: load config and identity, check everything an operator can get wrong (config, environment, peers
// file, POD_IP on this host) before binding anything, start the agent, feed it peers, shut down gracefully on SIGTERM.
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../validation/format-issues.ts';
import { openTokenFile } from '../util/token-file.ts';
import { readPemFile } from '../util/pem-file.ts';
import { loadAgentConfig } from '../config/load.ts';
import { identityFromEnv } from '../config/identity.ts';
import { createLogger, type Logger } from '../log.ts';
import type { AgentConfig } from '../config/schema.ts';
import { startAgent } from '../agent/agent.ts';
import { readPeersFile, watchPeersFile } from '../discovery/peers-file.ts';
import { assertBindable } from '../util/bindable.ts';
import { connectAgentToController } from '../discovery/controller-discovery.ts';
import { startControllerReports, type ControllerReports } from '../discovery/controller-reports.ts';
import { readVersion } from '../version.ts';
import { exitOnSignals } from './shutdown-signals.ts';

export async function runAgentCommand(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const config = await loadAgentConfig(configPath);
  const identity = identityFromEnv(env);
  const peersPath = config.discovery.peersFile === undefined ? undefined : resolve(configPath ? dirname(configPath) : '.', config.discovery.peersFile);
  // Start-up checks, before anything is bound: each failure is one message and exit status 2.
  if (peersPath !== undefined) await readPeersFile(peersPath);
  // Probes are sent from POD_IP: an address that is not on this host would fail only at the first round.
  if (identity.ip !== undefined) await assertBindable(identity.ip, `send probes from POD_IP ${identity.ip}`);
  const log = createLogger(config.logLevel, { node: identity.nodeName });
  const controllerSecrets = await readControllerSecrets(config.discovery.controller, configPath, log);
  // The reports start with discovery, after the agent: until then (and without a controller) outcomes go nowhere.
  let reports: ControllerReports | undefined;
  const agent = await startAgent({ config, identity, log, version: readVersion(), onOutcome: (outcome) => reports?.record(outcome) });

  const closers: Array<() => void> = [];
  if (peersPath !== undefined) {
    try {
      const watcher = await watchPeersFile(peersPath, (peers) => agent.setPeers(peers), log.child({ component: 'peers-file' }));
      closers.push(() => watcher.close());
    } catch (error) {
      await agent.close();
      throw error;
    }
  }

  const controller = config.discovery.controller;
  if (controller !== undefined) {
    const client = connectAgentToController(agent, {
      ...controllerSecrets,
      urls: controller.urls,
      nodeName: identity.nodeName,
      podName: identity.podName,
      reconnect: { min: controller.reconnectMin, max: controller.reconnectMax },
      fixedZone: Boolean(env.ZONE?.trim()),
      log,
    });
    closers.push(() => void client.close());
    reports = startControllerReports({
      ...controllerSecrets,
      urls: controller.reportUrls ?? controller.urls,
      nodeName: identity.nodeName,
      podName: identity.podName,
      reconnect: { min: controller.reconnectMin, max: controller.reconnectMax },
      // Two verdict windows (a window is the probe interval): older outcomes cannot help a verdict.
      staleAfterMs: 2 * Math.max(config.udp.interval, config.tcp.interval),
      log,
      onDrop: (url, reason, count) => agent.countReportsDropped(url, reason, count),
    });
    const openReports = reports;
    closers.push(() => void openReports.close());
  }

  exitOnSignals(log, async () => {
    for (const close of closers) close();
    await agent.shutdown();
  });
}

/** The controller token reader and pinned CA, read before anything starts: a missing file is a configuration error. */
async function readControllerSecrets(
  controller: AgentConfig['discovery']['controller'],
  configPath: string | undefined,
  log: Logger,
): Promise<{ token?: () => Promise<string>; ca?: Buffer }> {
  if (controller === undefined) return {};
  const relative = (file: string) => (configPath ? resolve(dirname(configPath), file) : resolve(file));
  const secrets: { token?: () => Promise<string>; ca?: Buffer } = {};
  try {
    if (controller.tokenFile !== undefined) {
      const tokenFile = await openTokenFile(relative(controller.tokenFile), { log: log.child({ component: 'controller-token' }) }).catch((error: Error) => {
        throw new Error(`discovery.controller.tokenFile: ${error.message}`);
      });
      secrets.token = () => tokenFile.current();
    }
    if (controller.caFile !== undefined) secrets.ca = await readPemFile(relative(controller.caFile), 'discovery.controller.caFile', 'certificate');
  } catch (error) {
    throw new ConfigError(configPath ?? 'configuration', [(error as Error).message]);
  }
  return secrets;
}
