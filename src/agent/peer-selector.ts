// Which listed peers this agent probes: every one while the list fits `probing.maxPeers` (a full mesh, applied at
// once), else the agent's own row of `selectPeers` over the whole list (docs/design/peer-selection.md), recomputed at
// most once per `minIntervalMs` for a burst of list changes; the last list of a burst is always applied. A peer that
// leaves the list is never probed a moment longer: while a computation waits, the current targets still listed are
// applied at once (new peers wait for the computation). Also counts the agents expected to probe this node (the
// alerts' denominator).
import type { Peer } from '../discovery/peer.ts';
import type { Logger } from '../log.ts';
import { peersOf, selectPeers, type TopologyNode } from '../topology/peer-selection.ts';

export interface PeerSelection {
  /** The list as discovery gave it. */
  readonly peers: readonly Peer[];
  /** Node names this agent probes; `undefined` for every listed peer (full mesh). */
  readonly selected: ReadonlySet<string> | undefined;
  /** Agents that probe this node under the same assignment (every other listed node in a full mesh). */
  readonly expectedProbers: number;
}

export interface PeerSelectorOptions {
  readonly maxPeers: number;
  /** The agent's own node: its name, and its zone where the list does not hold it. */
  readonly self: () => TopologyNode;
  readonly minIntervalMs: number;
  readonly apply: (selection: PeerSelection) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface PeerSelector {
  /** A new peer list (the whole list, the agent itself included or not). */
  offer(peers: readonly Peer[]): void;
  /** Selects again from the last list (the agent's own zone changed). */
  refresh(): void;
  /** Drops a pending computation. */
  close(): void;
}

/** One node per node name (the first listed zone), the agent's own node added when the list lacks it. */
function topologyNodes(peers: readonly Peer[], self: TopologyNode): TopologyNode[] {
  const zones = new Map<string, string>();
  for (const peer of peers) if (!zones.has(peer.nodeName)) zones.set(peer.nodeName, peer.zone);
  if (!zones.has(self.name)) zones.set(self.name, self.zone);
  return [...zones].map(([name, zone]) => ({ name, zone }));
}

export function createPeerSelector(options: PeerSelectorOptions): PeerSelector {
  const { maxPeers, minIntervalMs, apply, log, now = () => performance.now() } = options;
  let lastPeers: readonly Peer[] | undefined;
  let pending: readonly Peer[] | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastComputedAt = Number.NEGATIVE_INFINITY;
  /** The selection applied last. */
  let current: PeerSelection | undefined;

  function applyAndKeep(selection: PeerSelection): void {
    current = selection;
    apply(selection);
  }

  /** Until the next computation: the current targets that are still listed; a departed peer drops out at once. */
  function pruneNow(peers: readonly Peer[]): void {
    if (current === undefined) return;
    const probed = current.selected ?? new Set(current.peers.map((peer) => peer.nodeName));
    const listed = new Set(peers.map((peer) => peer.nodeName));
    if ([...probed].every((name) => listed.has(name))) return; // nothing departed: wait for the computation
    applyAndKeep({ peers, selected: new Set([...probed].filter((name) => listed.has(name))), expectedProbers: current.expectedProbers });
  }

  function compute(peers: readonly Peer[]): void {
    lastComputedAt = now();
    const self = options.self();
    const nodes = topologyNodes(peers, self);
    let targets: readonly string[];
    let expectedProbers = 0;
    try {
      const assignment = selectPeers(nodes, { maxPeers });
      targets = peersOf(assignment, self.name);
      for (const row of assignment.targets.values()) if (row.includes(self.name)) expectedProbers += 1;
    } catch (error) {
      // Nothing is lost: the agent keeps probing its last selection.
      log.error({ nodes: nodes.length, err: (error as Error).message }, 'peer selection failed; keeping the last selection');
      return;
    }
    applyAndKeep({ peers, selected: new Set(targets), expectedProbers });
  }

  function flush(): void {
    timer = undefined;
    const peers = pending;
    pending = undefined;
    if (peers !== undefined) compute(peers);
  }

  return {
    offer(peers) {
      lastPeers = peers;
      const others = topologyNodes(peers, options.self()).length - 1;
      if (others <= maxPeers) {
        // A full mesh needs no computation: applied at once, and it replaces any selection still waiting.
        clearTimeout(timer);
        timer = undefined;
        pending = undefined;
        applyAndKeep({ peers, selected: undefined, expectedProbers: others });
        return;
      }
      if (timer !== undefined) {
        pending = peers;
        pruneNow(peers);
        return;
      }
      const wait = lastComputedAt + minIntervalMs - now();
      if (wait <= 0) {
        compute(peers);
        return;
      }
      pending = peers;
      pruneNow(peers);
      timer = setTimeout(flush, wait);
      timer.unref();
    },
    refresh() {
      if (lastPeers !== undefined) this.offer(lastPeers);
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}
