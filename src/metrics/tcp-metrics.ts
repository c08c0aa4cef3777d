// The TCP probe's series: the original's connect and duration gauges and result counter (names, help texts and
// labels unchanged), failures by reason, tests judged during an event-loop stall, and histograms by destination scope.
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Peer } from '../discovery/peer.ts';
import { TCP_FAILURE_REASONS, type TcpProbeResult } from '../probes/tcp.ts';
import { LATENCY_BUCKETS, PAIR_LABELS, RESULTS, SCOPE_LABELS, type KindMetrics, type KindMetricsDeps, type PeerLabels } from './kind-metrics.ts';
import { counterHandle, gaugeHandle, histogramHandle } from './series-handle.ts';

export type TcpMetrics = KindMetrics<Peer, TcpProbeResult>;

export function createTcpMetrics({ registry, prefix, labels }: KindMetricsDeps): TcpMetrics {
  const registers = [registry];
  const name = (suffix: string) => `${prefix}_${suffix}`;
  const connect = new Gauge({ name: name('tcp_connect_milliseconds'), help: 'Time taken to establish the TCP socket', labelNames: PAIR_LABELS, registers });
  const duration = new Gauge({
    name: name('tcp_duration_milliseconds'),
    help: 'Total time taken to complete the TCP test',
    labelNames: PAIR_LABELS,
    registers,
  });
  const results = new Counter({ name: name('tcp_results_total'), help: 'TCP Test Results', labelNames: [...PAIR_LABELS, 'result'] as const, registers });
  const failures = new Counter({
    name: name('tcp_failures_total'),
    help: 'Failed TCP tests by reason',
    labelNames: [...PAIR_LABELS, 'reason'] as const,
    registers,
  });
  const unmeasured = new Counter({
    name: name('tcp_unmeasured_total'),
    help: 'TCP tests that passed across an event-loop stall of this agent, or stalled past their timeout (not counted as results)',
    labelNames: PAIR_LABELS,
    registers,
  });
  const connectSeconds = new Histogram({
    name: name('tcp_connect_seconds'),
    help: 'TCP connection establishment time of passed tests',
    labelNames: SCOPE_LABELS,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const durationSeconds = new Histogram({
    name: name('tcp_duration_seconds'),
    help: 'Total TCP test time (connect, request, response) of passed tests',
    labelNames: SCOPE_LABELS,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  /** A peer's series, held by reference (no label hashing per update); kept with its labels, dropped on remove. */
  const owner = {};
  const handlesOf = (peer: Peer) =>
    labels.kept(peer, owner, ({ pair, pass, fail, scope }: PeerLabels) => ({
      connect: gaugeHandle(connect, pair),
      duration: gaugeHandle(duration, pair),
      pass: counterHandle(results, pass),
      fail: counterHandle(results, fail),
      unmeasured: counterHandle(unmeasured, pair),
      connectSeconds: histogramHandle(connectSeconds, scope),
      durationSeconds: histogramHandle(durationSeconds, scope),
    }));

  return {
    add(peer) {
      const series = handlesOf(peer);
      series.pass.inc(0);
      series.fail.inc(0);
      // failures by reason and unmeasured appear when they first occur (the fail counter above carries the alert).
    },
    remove(peer) {
      const { pair } = labels.of(peer);
      labels.forget(peer, owner);
      for (const metric of [connect, duration, unmeasured]) metric.remove(pair);
      for (const result of RESULTS) results.remove({ ...pair, result });
      for (const reason of TCP_FAILURE_REASONS) failures.remove({ ...pair, reason });
    },
    record(peer, result) {
      const series = handlesOf(peer);
      if (result.unmeasured) {
        series.unmeasured.inc();
        return;
      }
      series.connect.set(result.connectMs);
      series.duration.set(result.totalMs);
      (result.passed ? series.pass : series.fail).inc();
      if (result.passed) {
        series.connectSeconds.observe(result.connectMs / 1000);
        series.durationSeconds.observe(result.totalMs / 1000);
      } else if (result.reason) {
        failures.inc({ ...labels.of(peer).pair, reason: result.reason });
      }
    },
    reset() {
      for (const metric of [connect, duration, results, failures, unmeasured, connectSeconds, durationSeconds]) metric.reset();
    },
  };
}
