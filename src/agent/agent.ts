// The agent: serves the UDP echo and HTTP endpoints on one port, keeps its peer set (one agent per node, never itself,
// only the selected ones past `probing.maxPeers`), and runs every kind of its probe table against its targets; the
// kinds keep their series in step with the targets.
import { Registry } from 'prom-client';
import type { AgentConfig } from '../config/schema.ts';
import type { AgentIdentity } from '../config/identity.ts';
import type { Peer } from '../discovery/peer.ts';
import type { Logger } from '../log.ts';
import { createAgentMetrics } from '../metrics/agent-metrics.ts';
import { createSourceLabels } from '../metrics/kind-metrics.ts';
import { createEventLoopLag } from '../metrics/event-loop-lag.ts';
import { createStallDetector } from '../probes/stall-detector.ts';
import { createPeerSet } from './peer-set.ts';
import { createPeerSelector, type PeerSelection } from './peer-selector.ts';
import type { RecordedOutcome } from '../probes/probe-kind.ts';
import type { OpenProbeKind } from './probe-kinds.ts';
import { PROBE_TABLE } from './probe-table.ts';
import { startUdpEcho, type UdpEcho } from './udp-echo.ts';
import { startAgentHttpServer, type AgentHttpServer } from './http-server.ts';
import { createResultHistory, type ResultHistory } from './result-history.ts';
import { sleep } from '../util/sleep.ts';
import { createEchoAllowlist } from './echo-allowlist.ts';

/** How long the echo keeps answering an agent after it left the peer set. */
const ECHO_GRACE_MS = 60_000;
/** A burst of list changes past the budget costs at most one peer selection per this interval. */
const SELECTION_INTERVAL_MS = 1000;

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly identity: AgentIdentity;
  readonly log: Logger;
  readonly version: string;
  /** Port override (0 = any free port, used by tests); defaults to `config.port`. */
  readonly port?: number;
  readonly registry?: Registry;
  /** Export Node.js process metrics (off when several agents share one process, as in tests). */
  readonly processMetrics?: boolean;
  /** Receives every recorded probe result (reported to the controllers); must not throw or block. */
  readonly onOutcome?: (outcome: RecordedOutcome) => void;
}

export interface Agent {
  readonly port: number;
  readonly registry: Registry;
  readonly history: ResultHistory;
  /**
   * Replaces the peer set (the agent itself is filtered out). `otherAgents` are addresses of agents that are not
   * probed (not ready yet) but whose probes the echo must answer.
   */
  setPeers(peers: readonly Peer[], otherAgents?: readonly string[]): void;
  peers(): Peer[];
  /** The zone of the agent's own node (from the controller); a change relabels every series. */
  setZone(zone: string): void;
  zone(): string;
  /** Controller discovery reports whether it holds a stream to a controller (exported for the alerts). */
  setControllerConnected(connected: boolean): void;
  /** Counts outcomes dropped before reaching a controller replica (kconmon_agent_reports_dropped_total). */
  countReportsDropped(controller: string, reason: 'queue_full' | 'stale', count: number): void;
  /** Stops probing, keeps answering peers for `shutdownGracePeriod`, then closes everything. */
  shutdown(): Promise<void>;
  /** Closes everything at once. */
  close(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { config } = options;
  let identity = options.identity;
  const log = options.log.child({ component: 'agent' });
  const registry = options.registry ?? new Registry();
  const history = createResultHistory();
  const labels = createSourceLabels({ nodeName: identity.nodeName, zone: identity.zone });
  const metrics = createAgentMetrics({
    registry,
    prefix: config.metricsPrefix,
    labels,
    version: options.version,
    processMetrics: options.processMetrics ?? true,
    controllerDiscovery: config.discovery.controller !== undefined,
  });

  const echoAllowlist = createEchoAllowlist(ECHO_GRACE_MS);
  let stopping = false;
  /** Set by the first peer list (even an empty one): from then on the agent keeps its last good list. */
  let hasPeerList = false;
  const isSelf = (peer: Peer) =>
    peer.nodeName === identity.nodeName || peer.name === identity.podName || (identity.ip !== undefined && peer.ip === identity.ip);
  const peerSet = createPeerSet({ isSelf, log });

  const http: AgentHttpServer = await startAgentHttpServer({
    address: config.listenAddress,
    port: options.port ?? config.port,
    registry,
    metricsPrefix: config.metricsPrefix,
    healthy: () => !stopping,
    notReadyReason: () => (stopping ? 'stopping' : hasPeerList ? undefined : 'no peer list yet (waiting for the controller or the peers file)'),
    results: () => {
      const { nodeName: node, zone, podName: pod } = identity;
      return { node, zone, pod, ip: identity.ip ?? null, peers: peerSet.size(), ...history.snapshot() };
    },
  });
  let echo: UdpEcho | undefined;
  // One per agent: probes judge their timeouts and RTTs against stalls of this process's event loop.
  const loopLag = (options.processMetrics ?? true) ? createEventLoopLag({ registry }) : undefined;
  const stallDetector = createStallDetector({ thresholdMs: config.stallThreshold, onStall: (durationMs) => metrics.eventLoopStall(durationMs) });
  const kinds: OpenProbeKind[] = [];
  try {
    echo = await startUdpEcho({
      address: config.listenAddress,
      port: http.port,
      maxSize: 1472,
      allow: config.udp.echoFrom === 'any' ? () => true : (address) => echoAllowlist.allows(address),
      onRequest: (result) => metrics.echo(result),
      onSendError: (code) => metrics.echoSendError(code),
    });
    const context = {
      config,
      runtime: { port: http.port, localAddress: identity.ip, stallDetector, sampleLoopLag: loopLag?.sample, log },
      metricsDeps: { registry, prefix: config.metricsPrefix, labels, peerAt: (address: string) => peerSet.at(address) },
      results: history,
      ...(options.onOutcome !== undefined ? { onOutcome: options.onOutcome } : {}),
      log,
    };
    for (const entry of PROBE_TABLE) kinds.push(await entry.open(context));
  } catch (error) {
    await Promise.all(kinds.map((kind) => kind.close()));
    stallDetector.close();
    await Promise.all([echo?.close(), http.close()]);
    throw error;
  }
  const udpEcho = echo;

  /** Probes the selected peers of a list (every listed one in a full mesh); series follow the probed set. */
  const applySelection = (selection: PeerSelection) => {
    if (stopping) return;
    const { probed, listed } = peerSet.apply(selection.peers, selection.selected);
    for (const kind of kinds) kind.setPeers(probed);
    metrics.setPeerCounts({ probed: probed.length, listed: listed.length, expectedProbers: selection.expectedProbers });
  };
  const selector = createPeerSelector({
    maxPeers: config.probing.maxPeers,
    self: () => ({ name: identity.nodeName, zone: identity.zone }),
    minIntervalMs: SELECTION_INTERVAL_MS,
    apply: applySelection,
    log,
  });

  /** No peer is probed from the moment the agent stops probing. */
  const stopProbing = () => {
    selector.close();
    peerSet.clear();
    return Promise.all(kinds.map((kind) => kind.stop()));
  };
  let closed = false;
  async function closeAll(): Promise<void> {
    if (closed) return;
    closed = true;
    selector.close();
    peerSet.clear();
    await Promise.all(kinds.map((kind) => kind.close()));
    stallDetector.close();
    await Promise.all([udpEcho.close(), http.close()]);
  }

  const probes = kinds.filter((kind) => kind.enabled).map((kind) => kind.name);
  log.info({ port: http.port, zone: identity.zone, ip: identity.ip, pod: identity.podName, probes }, 'agent started');

  return {
    port: http.port,
    registry,
    history,
    setPeers(peers, otherAgents = []) {
      if (stopping) return;
      hasPeerList = true;
      // The echo answers every listed agent, probed by this one or not: any of them may be assigned to probe it.
      echoAllowlist.update([...peers.map((peer) => peer.ip), ...otherAgents]);
      selector.offer(peers);
    },
    peers: () => peerSet.list(),
    zone: () => identity.zone,
    setControllerConnected: (connected) => metrics.setControllerConnected(connected),
    countReportsDropped: (controller, reason, count) => metrics.reportsDropped(controller, reason, count),
    setZone(zone) {
      if (zone === identity.zone) return;
      log.info({ from: identity.zone, to: zone }, 'own zone changed; relabelling series');
      identity = { ...identity, zone };
      metrics.setSource({ nodeName: identity.nodeName, zone });
      for (const kind of kinds) kind.relabel();
      // The own zone is part of the assignment when the list does not hold this node.
      selector.refresh();
    },
    async shutdown() {
      if (stopping) return;
      stopping = true;
      await stopProbing();
      log.info({ gracePeriodMs: config.shutdownGracePeriod }, 'probing stopped; still answering peers during the grace period');
      await sleep(config.shutdownGracePeriod);
      await closeAll();
      log.info('agent stopped');
    },
    async close() {
      stopping = true;
      await closeAll();
    },
  };
}
