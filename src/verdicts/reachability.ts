// Reachability rules over one window's pair statuses, strongest explanation first, each marking the pairs it explains
// so the next rule never blames them again (the idea of Pingmesh / 007 / NetBouncer: many probes, few culprits):
//   1. zone pair: most pairs from zone A to zone B are down, over several sources and destinations, while both zones
//      are healthy inside (their own pairs mostly up): a partition, per direction;
//   2. node as destination: a large share of its probers fail (greedy, worst first); its own outgoing pairs are then
//      explained too (nothing it sends can be answered);
//   3. node as source: it fails a large share of the targets that the other probers reach;
//   4. asymmetric path: A→B down while B→A is up.
// Whatever is left (a single failing pair) blames nobody.
import type { PairIndex } from './pair-index.ts';
import { pairRefs, splitZonePair } from './pair-index.ts';
import type { VerdictThresholds } from './thresholds.ts';
import type { Finding } from './types.ts';

export interface ReachabilityResult {
  readonly findings: Finding[];
  /** Nodes blamed as destination or source (their DNS failures are explained too). */
  readonly blamedNodes: ReadonlySet<string>;
  /** Asymmetric paths found beyond `maxPathVerdicts`, left out. */
  readonly omittedPaths: number;
}

interface Counts {
  known: number;
  down: number;
}

export function findReachabilityProblems(index: PairIndex, thresholds: VerdictThresholds): ReachabilityResult {
  const findings: Finding[] = [];
  const blamedNodes = new Set<string>();
  findZonePartitions(index, thresholds, findings);
  findDestinationNodes(index, thresholds, findings, blamedNodes);
  findSourceNodes(index, thresholds, findings, blamedNodes);
  const omittedPaths = findAsymmetricPaths(index, thresholds, findings);
  return { findings, blamedNodes, omittedPaths };
}

/** Zones whose own pairs are mostly up, with at least one own pair known. */
export function zonesHealthyInside(index: PairIndex, isBad: (pairIndex: number) => boolean | undefined, healthyShare: number): Set<string> {
  const healthy = new Set<string>();
  for (const [key, indices] of index.byZonePair) {
    const [sourceZone, destinationZone] = splitZonePair(key);
    if (sourceZone !== destinationZone) continue;
    let known = 0;
    let bad = 0;
    for (const i of indices) {
      const verdict = isBad(i);
      if (verdict === undefined) continue;
      known++;
      if (verdict) bad++;
    }
    if (known > 0 && bad / known < healthyShare) healthy.add(sourceZone);
  }
  return healthy;
}

function findZonePartitions(index: PairIndex, t: VerdictThresholds, findings: Finding[]): void {
  const status = (i: number) => (index.pairs[i]!.status === undefined ? undefined : index.pairs[i]!.status === 'down');
  const healthy = zonesHealthyInside(index, status, t.zoneHealthyShare);
  for (const [key, indices] of index.byZonePair) {
    const [sourceZone, destinationZone] = splitZonePair(key);
    if (sourceZone === destinationZone || !healthy.has(sourceZone) || !healthy.has(destinationZone)) continue;
    const down: number[] = [];
    let known = 0;
    const sources = new Set<string>();
    const destinations = new Set<string>();
    for (const i of indices) {
      const pair = index.pairs[i]!;
      if (pair.status === undefined) continue;
      known++;
      if (pair.status === 'down') {
        down.push(i);
        sources.add(pair.source);
        destinations.add(pair.destination);
      }
    }
    if (known === 0 || down.length / known < t.zoneShare || sources.size < t.minZoneSpread || destinations.size < t.minZoneSpread) continue;
    for (const i of indices) index.explained[i] = 1;
    findings.push({
      id: `zone-pair:${sourceZone}>${destinationZone}`,
      kind: 'zone-pair',
      subject: { sourceZone, destinationZone },
      evidence: { failing: down.length, of: known, pairs: pairRefs(index, down, t.maxEvidencePairs) },
    });
  }
}

/** Known and down counts of the unexplained pairs in `indices`. */
function countOf(index: PairIndex, indices: readonly number[] | undefined, skip?: (i: number) => boolean): Counts & { downIndices: number[] } {
  const counts = { known: 0, down: 0, downIndices: [] as number[] };
  for (const i of indices ?? []) {
    const pair = index.pairs[i]!;
    if (index.explained[i] || pair.status === undefined || skip?.(i)) continue;
    counts.known++;
    if (pair.status === 'down') {
      counts.down++;
      counts.downIndices.push(i);
    }
  }
  return counts;
}

function qualifies(counts: Counts, t: VerdictThresholds): boolean {
  return counts.down >= t.minFailingPairs && counts.down / counts.known >= t.nodeShare;
}

/** Candidates in worst-first order (share, then failing count, then name), so a greedy pass blames the worst first. */
function worstFirst(candidates: Array<{ node: string } & Counts>): string[] {
  return candidates.sort((a, b) => b.down / b.known - a.down / a.known || b.down - a.down || a.node.localeCompare(b.node)).map((candidate) => candidate.node);
}

function findDestinationNodes(index: PairIndex, t: VerdictThresholds, findings: Finding[], blamed: Set<string>): void {
  const candidates: Array<{ node: string } & Counts> = [];
  for (const [node, indices] of index.incoming) {
    const counts = countOf(index, indices);
    if (qualifies(counts, t)) candidates.push({ node, ...counts });
  }
  for (const node of worstFirst(candidates)) {
    // Re-counted: a node blamed before may explain some of this one's failures (its probes could not be answered).
    const counts = countOf(index, index.incoming.get(node));
    if (!qualifies(counts, t)) continue;
    blamed.add(node);
    for (const i of index.incoming.get(node) ?? []) index.explained[i] = 1;
    for (const i of index.outgoing.get(node) ?? []) index.explained[i] = 1;
    findings.push({
      id: `node:${node}`,
      kind: 'node-destination',
      subject: { node },
      evidence: { failing: counts.down, of: counts.known, pairs: pairRefs(index, counts.downIndices, t.maxEvidencePairs) },
    });
  }
}

function findSourceNodes(index: PairIndex, t: VerdictThresholds, findings: Finding[], blamed: Set<string>): void {
  /** Its targets that the other probers reach: the unexplained pairs X→d where d is mostly up from everyone else. */
  const sourceCounts = (node: string) => {
    const counts = { known: 0, down: 0, downIndices: [] as number[] };
    for (const i of index.outgoing.get(node) ?? []) {
      const pair = index.pairs[i]!;
      if (index.explained[i] || pair.status === undefined) continue;
      const others = countOf(index, index.incoming.get(pair.destination), (j) => index.pairs[j]!.source === node);
      if (others.known === 0 || others.down / others.known >= t.nodeShare) continue;
      counts.known++;
      if (pair.status === 'down') {
        counts.down++;
        counts.downIndices.push(i);
      }
    }
    return counts;
  };
  const candidates: Array<{ node: string } & Counts> = [];
  for (const node of index.outgoing.keys()) {
    if (blamed.has(node)) continue;
    // Cheap screen first: without enough down pairs at all it cannot qualify.
    if (!qualifies(countOf(index, index.outgoing.get(node)), t)) continue;
    const counts = sourceCounts(node);
    if (qualifies(counts, t)) candidates.push({ node, ...counts });
  }
  for (const node of worstFirst(candidates)) {
    const counts = sourceCounts(node);
    if (!qualifies(counts, t)) continue;
    blamed.add(node);
    for (const i of index.outgoing.get(node) ?? []) index.explained[i] = 1;
    findings.push({
      id: `node:${node}`,
      kind: 'node-source',
      subject: { node },
      evidence: { failing: counts.down, of: counts.known, pairs: pairRefs(index, counts.downIndices, t.maxEvidencePairs) },
    });
  }
}

/** Returns how many asymmetric paths were left out beyond `maxPathVerdicts` (bounded output; the first by id kept). */
function findAsymmetricPaths(index: PairIndex, t: VerdictThresholds, findings: Finding[]): number {
  const paths: Finding[] = [];
  index.pairs.forEach((pair, i) => {
    if (index.explained[i] || pair.status !== 'down') return;
    const reverse = index.reverseOf(i);
    if (reverse === undefined || index.explained[reverse] || index.pairs[reverse]!.status !== 'up') return;
    index.explained[i] = 1;
    paths.push({
      id: `path:${pair.source}>${pair.destination}`,
      kind: 'asymmetric-path',
      subject: { source: pair.source, destination: pair.destination },
      evidence: { failing: 1, of: 2, pairs: pairRefs(index, [i], t.maxEvidencePairs) },
    });
  });
  paths.sort((a, b) => a.id.localeCompare(b.id));
  findings.push(...paths.slice(0, t.maxPathVerdicts));
  return Math.max(0, paths.length - t.maxPathVerdicts);
}
