// A local kconmon mesh for end-to-end tests: N real agents in this process on 127.0.0.x sharing one port, spread over
// Z zones, every agent given every other as a peer (as the controller pushes them), fast intervals, optionally a DNS
// resolver on loopback and "unreachable" peers — listed like nodes, but nothing listens on their address, so every
// test to them fails (refused TCP, lost UDP). Loopback only.
import type { AgentConfigInput } from '../../src/config/schema.ts';
import { startAgent, type Agent } from '../../src/agent/agent.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import { createLogger } from '../../src/log.ts';
import { startDemoResolver, type DemoResolver } from '../../src/demo/demo-resolver.ts';
import { testConfig } from './agents.ts';

export interface MeshOptions {
  /** Agents to start (default 3). */
  readonly agents?: number;
  /** Zones, assigned round-robin: zone-a, zone-b, … (default 2). */
  readonly zones?: number;
  /** Peers listed to every agent on an address where nothing listens: all tests to them fail (default 0). */
  readonly unreachablePeers?: number;
  /** Last octet of the first agent's address 127.0.0.x; the others and the unreachable peers follow (default 150). */
  readonly firstHost?: number;
  /** UDP, TCP and DNS interval in ms (default 1000); timeouts are derived from it. */
  readonly intervalMs?: number;
  /**
   * Start a DNS resolver on loopback and test it from every agent: `mesh` resolves (passes); with `failing`, also
   * `missing`, which the resolver answers NXDOMAIN (fails). Default: no DNS tests.
   */
  readonly dns?: boolean | { readonly failing?: boolean };
  /** Export Node.js process metrics (process_*, nodejs_*) from every agent (default true). */
  readonly processMetrics?: boolean;
  /** Agent config overrides, applied to every agent after the mesh's own settings. */
  readonly overrides?: AgentConfigInput;
  /** Version reported in kconmon_agent_info (default "test"). */
  readonly version?: string;
}

export interface MeshNode {
  readonly peer: Peer;
  /** The agent, until stopAgent() closes it. */
  readonly agent: Agent | undefined;
  /** `127.0.0.x:port`, the Prometheus scrape target. */
  readonly target: string;
  readonly metricsUrl: string;
}

export interface Mesh {
  readonly port: number;
  readonly nodes: readonly MeshNode[];
  /** The unreachable peers (no agent behind them). */
  readonly unreachable: readonly Peer[];
  /** Every peer the agents were given: the agents' own and the unreachable ones. */
  readonly peers: readonly Peer[];
  readonly resolver: DemoResolver | undefined;
  /** Host labels of the DNS targets (as in the `host` label), passing first. */
  readonly dnsHosts: readonly string[];
  /** Scrape targets of every agent, stopped ones included (their scrapes then fail: `up` 0). */
  targets(): string[];
  node(nodeName: string): MeshNode;
  /** One agent's /metrics text. */
  metrics(nodeName?: string): Promise<string>;
  /** Closes one agent at once (no grace period); its peers keep testing it and fail. */
  stopAgent(nodeName: string): Promise<void>;
  /** Gives every running agent a new peer list (e.g. to drop a node). */
  setPeers(peers: readonly Peer[]): void;
  close(): Promise<void>;
}

export const DNS_DOMAIN = 'kconmon.test';

export async function startMesh(options: MeshOptions = {}): Promise<Mesh> {
  const agents = options.agents ?? 3;
  const zones = options.zones ?? 2;
  const unreachableCount = options.unreachablePeers ?? 0;
  const firstHost = options.firstHost ?? 150;
  if (agents < 1 || zones < 1 || unreachableCount < 0) throw new Error('startMesh: need at least 1 agent and 1 zone');
  if (firstHost < 2 || firstHost + agents + unreachableCount - 1 > 254) throw new Error('startMesh: addresses must fit in 127.0.0.2–254');
  const peerAt = (index: number): Peer => ({
    name: `kconmon-agent-${index + 1}`,
    nodeName: `node-${index + 1}`,
    ip: `127.0.0.${firstHost + index}`,
    zone: `zone-${String.fromCharCode(97 + (index % zones))}`,
  });
  const own = Array.from({ length: agents }, (_, index) => peerAt(index));
  const unreachable = Array.from({ length: unreachableCount }, (_, index) => peerAt(agents + index));
  const peers = [...own, ...unreachable];

  const dns = options.dns === undefined || options.dns === false ? undefined : { failing: options.dns === true ? false : (options.dns.failing ?? false) };
  const resolver = dns ? await startDemoResolver({ address: '127.0.0.1', names: [{ name: `mesh.${DNS_DOMAIN}`, ip: own[0]!.ip }] }) : undefined;
  const dnsTargets = resolver
    ? [
        { host: `mesh.${DNS_DOMAIN}`, label: 'mesh', resolvers: [resolver.server] },
        ...(dns?.failing ? [{ host: `missing.${DNS_DOMAIN}`, label: 'missing', resolvers: [resolver.server] }] : []),
      ]
    : [];

  const intervalMs = options.intervalMs ?? 1000;
  const timeout = Math.max(1, Math.min(1000, Math.floor(intervalMs / 2)));
  const settings = mergeConfig(
    {
      udp: { interval: intervalMs, timeout: Math.min(250, timeout) },
      tcp: { interval: intervalMs, timeout },
      dns: resolver ? { enabled: true, interval: intervalMs, timeout, targets: dnsTargets } : { enabled: false },
    },
    options.overrides ?? {},
  );

  let started: { port: number; agents: Agent[] } | undefined;
  let lastError: unknown;
  // The shared port is chosen by the first agent; another process may hold it on a later address: retry (bounded).
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    const running: Agent[] = [];
    try {
      let port = 0;
      for (const peer of own) {
        const agent = await startAgent({
          config: testConfig({ listenAddress: peer.ip, ...settings }),
          identity: { nodeName: peer.nodeName, podName: peer.name, ip: peer.ip, zone: peer.zone },
          log: createLogger('silent'),
          version: options.version ?? 'test',
          port,
          processMetrics: options.processMetrics ?? true,
        });
        running.push(agent);
        port = agent.port;
      }
      started = { port, agents: running };
    } catch (error) {
      lastError = error;
      await Promise.all(running.map((agent) => agent.close()));
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  if (!started) {
    await resolver?.close();
    throw lastError;
  }
  const { port } = started;
  const nodes: { peer: Peer; agent: Agent | undefined; target: string; metricsUrl: string }[] = own.map((peer, index) => ({
    peer,
    agent: started.agents[index],
    target: `${peer.ip}:${port}`,
    metricsUrl: `http://${peer.ip}:${port}/metrics`,
  }));
  // Like the controller, list the agents only once every one is serving.
  for (const node of nodes) node.agent?.setPeers(peers);

  const node = (nodeName: string) => {
    const found = nodes.find((candidate) => candidate.peer.nodeName === nodeName);
    if (!found) throw new Error(`mesh: no agent on ${nodeName}`);
    return found;
  };

  return {
    port,
    nodes,
    unreachable,
    peers,
    resolver,
    dnsHosts: dnsTargets.map((target) => target.label),
    targets: () => nodes.map((entry) => entry.target),
    node,
    async metrics(nodeName = own[0]!.nodeName) {
      const response = await fetch(node(nodeName).metricsUrl, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`mesh: ${nodeName} /metrics: HTTP ${response.status}`);
      return response.text();
    },
    async stopAgent(nodeName) {
      const entry = node(nodeName);
      const agent = entry.agent;
      entry.agent = undefined;
      await agent?.close();
    },
    setPeers(next) {
      for (const entry of nodes) entry.agent?.setPeers(next);
    },
    async close() {
      await Promise.all(
        nodes.map(async (entry) => {
          const agent = entry.agent;
          entry.agent = undefined;
          await agent?.close();
        }),
      );
      await resolver?.close();
    },
  };
}

/** `overrides` over `base`, one level deep: `{ udp: { packets: 3 } }` keeps the mesh's UDP interval. */
function mergeConfig(base: AgentConfigInput, overrides: AgentConfigInput): AgentConfigInput {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    const isObject = (candidate: unknown) => typeof candidate === 'object' && candidate !== null && !Array.isArray(candidate);
    merged[key] = isObject(current) && isObject(value) ? { ...(current as object), ...(value as object) } : value;
  }
  return merged as AgentConfigInput;
}
