// The per-replica report ring: bounded (the oldest goes first, counted as queue_full), ages computed at take time on
// the monotonic clock given, and outcomes too old for a verdict dropped as stale.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReportQueue, type QueuedOutcome, type ReportDropReason } from '../../src/discovery/report-queue.ts';

const outcome = (destination: string, endedAt: number): QueuedOutcome => ({ kind: 'udp', destination, packetsSent: 5, packetsLost: 0, rttMs: 1, endedAt });

function queueWithDrops(capacity: number, staleAfterMs: number) {
  const drops: Array<[ReportDropReason, number]> = [];
  const queue = createReportQueue({ capacity, staleAfterMs, onDrop: (reason, count) => drops.push([reason, count]) });
  return { queue, drops };
}

describe('report queue', () => {
  it('keeps the newest outcomes when full and counts each dropped one', () => {
    const { queue, drops } = queueWithDrops(3, 1000);
    for (let i = 0; i < 5; i++) queue.push(outcome(`n${i}`, 100 + i));
    assert.equal(queue.size(), 3);
    assert.deepEqual(drops, [
      ['queue_full', 1],
      ['queue_full', 1],
    ]);
    const taken = queue.take(110, 10);
    assert.deepEqual(
      taken.map((o) => [o.destination, o.ageMs]),
      [
        ['n2', 8],
        ['n3', 7],
        ['n4', 6],
      ],
    );
    assert.equal(queue.size(), 0);
  });

  it('takes at most the batch size, oldest first, and keeps the rest', () => {
    const { queue } = queueWithDrops(10, 1000);
    for (let i = 0; i < 4; i++) queue.push(outcome(`n${i}`, i));
    assert.deepEqual(
      queue.take(5, 3).map((o) => o.destination),
      ['n0', 'n1', 'n2'],
    );
    queue.push(outcome('n4', 4));
    assert.deepEqual(
      queue.take(5, 3).map((o) => o.destination),
      ['n3', 'n4'],
    );
  });

  it('drops outcomes older than staleAfterMs, counted once per prune', () => {
    const { queue, drops } = queueWithDrops(10, 100);
    queue.push(outcome('old-1', 0));
    queue.push(outcome('old-2', 10));
    queue.push(outcome('fresh', 150));
    queue.pruneStale(200);
    assert.deepEqual(drops, [['stale', 2]]);
    assert.deepEqual(
      queue.take(200, 10).map((o) => o.destination),
      ['fresh'],
    );
  });
});
