// Discovery from a peers file instead of the Kubernetes API (the local demo, non-Kubernetes use): every listed agent
// is ready; the file is re-read on change and a bad edit keeps the last good list.
import { watchPeersFile, type PeersFileWatcher } from '../discovery/peers-file.ts';
import type { Peer } from '../discovery/peer.ts';
import type { AgentEntry } from '../protocol/agent-stream.ts';
import type { Logger } from '../log.ts';
import type { AgentSource } from './kube-source.ts';

export function createStaticSource(options: { path: string; log: Logger; onChange: () => void; pollMs?: number }): AgentSource {
  let peers: Peer[] = [];
  let watcher: PeersFileWatcher | undefined;
  return {
    async start() {
      watcher = await watchPeersFile(
        options.path,
        (next) => {
          peers = next;
          options.onChange();
        },
        options.log.child({ component: 'peers-file' }),
        options.pollMs,
      );
    },
    entries: () => peers.map((peer) => ({ ...peer, ready: true }) satisfies AgentEntry),
    zoneOfNode: (nodeName) => peers.find((peer) => peer.nodeName === nodeName)?.zone,
    async stop() {
      watcher?.close();
    },
  };
}
