// How an entry of the probe table runs, the same for every kind: its metrics module is created (its families always
// registered), and when the config enables the kind, one probe scheduler over its targets (the peer set, or a list in
// the config) runs it. A result is recorded in the kind's metrics and in /results; a departed target's series and
// /results entry go the moment it leaves; a stopped kind aborts its in-flight probes and records nothing of them.
import type { AgentConfig } from '../config/schema.ts';
import type { Peer } from '../discovery/peer.ts';
import type { Logger } from '../log.ts';
import type { KindMetrics, KindMetricsDeps } from '../metrics/kind-metrics.ts';
import type { ProbeKind, ProbeOutcome, ProbeRuntime, RecordedOutcome } from '../probes/probe-kind.ts';
import { createProbeScheduler, type ProbeScheduler } from './probe-scheduler.ts';

/** Where a kind's targets come from and how they are named in series, /results and the scheduler. */
export interface TargetSource<Target> {
  /** Whether the targets follow the peer set (re-derived on every peer list) or are fixed by the config. */
  readonly followsPeers: boolean;
  targets(config: AgentConfig, peers: readonly Peer[]): readonly Target[];
  /** Unique among the kind's targets: the `/results` target and the scheduler's key. */
  key(target: Target): string;
  /** A changed version restarts the target's loop (a node's agent replaced by another pod, IP or zone). */
  version(target: Target): string;
  zone(target: Target): string | undefined;
  /** A new target's first run: a delay (new peers wait for discovery to spread), then a random share of a span. */
  firstRun(config: AgentConfig, intervalMs: number): { readonly delayMs: number; readonly spreadMs: number };
}

/** One `/results` entry of a kind. */
export interface ProbeResultEntry<Name extends string, Summary> {
  readonly test: Name;
  /** Destination node name, or the DNS target's label. */
  readonly target: string;
  readonly targetZone?: string | undefined;
  readonly at: string;
  readonly passed: boolean;
  readonly summary: Summary;
}

/** Where a kind writes its `/results` entries (write-only, so one history of every kind serves them all). */
export interface ResultSink<Entry extends { readonly test: string }> {
  add(entry: Entry): void;
  forget(test: Entry['test'], target: string): void;
}

export interface KindContext<Entry extends { readonly test: string }> {
  readonly config: AgentConfig;
  readonly runtime: ProbeRuntime;
  readonly metricsDeps: KindMetricsDeps;
  readonly results: ResultSink<Entry>;
  /** Every recorded result of every kind (the agent reports them to the controllers); must not throw or block. */
  readonly onOutcome?: (outcome: RecordedOutcome) => void;
  readonly log: Logger;
}

/** A kind of the table, opened: what the agent does with it, whatever the kind. */
export interface OpenProbeKind {
  readonly name: string;
  /** Whether the config enabled it (a disabled kind has its metric families and nothing else). */
  readonly enabled: boolean;
  /** The peer set changed (one peer per node, never the agent itself): kinds that follow peers probe exactly these. */
  setPeers(peers: readonly Peer[]): void;
  /** The agent's source labels changed: drops the kind's series and re-creates its targets' series. */
  relabel(): void;
  /** Stops probing: in-flight probes are aborted and nothing more is recorded. */
  stop(): Promise<void>;
  /** Stops, then releases what the kind opened (sockets). */
  close(): Promise<void>;
}

export interface ProbeTableEntry<
  Name extends string,
  Target,
  Options,
  Result extends ProbeOutcome,
  Summary,
  Events,
  Metrics extends KindMetrics<Target, Result> & Events,
> {
  /** Probes any target with what it needs (an address, say), so it takes the source's targets (peers). */
  readonly probe: ProbeKind<Name, NoInfer<Target>, Options, Result, Summary, Events>;
  readonly targets: TargetSource<Target>;
  readonly metrics: (deps: KindMetricsDeps) => Metrics;
}

/** A table entry: the probe, its targets and its metrics, checked to fit together, and how it opens. */
export function probeEntry<
  Name extends string,
  Target,
  Options,
  Result extends ProbeOutcome,
  Summary,
  Events,
  Metrics extends KindMetrics<Target, Result> & Events,
>(entry: ProbeTableEntry<Name, Target, Options, Result, Summary, Events, Metrics>) {
  return {
    ...entry,
    name: entry.probe.name,
    open: (context: KindContext<ProbeResultEntry<Name, Summary>>) => openProbeKind(entry, context),
  };
}

async function openProbeKind<
  Name extends string,
  Target,
  Options,
  Result extends ProbeOutcome,
  Summary,
  Events,
  Metrics extends KindMetrics<Target, Result> & Events,
>(
  entry: ProbeTableEntry<Name, Target, Options, Result, Summary, Events, Metrics>,
  context: KindContext<ProbeResultEntry<Name, Summary>>,
): Promise<OpenProbeKind> {
  const { probe, targets: source } = entry;
  const { config, results, log } = context;
  const name = probe.name;
  const metrics = entry.metrics(context.metricsDeps);
  const prepared = await probe.prepare(config, context.runtime, metrics);
  if (prepared === undefined) {
    return { name, enabled: false, setPeers: () => undefined, relabel: () => metrics.reset(), stop: async () => undefined, close: async () => undefined };
  }
  const { options } = prepared;

  function record(target: Target, result: Result): void {
    if (result.aborted) return;
    const endedAt = performance.now();
    metrics.record(target, result);
    const measured = context.onOutcome === undefined ? undefined : probe.measure(result);
    if (measured !== undefined) context.onOutcome?.({ kind: name, destination: source.key(target), ...measured, endedAt });
    const summary = probe.summarise(result);
    if (summary === undefined) return;
    results.add({ test: name, target: source.key(target), targetZone: source.zone(target), at: new Date().toISOString(), passed: result.passed, summary });
  }

  const firstRun = source.firstRun(config, prepared.intervalMs);
  const scheduler: ProbeScheduler<Target> = createProbeScheduler({
    test: {
      name,
      intervalMs: prepared.intervalMs,
      run: (target, signal) => probe.run(target, options, signal),
      record,
    },
    key: source.key,
    version: source.version,
    jitter: config.jitter,
    firstRunDelayMs: firstRun.delayMs,
    firstRunSpreadMs: firstRun.spreadMs,
    onError: (test, target, error) => log.error({ test, target: source.key(target), err: error }, 'probe failed unexpectedly'),
  });

  function setTargets(targets: readonly Target[]): void {
    const change = scheduler.setTargets(targets);
    for (const target of change.removed) {
      metrics.remove(target);
      results.forget(name, source.key(target));
    }
    // A replaced target keeps its series and counters; only a new zone (new labels) re-creates them.
    for (const { before, after } of change.replaced) {
      if (source.zone(before) === source.zone(after)) continue;
      metrics.remove(before);
      metrics.add(after);
    }
    for (const target of change.added) metrics.add(target);
  }

  setTargets(source.targets(config, []));
  let stopped = false;
  return {
    name,
    enabled: true,
    setPeers(peers) {
      if (!stopped && source.followsPeers) setTargets(source.targets(config, peers));
    },
    relabel() {
      metrics.reset();
      for (const target of scheduler.targets()) metrics.add(target);
    },
    async stop() {
      stopped = true;
      await scheduler.stop();
    },
    async close() {
      stopped = true;
      await scheduler.stop();
      await prepared.close?.();
    },
  };
}
