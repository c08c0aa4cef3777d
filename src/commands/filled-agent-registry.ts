// A real agent metrics registry filled as a running agent's is: the agent's own metrics and the probe kinds' (as the
// probe table creates them), with one passed UDP and TCP result per peer and one passed DNS result per DNS target.
// `kconmon plan` renders it to count series and bytes; bench/agent/render-cost.ts renders it to time /metrics.
import { Registry } from 'prom-client';
import type { DnsTarget } from '../config/schema.ts';
import type { Peer } from '../discovery/peer.ts';
import { createAgentMetrics, type AgentMetrics } from '../metrics/agent-metrics.ts';
import { createDnsMetrics } from '../metrics/dns-metrics.ts';
import { createSourceLabels } from '../metrics/kind-metrics.ts';
import { createTcpMetrics } from '../metrics/tcp-metrics.ts';
import { createUdpMetrics } from '../metrics/udp-metrics.ts';
import { summarise as summariseUdp } from '../probes/udp.ts';

export interface FilledAgentRegistryOptions {
  readonly prefix: string;
  readonly source: { readonly nodeName: string; readonly zone: string };
  /** The `version` label of the agent's info metric. */
  readonly version: string;
  /** Whether the Node.js process metrics are collected (as the agent's `metrics.processMetrics`). */
  readonly processMetrics: boolean;
  readonly controllerDiscovery: boolean;
  readonly peers: readonly Peer[];
  /** Every peer's one passed UDP test: the round-trip time of each packet sent (all received). */
  readonly udpRttMicros: readonly number[];
  /** The DNS targets, each with one passed test; undefined: the DNS kind's metrics are not created at all. */
  readonly dnsTargets: readonly DnsTarget[] | undefined;
}

export interface FilledAgentRegistry {
  readonly registry: Registry;
  /** The agent's own metrics in it, for a caller to record more (an echoed request…). */
  readonly agentMetrics: AgentMetrics;
}

export function createFilledAgentRegistry(options: FilledAgentRegistryOptions): FilledAgentRegistry {
  const { prefix, version, processMetrics, controllerDiscovery, peers, udpRttMicros, dnsTargets } = options;
  const registry = new Registry();
  const labels = createSourceLabels(options.source);
  const agentMetrics = createAgentMetrics({ registry, prefix, labels, version, processMetrics, controllerDiscovery });
  const deps = { registry, prefix, labels, peerAt: () => undefined };
  const [udp, tcp] = [createUdpMetrics(deps), createTcpMetrics(deps)];
  const dns = dnsTargets === undefined ? undefined : createDnsMetrics(deps);
  const udpResult = summariseUdp({ rttMicros: [...udpRttMicros], sent: udpRttMicros.length, unmeasured: 0, late: 0, aborted: false });
  for (const peer of peers) {
    udp.add(peer);
    tcp.add(peer);
    udp.record(peer, udpResult);
    tcp.record(peer, {
      kind: 'tcp',
      passed: true,
      connectMs: 0.3,
      totalMs: 0.9,
      statusCode: 200,
      reason: undefined,
      detail: undefined,
      aborted: false,
      unmeasured: false,
    });
  }
  for (const target of dnsTargets ?? []) {
    dns?.add(target);
    dns?.record(target, { kind: 'dns', passed: true, aborted: false, durationMs: 1, answers: ['10.0.0.1'], reason: undefined, detail: undefined });
  }
  return { registry, agentMetrics };
}
