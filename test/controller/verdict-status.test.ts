// The status document's verdict on health: true only with no active verdict and at least half of the assigned pairs
// known; false with a verdict; null without enough data (no window yet, agents not reporting) — no data is not health.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignedPairs, buildStatus } from '../../src/controller/verdict-status.ts';
import type { ClosedWindow } from '../../src/controller/verdict-windows.ts';
import type { Topology, Verdict, WindowStats } from '../../src/verdicts/types.ts';

const topology: Topology = {
  nodes: [
    { name: 'node-1', zone: 'a', terminating: false },
    { name: 'node-2', zone: 'a', terminating: false },
    { name: 'node-3', zone: 'b', terminating: false },
    { name: 'node-4', zone: 'b', terminating: true },
  ],
};

function closed(pairsKnown: number, verdicts: Verdict[] = []): ClosedWindow {
  const stats: WindowStats = { outcomes: 10, ignored: 1, pairsKnown, pairsDown: 0, pairsDownUnexplained: 0, asymmetricPathsOmitted: 0, pairsTracked: 6 };
  return {
    report: { windowStart: 1_700_000_000_000, windowEnd: 1_700_000_005_000, verdicts, findings: [], stats, pairs: [] },
    agentsReporting: 3,
    cpuSeconds: 0,
  };
}

const verdict: Verdict = {
  id: 'node:node-3',
  kind: 'node-destination',
  subject: { node: 'node-3' },
  evidence: { failing: 2, of: 2, pairs: [] },
  since: 1_699_999_995_000,
  raisedAt: 1_700_000_005_000,
  windows: 2,
  cleanWindows: 0,
  summary: 'node-3 unreachable from 2 of 2 probers since 22:13:15 (destination problem)',
};

describe('status document', () => {
  it('counts the ordered pairs of live nodes, or those of the assignment', () => {
    assert.equal(assignedPairs(topology), 6);
    const probes = new Map([
      ['node-1', new Set(['node-2', 'node-4'])],
      ['node-4', new Set(['node-1'])],
    ]);
    assert.equal(assignedPairs({ ...topology, probes }), 1);
  });

  it('is healthy only with no verdict and half of the pairs known', () => {
    assert.equal(buildStatus('r', 5000, closed(3), topology).healthy, true);
    assert.equal(buildStatus('r', 5000, closed(2), topology).healthy, null);
    assert.equal(buildStatus('r', 5000, undefined, topology).healthy, null);
    assert.equal(buildStatus('r', 5000, undefined, topology).window, null);
  });

  it('is unhealthy with a verdict, which it lists with clock times', () => {
    const status = buildStatus('replica-1', 5000, closed(6, [verdict]), topology);
    assert.equal(status.healthy, false);
    assert.equal(status.apiVersion, 'kconmon.io/v1');
    assert.deepEqual(status.window, { start: '2023-11-14T22:13:20Z', end: '2023-11-14T22:13:25Z', lengthMs: 5000 });
    assert.deepEqual(status.coverage, {
      agentsReporting: 3,
      agents: 3,
      pairsAssigned: 6,
      pairsKnown: 6,
      pairsDown: 0,
      pairsDownUnexplained: 0,
      reportsIgnored: 1,
    });
    assert.deepEqual(
      status.verdicts.map((v) => [v.id, v.since, v.raisedAt, v.clearing]),
      [['node:node-3', '2023-11-14T22:13:15Z', '2023-11-14T22:13:25Z', false]],
    );
  });
});
