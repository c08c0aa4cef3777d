// Real processes on loopback for the verdict tests: a controller (peers-file source, a shared token, verdict windows)
// and one agent per peer that gets its peers from it and reports every probe outcome to it. Probes run once per window.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../harness/ports.ts';
import { waitUntil } from '../../harness/wait.ts';
import type { AgentConfigInput } from '../../src/config/schema.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import { createAgentProcessGroup, type AgentProcess } from './agent-processes.ts';
import { spawnKconmon, type KconmonProcess } from './kconmon-cli.ts';

export interface ReportingCluster {
  readonly controller: KconmonProcess;
  readonly controllerUrl: string;
  /** In the order of the peers. */
  readonly agents: readonly AgentProcess[];
  /** The last output of the controller and of every agent, for a failure message. */
  diagnostics(): string;
  /** Resumes any process a test stopped (SIGSTOP), then stops them all. */
  stop(): Promise<void>;
}

export async function startReportingCluster(dir: string, peers: readonly Peer[], windowMs: number, token: string): Promise<ReportingCluster> {
  const port = await freePort();
  const controllerUrl = `http://127.0.0.1:${port}`;
  const peersFile = join(dir, 'peers.json');
  await writeFile(peersFile, JSON.stringify(peers));
  // With the shared token: the reports authenticate, and the agents check the controller's proof, as on the watch.
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${token}\n`);
  const config = {
    port,
    listenAddress: '127.0.0.1',
    logLevel: 'info',
    heartbeatInterval: 200,
    auth: { tokenFile },
    source: { peersFile },
    verdicts: { window: windowMs, grace: 300 },
  };
  const configFile = join(dir, 'controller.json');
  await writeFile(configFile, JSON.stringify(config));
  const controller = spawnKconmon('controller', configFile);
  const agents: AgentProcess[] = [];
  const group = await createAgentProcessGroup(peers.map((peer) => peer.ip));
  const diagnostics = () => `controller:\n${controller.output().slice(-3000)}\nagents:\n${agents.map((a) => a.output().slice(-1000)).join('\n')}`;
  const stop = async () => {
    for (const agent of agents) agent.signal('SIGCONT');
    controller.child.kill('SIGCONT');
    await group.close();
    await controller.stop();
  };
  try {
    await waitUntil('the controller to be ready', 20_000, async () => (await fetch(`${controllerUrl}/readyz`).catch(() => undefined))?.ok === true);
    const overrides: AgentConfigInput = {
      logLevel: 'info',
      discovery: { controller: { urls: [controllerUrl], reconnectMin: 50, reconnectMax: 500, tokenFile }, newPeerDelay: 0 },
      jitter: { min: 0, max: 50 },
      udp: { interval: windowMs, timeout: 200, packets: 3, packetSpacing: 20 },
      tcp: { interval: windowMs, timeout: 300 },
    };
    for (const peer of peers) agents.push(await group.start(peer, [], overrides));
  } catch (error) {
    await stop();
    throw error;
  }
  return { controller, controllerUrl, agents, diagnostics, stop };
}
