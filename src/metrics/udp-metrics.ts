// The UDP probe's series: the original's gauges and result counter (names, help texts and labels unchanged), packet
// counters (loss over any window is 1 − rate(received) / rate(sent)), late, duplicate, ignored and unsendable
// datagrams, and the RTT histogram by destination scope (same zone or another).
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Peer } from '../discovery/peer.ts';
import type { UdpEvents, UdpProbeResult } from '../probes/udp.ts';
import { LATENCY_BUCKETS, PAIR_LABELS, RESULTS, SCOPE_LABELS, type KindMetrics, type KindMetricsDeps } from './kind-metrics.ts';

export type UdpMetrics = KindMetrics<Peer, UdpProbeResult> & UdpEvents;

export function createUdpMetrics({ registry, prefix, labels, peerAt }: KindMetricsDeps): UdpMetrics {
  const registers = [registry];
  const name = (suffix: string) => `${prefix}_${suffix}`;
  const duration = new Gauge({ name: name('udp_duration_milliseconds'), help: 'Average duration per packet', labelNames: PAIR_LABELS, registers });
  const variance = new Gauge({
    name: name('udp_duration_variance_milliseconds'),
    help: 'UDP variance between the slowest and fastest packet',
    labelNames: PAIR_LABELS,
    registers,
  });
  const loss = new Gauge({ name: name('udp_loss'), help: 'UDP packet loss (percent, 0–100)', labelNames: PAIR_LABELS, registers });
  const results = new Counter({ name: name('udp_results_total'), help: 'UDP Test Results', labelNames: [...PAIR_LABELS, 'result'] as const, registers });
  const sent = new Counter({
    name: name('udp_packets_sent_total'),
    help: 'UDP probe packets sent to the peer and measured (unmeasured ones are counted apart)',
    labelNames: PAIR_LABELS,
    registers,
  });
  const received = new Counter({
    name: name('udp_packets_received_total'),
    help: 'UDP probe packets whose echo came back within the timeout',
    labelNames: PAIR_LABELS,
    registers,
  });
  const late = new Counter({
    name: name('udp_packets_late_total'),
    help: 'UDP echoes that arrived after their packet timed out (not credited)',
    labelNames: PAIR_LABELS,
    registers,
  });
  const duplicates = new Counter({
    name: name('udp_packets_duplicate_total'),
    help: 'UDP echoes received more than once for the same packet',
    labelNames: PAIR_LABELS,
    registers,
  });
  const ignored = new Counter({
    name: name('udp_replies_ignored_total'),
    help: 'Datagrams on the probe socket matching no outstanding packet, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const sendErrors = new Counter({
    name: name('udp_send_errors_total'),
    help: 'UDP probe packets the kernel refused to send, by errno code',
    labelNames: ['code'] as const,
    registers,
  });
  // Packets outstanding during a stall of the agent's own event loop: neither received nor lost.
  const unmeasured = new Counter({
    name: name('udp_packets_unmeasured_total'),
    help: 'UDP probe echoes read after an event-loop stall of this agent, or packets stalled past their timeout (neither received nor lost)',
    labelNames: PAIR_LABELS,
    registers,
  });
  // By destination scope only: at most two label sets whatever the cluster's size and number of zones.
  const rtt = new Histogram({
    name: name('udp_rtt_seconds'),
    help: 'Round-trip time of answered UDP probe packets',
    labelNames: SCOPE_LABELS,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const perPeer = [duration, variance, loss, sent, received, late, duplicates, unmeasured];

  return {
    add(peer) {
      const { pair, pass, fail } = labels.of(peer);
      results.inc(pass, 0);
      results.inc(fail, 0);
      sent.inc(pair, 0);
      received.inc(pair, 0);
      // late, duplicate and unmeasured appear when they first occur: they explain a result, alerts do not rate them.
    },
    remove(peer) {
      const { pair } = labels.of(peer);
      for (const metric of perPeer) metric.remove(pair);
      for (const result of RESULTS) results.remove({ ...pair, result });
    },
    record(peer, result) {
      const peerLabels = labels.of(peer);
      const { pair } = peerLabels;
      // sent counts measured packets only, so that 1 − received / sent stays the path's loss.
      sent.inc(pair, result.sent - result.unmeasured);
      received.inc(pair, result.received);
      if (result.unmeasured > 0) unmeasured.inc(pair, result.unmeasured);
      if (!result.measured) return; // every packet unmeasured: not a result
      duration.set(pair, result.averageMs);
      variance.set(pair, result.spreadMs);
      loss.set(pair, result.lossPercent);
      results.inc(result.passed ? peerLabels.pass : peerLabels.fail);
      for (const micros of result.rttMicros) rtt.observe(peerLabels.scope, micros / 1e6);
    },
    reset() {
      for (const metric of [...perPeer, results, rtt]) metric.reset();
    },
    late(address) {
      const peer = peerAt(address);
      if (peer) late.inc(labels.of(peer).pair);
    },
    duplicate(address) {
      const peer = peerAt(address);
      if (peer) duplicates.inc(labels.of(peer).pair);
    },
    ignored: (reason) => ignored.inc({ reason }),
    sendError: (code) => sendErrors.inc({ code }),
  };
}
