// Latency rules: a pair is slow in a window when its RTT is well above its own baseline (pair-state.ts). Over the
// pairs with a baseline and not explained by a reachability verdict:
//   1. latency zone pair: at least half of zone A → zone B's pairs slow, over several sources and destinations, while
//      both zones are not slow inside;
//   2. latency node: at least half of its peers (and two of them) slow in either direction; greedy, worst first.
import type { PairIndex } from './pair-index.ts';
import { pairRefs, splitZonePair } from './pair-index.ts';
import { median } from './median.ts';
import { zonesHealthyInside } from './reachability.ts';
import type { VerdictThresholds } from './thresholds.ts';
import type { Evidence, Finding } from './types.ts';
import { getOrCreate } from './get-or-create.ts';

export function findLatencyProblems(index: PairIndex, t: VerdictThresholds): Finding[] {
  const findings: Finding[] = [];
  const eligible = (i: number) => !index.explained[i] && index.pairs[i]!.rttMs !== undefined && index.pairs[i]!.baselineMs !== undefined;
  const calm = zonesHealthyInside(index, (i) => (eligible(i) ? index.pairs[i]!.elevated : undefined), t.zoneHealthyShare);

  for (const [key, indices] of index.byZonePair) {
    const [sourceZone, destinationZone] = splitZonePair(key);
    if (sourceZone === destinationZone || !calm.has(sourceZone) || !calm.has(destinationZone)) continue;
    let known = 0;
    const slow: number[] = [];
    const sources = new Set<string>();
    const destinations = new Set<string>();
    for (const i of indices) {
      if (!eligible(i)) continue;
      known++;
      const pair = index.pairs[i]!;
      if (!pair.elevated) continue;
      slow.push(i);
      sources.add(pair.source);
      destinations.add(pair.destination);
    }
    if (known === 0 || slow.length / known < t.nodeShare || sources.size < t.minZoneSpread || destinations.size < t.minZoneSpread) continue;
    for (const i of indices) index.explained[i] = 1;
    findings.push({
      id: `latency-zone-pair:${sourceZone}>${destinationZone}`,
      kind: 'latency-zone-pair',
      subject: { sourceZone, destinationZone },
      evidence: latencyEvidence(index, slow, known, t),
    });
  }

  // Per node: peer → the pairs between them (both directions) with RTT and baseline.
  const peersOf = new Map<string, Map<string, number[]>>();
  const add = (node: string, peer: string, i: number) => {
    getOrCreate(
      getOrCreate(peersOf, node, () => new Map<string, number[]>()),
      peer,
      () => [] as number[],
    ).push(i);
  };
  // Only nodes with at least minFailingPairs slow pairs can qualify: the others need no per-peer table.
  const slowPairsOf = new Map<string, number>();
  index.pairs.forEach((pair, i) => {
    if (!eligible(i) || !pair.elevated) return;
    slowPairsOf.set(pair.source, (slowPairsOf.get(pair.source) ?? 0) + 1);
    slowPairsOf.set(pair.destination, (slowPairsOf.get(pair.destination) ?? 0) + 1);
  });
  const mayQualify = (node: string) => (slowPairsOf.get(node) ?? 0) >= t.minFailingPairs;
  index.pairs.forEach((pair, i) => {
    if (!eligible(i)) return;
    if (mayQualify(pair.source)) add(pair.source, pair.destination, i);
    if (mayQualify(pair.destination)) add(pair.destination, pair.source, i);
  });
  const nodeCounts = (node: string) => {
    let peers = 0;
    let slowPeers = 0;
    const slow: number[] = [];
    for (const pairs of peersOf.get(node)?.values() ?? []) {
      peers++;
      const slowHere = pairs.filter((i) => index.pairs[i]!.elevated);
      if (slowHere.length > 0) slowPeers++;
      slow.push(...slowHere);
    }
    return { peers, slowPeers, slow, qualifies: slowPeers >= t.minFailingPairs && slowPeers / peers >= t.nodeShare };
  };
  const candidates: Array<{ node: string; share: number }> = [];
  for (const node of peersOf.keys()) {
    const counts = nodeCounts(node);
    if (counts.qualifies) candidates.push({ node, share: counts.slowPeers / counts.peers });
  }
  candidates.sort((a, b) => b.share - a.share || a.node.localeCompare(b.node));
  for (const { node } of candidates) {
    const counts = nodeCounts(node);
    if (!counts.qualifies) continue;
    for (const peer of peersOf.get(node)?.keys() ?? []) peersOf.get(peer)?.delete(node);
    for (const pairs of peersOf.get(node)?.values() ?? []) for (const i of pairs) index.explained[i] = 1;
    findings.push({
      id: `latency-node:${node}`,
      kind: 'latency-node',
      subject: { node },
      evidence: { ...latencyEvidence(index, counts.slow, counts.peers, t), failing: counts.slowPeers },
    });
  }
  return findings;
}

function latencyEvidence(index: PairIndex, slow: readonly number[], of: number, t: VerdictThresholds): Evidence {
  return {
    failing: slow.length,
    of,
    pairs: pairRefs(index, slow, t.maxEvidencePairs),
    rttMs: median(slow.map((i) => index.pairs[i]!.rttMs!)),
    baselineMs: median(slow.map((i) => index.pairs[i]!.baselineMs!)),
  };
}
