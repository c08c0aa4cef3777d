// Keeps one probe loop per (node, test): one probed identity per node. Diffs each new peer set by node, starts loops
// for new nodes spread over the interval, restarts a node's loops against its new agent when the agent (pod, IP or
// zone) changes, and stops a departed node's loops at once (an in-flight result is discarded, never recorded).
import { peerKey, type Peer } from '../discovery/peer.ts';
import { runProbeLoop } from './probe-loop.ts';

export interface PeerTest {
  readonly name: string;
  readonly intervalMs: number;
  readonly run: (peer: Peer, signal: AbortSignal) => Promise<unknown>;
  readonly record: (peer: Peer, result: unknown) => void;
}

export interface PeerSchedulerOptions {
  readonly tests: readonly PeerTest[];
  readonly jitter: { readonly min: number; readonly max: number };
  readonly random?: () => number;
  /**
   * A new peer's first run waits this long, plus a random share of the interval: every agent learns of a new peer
   * within discovery's propagation time, and its echo answers only agents it knows.
   */
  readonly firstRunDelayMs?: number;
  readonly onError: (test: string, peer: Peer, error: unknown) => void;
}

export interface PeerSetChange {
  /** Nodes that were not probed before. */
  readonly added: readonly Peer[];
  /** Nodes no longer probed: no agent of theirs is in the set. */
  readonly removed: readonly Peer[];
  /** Nodes still probed whose agent changed (another pod, IP or zone): the loops restarted against `after`. */
  readonly replaced: readonly { readonly before: Peer; readonly after: Peer }[];
}

export interface PeerScheduler {
  /**
   * Replaces the peer set; returns what changed so the caller can create and remove series. The set must hold at
   * most one peer per node (a later duplicate is ignored).
   */
  setPeers(peers: readonly Peer[]): PeerSetChange;
  peers(): Peer[];
  /** Stops every loop and waits for in-flight probes to settle. */
  stop(): Promise<void>;
}

interface Running {
  readonly peer: Peer;
  readonly controller: AbortController;
  readonly loops: Promise<void>[];
}

export function createPeerScheduler(options: PeerSchedulerOptions): PeerScheduler {
  const random = options.random ?? Math.random;
  const running = new Map<string, Running>();

  function start(peer: Peer): Running {
    const controller = new AbortController();
    const loops = options.tests.map((test) =>
      runProbeLoop({
        intervalMs: test.intervalMs,
        jitter: options.jitter,
        initialDelayMs: (options.firstRunDelayMs ?? 0) + random() * test.intervalMs,
        signal: controller.signal,
        random,
        run: (signal) => test.run(peer, signal),
        record: (result) => test.record(peer, result),
        onError: (error) => options.onError(test.name, peer, error),
      }),
    );
    return { peer, controller, loops };
  }

  return {
    setPeers(peers) {
      const wanted = new Map<string, Peer>();
      for (const peer of peers) if (!wanted.has(peer.nodeName)) wanted.set(peer.nodeName, peer);
      const removed: Peer[] = [];
      const replaced: { before: Peer; after: Peer }[] = [];
      const restarted = new Set<Peer>();
      for (const [node, entry] of running) {
        const next = wanted.get(node);
        if (next && peerKey(next) === peerKey(entry.peer)) continue;
        entry.controller.abort();
        running.delete(node);
        if (next) {
          replaced.push({ before: entry.peer, after: next });
          restarted.add(next);
        } else removed.push(entry.peer);
      }
      const added: Peer[] = [];
      for (const [node, peer] of wanted) {
        if (running.has(node)) continue;
        running.set(node, start(peer));
        if (!restarted.has(peer)) added.push(peer);
      }
      return { added, removed, replaced };
    },
    peers: () => [...running.values()].map((entry) => entry.peer),
    async stop() {
      const entries = [...running.values()];
      running.clear();
      for (const entry of entries) entry.controller.abort();
      await Promise.all(entries.flatMap((entry) => entry.loops));
    },
  };
}
