// The verdict rules' knobs, with defaults chosen for the default probe intervals (5 s): see docs/design/verdicts.md.

export interface VerdictThresholds {
  /** Windows in a row a rule must hold before its verdict is raised. */
  readonly raiseAfter: number;
  /** Windows in a row a raised verdict's rule must not hold before it is cleared. */
  readonly clearAfter: number;
  /** A pair without a report this window keeps its last status for this many windows (jitter can skip a window). */
  readonly carryWindows: number;
  /** Node as destination/source, latency node: the share of its pairs that must fail … */
  readonly nodeShare: number;
  /** … and at least this many failing pairs (one failing pair never blames a node). */
  readonly minFailingPairs: number;
  /** Zone pair (reachability, loss, latency): the share of its pairs that must fail … */
  readonly zoneShare: number;
  /** … spread over at least this many distinct sources and distinct destinations. */
  readonly minZoneSpread: number;
  /** A zone is healthy inside while fewer than this share of its own pairs fail. */
  readonly zoneHealthyShare: number;
  /** Loss rate above which a node or zone pair is lossy … */
  readonly lossRate: number;
  /** … once the lower confidence bound (Wilson, this z) of the measured rate exceeds it. 2.33 ≈ one-sided 99 %. */
  readonly lossConfidenceZ: number;
  /** Packets needed before any loss verdict. */
  readonly minLossPackets: number;
  /** Windows of packets summed per pair for the loss rules. */
  readonly lossWindows: number;
  /** RTT is elevated when above baseline × factor and baseline + minIncreaseMs. */
  readonly latencyFactor: number;
  readonly latencyMinIncreaseMs: number;
  /** Windows of RTT before a pair's baseline is trusted. */
  readonly baselineWarmupWindows: number;
  /** EWMA weight of a normal window's RTT in the pair's baseline … */
  readonly baselineWeight: number;
  /** … and of an elevated window's: a lasting change becomes the new normal after about half an hour at 5 s windows. */
  readonly elevatedBaselineWeight: number;
  /** DNS: a target fails everywhere when at least this share of nodes (and two of them) fail it. */
  readonly dnsEverywhereShare: number;
  /** At most this many asymmetric-path verdicts per window (the first by id); more are counted, not listed. */
  readonly maxPathVerdicts: number;
  /** Evidence lists are cut to this many entries (bounded output). */
  readonly maxEvidencePairs: number;
}

export const DEFAULT_VERDICT_THRESHOLDS: VerdictThresholds = {
  raiseAfter: 2,
  clearAfter: 2,
  carryWindows: 1,
  nodeShare: 0.5,
  minFailingPairs: 2,
  zoneShare: 0.8,
  minZoneSpread: 2,
  zoneHealthyShare: 0.5,
  lossRate: 0.05,
  lossConfidenceZ: 2.33,
  minLossPackets: 40,
  lossWindows: 2,
  latencyFactor: 3,
  latencyMinIncreaseMs: 2,
  baselineWarmupWindows: 5,
  baselineWeight: 0.1,
  elevatedBaselineWeight: 0.001,
  dnsEverywhereShare: 0.8,
  maxPathVerdicts: 20,
  maxEvidencePairs: 20,
};
