// Loss rules over the packets of the last few windows, for pairs that are up and not explained by a reachability
// verdict (a dead path is a reachability problem, not loss). Lossy means the lower confidence bound of the loss rate
// is above the threshold — enough packets to be sure, never one unlucky packet:
//   1. lossy zone pair: zone A → zone B surely lossy, the loss spread over several sources and destinations and over
//      at least half the pairs, while both zones are not lossy inside;
//   2. lossy node: the pairs to and from the node (an echo's request or reply may be the one lost) surely lossy, with
//      loss on at least half of its peers and on two of them; greedy, worst first, a blamed node's pairs no longer
//      count against its peers.
import { wilsonLowerBound } from './binomial.ts';
import type { PairIndex } from './pair-index.ts';
import { pairRefs, splitZonePair } from './pair-index.ts';
import type { VerdictThresholds } from './thresholds.ts';
import type { Finding } from './types.ts';
import { getOrCreate } from './get-or-create.ts';

export function findLossProblems(index: PairIndex, t: VerdictThresholds): Finding[] {
  const findings: Finding[] = [];
  const eligible = (i: number) => !index.explained[i] && index.pairs[i]!.status === 'up' && index.pairs[i]!.lossSent > 0;
  const lossyPair = (i: number) => {
    const pair = index.pairs[i]!;
    return pair.lossLost > 0 && pair.lossLost / pair.lossSent >= t.lossRate;
  };
  const surely = (lost: number, sent: number) => sent >= t.minLossPackets && wilsonLowerBound(lost, sent, t.lossConfidenceZ) > t.lossRate;

  // Zones not lossy inside: their own pairs, summed, not surely above the threshold.
  const zoneTotals = new Map<string, { sent: number; lost: number }>();
  for (const [key, indices] of index.byZonePair) {
    const [sourceZone, destinationZone] = splitZonePair(key);
    if (sourceZone !== destinationZone) continue;
    const totals = { sent: 0, lost: 0 };
    for (const i of indices) {
      if (!eligible(i)) continue;
      totals.sent += index.pairs[i]!.lossSent;
      totals.lost += index.pairs[i]!.lossLost;
    }
    if (totals.sent > 0) zoneTotals.set(sourceZone, totals);
  }
  const quietInside = (zone: string) => {
    const totals = zoneTotals.get(zone);
    return totals !== undefined && wilsonLowerBound(totals.lost, totals.sent, t.lossConfidenceZ) <= t.lossRate;
  };

  for (const [key, indices] of index.byZonePair) {
    const [sourceZone, destinationZone] = splitZonePair(key);
    if (sourceZone === destinationZone || !quietInside(sourceZone) || !quietInside(destinationZone)) continue;
    let sent = 0;
    let lost = 0;
    let pairs = 0;
    const lossy: number[] = [];
    const sources = new Set<string>();
    const destinations = new Set<string>();
    for (const i of indices) {
      if (!eligible(i)) continue;
      const pair = index.pairs[i]!;
      pairs++;
      sent += pair.lossSent;
      lost += pair.lossLost;
      if (lossyPair(i)) {
        lossy.push(i);
        sources.add(pair.source);
        destinations.add(pair.destination);
      }
    }
    if (!surely(lost, sent) || lossy.length / pairs < t.nodeShare || sources.size < t.minZoneSpread || destinations.size < t.minZoneSpread) continue;
    for (const i of indices) index.explained[i] = 1;
    findings.push({
      id: `lossy-zone-pair:${sourceZone}>${destinationZone}`,
      kind: 'lossy-zone-pair',
      subject: { sourceZone, destinationZone },
      evidence: lossEvidence(index, lossy, pairs, sent, lost, t),
    });
  }

  // Per node: peer → packets of the pairs between them (both directions), unexplained and up.
  const peersOf = new Map<string, Map<string, { sent: number; lost: number; pairs: number[] }>>();
  const add = (node: string, peer: string, i: number) => {
    const peers = getOrCreate(peersOf, node, () => new Map<string, { sent: number; lost: number; pairs: number[] }>());
    const entry = getOrCreate(peers, peer, () => ({ sent: 0, lost: 0, pairs: [] as number[] }));
    entry.sent += index.pairs[i]!.lossSent;
    entry.lost += index.pairs[i]!.lossLost;
    entry.pairs.push(i);
  };
  // Only nodes with at least minFailingPairs lossy pairs can qualify: the others need no per-peer table.
  const lossyPairsOf = new Map<string, number>();
  index.pairs.forEach((pair, i) => {
    if (!eligible(i) || !lossyPair(i)) return;
    lossyPairsOf.set(pair.source, (lossyPairsOf.get(pair.source) ?? 0) + 1);
    lossyPairsOf.set(pair.destination, (lossyPairsOf.get(pair.destination) ?? 0) + 1);
  });
  const mayQualify = (node: string) => (lossyPairsOf.get(node) ?? 0) >= t.minFailingPairs;
  index.pairs.forEach((pair, i) => {
    if (!eligible(i)) return;
    if (mayQualify(pair.source)) add(pair.source, pair.destination, i);
    if (mayQualify(pair.destination)) add(pair.destination, pair.source, i);
  });
  const nodeCounts = (node: string) => {
    let sent = 0;
    let lost = 0;
    let peers = 0;
    const lossyPeers: string[] = [];
    const lossyPairs: number[] = [];
    for (const [peer, entry] of peersOf.get(node) ?? []) {
      peers++;
      sent += entry.sent;
      lost += entry.lost;
      if (entry.lost > 0 && entry.lost / entry.sent >= t.lossRate) {
        lossyPeers.push(peer);
        lossyPairs.push(...entry.pairs.filter(lossyPair));
      }
    }
    const qualifies = surely(lost, sent) && lossyPeers.length >= t.minFailingPairs && lossyPeers.length / peers >= t.nodeShare;
    return { sent, lost, peers, lossyPeers, lossyPairs, qualifies };
  };
  const candidates: Array<{ node: string; bound: number }> = [];
  for (const node of peersOf.keys()) {
    const counts = nodeCounts(node);
    if (counts.qualifies) candidates.push({ node, bound: wilsonLowerBound(counts.lost, counts.sent, t.lossConfidenceZ) });
  }
  candidates.sort((a, b) => b.bound - a.bound || a.node.localeCompare(b.node));
  for (const { node } of candidates) {
    const counts = nodeCounts(node);
    if (!counts.qualifies) continue;
    // Its pairs no longer count against its peers.
    for (const peer of peersOf.get(node)?.keys() ?? []) peersOf.get(peer)?.delete(node);
    for (const entry of peersOf.get(node)?.values() ?? []) for (const i of entry.pairs) index.explained[i] = 1;
    findings.push({
      id: `lossy-node:${node}`,
      kind: 'lossy-node',
      subject: { node },
      evidence: { ...lossEvidence(index, counts.lossyPairs, counts.peers, counts.sent, counts.lost, t), failing: counts.lossyPeers.length },
    });
  }
  return findings;
}

function lossEvidence(index: PairIndex, lossy: readonly number[], of: number, sent: number, lost: number, t: VerdictThresholds) {
  return {
    failing: lossy.length,
    of,
    pairs: pairRefs(index, lossy, t.maxEvidencePairs),
    packetsSent: sent,
    packetsLost: lost,
    lossRate: lost / sent,
    lossLowerBound: wilsonLowerBound(lost, sent, t.lossConfidenceZ),
  };
}
