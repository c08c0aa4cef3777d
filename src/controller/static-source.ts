// Discovery from a peers file instead of the Kubernetes API (the local demo, non-Kubernetes use): every listed agent
// is ready; the file is re-read on change and a bad edit keeps the last good list. A file that is bad at start is
// logged and re-read on every change: discovery syncs (the controller becomes ready) once it is good.
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
      let firstList: () => void = () => {};
      const listed = new Promise<void>((resolve) => (firstList = resolve));
      watcher = await watchPeersFile(
        options.path,
        (next) => {
          peers = next;
          firstList();
          options.onChange();
        },
        options.log.child({ component: 'peers-file' }),
        { badStart: 'wait', ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }) },
      );
      await listed;
    },
    entries: () => peers.map((peer) => ({ ...peer, ready: true }) satisfies AgentEntry),
    zoneOfNode: (nodeName) => peers.find((peer) => peer.nodeName === nodeName)?.zone,
    async stop() {
      watcher?.close();
    },
  };
}
