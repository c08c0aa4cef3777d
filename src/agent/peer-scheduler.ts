// Keeps one probe loop per (peer, test): diffs each new peer set by identity, starts loops for new peers spread over
// the interval, and stops a departed peer's loops at once (an in-flight result is discarded, never recorded).
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
  readonly added: readonly Peer[];
  readonly removed: readonly Peer[];
}

export interface PeerScheduler {
  /** Replaces the peer set; returns what changed so the caller can create and remove series. */
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
      const wanted = new Map(peers.map((peer) => [peerKey(peer), peer]));
      const removed: Peer[] = [];
      for (const [key, entry] of running) {
        if (wanted.has(key)) continue;
        entry.controller.abort();
        running.delete(key);
        removed.push(entry.peer);
      }
      const added: Peer[] = [];
      for (const [key, peer] of wanted) {
        if (running.has(key)) continue;
        running.set(key, start(peer));
        added.push(peer);
      }
      return { added, removed };
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
