// Starts real agents in the test process on loopback addresses (127.0.0.x) sharing one port, as nodes of a cluster.
import { parseAgentConfig } from '../../src/config/load.ts';
import type { AgentConfigInput } from '../../src/config/schema.ts';
import { startAgent, type Agent } from '../../src/agent/agent.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import { createLogger } from '../../src/log.ts';

export interface TestNode {
  readonly peer: Peer;
  readonly agent: Agent;
}

export function testConfig(overrides: AgentConfigInput = {}) {
  return parseAgentConfig(
    { logLevel: 'silent', dns: { enabled: false }, discovery: { peersFile: 'unused.yaml', newPeerDelay: 0 }, shutdownGracePeriod: 0, ...overrides },
    'test',
  );
}

/** Starts one agent per peer; the first picks a free port, the others share it. */
export async function startTestNodes(peers: readonly Peer[], overrides: AgentConfigInput = {}): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  let port = 0;
  try {
    for (const peer of peers) {
      const agent = await startAgent({
        config: testConfig({ listenAddress: peer.ip, ...overrides }),
        identity: { nodeName: peer.nodeName, podName: peer.name, ip: peer.ip, zone: peer.zone },
        log: createLogger('silent'),
        version: 'test',
        port,
        processMetrics: false,
      });
      port = agent.port;
      nodes.push({ peer, agent });
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.agent.close()));
    throw error;
  }
  return nodes;
}

export function testPeer(index: number, zone = 'zone-a'): Peer {
  return { name: `agent-${index}`, nodeName: `node-${index}`, ip: `127.0.0.${100 + index}`, zone };
}
