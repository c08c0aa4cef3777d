// The DNS probe's series, by configured target (`host` is the target's label): the original's result counter and
// duration gauge (names, help texts and labels unchanged), failures by reason, and the query-time histogram.
import { Counter, Gauge, Histogram } from 'prom-client';
import type { DnsTarget } from '../config/schema.ts';
import { DNS_FAILURE_REASONS, type DnsProbeResult } from '../probes/dns.ts';
import { LATENCY_BUCKETS, RESULTS, type KindMetrics, type KindMetricsDeps } from './kind-metrics.ts';

const HOST_LABELS = ['source', 'source_zone', 'host'] as const;

export type DnsMetrics = KindMetrics<DnsTarget, DnsProbeResult>;

export function createDnsMetrics({ registry, prefix, labels }: KindMetricsDeps): DnsMetrics {
  const registers = [registry];
  const name = (suffix: string) => `${prefix}_${suffix}`;
  const results = new Counter({ name: name('dns_results_total'), help: 'DNS Test Results', labelNames: [...HOST_LABELS, 'result'] as const, registers });
  const duration = new Gauge({
    name: name('dns_duration_milliseconds'),
    help: 'Total time taken to complete the DNS test',
    labelNames: HOST_LABELS,
    registers,
  });
  const failures = new Counter({
    name: name('dns_failures_total'),
    help: 'Failed DNS tests by reason',
    labelNames: [...HOST_LABELS, 'reason'] as const,
    registers,
  });
  const durationSeconds = new Histogram({
    name: name('dns_duration_seconds'),
    help: 'DNS query time of all tests',
    labelNames: HOST_LABELS,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const hostLabels = (target: DnsTarget) => ({ ...labels.own(), host: target.label });

  return {
    add(target) {
      for (const result of RESULTS) results.inc({ ...hostLabels(target), result }, 0);
    },
    remove(target) {
      const host = hostLabels(target);
      for (const metric of [duration, durationSeconds]) metric.remove(host);
      for (const result of RESULTS) results.remove({ ...host, result });
      for (const reason of DNS_FAILURE_REASONS) failures.remove({ ...host, reason });
    },
    record(target, result) {
      const host = hostLabels(target);
      duration.set(host, result.durationMs);
      results.inc({ ...host, result: result.passed ? 'pass' : 'fail' });
      durationSeconds.observe(host, result.durationMs / 1000);
      if (!result.passed && result.reason) failures.inc({ ...host, reason: result.reason });
    },
    reset() {
      for (const metric of [results, duration, failures, durationSeconds]) metric.reset();
    },
  };
}
