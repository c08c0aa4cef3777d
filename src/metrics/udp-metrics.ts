// The UDP probe's series: the original's gauges and result counter (names, help texts and labels unchanged), packet
// counters (loss over any window is 1 − rate(received) / rate(sent)), late, duplicate, ignored and unsendable
// datagrams, and the RTT histogram by destination scope (same zone or another).
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Peer } from '../discovery/peer.ts';
import type { UdpEvents, UdpProbeResult } from '../probes/udp.ts';
import { LATENCY_BUCKETS, PAIR_LABELS, RESULTS, SCOPE_LABELS, type KindMetrics, type KindMetricsDeps, type PeerLabels } from './kind-metrics.ts';
import { counterHandle, gaugeHandle, histogramHandle } from './series-handle.ts';

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
  /** A peer's series, held by reference (no label hashing per update); kept with its labels, dropped on remove. */
  const owner = {};
  const handlesOf = (peer: Peer) =>
    labels.kept(peer, owner, ({ pair, pass, fail, scope }: PeerLabels) => ({
      duration: gaugeHandle(duration, pair),
      variance: gaugeHandle(variance, pair),
      loss: gaugeHandle(loss, pair),
      sent: counterHandle(sent, pair),
      received: counterHandle(received, pair),
      late: counterHandle(late, pair),
      duplicates: counterHandle(duplicates, pair),
      unmeasured: counterHandle(unmeasured, pair),
      pass: counterHandle(results, pass),
      fail: counterHandle(results, fail),
      rtt: histogramHandle(rtt, scope),
    }));

  return {
    add(peer) {
      const series = handlesOf(peer);
      series.pass.inc(0);
      series.fail.inc(0);
      series.sent.inc(0);
      series.received.inc(0);
      // late, duplicate and unmeasured appear when they first occur: they explain a result, alerts do not rate them.
    },
    remove(peer) {
      const { pair } = labels.of(peer);
      labels.forget(peer, owner);
      for (const metric of perPeer) metric.remove(pair);
      for (const result of RESULTS) results.remove({ ...pair, result });
    },
    record(peer, result) {
      const series = handlesOf(peer);
      // sent counts measured packets only, so that 1 − received / sent stays the path's loss.
      series.sent.inc(result.sent - result.unmeasured);
      series.received.inc(result.received);
      if (result.unmeasured > 0) series.unmeasured.inc(result.unmeasured);
      if (!result.measured) return; // every packet unmeasured: not a result
      series.duration.set(result.averageMs);
      series.variance.set(result.spreadMs);
      series.loss.set(result.lossPercent);
      (result.passed ? series.pass : series.fail).inc();
      const { rttMicros } = result;
      for (let index = 0; index < rttMicros.length; index++) series.rtt.observe(rttMicros[index]! / 1e6);
    },
    reset() {
      for (const metric of [...perPeer, results, rtt]) metric.reset();
    },
    late(address) {
      const peer = peerAt(address);
      if (peer) handlesOf(peer).late.inc();
    },
    duplicate(address) {
      const peer = peerAt(address);
      if (peer) handlesOf(peer).duplicates.inc();
    },
    ignored: (reason) => ignored.inc({ reason }),
    sendError: (code) => sendErrors.inc({ code }),
  };
}
