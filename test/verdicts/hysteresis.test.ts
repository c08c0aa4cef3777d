// Hysteresis: raised after 2 windows in a row, cleared after 2 clean windows in a row; flapping input neither raises
// a verdict nor clears one; a pending finding that breaks off is forgotten. Pure stepHysteresis, then the engine
// (and what it does with outcomes that arrive too late or make no sense).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepHysteresis, type Tracked } from '../../src/verdicts/hysteresis.ts';
import { DEFAULT_VERDICT_THRESHOLDS } from '../../src/verdicts/thresholds.ts';
import type { Finding } from '../../src/verdicts/types.ts';
import { aroundNode, clusterNodes, seededRandom, START_MS, startRun, verdictIds, WINDOW_MS } from './synthetic.ts';

const finding: Finding = { id: 'node:n1', kind: 'node-destination', subject: { node: 'n1' }, evidence: { failing: 3, of: 3, pairs: [] } };

/** Runs a pattern of windows (true = the finding holds) and returns, per window, whether the verdict is raised. */
function raisedPerWindow(pattern: readonly boolean[]): boolean[] {
  let tracked = new Map<string, Tracked>();
  return pattern.map((holds, window) => {
    tracked = stepHysteresis(tracked, holds ? [finding] : [], { start: window * 10, end: (window + 1) * 10 }, DEFAULT_VERDICT_THRESHOLDS, () => true);
    return tracked.get(finding.id)?.raisedAt !== undefined;
  });
}

test('raised after two windows in a row, cleared after two clean windows in a row', () => {
  assert.deepEqual(raisedPerWindow([true, true, true, false, false, false]), [false, true, true, true, false, false]);
});

test('flapping before it is raised never raises it', () => {
  assert.deepEqual(raisedPerWindow([true, false, true, false, true, false, true, false]), Array(8).fill(false));
});

test('flapping after it is raised never clears it, and since stays the start of the first window', () => {
  const pattern = [true, true, false, true, false, true, false, true, false, false];
  assert.deepEqual(raisedPerWindow(pattern), [false, true, true, true, true, true, true, true, true, false]);
  let tracked = new Map<string, Tracked>();
  pattern.slice(0, 8).forEach((holds, window) => {
    tracked = stepHysteresis(tracked, holds ? [finding] : [], { start: window * 10, end: (window + 1) * 10 }, DEFAULT_VERDICT_THRESHOLDS, () => true);
  });
  assert.equal(tracked.get(finding.id)?.since, 0);
  assert.equal(tracked.get(finding.id)?.raisedAt, 20);
});

test('a subject that may not be blamed is dropped at once, even while raised', () => {
  let tracked = new Map<string, Tracked>();
  for (let window = 0; window < 3; window++)
    tracked = stepHysteresis(tracked, [finding], { start: window, end: window + 1 }, DEFAULT_VERDICT_THRESHOLDS, () => true);
  assert.ok(tracked.get(finding.id)?.raisedAt !== undefined);
  tracked = stepHysteresis(tracked, [finding], { start: 3, end: 4 }, DEFAULT_VERDICT_THRESHOLDS, () => false);
  assert.equal(tracked.size, 0);
});

test('the engine with a black hole flapping window by window: never raised; raised, then flapping: never cleared', () => {
  const nodes = clusterNodes(3, 2);
  const blackhole = aroundNode('node-2', { reachable: false });
  const run = startRun({ nodes, random: seededRandom(4) });
  const flapping = run.windows(0, 12, { fault: (source, destination, window) => (window % 2 === 0 ? blackhole(source, destination, window) : undefined) });
  for (const report of flapping) assert.deepEqual(verdictIds(report), []);
  const steady = run.windows(12, 14, { fault: blackhole });
  assert.deepEqual(verdictIds(steady[1]), ['node-destination node:node-2']);
  const flappingAfter = run.windows(14, 23, {
    fault: (source, destination, window) => (window % 2 === 0 ? blackhole(source, destination, window) : undefined),
  });
  for (const report of flappingAfter) assert.deepEqual(verdictIds(report), ['node-destination node:node-2']);
  const healed = run.windows(23, 25);
  assert.deepEqual(verdictIds(healed[0]), ['node-destination node:node-2'], 'one clean window: still raised');
  assert.equal(healed[0]!.verdicts[0]!.cleanWindows, 1);
  assert.deepEqual(verdictIds(healed[1]), [], 'two clean windows: cleared');
});

test('a pair that misses one window keeps its status (jitter), but not two', () => {
  const nodes = clusterNodes(3, 2);
  const run = startRun({ nodes, random: seededRandom(9), fault: aroundNode('node-3', { reachable: false }) });
  assert.deepEqual(verdictIds(run.windows(0, 2)[1]), ['node-destination node:node-3']);
  // Windows 2 and 3 bring no reports at all.
  const carried = run.engine.closeWindow(START_MS + 3 * WINDOW_MS, { nodes });
  assert.ok(
    carried.findings.some((candidate) => candidate.id === 'node:node-3'),
    'carried over one window',
  );
  assert.equal(carried.verdicts[0]?.cleanWindows, 0);
  const stale = run.engine.closeWindow(START_MS + 4 * WINDOW_MS, { nodes });
  assert.equal(stale.stats.pairsKnown, 0, 'not carried over two');
  assert.equal(stale.verdicts[0]?.cleanWindows, 1, 'no data is not a fault: the verdict starts to clear');
});

test('record() says why it ignores an outcome: a backlog older than the previous window, a self-probe, impossible counts', () => {
  const nodes = clusterNodes(1, 2);
  const run = startRun({ nodes, random: seededRandom(1) });
  run.windows(0, 2);
  const outcome = { kind: 'udp' as const, source: 'node-1', sourceZone: 'zone-a', destination: 'node-2', destinationZone: 'zone-a', passed: true, rttMs: 0.4 };
  const at = START_MS + 2 * WINDOW_MS + 1;
  assert.equal(run.engine.record({ ...outcome, packetsSent: 5, packetsLost: 0, at }), undefined);
  assert.match(run.engine.record({ ...outcome, packetsSent: 5, packetsLost: 0, at: START_MS }) ?? '', /before the previous window/);
  assert.match(run.engine.record({ ...outcome, destination: 'node-1', packetsSent: 5, packetsLost: 0, at }) ?? '', /node-1 probing itself/);
  assert.match(run.engine.record({ ...outcome, packetsSent: 5, packetsLost: 6, at }) ?? '', /0 ≤ lost ≤ sent/);
  const report = run.engine.closeWindow(START_MS + 3 * WINDOW_MS, { nodes });
  assert.equal(report.stats.outcomes, 4);
  assert.equal(report.stats.ignored, 3);
});
