// The agent: serves the UDP echo and HTTP endpoints on one port, probes every peer it is given (never itself) over
// UDP and TCP, probes DNS targets, and keeps the metrics exactly in step with the peer set.
import { Registry } from 'prom-client';
import type { AgentConfig } from '../config/schema.ts';
import { resolveDnsTargets } from '../config/schema.ts';
import type { AgentIdentity } from '../config/identity.ts';
import { onePeerPerNode, type Peer } from '../discovery/peer.ts';
import type { Logger } from '../log.ts';
import { createAgentMetrics, type AgentMetrics } from '../metrics/agent-metrics.ts';
import { createUdpPinger, type UdpPinger } from '../probes/udp-pinger.ts';
import { createStallDetector } from '../probes/stall-detector.ts';
import { createEventLoopLag } from '../metrics/event-loop-lag.ts';
import { probeUdp, type UdpProbeResult } from '../probes/udp.ts';
import { probeTcp, type TcpProbeResult } from '../probes/tcp.ts';
import { createTargetResolver, probeDns } from '../probes/dns.ts';
import { createPeerScheduler, type PeerScheduler } from './peer-scheduler.ts';
import { runProbeLoop } from './probe-loop.ts';
import { startUdpEcho, type UdpEcho } from './udp-echo.ts';
import { startAgentHttpServer, type AgentHttpServer } from './http-server.ts';
import { createResultHistory, type ResultHistory } from './result-history.ts';
import { sleep } from '../util/sleep.ts';
import { createEchoAllowlist } from './echo-allowlist.ts';

/** How long the echo keeps answering an agent after it left the peer set. */
const ECHO_GRACE_MS = 60_000;

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
  const metrics: AgentMetrics = createAgentMetrics({
    registry,
    prefix: config.metricsPrefix,
    source: { nodeName: identity.nodeName, zone: identity.zone },
    version: options.version,
    processMetrics: options.processMetrics ?? true,
    controllerDiscovery: config.discovery.controller !== undefined,
  });

  const echoAllowlist = createEchoAllowlist(ECHO_GRACE_MS);
  let stopping = false;
  /** Set by the first peer list (even an empty one): from then on the agent keeps its last good list. */
  let hasPeerList = false;
  const peerByAddress = new Map<string, Peer>();
  /** The last warning about several probe targets on one node, so it is logged once per distinct case. */
  let reportedDuplicates = '';

  const http: AgentHttpServer = await startAgentHttpServer({
    address: config.listenAddress,
    port: options.port ?? config.port,
    registry,
    metricsPrefix: config.metricsPrefix,
    history,
    healthy: () => !stopping,
    notReadyReason: () => (stopping ? 'stopping' : hasPeerList ? undefined : 'no peer list yet (waiting for the controller or the peers file)'),
    status: () => ({ node: identity.nodeName, zone: identity.zone, pod: identity.podName, ip: identity.ip ?? null, peers: scheduler.peers().length }),
  });
  let echo: UdpEcho;
  try {
    echo = await startUdpEcho({
      address: config.listenAddress,
      port: http.port,
      maxSize: 1472,
      allow: config.udp.echoFrom === 'any' ? () => true : (address) => echoAllowlist.allows(address),
      onRequest: (result) => metrics.echo(result),
      onSendError: (code) => metrics.echoSendError(code),
    });
  } catch (error) {
    await http.close();
    throw error;
  }

  // One per agent: probes judge their timeouts and RTTs against stalls of this process's event loop.
  const loopLag = (options.processMetrics ?? true) ? createEventLoopLag({ registry }) : undefined;
  const stallDetector = createStallDetector({ thresholdMs: config.stallThreshold, onStall: (durationMs) => metrics.eventLoopStall(durationMs) });
  const pinger: UdpPinger = await createUdpPinger({
    bindAddress: identity.ip,
    stallDetector,
    hooks: {
      onSent: loopLag?.sample,
      onLate: (address) => withPeer(address, (peer) => metrics.udpLate(peer)),
      onDuplicate: (address) => withPeer(address, (peer) => metrics.udpDuplicate(peer)),
      onIgnored: (reason) => metrics.udpIgnored(reason),
      onSendError: (address, code) => {
        metrics.udpSendError(code);
        log.debug({ address, code }, 'udp send failed');
      },
    },
  });

  function withPeer(address: string, action: (peer: Peer) => void): void {
    const peer = peerByAddress.get(address);
    if (peer) action(peer);
  }

  const target = (peer: Peer) => ({ ip: peer.ip, port: http.port });
  const remember = (test: 'udp' | 'tcp', peer: Peer, passed: boolean, summary: Record<string, unknown>) =>
    history.add({ test, target: peer.nodeName, targetZone: peer.zone, at: new Date().toISOString(), passed, summary });
  const tests = [];
  if (config.udp.enabled) {
    const udpOptions = { packets: config.udp.packets, packetSize: config.udp.packetSize, packetSpacingMs: config.udp.packetSpacing, timeoutMs: config.udp.timeout };
    tests.push({
      name: 'udp',
      intervalMs: config.udp.interval,
      run: (peer: Peer, signal: AbortSignal) => probeUdp(pinger, target(peer), udpOptions, signal),
      record: (peer: Peer, result: unknown) => {
        const udp = result as UdpProbeResult;
        if (udp.aborted) return;
        metrics.recordUdp(peer, udp);
        if (!udp.measured) return;
        const { sent, received, late, unmeasured } = udp;
        const timings = { averageMs: round(udp.averageMs), spreadMs: round(udp.spreadMs), lossPercent: round(udp.lossPercent) };
        remember('udp', peer, udp.passed, { ...timings, sent, received, late, unmeasured });
      },
    });
  }
  if (config.tcp.enabled) {
    const tcpOptions = { timeoutMs: config.tcp.timeout, localAddress: identity.ip, stallDetector };
    tests.push({
      name: 'tcp',
      intervalMs: config.tcp.interval,
      run: (peer: Peer, signal: AbortSignal) => probeTcp(target(peer), tcpOptions, signal),
      record: (peer: Peer, result: unknown) => {
        const tcp = result as TcpProbeResult;
        if (tcp.aborted) return;
        metrics.recordTcp(peer, tcp);
        if (tcp.unmeasured) return;
        remember('tcp', peer, tcp.passed, { connectMs: round(tcp.connectMs), totalMs: round(tcp.totalMs), reason: tcp.reason ?? null, detail: tcp.detail ?? null });
      },
    });
  }

  const scheduler: PeerScheduler = createPeerScheduler({
    tests,
    jitter: config.jitter,
    firstRunDelayMs: config.discovery.newPeerDelay,
    onError: (test, peer, error) => log.error({ test, peer: peer.name, err: error }, 'probe failed unexpectedly'),
  });

  // DNS targets: one loop each, independent of the peer set.
  const dnsController = new AbortController();
  const dnsTargets = config.dns.enabled ? resolveDnsTargets(config) : [];
  const dnsLoops = dnsTargets.map((dnsTarget) => {
    const resolver = createTargetResolver(dnsTarget, config.dns.timeout);
    metrics.addDnsTarget(dnsTarget.label);
    return runProbeLoop({
      intervalMs: config.dns.interval,
      jitter: config.jitter,
      initialDelayMs: Math.random() * Math.min(config.dns.interval, 1000),
      signal: dnsController.signal,
      random: Math.random,
      run: () => probeDns(resolver, dnsTarget, config.dns.timeout),
      record: (result) => {
        metrics.recordDns(dnsTarget.label, result);
        history.add({
          test: 'dns',
          target: dnsTarget.label,
          targetZone: undefined,
          at: new Date().toISOString(),
          passed: result.passed,
          summary: { durationMs: round(result.durationMs), answers: result.answers, reason: result.reason ?? null, detail: result.detail ?? null },
        });
      },
      onError: (error) => log.error({ test: 'dns', host: dnsTarget.host, err: error }, 'dns probe failed unexpectedly'),
    });
  });

  function isSelf(peer: Peer): boolean {
    return peer.nodeName === identity.nodeName || peer.name === identity.podName || (identity.ip !== undefined && peer.ip === identity.ip);
  }

  let closed = false;
  async function closeAll(): Promise<void> {
    if (closed) return;
    closed = true;
    dnsController.abort();
    await scheduler.stop();
    await Promise.all(dnsLoops);
    await pinger.close();
    stallDetector.close();
    await Promise.all([echo.close(), http.close()]);
  }

  log.info({ port: http.port, zone: identity.zone, ip: identity.ip, pod: identity.podName }, 'agent started');

  return {
    port: http.port,
    registry,
    history,
    setPeers(peers, otherAgents = []) {
      if (stopping) return;
      hasPeerList = true;
      echoAllowlist.update([...peers.map((peer) => peer.ip), ...otherAgents]);
      // One probed identity per node: a node's series name one agent, never two averaged together.
      const current = new Map(scheduler.peers().map((peer) => [peer.nodeName, peer]));
      const { peers: others, duplicates } = onePeerPerNode(peers.filter((peer) => !isSelf(peer)), (nodeName) => current.get(nodeName));
      const duplicatesLine = duplicates.join('; ');
      if (duplicatesLine !== reportedDuplicates && duplicatesLine !== '') {
        log.warn({ nodes: duplicates }, 'several agents listed as probe targets on one node; probing one per node');
      }
      reportedDuplicates = duplicatesLine;
      const change = scheduler.setPeers(others);
      for (const peer of change.removed) {
        metrics.removePeer(peer);
        history.forget('udp', peer.nodeName);
        history.forget('tcp', peer.nodeName);
        if (peerByAddress.get(peer.ip) === peer) peerByAddress.delete(peer.ip);
      }
      // A node's agent replaced (new pod or IP): its series stay and its counters continue; a zone change relabels.
      for (const { before, after } of change.replaced) {
        if (before.zone !== after.zone) {
          metrics.removePeer(before);
          metrics.addPeer(after);
        }
        if (peerByAddress.get(before.ip) === before) peerByAddress.delete(before.ip);
        peerByAddress.set(after.ip, after);
      }
      for (const peer of change.added) {
        metrics.addPeer(peer);
        peerByAddress.set(peer.ip, peer);
      }
      metrics.setPeerCount(others.length);
      if (change.added.length > 0 || change.removed.length > 0 || change.replaced.length > 0) {
        log.info(
          {
            added: change.added.map((p) => p.nodeName),
            removed: change.removed.map((p) => p.nodeName),
            replaced: change.replaced.map(
              ({ before, after }) => `${after.nodeName}: ${before.name} ${before.ip} ${before.zone} → ${after.name} ${after.ip} ${after.zone}`,
            ),
            peers: others.length,
          },
          'peer set changed',
        );
      }
    },
    peers: () => scheduler.peers(),
    zone: () => identity.zone,
    setControllerConnected: (connected) => metrics.setControllerConnected(connected),
    setZone(zone) {
      if (zone === identity.zone) return;
      log.info({ from: identity.zone, to: zone }, 'own zone changed; relabelling series');
      identity = { ...identity, zone };
      metrics.setSource({ nodeName: identity.nodeName, zone });
      for (const peer of scheduler.peers()) metrics.addPeer(peer);
      for (const dnsTarget of dnsTargets) metrics.addDnsTarget(dnsTarget.label);
      metrics.setPeerCount(scheduler.peers().length);
    },
    async shutdown() {
      if (stopping) return;
      stopping = true;
      dnsController.abort();
      await scheduler.stop();
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

function round(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
}

