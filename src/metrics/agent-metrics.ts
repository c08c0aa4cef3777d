// The agent's own metrics, whatever it probes: its echo's requests and refused replies, event-loop stalls, its peer
// count, identity and controller connection, and Node.js process metrics. Every probe kind's series live in that
// kind's metrics module (udp-metrics.ts, tcp-metrics.ts, dns-metrics.ts), listed by the agent's probe table.
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { PROM_CLIENT_LAG_PRECISION_MS } from './event-loop-lag.ts';
import { SOURCE_LABELS, type Source, type SourceLabels } from './kind-metrics.ts';

export type { Source } from './kind-metrics.ts';

export interface AgentMetrics {
  /** One request to the agent's echo, by outcome (`echoed`, `refused_…`: the echo's own names). */
  echo(result: string): void;
  echoSendError(code: string): void;
  /** The event loop stalled for `durationMs` beyond the detector's tick: measurements overlapping it are unmeasured. */
  eventLoopStall(durationMs: number): void;
  /**
   * Peers probed (the selection's row, or every listed peer in a full mesh), peers listed (one per node, the agent
   * excluded) and the agents expected to probe this node: the alerts' and dashboard's denominators.
   */
  setPeerCounts(counts: PeerCounts): void;
  /** Whether the agent holds a stream to a controller (only with controller discovery; a no-op otherwise). */
  setControllerConnected(connected: boolean): void;
  /** Outcomes dropped before reaching a controller replica (only with controller discovery; a no-op otherwise). */
  reportsDropped(controller: string, reason: 'queue_full' | 'stale', count: number): void;
  /**
   * The agent's own node or zone changed (the controller told it): its labels change; the caller drops and re-adds
   * the probe kinds' series.
   */
  setSource(source: Source): void;
}

export interface PeerCounts {
  readonly probed: number;
  readonly listed: number;
  readonly expectedProbers: number;
}

export interface AgentMetricsOptions {
  readonly registry: Registry;
  readonly prefix: string;
  /** The agent's labels, shared with the probe kinds' metrics. */
  readonly labels: SourceLabels;
  readonly version: string;
  /** Collect Node.js process metrics (CPU, memory, event-loop lag, GC). */
  readonly processMetrics?: boolean;
  /** The agent gets its peers from a controller: export `<prefix>_agent_controller_connected` (0 until connected). */
  readonly controllerDiscovery?: boolean;
}

/** prom-client's GC kinds (`nodejs_gc_duration_seconds{kind}`). */
const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;

/** GC pauses, seconds: prom-client's buckets without 2 s and 5 s, which an agent heap of tens of MiB never reaches. */
const GC_DURATION_BUCKETS = [0.001, 0.01, 0.1, 1];

/**
 * prom-client's Node.js process metrics, with the GC histogram's four kinds created at zero: the agent's series count
 * does not grow as a kind is seen for the first time, so `kconmon plan` counts what a running agent exports.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: PROM_CLIENT_LAG_PRECISION_MS, gcDurationBuckets: GC_DURATION_BUCKETS });
  const gc = registry.getSingleMetric('nodejs_gc_duration_seconds');
  if (gc instanceof Histogram) for (const kind of GC_KINDS) gc.zero({ kind });
}

export function createAgentMetrics(options: AgentMetricsOptions): AgentMetrics {
  const { registry, prefix, labels, version, processMetrics = true, controllerDiscovery = false } = options;
  const registers = [registry];
  const name = (suffix: string) => `${prefix}_${suffix}`;
  // Every series names its agent, also the process and health metrics: scrape configs that drop `instance`/`pod`
  // (as the original's README suggested) keep them apart.
  registry.setDefaultLabels(labels.own());

  const echoes = new Counter({
    name: name('udp_echo_requests_total'),
    help: 'UDP echo requests received by this agent, by outcome',
    labelNames: ['result'] as const,
    registers,
  });
  const echoSendErrors = new Counter({
    name: name('udp_echo_send_errors_total'),
    help: 'UDP echo replies the kernel refused to send, by errno code',
    labelNames: ['code'] as const,
    registers,
  });
  const loopStalls = new Counter({ name: name('agent_event_loop_stalls_total'), help: 'Event-loop stalls detected while probes were in flight', registers });
  const loopStallSeconds = new Counter({ name: name('agent_event_loop_stall_seconds_total'), help: 'Total length of detected event-loop stalls', registers });
  const peers = new Gauge({ name: name('agent_peers'), help: 'Peers this agent currently probes', registers });
  const listedPeers = new Gauge({ name: name('agent_listed_peers'), help: 'Agents in the peer list, one per node, this agent excluded', registers });
  const expectedProbers = new Gauge({
    name: name('agent_expected_probers'),
    help: 'Agents that should probe this node under probing.maxPeers (every listed peer in a full mesh)',
    registers,
  });
  const info = new Gauge({
    name: name('agent_info'),
    help: 'Agent identity and version (always 1)',
    labelNames: [...SOURCE_LABELS, 'version'] as const,
    registers,
  });
  info.set({ ...labels.own(), version }, 1);
  // Alerts read it to tell a stale peer list (the agent may be probing nodes that left) from a broken network.
  const controllerConnected = controllerDiscovery
    ? new Gauge({
        name: name('agent_controller_connected'),
        help: 'Whether the agent holds a stream to a controller (1) or not (0)',
        labelNames: SOURCE_LABELS,
        registers,
      })
    : undefined;
  // Reports to the controllers that never got there: the verdicts are blind to them (the agent's own series are not).
  const reportsDropped = controllerDiscovery
    ? new Counter({
        name: name('agent_reports_dropped_total'),
        help: 'Probe outcomes dropped before reaching a controller replica: queue_full (it did not take them fast enough), stale (none connected)',
        labelNames: ['controller', 'reason'] as const,
        registers,
      })
    : undefined;
  let isConnected = false;
  const setConnected = () => controllerConnected?.set(labels.own(), isConnected ? 1 : 0);
  setConnected();
  // nodejs_eventloop_lag_* come from event-loop-lag.ts (true sub-millisecond figures); prom-client's own 10 ms monitor
  // would wake the loop 100 times a second for figures that read ~11 ms on an idle agent.
  if (processMetrics) collectProcessMetrics(registry);

  return {
    echo: (result) => echoes.inc({ result }),
    echoSendError: (code) => echoSendErrors.inc({ code }),
    eventLoopStall(durationMs) {
      loopStalls.inc();
      loopStallSeconds.inc(durationMs / 1000);
    },
    setPeerCounts(counts) {
      peers.set(counts.probed);
      listedPeers.set(counts.listed);
      expectedProbers.set(counts.expectedProbers);
    },
    setControllerConnected(connected) {
      isConnected = connected;
      setConnected();
    },
    reportsDropped: (controller, reason, count) => reportsDropped?.inc({ controller, reason }, count),
    setSource(next) {
      labels.setSource(next);
      registry.setDefaultLabels(labels.own());
      info.reset();
      info.set({ ...labels.own(), version }, 1);
      controllerConnected?.reset();
      setConnected();
    },
  };
}
