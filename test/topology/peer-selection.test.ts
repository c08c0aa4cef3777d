// Property tests of peer selection (src/topology/peer-selection.ts) over N = 2…5,000 nodes, 1…50 zones of uneven
// sizes, budgets 6…60 and churn. Each property states the exact condition under which it is claimed (see
// docs/design/peer-selection.md). Bounded runs with a fixed seed (PROPERTY_SEED), printed by fast-check on failure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_MAX_PEERS, selectPeers, type PeerAssignment, type TopologyNode } from '../../src/topology/peer-selection.ts';
import { probersByNode } from '../../src/topology/assignment-stats.ts';
import { PROPERTY_SEED, buildCluster, clusterArbitrary, nodeCount, type Cluster } from './cluster-arbitrary.ts';

/** Churn runs at the default budget and above, where agents rarely reach the budget (the proof's condition). */
const churnBudget = fc.integer({ min: DEFAULT_MAX_PEERS, max: 60 });

const RUNS = 25;
const check = (property: fc.IProperty<[Cluster]> | fc.IAsyncProperty<[Cluster]>, numRuns = RUNS) =>
  fc.assert(property as fc.IProperty<[Cluster]>, { seed: PROPERTY_SEED, numRuns, endOnFailure: true });

function zoneSizes(nodes: readonly TopologyNode[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const node of nodes) sizes.set(node.zone, (sizes.get(node.zone) ?? 0) + 1);
  return sizes;
}

/**
 * The exact condition under which every node is probed from every other zone: the in-degree target leaves one prober
 * per other zone after the same-zone ones (D − min(k, n_Y − 1) ≥ Z − 1 for every zone Y), and every zone X has the
 * budget to probe each node outside it once (n_X × (maxPeers − min(k, n_X − 1)) ≥ N − n_X). A full mesh always is.
 */
function coverageGuaranteed(nodes: readonly TopologyNode[], assignment: PeerAssignment): boolean {
  if (assignment.fullMesh) return true;
  const sizes = zoneSizes(nodes);
  const zones = sizes.size;
  const k = assignment.sameZoneProbers;
  for (const size of sizes.values()) {
    const sameZone = Math.min(k, size - 1);
    if (assignment.probersPerNode - sameZone < zones - 1) return false;
    if (size * (assignment.maxPeers - sameZone) < nodes.length - size) return false;
  }
  return true;
}

/** Ordered (source, target) pairs of an assignment. */
function pairSet(assignment: PeerAssignment): Set<string> {
  const pairs = new Set<string>();
  for (const [source, targets] of assignment.targets) for (const target of targets) pairs.add(`${source}\u0000${target}`);
  return pairs;
}

function changedPairs(before: PeerAssignment, after: PeerAssignment): number {
  const a = pairSet(before);
  const b = pairSet(after);
  let changed = 0;
  for (const pair of a) if (!b.has(pair)) changed++;
  for (const pair of b) if (!a.has(pair)) changed++;
  return changed;
}

describe('peer selection: properties', () => {
  it('out-degree ≤ maxPeers for every agent; never itself; targets are nodes of the list; full mesh whenever N − 1 ≤ maxPeers', () => {
    check(
      fc.property(clusterArbitrary(), ({ nodes, maxPeers }) => {
        const assignment = selectPeers(nodes, { maxPeers });
        const names = new Set(nodes.map((node) => node.name));
        assert.equal(assignment.targets.size, nodes.length);
        for (const [source, targets] of assignment.targets) {
          assert.ok(targets.length <= maxPeers, `${source} probes ${targets.length} > ${maxPeers}`);
          assert.equal(new Set(targets).size, targets.length, `${source} lists a target twice`);
          for (const target of targets) {
            assert.notEqual(target, source);
            assert.ok(names.has(target));
          }
          if (nodes.length - 1 <= maxPeers) assert.equal(targets.length, nodes.length - 1, 'full mesh');
        }
        assert.equal(assignment.fullMesh, nodes.length - 1 <= maxPeers);
      }),
    );
  });

  it('in-degree within 0.75–1.25 × the mean, and ≥ 3 probers whenever N ≥ 4 (budget ≥ 6)', () => {
    check(
      fc.property(clusterArbitrary(), ({ nodes, maxPeers }) => {
        const assignment = selectPeers(nodes, { maxPeers });
        const inDegrees = [...probersByNode(assignment).values()].map((probers) => probers.length);
        const mean = inDegrees.reduce((sum, degree) => sum + degree, 0) / inDegrees.length;
        for (const degree of inDegrees) {
          assert.ok(degree >= 0.75 * mean && degree <= 1.25 * mean, `in-degree ${degree} outside 0.75–1.25 × ${mean}`);
          if (nodes.length >= 4) assert.ok(degree >= 3, `in-degree ${degree} < 3 at N = ${nodes.length}`);
        }
        assert.equal(assignment.unfilled, 0);
      }),
    );
  });

  it('every node probed by ≥ 2 agents of its own zone where they exist, and from every other zone when coverageGuaranteed', () => {
    let covered = 0;
    check(
      fc.property(clusterArbitrary(), ({ nodes, maxPeers }) => {
        const assignment = selectPeers(nodes, { maxPeers });
        const zoneOf = new Map(nodes.map((node) => [node.name, node.zone] as const));
        const sizes = zoneSizes(nodes);
        const guaranteed = coverageGuaranteed(nodes, assignment);
        if (guaranteed) covered++;
        for (const [name, probers] of probersByNode(assignment)) {
          const zone = zoneOf.get(name)!;
          const sameZone = probers.filter((prober) => zoneOf.get(prober) === zone).length;
          assert.ok(sameZone >= Math.min(2, sizes.get(zone)! - 1), `${name}: ${sameZone} probers in its zone of ${sizes.get(zone)}`);
          if (!guaranteed) continue;
          const proberZones = new Set(probers.map((prober) => zoneOf.get(prober)));
          for (const other of sizes.keys()) if (other !== zone) assert.ok(proberZones.has(other), `${name} not probed from ${other}`);
        }
      }),
      40,
    );
    assert.ok(covered >= 8, `only ${covered} generated clusters met the coverage condition: the generator does not test it`);
  });

  it('every ordered zone pair X → Y is probed when X has the budget and Y the probe slots for it', () => {
    check(
      fc.property(clusterArbitrary(), ({ nodes, maxPeers }) => {
        const assignment = selectPeers(nodes, { maxPeers });
        const zoneOf = new Map(nodes.map((node) => [node.name, node.zone] as const));
        const sizes = zoneSizes(nodes);
        const sameZone = (size: number) => Math.min(assignment.sameZoneProbers, size - 1);
        const probed = new Set<string>();
        for (const [source, targets] of assignment.targets) for (const target of targets) probed.add(`${zoneOf.get(source)}>${zoneOf.get(target)}`);
        for (const [from, size] of sizes) {
          // The condition, source side: X can probe each node outside it once (n_X × (maxPeers − k_X) ≥ N − n_X).
          if (!assignment.fullMesh && size * (maxPeers - sameZone(size)) < nodes.length - size) continue;
          for (const [to, toSize] of sizes) {
            if (from === to && toSize < 2) continue;
            // Destination side: Y's nodes have a cross-zone slot for every other zone (n_Y × (D − k_Y) ≥ Z − 1).
            if (!assignment.fullMesh && from !== to && toSize * (assignment.probersPerNode - sameZone(toSize)) < sizes.size - 1) continue;
            assert.ok(probed.has(`${from}>${to}`), `zone pair ${from} → ${to} not probed`);
          }
        }
      }),
    );
  });

  it('deterministic: the same list in another order gives the same assignment', () => {
    check(
      fc.property(clusterArbitrary(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), ({ nodes, maxPeers }, shuffleSeed) => {
        const shuffled = [...nodes];
        let state = shuffleSeed;
        for (let index = shuffled.length - 1; index > 0; index--) {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          const other = state % (index + 1);
          [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
        }
        assert.deepEqual(selectPeers(shuffled, { maxPeers }).targets, selectPeers(nodes, { maxPeers }).targets);
      }) as unknown as fc.IProperty<[Cluster]>,
      25,
    );
  });

  it('churn: one node joining or leaving an existing zone changes ≤ 3 × maxPeers ordered pairs when no agent spills', () => {
    let proven = 0;
    check(
      fc.property(clusterArbitrary(nodeCount, churnBudget), fc.nat(), fc.boolean(), ({ nodes, maxPeers }, which, join) => {
        const before = selectPeers(nodes, { maxPeers });
        const zones = [...zoneSizes(nodes).keys()];
        let next: TopologyNode[];
        if (join) {
          next = [...nodes, { name: `joined-${which}`, zone: zones[which % zones.length]! }];
        } else {
          const leaving = nodes[which % nodes.length]!;
          next = nodes.filter((node) => node !== leaving);
          // Condition: the zone set stays the same (a zone's last node leaving is a zone change, not churn).
          if (!next.some((node) => node.zone === leaving.zone)) return;
        }
        const after = selectPeers(next, { maxPeers });
        // Conditions: both sides are selections (crossing N − 1 = maxPeers switches from or to the full mesh), and
        // no probe was placed past a full agent on either side (then every choice is independent of the others).
        if (before.fullMesh || after.fullMesh || before.spilled > 0 || after.spilled > 0) return;
        proven++;
        const changed = changedPairs(before, after);
        assert.ok(changed <= 3 * maxPeers, `${join ? 'join' : 'leave'} changed ${changed} > 3 × ${maxPeers} pairs`);
      }) as unknown as fc.IProperty<[Cluster]>,
      40,
    );
    assert.ok(proven >= 15, `only ${proven} generated cases met the condition: the generator does not test it`);
  });
});

describe('peer selection: fixed cases', () => {
  it('N = 5,000 in 3 and in 50 zones with the default budget (18): every bound, and coverage from every zone at 3 zones', () => {
    for (const zones of [3, 50]) {
      const { nodes } = buildCluster(5000, zones, 0, 1, 7, DEFAULT_MAX_PEERS);
      const assignment = selectPeers(nodes, { maxPeers: DEFAULT_MAX_PEERS });
      const inDegrees = [...probersByNode(assignment).values()].map((probers) => probers.length);
      assert.deepEqual([Math.min(...inDegrees), Math.max(...inDegrees)], [6, 6]);
      assert.ok(Math.max(...[...assignment.targets.values()].map((targets) => targets.length)) <= DEFAULT_MAX_PEERS);
      assert.equal(coverageGuaranteed(nodes, assignment), zones === 3);
    }
  });

  it('a duplicate node name or a budget below 1 is refused with a message naming it', () => {
    assert.throws(
      () =>
        selectPeers(
          [
            { name: 'a', zone: 'z' },
            { name: 'a', zone: 'y' },
          ],
          { maxPeers: 12 },
        ),
      /duplicate node name "a"/,
    );
    assert.throws(() => selectPeers([], { maxPeers: 0 }), /maxPeers must be an integer ≥ 1 \(got 0\)/);
    assert.throws(() => selectPeers([], { maxPeers: 12, probersPerNode: 13 }), /probersPerNode \(13\) must be ≤ maxPeers \(12\)/);
  });

  it('the seed changes the assignment but not its properties', () => {
    const { nodes } = buildCluster(300, 3, 1, 0, 3, 18);
    const a = selectPeers(nodes, { maxPeers: 18 });
    const b = selectPeers(nodes, { maxPeers: 18, seed: 'other' });
    assert.notDeepEqual(a.targets, b.targets);
    assert.deepEqual(new Set([...probersByNode(b).values()].map((probers) => probers.length)), new Set([6]));
  });
});
