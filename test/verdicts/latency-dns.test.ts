// Latency above a pair's own baseline (zone pair, node) and DNS failing everywhere vs from some nodes only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aroundNode, clusterNodes, seededRandom, startRun, verdictIds, type PathFault } from './synthetic.ts';

const TARGET = 'kubernetes.default.svc.cluster.local';

test('slow zone pair (+20 ms one way): a latency verdict for that direction only', () => {
  const slow: PathFault = (source, destination, window) =>
    window >= 10 && source.zone === 'zone-a' && destination.zone === 'zone-c' ? { extraRttMs: 20 } : undefined;
  const reports = startRun({ nodes: clusterNodes(3, 3), random: seededRandom(3) }).windows(0, 30, { fault: slow });
  for (const report of reports.slice(0, 11)) assert.deepEqual(verdictIds(report), []);
  for (const report of reports.slice(11)) assert.deepEqual(verdictIds(report), ['latency-zone-pair latency-zone-pair:zone-a>zone-c']);
  const verdict = reports[12]!.verdicts[0]!;
  assert.ok(verdict.evidence.rttMs! > 20 && verdict.evidence.baselineMs! < 1, JSON.stringify(verdict.evidence));
  assert.match(verdict.summary, /^zone-a → zone-c RTT 20\.\d ms, baseline 0\.\d\d ms, on 9 of 9 paths since 12:00:50 \(latency\)$/);
});

test('slow node (+10 ms on every path to and from it): a latency verdict naming it only', () => {
  const reports = startRun({ nodes: clusterNodes(3, 3), random: seededRandom(4) }).windows(0, 30, {
    fault: (source, destination, window) => (window >= 10 ? aroundNode('node-5', { extraRttMs: 10 })(source, destination, window) : undefined),
  });
  for (const report of reports.slice(0, 11)) assert.deepEqual(verdictIds(report), []);
  for (const report of reports.slice(11)) assert.deepEqual(verdictIds(report), ['latency-node latency-node:node-5']);
});

test('a lasting RTT change becomes the new baseline: the verdict clears in time (here about 40 minutes of 5 s windows)', () => {
  const reports = startRun({ nodes: clusterNodes(3, 3), random: seededRandom(5) }).windows(0, 600, {
    fault: (source, destination, window) => (window >= 10 ? aroundNode('node-5', { extraRttMs: 10 })(source, destination, window) : undefined),
  });
  assert.deepEqual(verdictIds(reports[200]), ['latency-node latency-node:node-5'], 'still raised after 16 minutes');
  assert.deepEqual(verdictIds(reports[599]), [], 'cleared after 50 minutes');
});

test('DNS failing from every node: one dns-everywhere verdict', () => {
  const reports = startRun({ nodes: clusterNodes(3, 2), random: seededRandom(6), dnsTargets: [TARGET, 'example.org'] }).windows(0, 6, {
    dnsFault: (_source, target, window) => window >= 2 && target === TARGET,
  });
  assert.deepEqual(verdictIds(reports[2]), []);
  assert.deepEqual(verdictIds(reports[3]), [`dns-everywhere dns:${TARGET}`]);
  assert.equal(reports[3]!.verdicts[0]!.summary, `DNS ${TARGET} fails from 6 of 6 nodes since 12:00:10 (target or its servers)`);
});

test('DNS failing from two nodes: one dns-some-nodes verdict naming them', () => {
  const reports = startRun({ nodes: clusterNodes(3, 2), random: seededRandom(7), dnsTargets: [TARGET] }).windows(0, 6, {
    dnsFault: (source, _target, window) => window >= 2 && (source.name === 'node-5' || source.name === 'node-2'),
  });
  assert.deepEqual(verdictIds(reports[3]), [`dns-some-nodes dns:${TARGET}`]);
  assert.deepEqual(reports[3]!.verdicts[0]!.evidence.nodes, ['node-2', 'node-5']);
  assert.match(reports[3]!.verdicts[0]!.summary, /fails from 2 of 6 nodes \(node-2, node-5\) since 12:00:10 \(those nodes' side\)$/);
});

test('a black-holed node that also fails DNS: only the node verdict (its DNS failures are explained)', () => {
  const reports = startRun({ nodes: clusterNodes(3, 2), random: seededRandom(8), dnsTargets: [TARGET] }).windows(0, 6, {
    fault: (source, destination, window) => (window >= 2 ? aroundNode('node-3', { reachable: false })(source, destination, window) : undefined),
    dnsFault: (source, _target, window) => window >= 2 && source.name === 'node-3',
  });
  for (const report of reports.slice(3)) assert.deepEqual(verdictIds(report), ['node-destination node:node-3']);
});
