// The verdicts' view of who probes whom must be what the agents actually probe: under bounded probing every agent
// computes its own row (src/agent/peer-selector.ts) and the controller the whole assignment (verdict-topology.ts).
// Regression: the controller assumed a full mesh, so past `maxPeers + 1` agents most "assigned" pairs never reported
// and the status could not call a cluster healthy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPeerSelector, type PeerSelection } from '../../src/agent/peer-selector.ts';
import { boundedAssignment, topologyOf } from '../../src/controller/verdict-topology.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import { createLogger } from '../../src/log.ts';
import type { AgentEntry } from '../../src/protocol/agent-stream.ts';

const entries: AgentEntry[] = Array.from({ length: 14 }, (_, index) => ({
  name: `agent-${index}`,
  nodeName: `node-${index}`,
  ip: `198.18.9.${index + 1}`,
  zone: `zone-${'abc'[index % 3]}`,
  ready: index !== 13, // one agent not ready: neither probed nor probing
}));

/** The rows the agents themselves select, each from the list the controller pushes it (its ready peers). */
function agentRows(maxPeers: number): Map<string, Set<string>> {
  const ready = entries.filter((entry) => entry.ready);
  const rows = new Map<string, Set<string>>();
  for (const self of ready) {
    const peers: Peer[] = ready.filter((entry) => entry !== self).map(({ name, nodeName, ip, zone }) => ({ name, nodeName, ip, zone }));
    let applied: PeerSelection | undefined;
    const selector = createPeerSelector({
      maxPeers,
      self: () => ({ name: self.nodeName, zone: self.zone }),
      minIntervalMs: 0,
      apply: (selection) => {
        applied = selection;
      },
      log: createLogger('silent'),
    });
    selector.offer(peers);
    selector.close();
    assert.ok(applied, `${self.nodeName} selected at once`);
    rows.set(self.nodeName, new Set(applied.selected ?? peers.map((peer) => peer.nodeName)));
  }
  return rows;
}

test('past the budget, the verdicts judge each node by exactly the agents that probe it', () => {
  const topology = topologyOf(entries, boundedAssignment(3));
  assert.ok(topology.probes, 'a bounded assignment, not a full mesh');
  assert.deepEqual(new Map([...topology.probes].filter(([, row]) => row.size > 0)), agentRows(3));
  assert.equal(topology.nodes.find((node) => node.name === 'node-13')?.terminating, true);
});

test('while the ready agents fit the budget, every node probes every other (a full mesh)', () => {
  const topology = topologyOf(entries, boundedAssignment(12));
  assert.equal(topology.probes, undefined);
  for (const row of agentRows(12).values()) assert.equal(row.size, 12);
});
