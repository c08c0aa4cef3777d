// Indexes a window's pair views for the rules: pairs by zone pair, by source and destination node, the reverse of a
// pair, and which pairs a verdict already explains (so a lesser rule never blames the same failures twice).
import type { PairView } from './pair-state.ts';
import type { PairRef } from './types.ts';

export interface PairIndex {
  readonly pairs: readonly PairView[];
  /** 1 where a verdict of a stronger rule explains the pair. */
  readonly explained: Uint8Array;
  readonly outgoing: ReadonlyMap<string, readonly number[]>;
  readonly incoming: ReadonlyMap<string, readonly number[]>;
  /** `${sourceZone}\n${destinationZone}` → pair indices. */
  readonly byZonePair: ReadonlyMap<string, readonly number[]>;
  reverseOf(index: number): number | undefined;
}

export function indexPairs(pairs: readonly PairView[]): PairIndex {
  const outgoing = new Map<string, number[]>();
  const incoming = new Map<string, number[]>();
  const byZonePair = new Map<string, number[]>();
  const byKey = new Map<string, number>();
  const push = (map: Map<string, number[]>, key: string, index: number) => {
    const list = map.get(key);
    if (list) list.push(index);
    else map.set(key, [index]);
  };
  pairs.forEach((pair, index) => {
    push(outgoing, pair.source, index);
    push(incoming, pair.destination, index);
    push(byZonePair, `${pair.sourceZone}\n${pair.destinationZone}`, index);
    byKey.set(`${pair.source}\n${pair.destination}`, index);
  });
  return {
    pairs,
    explained: new Uint8Array(pairs.length),
    outgoing,
    incoming,
    byZonePair,
    reverseOf: (index) => {
      const pair = pairs[index]!;
      return byKey.get(`${pair.destination}\n${pair.source}`);
    },
  };
}

/** The first `limit` pairs of `indices`, as references for evidence. */
export function pairRefs(index: PairIndex, indices: readonly number[], limit: number): PairRef[] {
  return indices.slice(0, limit).map((i) => ({ source: index.pairs[i]!.source, destination: index.pairs[i]!.destination }));
}

export function splitZonePair(key: string): [string, string] {
  const cut = key.indexOf('\n');
  return [key.slice(0, cut), key.slice(cut + 1)];
}
