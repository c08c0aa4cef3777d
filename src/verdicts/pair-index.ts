// Indexes a window's pair views for the rules: pairs by zone pair, by source and destination node, the reverse of a
// pair, and which pairs a verdict already explains (so a lesser rule never blames the same failures twice).
import type { PairView } from './pair-state.ts';
import type { PairRef } from './types.ts';
import { getOrCreate } from './get-or-create.ts';

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
  /** source → destination → index, for the reverse of a pair. */
  const byPair = new Map<string, Map<string, number>>();
  // Zone pair keys are built once per zone pair in a window, not once per node pair.
  const zoneKeys = new Map<string, Map<string, string>>();
  const zonePairKey = (sourceZone: string, destinationZone: string) => {
    const bySource = getOrCreate(zoneKeys, sourceZone, () => new Map<string, string>());
    return getOrCreate(bySource, destinationZone, () => `${sourceZone}\n${destinationZone}`);
  };
  const push = (map: Map<string, number[]>, key: string, index: number) => {
    const list = map.get(key);
    if (list) list.push(index);
    else map.set(key, [index]);
  };
  pairs.forEach((pair, index) => {
    push(outgoing, pair.source, index);
    push(incoming, pair.destination, index);
    push(byZonePair, zonePairKey(pair.sourceZone, pair.destinationZone), index);
    getOrCreate(byPair, pair.source, () => new Map<string, number>()).set(pair.destination, index);
  });
  return {
    pairs,
    explained: new Uint8Array(pairs.length),
    outgoing,
    incoming,
    byZonePair,
    reverseOf: (index) => {
      const pair = pairs[index]!;
      return byPair.get(pair.destination)?.get(pair.source);
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
