// Controller discovery against a real controller process: `kconmon controller` on loopback serving a peers file the
// test rewrites (its changes are pushed to the agents), and an in-process agent at a test peer's address that gets its
// peer list from it (slow probing: these tests are about the list, not the probes).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AgentConfigInput } from '../../src/config/schema.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import { startAgent, type Agent } from '../../src/agent/agent.ts';
import { connectAgentToController } from '../../src/discovery/controller-discovery.ts';
import { createLogger } from '../../src/log.ts';
import { freePort } from '../../harness/ports.ts';
import { startKconmon, type KconmonProcess } from './kconmon-cli.ts';
import { testConfig } from './agents.ts';

const RECONNECT = { min: 20, max: 200 };

export interface PeersFileController {
  /** `http://127.0.0.1:<port>`: every controller process started answers there. */
  readonly url: string;
  /** Rewrites the peers file the controller serves. */
  setPeers(peers: readonly Peer[]): Promise<void>;
  /** Starts a controller process (another one after a kill: same port, same file); resolves once it is ready. */
  start(): Promise<KconmonProcess>;
  /** Kills every controller process started and removes the files. */
  close(): Promise<void>;
}

/** A controller serving `peers` from a file; `settings` adds to its configuration (heartbeatInterval…). Not started yet. */
export async function createPeersFileController(peers: readonly Peer[], settings: Record<string, unknown> = {}): Promise<PeersFileController> {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-controller-'));
  const peersFile = join(dir, 'peers.yaml');
  const configFile = join(dir, 'controller.yaml');
  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const setPeers = (list: readonly Peer[]) => writeFile(peersFile, stringify(list));
  await setPeers(peers);
  await writeFile(configFile, stringify({ port, listenAddress: '127.0.0.1', logLevel: 'silent', ...settings, source: { peersFile: 'peers.yaml' } }));
  const processes: KconmonProcess[] = [];
  return {
    url,
    setPeers,
    async start() {
      const controller = await startKconmon('controller', configFile, `${url}/readyz`, { NODE_TEST_CONTEXT: undefined });
      processes.push(controller);
      return controller;
    },
    async close() {
      await Promise.all(processes.map((controller) => controller.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An in-process agent at `self`'s address configured for controller discovery from `url` (test config + `overrides`). */
export function startDiscoveringAgent(self: Peer, url: string, overrides: AgentConfigInput = {}): Promise<Agent> {
  return startAgent({
    config: testConfig({
      listenAddress: self.ip,
      discovery: { controller: { urls: [url], reconnectMin: RECONNECT.min, reconnectMax: RECONNECT.max }, newPeerDelay: 0 },
      udp: { interval: 60_000 },
      tcp: { interval: 60_000 },
      ...overrides,
    }),
    identity: { nodeName: self.nodeName, podName: self.name, ip: self.ip, zone: self.zone },
    log: createLogger('silent'),
    version: 'test',
    port: 0,
    processMetrics: false,
  });
}

/** Connects the agent to the controller at `url` as `self`; close() ends the stream. */
export function connectToController(
  agent: Agent,
  self: Peer,
  url: string,
  options: { readonly fixedZone: boolean; readonly silenceTimeoutMs?: number },
): { close(): Promise<void> } {
  return connectAgentToController(agent, {
    urls: [url],
    nodeName: self.nodeName,
    podName: self.name,
    reconnect: RECONNECT,
    log: createLogger('silent'),
    ...options,
  });
}
