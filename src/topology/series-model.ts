// The Prometheus series one agent exports as a function of what it probes: the cardinality model behind
// `kconmon plan` and the README's formula. test/topology/series-model.test.ts checks it against the real registry,
// test/topology/series-budget.test.ts checks every agent of the real selection at 5,000 nodes against 400.
import { LATENCY_BUCKETS, destinationScope } from '../metrics/kind-metrics.ts';

/**
 * Per probed peer (source, destination pair), present from the moment it is added: 5 gauges (UDP duration, variance,
 * loss; TCP connect, duration), UDP and TCP results × pass/fail (4), UDP packets sent and received (2). Late,
 * duplicate and unmeasured UDP packets, unmeasured TCP tests and TCP failure reasons add up to 10 more per pair, only
 * once they occur.
 */
export const SERIES_PER_PEER = 11;
/** One histogram: a series per bucket, +Inf, _sum and _count. */
const SERIES_PER_HISTOGRAM = LATENCY_BUCKETS.length + 3;
/**
 * Per destination scope the agent probes (`same_zone`, `other_zone`: at most 2, whatever the number of zones):
 * udp_rtt_seconds, tcp_connect_seconds, tcp_duration_seconds.
 */
export const SERIES_PER_DESTINATION_SCOPE = 3 * SERIES_PER_HISTOGRAM;
/** Per DNS target: results × pass/fail, the duration gauge and the dns_duration_seconds histogram. */
export const SERIES_PER_DNS_TARGET = 3 + SERIES_PER_HISTOGRAM;
/**
 * `nodejs_active_handles` and `nodejs_active_resources` have one series per kind of libuv handle or resource alive at
 * the scrape (a probing agent shows 5 to 8 kinds: UDP and TCP sockets, servers, timers, immediates); counted as this
 * many, whatever a planning process happens to hold.
 */
export const RUNTIME_KIND_SERIES = 12;

export interface AgentSeriesInput {
  /** Series that do not depend on peers or DNS targets: the agent's own, plus Node.js process metrics (measured). */
  readonly baseSeries: number;
  readonly dnsTargets: number;
  readonly peers: number;
  /** 0, 1 or 2: whether the agent probes peers of its own zone, of other zones, or both. */
  readonly destinationScopes: number;
}

export function agentSeries(input: AgentSeriesInput): number {
  return input.baseSeries + input.dnsTargets * SERIES_PER_DNS_TARGET + input.peers * SERIES_PER_PEER + input.destinationScopes * SERIES_PER_DESTINATION_SCOPE;
}

/** The histograms' destination scopes an agent in `sourceZone` probing peers in `targetZones` exports (0, 1 or 2). */
export function destinationScopes(sourceZone: string, targetZones: Iterable<string>): number {
  const scopes = new Set<string>();
  for (const zone of targetZones) scopes.add(destinationScope(sourceZone, zone));
  return scopes.size;
}
