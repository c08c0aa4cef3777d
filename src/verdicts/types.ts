// The verdict engine's vocabulary: what goes in (probe outcome summaries, the node set), what comes out (verdicts with
// evidence). No I/O and no clock: every time is a number of milliseconds on a clock the caller chooses (monotonic).
import type { PairView } from './pair-state.ts';

export type ProbeKind = 'udp' | 'tcp' | 'dns';

/** One probe's outcome as an agent reports it (one UDP test of N packets, one TCP test, or one DNS query). */
export interface ProbeOutcome {
  readonly kind: ProbeKind;
  readonly source: string;
  readonly sourceZone: string;
  /** Destination node, or the DNS target's label. */
  readonly destination: string;
  /** Destination node's zone ('' for DNS). The engine uses the node set's zones; this is informative. */
  readonly destinationZone: string;
  readonly passed: boolean;
  /** UDP: measured packets; TCP and DNS: 1. */
  readonly packetsSent: number;
  /** UDP: measured packets that got no reply; TCP and DNS: 1 if failed, else 0. */
  readonly packetsLost: number;
  /** Mean RTT of the answered packets (UDP), total time (TCP) or query time (DNS); undefined if none. */
  readonly rttMs: number | undefined;
  /** When the probe ended, on the engine's clock (the controller stamps receipt time minus the reported age). */
  readonly at: number;
}

export interface NodeState {
  readonly name: string;
  readonly zone: string;
  /** Leaving the cluster (its agent is terminating or the Node is being deleted): never blamed, its pairs ignored. */
  readonly terminating: boolean;
}

export interface Topology {
  readonly nodes: readonly NodeState[];
  /**
   * Who probes whom under bounded probing: source → destinations. Undefined means every node probes every other node.
   * Reports for a pair that is not (or no longer) assigned are ignored.
   */
  readonly probes?: ReadonlyMap<string, ReadonlySet<string>>;
}

export type VerdictKind =
  | 'node-destination'
  | 'node-source'
  | 'zone-pair'
  | 'asymmetric-path'
  | 'lossy-node'
  | 'lossy-zone-pair'
  | 'latency-node'
  | 'latency-zone-pair'
  | 'dns-everywhere'
  | 'dns-some-nodes';

/** What a verdict is about; only the fields of its kind are set. */
export interface VerdictSubject {
  readonly node?: string;
  readonly zone?: string;
  readonly sourceZone?: string;
  readonly destinationZone?: string;
  readonly source?: string;
  readonly destination?: string;
  /** DNS target label. */
  readonly target?: string;
}

export interface PairRef {
  readonly source: string;
  readonly destination: string;
}

/** Why: counts over the window that raised or last confirmed the verdict. */
export interface Evidence {
  /** Failing (or lossy, or slow) pairs or nodes … */
  readonly failing: number;
  /** … of this many with data. */
  readonly of: number;
  /** Up to `maxEvidencePairs` of the failing pairs. */
  readonly pairs: readonly PairRef[];
  /** DNS: the failing nodes (at most `maxEvidencePairs`). */
  readonly nodes?: readonly string[];
  readonly packetsSent?: number;
  readonly packetsLost?: number;
  /** Point estimate and the lower confidence bound of the loss rate (0–1). */
  readonly lossRate?: number;
  readonly lossLowerBound?: number;
  /** Median RTT of the slow pairs now, and the median of their baselines. */
  readonly rttMs?: number;
  readonly baselineMs?: number;
}

export interface Verdict {
  /** Stable identity: kind plus subject; the same problem keeps its id from window to window. */
  readonly id: string;
  readonly kind: VerdictKind;
  readonly subject: VerdictSubject;
  readonly evidence: Evidence;
  /** Start of the first window of the unbroken run of windows that raised it. */
  readonly since: number;
  /** End of the window in which it was raised. */
  readonly raisedAt: number;
  /** Consecutive windows in which the rule held (resets when it does not). */
  readonly windows: number;
  /** Clean windows seen since it last held (0 while it holds; it clears at `clearAfter`). */
  readonly cleanWindows: number;
  /** One line for humans: "node-4 unreachable from 11 of 12 probers since 12:03:11 (destination problem)". */
  readonly summary: string;
}

/** A verdict candidate of one window, before hysteresis. */
export interface Finding {
  readonly id: string;
  readonly kind: VerdictKind;
  readonly subject: VerdictSubject;
  readonly evidence: Evidence;
}

export interface WindowReport {
  /** The window just closed: [start, end). */
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Active verdicts (raised, not yet cleared), ordered by kind then id. */
  readonly verdicts: readonly Verdict[];
  /** This window's findings, raised or not (what the hysteresis saw). */
  readonly findings: readonly Finding[];
  readonly stats: WindowStats;
  /** Every live node pair as the rules saw it this window (the web view's matrices). */
  readonly pairs: readonly PairView[];
}

export interface WindowStats {
  readonly outcomes: number;
  /** Outcomes ignored: unknown or terminating node, self-probe, unassigned pair, or older than the previous window. */
  readonly ignored: number;
  /** Node pairs with a reachability status this window (measured or carried over one window). */
  readonly pairsKnown: number;
  readonly pairsDown: number;
  /** Down pairs that no verdict explains (a single failing pair blames nobody). */
  readonly pairsDownUnexplained: number;
  /** Asymmetric paths found beyond maxPathVerdicts this window, not reported as verdicts. */
  readonly asymmetricPathsOmitted: number;
  /** Pairs the engine keeps state for. */
  readonly pairsTracked: number;
}
