// The verdict engine: outcomes are recorded into the open window as they arrive; closeWindow(now, topology) runs the
// rules over the window (reachability first, then loss, latency and DNS, each skipping what a stronger verdict
// explains), applies the hysteresis and returns the active verdicts with their evidence. No I/O and no timers: the
// caller closes windows on its clock (the controller: every window length, on a monotonic clock).
import { findDnsProblems } from './dns.ts';
import { stepHysteresis, type Tracked } from './hysteresis.ts';
import { findLatencyProblems } from './latency.ts';
import { findLossProblems } from './loss.ts';
import { indexPairs } from './pair-index.ts';
import { createPairState } from './pair-state.ts';
import { findReachabilityProblems } from './reachability.ts';
import { describeFinding, utcClockTime, type TimeFormatter } from './summary.ts';
import { DEFAULT_VERDICT_THRESHOLDS, type VerdictThresholds } from './thresholds.ts';
import type { Finding, NodeState, ProbeOutcome, Topology, Verdict, VerdictKind, WindowReport } from './types.ts';

export interface VerdictEngineOptions {
  /** Start of the first window, on the caller's clock. */
  readonly start: number;
  readonly thresholds?: Partial<VerdictThresholds>;
  /** Renders engine times in summaries (default: Unix ms as HH:MM:SS UTC). */
  readonly formatTime?: TimeFormatter;
}

export interface VerdictEngine {
  /**
   * Counts one outcome into the open window. Returns why it was ignored, or undefined: an outcome older than the
   * previous window's start (a backlog), a self-probe, impossible packet counts. (Unknown, terminating and unassigned
   * pairs are sorted out when the window closes.) The caller validates its input first; this is the last guard.
   */
  record(outcome: ProbeOutcome): string | undefined;
  /** Closes the open window at `now` and opens the next one. */
  closeWindow(now: number, topology: Topology): WindowReport;
  /** The active verdicts as of the last closed window. */
  verdicts(): readonly Verdict[];
}

const KIND_ORDER: readonly VerdictKind[] = [
  'zone-pair',
  'node-destination',
  'node-source',
  'asymmetric-path',
  'lossy-zone-pair',
  'lossy-node',
  'latency-zone-pair',
  'latency-node',
  'dns-everywhere',
  'dns-some-nodes',
];

export function createVerdictEngine(options: VerdictEngineOptions): VerdictEngine {
  const thresholds: VerdictThresholds = { ...DEFAULT_VERDICT_THRESHOLDS, ...options.thresholds };
  const formatTime = options.formatTime ?? utcClockTime;
  const pairState = createPairState(thresholds);
  let windowStart = options.start;
  let previousWindowStart = Number.NEGATIVE_INFINITY;
  let outcomes = 0;
  let ignored = 0;
  let tracked = new Map<string, Tracked>();
  let active: Verdict[] = [];

  return {
    record(outcome) {
      outcomes++;
      const problem =
        outcome.at < previousWindowStart ? `ended at ${outcome.at}, before the previous window (${previousWindowStart})` : pairState.record(outcome);
      if (problem !== undefined) ignored++;
      return problem;
    },

    closeWindow(now, topology) {
      const nodes = new Map<string, NodeState>(topology.nodes.map((node) => [node.name, node]));
      const closed = pairState.close(nodes, topology.probes);
      const index = indexPairs(closed.pairs);
      const reachability = findReachabilityProblems(index, thresholds);
      const findings: Finding[] = [
        ...reachability.findings,
        ...findLossProblems(index, thresholds),
        ...findLatencyProblems(index, thresholds),
        ...findDnsProblems(closed.dns, reachability.blamedNodes, thresholds),
      ];
      const liveZones = new Set(topology.nodes.filter((node) => !node.terminating).map((node) => node.zone));
      const blameableNode = (name: string | undefined) => name === undefined || nodes.get(name)?.terminating === false;
      const blameableZone = (zone: string | undefined) => zone === undefined || liveZones.has(zone);
      tracked = stepHysteresis(tracked, findings, { start: windowStart, end: now }, thresholds, ({ subject }) => {
        return (
          blameableNode(subject.node) &&
          blameableNode(subject.source) &&
          blameableNode(subject.destination) &&
          blameableZone(subject.sourceZone) &&
          blameableZone(subject.destinationZone)
        );
      });
      active = [];
      for (const entry of tracked.values()) {
        if (entry.raisedAt === undefined) continue;
        active.push({
          ...entry.finding,
          since: entry.since,
          raisedAt: entry.raisedAt,
          windows: entry.streak,
          cleanWindows: entry.clean,
          summary: describeFinding(entry.finding, entry.since, formatTime),
        });
      }
      active.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.id.localeCompare(b.id));
      let pairsKnown = 0;
      let pairsDown = 0;
      let pairsDownUnexplained = 0;
      closed.pairs.forEach((pair, i) => {
        if (pair.status === undefined) return;
        pairsKnown++;
        if (pair.status !== 'down') return;
        pairsDown++;
        if (!index.explained[i]) pairsDownUnexplained++;
      });
      const report: WindowReport = {
        windowStart,
        windowEnd: now,
        verdicts: active,
        findings,
        pairs: closed.pairs,
        stats: {
          outcomes,
          ignored: ignored + closed.ignored,
          pairsKnown,
          pairsDown,
          pairsDownUnexplained,
          asymmetricPathsOmitted: reachability.omittedPaths,
          pairsTracked: pairState.size(),
        },
      };
      previousWindowStart = windowStart;
      windowStart = now;
      outcomes = 0;
      ignored = 0;
      return report;
    },

    verdicts: () => active,
  };
}
