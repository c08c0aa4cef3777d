// Bounded probing: each node probed by only a few peers (3–10), at least one of its own zone. The same faults still
// name exactly the right thing; reports for pairs that are not assigned are ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeState, WindowReport } from '../../src/verdicts/types.ts';
import { aroundNode, boundedProbes, clusterNodes, seededRandom, startRun, verdictIds, type PathFault } from './synthetic.ts';

function run(nodes: NodeState[], probers: number, fault: PathFault, seed: number): { reports: WindowReport[]; probes: Map<string, Set<string>> } {
  const random = seededRandom(seed);
  const probes = boundedProbes(nodes, probers, random);
  const reports = startRun({ nodes, probes, random }).windows(0, 20, {
    fault: (source, destination, window) => (window >= 10 ? fault(source, destination, window) : undefined),
  });
  return { reports, probes };
}

for (const probers of [3, 10]) {
  test(`60 nodes, each probed by ${probers}: black hole → one destination verdict; partition → zone pairs only; egress → source`, () => {
    const nodes = clusterNodes(3, 20);
    const blackhole = run(nodes, probers, aroundNode('node-7', { reachable: false }), probers);
    for (const report of blackhole.reports.slice(0, 11)) assert.deepEqual(verdictIds(report), []);
    for (const report of blackhole.reports.slice(11)) assert.deepEqual(verdictIds(report), ['node-destination node:node-7']);
    assert.equal(blackhole.reports[15]!.verdicts[0]!.evidence.of, probers, 'its probers, not every node');

    const partition = run(
      nodes,
      probers,
      (source, destination) => ((source.zone === 'zone-b') !== (destination.zone === 'zone-b') ? { reachable: false } : undefined),
      probers + 1,
    );
    for (const report of partition.reports.slice(11)) {
      assert.deepEqual(verdictIds(report), [
        'zone-pair zone-pair:zone-a>zone-b',
        'zone-pair zone-pair:zone-b>zone-a',
        'zone-pair zone-pair:zone-b>zone-c',
        'zone-pair zone-pair:zone-c>zone-b',
      ]);
    }

    // The egress-blocked node: one that probes at least 3 targets.
    const probes = boundedProbes(nodes, probers, seededRandom(probers + 2));
    const busiest = [...probes].sort((a, b) => b[1].size - a[1].size)[0]![0];
    const egress = startRun({ nodes, probes, random: seededRandom(probers + 2) }).windows(0, 20, {
      fault: (source, _destination, window) => (window >= 10 && source.name === busiest ? { reachable: false } : undefined),
    });
    for (const report of egress.slice(11)) assert.deepEqual(verdictIds(report), [`node-source node:${busiest}`]);
  });
}

test('20 % loss into a node probed by 5 peers: a lossy-node verdict naming it', () => {
  const nodes = clusterNodes(3, 10);
  const { reports } = run(nodes, 5, aroundNode('node-12', { lossRate: 0.2 }), 21);
  for (const report of reports.slice(0, 11)) assert.deepEqual(verdictIds(report), []);
  for (const report of reports.slice(13)) assert.deepEqual(verdictIds(report), ['lossy-node lossy-node:node-12']);
});

test('reports for pairs that are not assigned are ignored', () => {
  const nodes = clusterNodes(2, 3);
  const probes = new Map(nodes.map((node) => [node.name, new Set<string>()]));
  probes.get('node-1')!.add('node-2');
  const engine = startRun({ nodes, probes, random: seededRandom(1) }).engine;
  // Two of three report on a pair they are not assigned (as an agent that has not yet learnt its new assignment would).
  const outcome = {
    kind: 'udp' as const,
    sourceZone: 'zone-a',
    destinationZone: 'zone-b',
    passed: false,
    packetsSent: 5,
    packetsLost: 5,
    rttMs: undefined,
    at: 0,
  };
  engine.record({ ...outcome, source: 'node-1', destination: 'node-2' });
  engine.record({ ...outcome, source: 'node-3', destination: 'node-2' });
  engine.record({ ...outcome, source: 'node-5', destination: 'node-2' });
  const closed = engine.closeWindow(1, { nodes, probes });
  assert.equal(closed.stats.pairsKnown, 1);
  assert.equal(closed.stats.ignored, 2);
});
