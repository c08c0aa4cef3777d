// The agent's probed peers: every listed agent but itself, one per node (a node's series name one agent, never two
// averaged together), narrowed to the selected nodes when the list exceeds the budget (peer-selector.ts), kept by
// node and by address. Logs what each new list changed, and several agents listed on one node once per distinct case.
import { onePeerPerNode, peerKey, type Peer } from '../discovery/peer.ts';
import type { Logger } from '../log.ts';
import { diffTargets, type TargetSetChange } from './probe-scheduler.ts';

export interface PeerSet {
  /**
   * Applies a peer list, keeping only the `selected` nodes (every node when undefined); returns the peers to probe from
   * now on, the listed ones (one per node, the agent excluded) and what changed.
   */
  apply(
    peers: readonly Peer[],
    selected?: ReadonlySet<string>,
  ): { readonly probed: readonly Peer[]; readonly listed: readonly Peer[]; readonly change: TargetSetChange<Peer> };
  list(): Peer[];
  size(): number;
  /** The probed peer at an address (observations such as late UDP echoes arrive by address). */
  at(address: string): Peer | undefined;
  /** Nothing is probed any more (the agent is stopping). */
  clear(): void;
}

export function createPeerSet(options: { readonly isSelf: (peer: Peer) => boolean; readonly log: Logger }): PeerSet {
  const { isSelf, log } = options;
  let byNode = new Map<string, Peer>();
  let byAddress = new Map<string, Peer>();
  /** The last warning about several probe targets on one node, so it is logged once per distinct case. */
  let reportedDuplicates = '';

  return {
    apply(peers, selected) {
      const { peers: listed, duplicates } = onePeerPerNode(
        peers.filter((peer) => !isSelf(peer)),
        (nodeName) => byNode.get(nodeName),
      );
      const duplicatesLine = duplicates.join('; ');
      if (duplicatesLine !== reportedDuplicates && duplicatesLine !== '') {
        log.warn({ nodes: duplicates }, 'several agents listed as probe targets on one node; probing one per node');
      }
      reportedDuplicates = duplicatesLine;
      const probed = selected === undefined ? listed : listed.filter((peer) => selected.has(peer.nodeName));
      const next = new Map(probed.map((peer) => [peer.nodeName, peer]));
      const change = diffTargets(byNode, next, peerKey);
      byNode = next;
      byAddress = new Map(probed.map((peer) => [peer.ip, peer]));
      if (change.added.length > 0 || change.removed.length > 0 || change.replaced.length > 0) {
        log.info(
          {
            added: change.added.map((p) => p.nodeName),
            removed: change.removed.map((p) => p.nodeName),
            replaced: change.replaced.map(
              ({ before, after }) => `${after.nodeName}: ${before.name} ${before.ip} ${before.zone} → ${after.name} ${after.ip} ${after.zone}`,
            ),
            peers: probed.length,
            listed: listed.length,
          },
          'peer set changed',
        );
      }
      return { probed, listed, change };
    },
    list: () => [...byNode.values()],
    size: () => byNode.size,
    at: (address) => byAddress.get(address),
    clear() {
      byNode = new Map();
      byAddress = new Map();
    },
  };
}
