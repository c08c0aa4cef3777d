// The Wilson lower bound: enough packets to be sure, never one unlucky packet — alone and in the engine's loss rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { surelyAbove, wilsonLowerBound } from '../../src/verdicts/binomial.ts';
import { createVerdictEngine } from '../../src/verdicts/engine.ts';

const Z = 2.33;

test('nothing sent or nothing lost bounds the rate at 0', () => {
  assert.equal(wilsonLowerBound(0, 0, Z), 0);
  assert.equal(wilsonLowerBound(0, 1000, Z), 0);
});

test('one lost packet of five (20 %) is not sure to exceed 5 %; 20 of 100 is', () => {
  assert.equal(surelyAbove(1, 5, 0.05, Z), false);
  assert.equal(surelyAbove(2, 10, 0.05, Z), false);
  assert.equal(surelyAbove(20, 100, 0.05, Z), true);
});

test('the bound lies below the measured rate and rises towards it with more packets', () => {
  let previous = 0;
  for (const sent of [10, 100, 1000, 10000]) {
    const bound = wilsonLowerBound(sent * 0.2, sent, Z);
    assert.ok(bound < 0.2 && bound > previous, `${sent}: ${bound}`);
    previous = bound;
  }
});

test('everything lost bounds the rate below 1, the more packets the closer', () => {
  assert.ok(wilsonLowerBound(5, 5, Z) < wilsonLowerBound(50, 50, Z));
  assert.ok(wilsonLowerBound(50, 50, Z) < 1);
});

test('the engine: a node losing 3 of 40 packets (7.5 %) over two peers is not surely lossy; 12 of 40 is', () => {
  const nodes = ['node-1', 'node-2', 'node-3'].map((name) => ({ name, zone: 'zone-a', terminating: false }));
  /** Four windows in which node-1's two peers each send it one test of 5 packets per window, losing `lost[w][peer]`. */
  const run = (lost: number[][]) => {
    const engine = createVerdictEngine({ start: 0 });
    return lost.map((perPeer, window) => {
      ['node-2', 'node-3'].forEach((source, peer) => {
        const outcome = { kind: 'udp' as const, sourceZone: 'zone-a', destination: 'node-1', destinationZone: 'zone-a', at: window * 10 + 1 };
        engine.record({ ...outcome, source, passed: perPeer[peer] === 0, packetsSent: 10, packetsLost: perPeer[peer]!, rttMs: 0.4 });
      });
      return engine.closeWindow((window + 1) * 10, { nodes });
    });
  };
  // 20 packets a window into node-1, 40 over the two windows summed; ≥ 5 % measured either way.
  const unsure = run([
    [1, 1],
    [1, 0],
    [1, 1],
    [1, 0],
  ]);
  for (const report of unsure) assert.deepEqual(report.findings, [], 'point estimate 7.5 %, lower bound ≈ 2 %: not sure');
  const sure = run([
    [3, 3],
    [3, 3],
    [3, 3],
    [3, 3],
  ]);
  assert.deepEqual(
    sure.slice(1).map((report) => report.verdicts.map((verdict) => verdict.id)),
    [[], ['lossy-node:node-1'], ['lossy-node:node-1']],
  );
});
