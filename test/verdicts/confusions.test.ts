// The faults an SRE fears confusing, on synthetic matrices: each names exactly the right thing and nothing else —
// partition → zone-pair verdicts only; black-holed node → one destination verdict, no peer blamed; egress-blocked
// node → source verdict only; one-direction block → asymmetric path only; 20 % loss into a node → lossy node naming
// it; healthy with churn → nothing. Faults start at window 10 (after the RTT baselines warm up) and heal at window 20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeState, WindowReport } from '../../src/verdicts/types.ts';
import { aroundNode, clusterNodes, seededRandom, startRun, verdictIds, type PathFault } from './synthetic.ts';

const FAULT_FROM = 10;
const HEAL_AT = 20;

/** Runs healthy windows, the fault, then healed windows; returns the reports of every window, by window number. */
function scenario(nodes: NodeState[], fault: PathFault, seed = 1): WindowReport[] {
  const run = startRun({ nodes, random: seededRandom(seed) });
  const during: PathFault = (source, destination, window) => (window >= FAULT_FROM && window < HEAL_AT ? fault(source, destination, window) : undefined);
  return run.windows(0, HEAL_AT + 5, { fault: during });
}

/**
 * Asserts: nothing before the fault, exactly `expected` from the `lag`-th faulty window to the end of the fault, and
 * nothing from the `lag`-th healed window on. Reachability: lag 2 (the hysteresis); loss sums the packets of two
 * windows, so the first faulty (and first healed) window is diluted: lag 3.
 */
function assertExactly(reports: WindowReport[], expected: string[], lag = 2): void {
  for (let window = 0; window < FAULT_FROM + 1; window++) assert.deepEqual(verdictIds(reports[window]), [], `window ${window}: raised too early`);
  for (let window = FAULT_FROM + lag - 1; window < HEAL_AT; window++) {
    assert.deepEqual(verdictIds(reports[window]).sort(), [...expected].sort(), `window ${window}`);
  }
  for (let window = HEAL_AT; window < reports.length; window++) {
    const ids = verdictIds(reports[window]);
    if (window >= HEAL_AT + lag - 1) assert.deepEqual(ids, [], `window ${window}: not cleared`);
    else
      assert.ok(
        ids.every((id) => expected.includes(id)),
        `window ${window}: ${ids.join(', ')}`,
      );
  }
  for (let window = FAULT_FROM; window < FAULT_FROM + lag - 1; window++) {
    const ids = verdictIds(reports[window]);
    assert.ok(
      ids.every((id) => expected.includes(id)),
      `window ${window}: ${ids.join(', ')}`,
    );
  }
}

const inZone = (node: NodeState, zone: string) => node.zone === zone;

test('black-holed node: one destination verdict for it, no peer blamed', () => {
  for (const nodes of [clusterNodes(3, 2), clusterNodes(3, 4)]) {
    const reports = scenario(nodes, aroundNode('node-4', { reachable: false }));
    assertExactly(reports, ['node-destination node:node-4']);
    const verdict = reports[HEAL_AT - 1]!.verdicts[0]!;
    const probers = nodes.length - 1;
    assert.equal(verdict.summary, `node-4 unreachable from ${probers} of ${probers} probers since 12:00:50 (destination problem)`);
    assert.deepEqual(verdict.subject, { node: 'node-4' });
    assert.equal(verdict.raisedAt, verdict.since + 2 * 5000, 'raised at the end of the second faulty window');
  }
});

test('egress-blocked node: a source verdict for it only', () => {
  // New outbound flows dropped: its probes fail, its echo and HTTP still answer the others.
  const reports = scenario(clusterNodes(3, 4), (source) => (source.name === 'node-3' ? { reachable: false } : undefined));
  assertExactly(reports, ['node-source node:node-3']);
  assert.match(reports[15]!.verdicts[0]!.summary, /^node-3 cannot reach 11 of 11 targets that its peers reach since 12:00:50 \(source problem\)$/);
});

test('zone partition: zone-pair verdicts for each direction, no node verdict', () => {
  const cut: PathFault = (source, destination) => (inZone(source, 'zone-a') !== inZone(destination, 'zone-a') ? { reachable: false } : undefined);
  for (const nodes of [clusterNodes(3, 2), clusterNodes(3, 4)]) {
    const reports = scenario(nodes, cut);
    assertExactly(reports, [
      'zone-pair zone-pair:zone-a>zone-b',
      'zone-pair zone-pair:zone-a>zone-c',
      'zone-pair zone-pair:zone-b>zone-a',
      'zone-pair zone-pair:zone-c>zone-a',
    ]);
  }
  const reports = scenario(clusterNodes(3, 4), cut);
  assert.match(
    reports[12]!.verdicts[0]!.summary,
    /^zone-a → zone-b: 16 of 16 paths fail while both zones are healthy inside since 12:00:50 \(zone partition\)$/,
  );
});

test('a cut-off zone of one node: reported as that node (a zone verdict needs two nodes on each side)', () => {
  const nodes = [...clusterNodes(2, 3), { name: 'node-7', zone: 'zone-c', terminating: false }];
  const reports = scenario(nodes, (source, destination) => (inZone(source, 'zone-c') !== inZone(destination, 'zone-c') ? { reachable: false } : undefined));
  assertExactly(reports, ['node-destination node:node-7']);
});

test('one-direction partition between two zones: one zone-pair verdict', () => {
  const reports = scenario(clusterNodes(3, 3), (source, destination) =>
    inZone(source, 'zone-b') && inZone(destination, 'zone-c') ? { reachable: false } : undefined,
  );
  assertExactly(reports, ['zone-pair zone-pair:zone-b>zone-c']);
});

test('one-direction block between two nodes: an asymmetric-path verdict for that pair only', () => {
  const reports = scenario(clusterNodes(3, 4), (source, destination) =>
    source.name === 'node-2' && destination.name === 'node-5' ? { reachable: false } : undefined,
  );
  assertExactly(reports, ['asymmetric-path path:node-2>node-5']);
  assert.match(reports[15]!.verdicts[0]!.summary, /^node-2 → node-5 fails while node-5 → node-2 passes since 12:00:50 \(asymmetric path\)$/);
});

test('many one-way failures: at most maxPathVerdicts asymmetric-path verdicts, the rest counted (bounded output)', () => {
  // Every pair i → i+1 (mod 12) fails one way: 12 asymmetric paths, no node with two failing pairs in one direction.
  const next = (name: string) => `node-${(Number(name.slice(5)) % 12) + 1}`;
  const run = startRun({ nodes: clusterNodes(3, 4), random: seededRandom(12) }, { maxPathVerdicts: 5 });
  const reports = run.windows(0, 3, { fault: (source, destination) => (destination.name === next(source.name) ? { reachable: false } : undefined) });
  assert.equal(reports[2]!.verdicts.length, 5);
  assert.ok(reports[2]!.verdicts.every((verdict) => verdict.kind === 'asymmetric-path'));
  assert.equal(reports[2]!.stats.asymmetricPathsOmitted, 7);
});

test('a path failing both ways between two nodes blames nobody (one failing pair never blames a node)', () => {
  const reports = scenario(clusterNodes(3, 4), (source, destination) => {
    const names = new Set([source.name, destination.name]);
    return names.has('node-2') && names.has('node-5') ? { reachable: false } : undefined;
  });
  for (const report of reports) assert.deepEqual(verdictIds(report), []);
  assert.equal(reports[15]!.stats.pairsDownUnexplained, 2, 'the two failing pairs are counted, unexplained');
});

test('20 % loss into a node: a lossy-node verdict naming it, and no reachability verdict', () => {
  for (const [nodes, seed] of [
    [clusterNodes(3, 2), 7],
    [clusterNodes(3, 4), 8],
  ] as const) {
    const reports = scenario(nodes, aroundNode('node-4', { lossRate: 0.2 }), seed);
    assertExactly(reports, ['lossy-node lossy-node:node-4'], 3);
    assert.match(
      reports[HEAL_AT - 1]!.verdicts[0]!.summary,
      /^node-4 loses \d+\.\d % of packets \(at least \d+\.\d %: \d+ of \d+\), on \d+ of \d+ peers since 12:00:5\d \(lossy node\)$/,
    );
    const evidence = reports[HEAL_AT - 1]!.verdicts[0]!.evidence;
    assert.ok(evidence.lossLowerBound! > 0.05 && evidence.lossRate! > evidence.lossLowerBound!, JSON.stringify(evidence));
  }
});

test('a lossy zone pair: verdicts for the zone pair in both directions, no node blamed', () => {
  const lossy: PathFault = (source, destination) => {
    const zones = new Set([source.zone, destination.zone]);
    return zones.has('zone-a') && zones.has('zone-b') ? { lossRate: 0.2 } : undefined;
  };
  const reports = scenario(clusterNodes(3, 4), lossy, 3);
  assertExactly(reports, ['lossy-zone-pair lossy-zone-pair:zone-a>zone-b', 'lossy-zone-pair lossy-zone-pair:zone-b>zone-a'], 3);
});

test('one unlucky lost packet per window blames nobody (binomial bound)', () => {
  // Every window one random pair loses one packet of five: 20 % on that pair, never enough to be sure of anything.
  const nodes = clusterNodes(3, 2);
  const random = seededRandom(11);
  const run = startRun({ nodes, random });
  const reports = run.windows(0, 40, {
    fault: (source, destination, window) =>
      source.name === `node-${(window % 6) + 1}` && destination.name === `node-${((window + 1) % 6) + 1}` ? { lossRate: 0.2 } : undefined,
  });
  for (const report of reports) assert.deepEqual(verdictIds(report), []);
});

test('loss below the threshold (2 % around a node) never raises a verdict', () => {
  const run = startRun({ nodes: clusterNodes(3, 4), random: seededRandom(13), fault: aroundNode('node-6', { lossRate: 0.02 }) });
  for (const report of run.windows(0, 200)) assert.deepEqual(verdictIds(report), []);
});

test('healthy with churn: a node terminating (its pairs failing), leaving and coming back, every window — zero verdicts', () => {
  const all = clusterNodes(3, 4);
  const random = seededRandom(5);
  const run = startRun({ nodes: all, random, skipShare: 0.1 });
  const reports: WindowReport[] = [];
  for (let window = 0; window < 120; window++) {
    // Window w: node k terminates (and fails everything), node k-1 is gone, the others are healthy.
    const leaving = `node-${(window % 12) + 1}`;
    const gone = `node-${((window + 11) % 12) + 1}`;
    const nodes = all.filter((node) => node.name !== gone).map((node) => (node.name === leaving ? { ...node, terminating: true } : node));
    reports.push(...run.windows(window, window + 1, { nodes, fault: aroundNode(leaving, { reachable: false }) }));
  }
  for (const report of reports) assert.deepEqual(verdictIds(report), [], `window ${report.windowStart}`);
  assert.ok(
    reports.some((report) => report.stats.ignored > 0),
    "the leaving nodes' outcomes were ignored",
  );
});

test('a terminating node is never blamed, and a raised verdict on it is dropped at once', () => {
  const nodes = clusterNodes(3, 2);
  const run = startRun({ nodes, random: seededRandom(2), fault: aroundNode('node-4', { reachable: false }) });
  const reports = run.windows(0, 3);
  assert.deepEqual(verdictIds(reports[1]), ['node-destination node:node-4']);
  const leaving = nodes.map((node) => (node.name === 'node-4' ? { ...node, terminating: true } : node));
  for (const report of run.windows(3, 8, { nodes: leaving })) assert.deepEqual(verdictIds(report), []);
});

test('two black-holed nodes: a destination verdict for each, nothing else', () => {
  const reports = scenario(clusterNodes(3, 4), (source, destination) => {
    const dead = new Set(['node-4', 'node-9']);
    return dead.has(source.name) || dead.has(destination.name) ? { reachable: false } : undefined;
  });
  assertExactly(reports, ['node-destination node:node-4', 'node-destination node:node-9']);
});
