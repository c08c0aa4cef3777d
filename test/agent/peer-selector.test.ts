// The agent's peer selector: a list that fits the budget is a full mesh applied at once; a burst of longer lists costs
// one computation at once and one more for the burst, which applies the last list; rows and expected probers are
// `selectPeers`'s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Peer } from '../../src/discovery/peer.ts';
import { createLogger } from '../../src/log.ts';
import { peersOf, selectPeers } from '../../src/topology/peer-selection.ts';
import { createPeerSelector, type PeerSelection, type PeerSelector } from '../../src/agent/peer-selector.ts';
import { waitUntil } from '../../harness/wait.ts';
import { testPeer } from '../helpers/agents.ts';

const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const MAX_PEERS = 3;
const cluster = (count: number, first = 1): Peer[] => Array.from({ length: count }, (_, i) => testPeer(first + i, ZONES[i % ZONES.length]));
/** The assignment `selectPeers` makes for these nodes. */
const assignmentOf = (peers: readonly Peer[]) =>
  selectPeers(
    peers.map((peer) => ({ name: peer.nodeName, zone: peer.zone })),
    { maxPeers: MAX_PEERS },
  );

/** A selector for `self` (budget MAX_PEERS, at most one computation a second) and every selection it applied, in order. */
function recordingSelector(self: Peer): { selector: PeerSelector; applied: PeerSelection[] } {
  const applied: PeerSelection[] = [];
  const selector = createPeerSelector({
    maxPeers: MAX_PEERS,
    self: () => ({ name: self.nodeName, zone: self.zone }),
    minIntervalMs: 1000,
    apply: (selection) => applied.push(selection),
    log: createLogger('silent'),
  });
  return { selector, applied };
}

test('a burst of lists past the budget is computed once at once and once for the burst, with its last list', { timeout: 20_000 }, async () => {
  const self = testPeer(1, 'zone-a');
  const { selector, applied } = recordingSelector(self);
  try {
    const lists = [cluster(8), cluster(9), cluster(10), cluster(11)];
    for (const list of lists) selector.offer(list);
    assert.equal(applied.length, 1, 'the first list is selected at once; the rest of the burst waits');
    assert.equal(applied[0]!.peers, lists[0]);
    await waitUntil('the burst to be applied', 10_000, () => applied.length === 2);
    const last = applied[1]!;
    assert.equal(last.peers, lists[3], 'the last list of the burst is the one applied');
    const assignment = assignmentOf(lists[3]!);
    assert.deepEqual([...last.selected!].sort(), [...peersOf(assignment, self.nodeName)].sort());
    assert.equal(last.expectedProbers, [...assignment.targets.values()].filter((row) => row.includes(self.nodeName)).length);

    // A list that fits the budget needs no computation: applied at once, every peer probed.
    const small = cluster(4);
    selector.offer(small);
    assert.equal(applied.length, 3);
    assert.equal(applied[2]!.selected, undefined);
    assert.equal(applied[2]!.expectedProbers, 3);
  } finally {
    selector.close();
  }
});

test("the agent's own node joins the computation when the list lacks it", () => {
  const self = testPeer(50, 'zone-b');
  const { selector, applied } = recordingSelector(self);
  const others = cluster(6);
  selector.offer(others);
  selector.close();
  const row = peersOf(assignmentOf([...others, self]), self.nodeName);
  assert.ok(row.length > 0);
  assert.deepEqual([...applied[0]!.selected!].sort(), [...row].sort());
});

// Regression (budgeted e2e churn): a departing node stayed probed until the burst's computation, up to a second
// after it left the list, so tests to it failed once its agent had stopped.
test('a peer that leaves the list while a computation waits is dropped at once; new peers wait for the computation', { timeout: 20_000 }, async () => {
  const self = testPeer(1, 'zone-a');
  const { selector, applied } = recordingSelector(self);
  try {
    const list = cluster(10);
    selector.offer(list);
    const first = [...applied[0]!.selected!];
    const departed = first[0]!;
    const newcomer = testPeer(40, 'zone-b');
    const next = [...list.filter((peer) => peer.nodeName !== departed), newcomer];
    selector.offer(next);
    assert.equal(applied.length, 2, 'applied at once, not after the interval');
    assert.equal(applied[1]!.peers, next);
    assert.deepEqual([...applied[1]!.selected!].sort(), first.filter((name) => name !== departed).sort(), 'the departed peer is dropped; no newcomer yet');
    // A list with nothing departed (only a newcomer) waits for the computation.
    selector.offer([...next, testPeer(41, 'zone-c')]);
    assert.equal(applied.length, 2);
    await waitUntil('the computation of the burst', 10_000, () => applied.length === 3);
    assert.deepEqual([...applied[2]!.selected!].sort(), [...peersOf(assignmentOf([...next, testPeer(41, 'zone-c')]), self.nodeName)].sort());
  } finally {
    selector.close();
  }
});
