// The agent's Prometheus metrics: the original kconmon's nine (names, types, help texts and labels unchanged, values
// fixed), counters and sub-millisecond histograms following Prometheus conventions, and the agent's own health.
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { PROM_CLIENT_LAG_PRECISION_MS } from './event-loop-lag.ts';
import type { Peer } from '../discovery/peer.ts';
import type { UdpProbeResult } from '../probes/udp.ts';
import type { TcpFailureReason, TcpProbeResult } from '../probes/tcp.ts';
import type { DnsProbeResult } from '../probes/dns.ts';
import type { IgnoredReason } from '../probes/udp-pinger.ts';
import type { EchoRequestResult } from '../agent/udp-echo.ts';

const PAIR_LABELS = ['source', 'destination', 'source_zone', 'destination_zone'] as const;
const ZONE_PAIR_LABELS = ['source', 'source_zone', 'destination_zone'] as const;
const TCP_REASONS: readonly TcpFailureReason[] = ['refused', 'timeout', 'reset', 'unreachable', 'bad_status', 'error'];
/** Seconds; dense below 1 ms where in-cluster round trips live, up to the largest timeouts. */
export const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00015, 0.0002, 0.0003, 0.0004, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025,
  0.05, 0.1, 0.25, 0.5, 1,
];

type PairLabels = Record<(typeof PAIR_LABELS)[number], string>;
type ZoneLabels = Record<(typeof ZONE_PAIR_LABELS)[number], string>;
interface PeerLabels {
  readonly pair: PairLabels;
  readonly zones: ZoneLabels;
  readonly pass: PairLabels & { result: string };
  readonly fail: PairLabels & { result: string };
}

export interface Source {
  readonly nodeName: string;
  readonly zone: string;
}

export interface AgentMetrics {
  /** Pre-creates a new peer's counters at zero so `increase()` sees its first failure. */
  addPeer(peer: Peer): void;
  /** Removes every series naming the peer (called the moment it leaves the peer set). */
  removePeer(peer: Peer): void;
  recordUdp(peer: Peer, result: UdpProbeResult): void;
  recordTcp(peer: Peer, result: TcpProbeResult): void;
  /** Pre-creates a DNS target's result counters at zero. */
  addDnsTarget(label: string): void;
  recordDns(label: string, result: DnsProbeResult): void;
  udpLate(peer: Peer): void;
  udpDuplicate(peer: Peer): void;
  udpIgnored(reason: IgnoredReason): void;
  udpSendError(code: string): void;
  echo(result: EchoRequestResult): void;
  echoSendError(code: string): void;
  /** The event loop stalled for `durationMs` beyond the detector's tick: measurements overlapping it are unmeasured. */
  eventLoopStall(durationMs: number): void;
  setPeerCount(count: number): void;
  /** Whether the agent holds a stream to a controller (only with controller discovery; a no-op otherwise). */
  setControllerConnected(connected: boolean): void;
  /**
   * The agent's own node or zone changed (the controller told it): every series carries the old source labels, so
   * all are dropped; the caller re-adds its peers and DNS targets.
   */
  setSource(source: Source): void;
}

export interface AgentMetricsOptions {
  readonly registry: Registry;
  readonly prefix: string;
  readonly source: Source;
  readonly version: string;
  /** Collect Node.js process metrics (CPU, memory, event-loop lag, GC). */
  readonly processMetrics?: boolean;
  /** The agent gets its peers from a controller: export `<prefix>_agent_controller_connected` (0 until connected). */
  readonly controllerDiscovery?: boolean;
}

export function createAgentMetrics(options: AgentMetricsOptions): AgentMetrics {
  const { registry, prefix, source: initialSource, version, processMetrics = true, controllerDiscovery = false } = options;
  let source = initialSource;
  const registers = [registry];
  const name = (suffix: string) => `${prefix}_${suffix}`;
  // Every series names its agent, also the process and health metrics: scrape configs that drop `instance`/`pod`
  // (as the original's README suggested) keep them apart.
  registry.setDefaultLabels({ source: source.nodeName, source_zone: source.zone });

  // --- The original contract (milliseconds and percent, as its dashboards expect). ---
  const tcpConnect = new Gauge({ name: name('tcp_connect_milliseconds'), help: 'Time taken to establish the TCP socket', labelNames: PAIR_LABELS, registers });
  const tcpDuration = new Gauge({ name: name('tcp_duration_milliseconds'), help: 'Total time taken to complete the TCP test', labelNames: PAIR_LABELS, registers });
  const udpDuration = new Gauge({ name: name('udp_duration_milliseconds'), help: 'Average duration per packet', labelNames: PAIR_LABELS, registers });
  const udpVariance = new Gauge({ name: name('udp_duration_variance_milliseconds'), help: 'UDP variance between the slowest and fastest packet', labelNames: PAIR_LABELS, registers });
  const udpLoss = new Gauge({ name: name('udp_loss'), help: 'UDP packet loss (percent, 0–100)', labelNames: PAIR_LABELS, registers });
  const udpResults = new Counter({ name: name('udp_results_total'), help: 'UDP Test Results', labelNames: [...PAIR_LABELS, 'result'] as const, registers });
  const tcpResults = new Counter({ name: name('tcp_results_total'), help: 'TCP Test Results', labelNames: [...PAIR_LABELS, 'result'] as const, registers });
  const dnsResults = new Counter({ name: name('dns_results_total'), help: 'DNS Test Results', labelNames: ['source', 'source_zone', 'host', 'result'] as const, registers });
  const dnsDuration = new Gauge({ name: name('dns_duration_milliseconds'), help: 'Total time taken to complete the DNS test', labelNames: ['source', 'source_zone', 'host'] as const, registers });

  // --- Counters: loss over any window is 1 − rate(received) / rate(sent). ---
  const udpSent = new Counter({
    name: name('udp_packets_sent_total'),
    help: 'UDP probe packets sent to the peer and measured (unmeasured ones are counted apart)',
    labelNames: PAIR_LABELS,
    registers,
  });
  const udpReceived = new Counter({ name: name('udp_packets_received_total'), help: 'UDP probe packets whose echo came back within the timeout', labelNames: PAIR_LABELS, registers });
  const udpLate = new Counter({ name: name('udp_packets_late_total'), help: 'UDP echoes that arrived after their packet timed out (not credited)', labelNames: PAIR_LABELS, registers });
  const udpDuplicates = new Counter({ name: name('udp_packets_duplicate_total'), help: 'UDP echoes received more than once for the same packet', labelNames: PAIR_LABELS, registers });
  const udpIgnored = new Counter({ name: name('udp_replies_ignored_total'), help: 'Datagrams on the probe socket matching no outstanding packet, by reason', labelNames: ['reason'] as const, registers });
  const udpSendErrors = new Counter({ name: name('udp_send_errors_total'), help: 'UDP probe packets the kernel refused to send, by errno code', labelNames: ['code'] as const, registers });
  const tcpFailures = new Counter({ name: name('tcp_failures_total'), help: 'Failed TCP tests by reason', labelNames: [...PAIR_LABELS, 'reason'] as const, registers });
  const dnsFailures = new Counter({ name: name('dns_failures_total'), help: 'Failed DNS tests by reason', labelNames: ['source', 'source_zone', 'host', 'reason'] as const, registers });
  const echoes = new Counter({ name: name('udp_echo_requests_total'), help: 'UDP echo requests received by this agent, by outcome', labelNames: ['result'] as const, registers });
  const echoSendErrors = new Counter({
    name: name('udp_echo_send_errors_total'),
    help: 'UDP echo replies the kernel refused to send, by errno code',
    labelNames: ['code'] as const,
    registers,
  });

  // --- Measurements overlapping a stall of the agent's own event loop: neither results nor loss. ---
  const udpUnmeasured = new Counter({
    name: name('udp_packets_unmeasured_total'),
    help: 'UDP probe packets outstanding during an event-loop stall of this agent (neither received nor lost)',
    labelNames: PAIR_LABELS,
    registers,
  });
  const tcpUnmeasured = new Counter({
    name: name('tcp_unmeasured_total'),
    help: 'TCP tests that passed or timed out during an event-loop stall of this agent (not counted as results)',
    labelNames: PAIR_LABELS,
    registers,
  });
  const loopStalls = new Counter({ name: name('agent_event_loop_stalls_total'), help: 'Event-loop stalls detected while probes were in flight', registers });
  const loopStallSeconds = new Counter({ name: name('agent_event_loop_stall_seconds_total'), help: 'Total length of detected event-loop stalls', registers });

  // --- Histograms by zone pair only: bounded cardinality whatever the cluster size. ---
  const udpRtt = new Histogram({ name: name('udp_rtt_seconds'), help: 'Round-trip time of answered UDP probe packets', labelNames: ZONE_PAIR_LABELS, buckets: LATENCY_BUCKETS, registers });
  const tcpConnectSeconds = new Histogram({ name: name('tcp_connect_seconds'), help: 'TCP connection establishment time of passed tests', labelNames: ZONE_PAIR_LABELS, buckets: LATENCY_BUCKETS, registers });
  const tcpDurationSeconds = new Histogram({ name: name('tcp_duration_seconds'), help: 'Total TCP test time (connect, request, response) of passed tests', labelNames: ZONE_PAIR_LABELS, buckets: LATENCY_BUCKETS, registers });
  const dnsDurationSeconds = new Histogram({ name: name('dns_duration_seconds'), help: 'DNS query time of all tests', labelNames: ['source', 'source_zone', 'host'] as const, buckets: LATENCY_BUCKETS, registers });

  // --- The agent's own health. ---
  const peers = new Gauge({ name: name('agent_peers'), help: 'Peers this agent currently probes', registers });
  const info = new Gauge({ name: name('agent_info'), help: 'Agent identity and version (always 1)', labelNames: ['source', 'source_zone', 'version'] as const, registers });
  info.set({ source: source.nodeName, source_zone: source.zone, version }, 1);
  // Alerts read it to tell a stale peer list (the agent may be probing nodes that left) from a broken network.
  const controllerConnected = controllerDiscovery
    ? new Gauge({
        name: name('agent_controller_connected'),
        help: 'Whether the agent holds a stream to a controller (1) or not (0)',
        labelNames: ['source', 'source_zone'] as const,
        registers,
      })
    : undefined;
  let isConnected = false;
  const setConnected = () => controllerConnected?.set({ source: source.nodeName, source_zone: source.zone }, isConnected ? 1 : 0);
  setConnected();
  const perSource = [
    tcpConnect, tcpDuration, udpDuration, udpVariance, udpLoss, udpResults, tcpResults, dnsResults, dnsDuration, udpSent, udpReceived, udpLate,
    udpDuplicates, tcpFailures, dnsFailures, udpRtt, tcpConnectSeconds, tcpDurationSeconds, dnsDurationSeconds, info, udpUnmeasured, tcpUnmeasured,
  ];
  // nodejs_eventloop_lag_* come from event-loop-lag.ts (true sub-millisecond figures); prom-client's own 10 ms monitor
  // would wake the loop 100 times a second for figures that read ~11 ms on an idle agent.
  if (processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: PROM_CLIENT_LAG_PRECISION_MS });

  // Label objects are built once per peer (the hot path records ~1,000 results a second at 1,000 peers).
  let labelCache = new WeakMap<Peer, PeerLabels>();
  const labelsOf = (peer: Peer): PeerLabels => {
    let labels = labelCache.get(peer);
    if (!labels) {
      const pairLabels = { source: source.nodeName, destination: peer.nodeName, source_zone: source.zone, destination_zone: peer.zone };
      labels = {
        pair: pairLabels,
        zones: { source: source.nodeName, source_zone: source.zone, destination_zone: peer.zone },
        pass: { ...pairLabels, result: 'pass' },
        fail: { ...pairLabels, result: 'fail' },
      };
      labelCache.set(peer, labels);
    }
    return labels;
  };
  const pair = (peer: Peer) => labelsOf(peer).pair;
  const zonePair = (peer: Peer) => labelsOf(peer).zones;

  return {
    addPeer(peer) {
      const labels = pair(peer);
      for (const result of ['pass', 'fail']) {
        udpResults.inc({ ...labels, result }, 0);
        tcpResults.inc({ ...labels, result }, 0);
      }
      udpSent.inc(labels, 0);
      udpReceived.inc(labels, 0);
      udpUnmeasured.inc(labels, 0);
      tcpUnmeasured.inc(labels, 0);
    },
    removePeer(peer) {
      const labels = pair(peer);
      for (const gauge of [tcpConnect, tcpDuration, udpDuration, udpVariance, udpLoss]) gauge.remove(labels);
      for (const counter of [udpSent, udpReceived, udpLate, udpDuplicates, udpUnmeasured, tcpUnmeasured]) counter.remove(labels);
      for (const result of ['pass', 'fail']) {
        udpResults.remove({ ...labels, result });
        tcpResults.remove({ ...labels, result });
      }
      for (const reason of TCP_REASONS) tcpFailures.remove({ ...labels, reason });
    },
    recordUdp(peer, result) {
      const labels = pair(peer);
      // sent counts measured packets only, so that 1 − received / sent stays the path's loss.
      udpSent.inc(labels, result.sent - result.unmeasured);
      udpReceived.inc(labels, result.received);
      if (result.unmeasured > 0) udpUnmeasured.inc(labels, result.unmeasured);
      if (!result.measured) return; // every packet unmeasured: not a result
      udpDuration.set(labels, result.averageMs);
      udpVariance.set(labels, result.spreadMs);
      udpLoss.set(labels, result.lossPercent);
      udpResults.inc(result.passed ? labelsOf(peer).pass : labelsOf(peer).fail);
      const zones = zonePair(peer);
      for (const rtt of result.rttMicros) udpRtt.observe(zones, rtt / 1e6);
    },
    recordTcp(peer, result) {
      const labels = pair(peer);
      if (result.unmeasured) {
        tcpUnmeasured.inc(labels);
        return;
      }
      tcpConnect.set(labels, result.connectMs);
      tcpDuration.set(labels, result.totalMs);
      tcpResults.inc(result.passed ? labelsOf(peer).pass : labelsOf(peer).fail);
      if (result.passed) {
        const zones = zonePair(peer);
        tcpConnectSeconds.observe(zones, result.connectMs / 1000);
        tcpDurationSeconds.observe(zones, result.totalMs / 1000);
      } else if (result.reason) {
        tcpFailures.inc({ ...labels, reason: result.reason });
      }
    },
    addDnsTarget(label) {
      for (const result of ['pass', 'fail']) dnsResults.inc({ source: source.nodeName, source_zone: source.zone, host: label, result }, 0);
    },
    recordDns(label, result) {
      const labels = { source: source.nodeName, source_zone: source.zone, host: label };
      dnsDuration.set(labels, result.durationMs);
      dnsResults.inc({ ...labels, result: result.passed ? 'pass' : 'fail' });
      dnsDurationSeconds.observe(labels, result.durationMs / 1000);
      if (!result.passed && result.reason) dnsFailures.inc({ ...labels, reason: result.reason });
    },
    udpLate: (peer) => udpLate.inc(pair(peer)),
    udpDuplicate: (peer) => udpDuplicates.inc(pair(peer)),
    udpIgnored: (reason) => udpIgnored.inc({ reason }),
    udpSendError: (code) => udpSendErrors.inc({ code }),
    echo: (result) => echoes.inc({ result }),
    echoSendError: (code) => echoSendErrors.inc({ code }),
    eventLoopStall(durationMs) {
      loopStalls.inc();
      loopStallSeconds.inc(durationMs / 1000);
    },
    setPeerCount: (count) => peers.set(count),
    setControllerConnected(connected) {
      isConnected = connected;
      setConnected();
    },
    setSource(next) {
      source = next;
      labelCache = new WeakMap();
      registry.setDefaultLabels({ source: source.nodeName, source_zone: source.zone });
      for (const metric of perSource) metric.reset();
      info.set({ source: source.nodeName, source_zone: source.zone, version }, 1);
      controllerConnected?.reset();
      setConnected();
    },
  };
}
