// What every probe kind's metrics module offers the agent (pre-create, remove and record a target's series, drop all
// on a source change), and what they share: the pair and histogram label names, the latency buckets, and the per-peer
// label objects built once per source (the hot path records ~1,000 results a second at 1,000 peers).
import type { Registry } from 'prom-client';
import type { Peer } from '../discovery/peer.ts';

export const PAIR_LABELS = ['source', 'destination', 'source_zone', 'destination_zone'] as const;
/**
 * The latency histograms' labels: `destination_scope` is `same_zone` or `other_zone`, so an agent exports at most two
 * label sets per histogram whatever the number of zones (docs/design/peer-selection.md, "Series budget"). Latency by
 * zone pair comes from the per-pair gauges, which exist for every probed pair.
 */
export const SCOPE_LABELS = ['source', 'source_zone', 'destination_scope'] as const;
export const SOURCE_LABELS = ['source', 'source_zone'] as const;
/**
 * Seconds, about 2.5× apart over the in-cluster round trips (same zone ~0.1–0.5 ms, other zones ~0.5–2.5 ms), then
 * degraded paths up to the UDP timeout (250 ms); anything slower lands in +Inf. Eight buckets: 11 series a histogram.
 */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25];
export const RESULTS = ['pass', 'fail'] as const;

export type PairLabels = Record<(typeof PAIR_LABELS)[number], string>;
export type ScopeLabels = Record<(typeof SCOPE_LABELS)[number], string>;
export interface PeerLabels {
  readonly pair: PairLabels;
  /** The histograms' labels: same zone as the agent or another one. */
  readonly scope: ScopeLabels;
  readonly pass: PairLabels & { result: string };
  readonly fail: PairLabels & { result: string };
  /** What metrics modules keep with the peer's labels (their series handles, series-handle.ts), by module. */
  readonly kept: Map<object, unknown>;
}

export interface Source {
  readonly nodeName: string;
  readonly zone: string;
}

/** The agent's own labels and the label objects of each peer under them; `setSource` starts afresh. */
export interface SourceLabels {
  source(): Source;
  /** `{source, source_zone}`. */
  own(): { readonly source: string; readonly source_zone: string };
  of(peer: Peer): PeerLabels;
  /**
   * What `owner` (a metrics module) keeps for the peer, made by `create` on first use: its series handles, so that the
   * hot path updates series without hashing labels. Dropped with the labels on `setSource`, or by `forget`.
   */
  kept<T>(peer: Peer, owner: object, create: (labels: PeerLabels) => T): T;
  /** Drops what `owner` keeps for the peer (its series were removed). */
  forget(peer: Peer, owner: object): void;
  setSource(source: Source): void;
}

export function createSourceLabels(initial: Source): SourceLabels {
  let source = initial;
  let own = { source: source.nodeName, source_zone: source.zone };
  let cache = new WeakMap<Peer, PeerLabels>();
  const sourceLabels: SourceLabels = {
    source: () => source,
    own: () => own,
    of(peer) {
      let labels = cache.get(peer);
      if (!labels) {
        const pair = { source: source.nodeName, destination: peer.nodeName, source_zone: source.zone, destination_zone: peer.zone };
        labels = {
          pair,
          scope: { source: source.nodeName, source_zone: source.zone, destination_scope: destinationScope(source.zone, peer.zone) },
          pass: { ...pair, result: 'pass' },
          fail: { ...pair, result: 'fail' },
          kept: new Map(),
        };
        cache.set(peer, labels);
      }
      return labels;
    },
    kept(peer, owner, create) {
      const labels = sourceLabels.of(peer);
      let kept = labels.kept.get(owner);
      if (kept === undefined) {
        kept = create(labels);
        labels.kept.set(owner, kept);
      }
      return kept as ReturnType<typeof create>;
    },
    forget(peer, owner) {
      cache.get(peer)?.kept.delete(owner);
    },
    setSource(next) {
      source = next;
      own = { source: source.nodeName, source_zone: source.zone };
      cache = new WeakMap();
    },
  };
  return sourceLabels;
}

/** `same_zone` when the peer is in the agent's zone, else `other_zone`. */
export function destinationScope(sourceZone: string, destinationZone: string): 'same_zone' | 'other_zone' {
  return sourceZone === destinationZone ? 'same_zone' : 'other_zone';
}

/** What a kind's metrics module is made from. */
export interface KindMetricsDeps {
  readonly registry: Registry;
  readonly prefix: string;
  readonly labels: SourceLabels;
  /** The peer probed at an address (for observations that arrive by address, like late UDP echoes). */
  readonly peerAt: (address: string) => Peer | undefined;
}

/** One probe kind's series. */
export interface KindMetrics<Target, Result> {
  /** Pre-creates a new target's counters at zero so `increase()` sees its first failure. */
  add(target: Target): void;
  /** Removes every series naming the target (called the moment it leaves). */
  remove(target: Target): void;
  record(target: Target, result: Result): void;
  /** Drops every series of the kind: the agent's source labels changed; the agent then re-adds its targets. */
  reset(): void;
}
