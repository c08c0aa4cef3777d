// The Prometheus series one agent exports as a function of what it probes: the cardinality model behind
// `kconmon plan` and the README's formula. test/topology/series-model.test.ts checks it against the real registry.
import { LATENCY_BUCKETS } from '../metrics/kind-metrics.ts';

/**
 * Per probed peer (source, destination pair), present from the moment it is added: 5 gauges (UDP duration, variance,
 * loss; TCP connect, duration), UDP and TCP results × pass/fail (4), UDP packets sent and received (2), UDP and TCP
 * unmeasured (2). Late and duplicate echoes and TCP failure reasons add up to 8 more per pair, only once they occur.
 */
export const SERIES_PER_PEER = 13;
/** One histogram: a series per bucket, +Inf, _sum and _count. */
const SERIES_PER_HISTOGRAM = LATENCY_BUCKETS.length + 3;
/** Per destination zone the agent probes: udp_rtt_seconds, tcp_connect_seconds, tcp_duration_seconds. */
export const SERIES_PER_DESTINATION_ZONE = 3 * SERIES_PER_HISTOGRAM;
/** Per DNS target: results × pass/fail, the duration gauge and the dns_duration_seconds histogram. */
export const SERIES_PER_DNS_TARGET = 3 + SERIES_PER_HISTOGRAM;

export interface AgentSeriesInput {
  /** Series that do not depend on peers or DNS targets: the agent's own, plus Node.js process metrics (measured). */
  readonly baseSeries: number;
  readonly dnsTargets: number;
  readonly peers: number;
  readonly destinationZones: number;
}

export function agentSeries(input: AgentSeriesInput): number {
  return input.baseSeries + input.dnsTargets * SERIES_PER_DNS_TARGET + input.peers * SERIES_PER_PEER + input.destinationZones * SERIES_PER_DESTINATION_ZONE;
}
