// fast-check generators for the peer-selection property tests: clusters of 2…5,000 nodes in 1…50 zones of uneven
// sizes (a skew exponent piles nodes into the first zones), several naming schemes, and a budget.
import fc from 'fast-check';
import { DEFAULT_MAX_PEERS, type TopologyNode } from '../../src/topology/peer-selection.ts';

export interface Cluster {
  readonly nodes: readonly TopologyNode[];
  readonly maxPeers: number;
  /** What generated it, printed by fast-check with a failing case. */
  readonly recipe: string;
}

/** Seed of every property run; fast-check prints it (and the path) with any failure. Override: KCONMON_FC_SEED. */
export const PROPERTY_SEED = Number(process.env.KCONMON_FC_SEED ?? 20261130);

const NAMINGS = [
  (index: number) => `node-${index}`,
  (index: number) => `ip-10-${(index >> 8) & 255}-${index & 255}-${index % 7}.eu-west-1.compute.internal`,
  (index: number) => `gke-prod-pool-${index % 3}-${(index * 2654435761) >>> 20}-${index}`,
];

/** A small deterministic PRNG (mulberry32), so a recipe rebuilds its cluster exactly. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildCluster(count: number, zones: number, skew: number, naming: number, salt: number, maxPeers: number): Cluster {
  const next = random(salt);
  const name = NAMINGS[naming]!;
  const nodes = Array.from({ length: count }, (_, index) => ({
    name: name(index),
    zone: `zone-${Math.min(zones - 1, Math.floor(zones * next() ** (1 + skew)))}`,
  }));
  const recipe = `buildCluster(${count}, ${zones}, ${skew}, ${naming}, ${salt}, ${maxPeers})`;
  // fast-check prints a failing cluster as its recipe, not as 5,000 nodes.
  return Object.assign({ nodes, maxPeers, recipe }, { [fc.toStringMethod]: () => recipe });
}

/** Node counts weighted towards small clusters (where edge cases live), up to 5,000. */
export const nodeCount = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 2, max: 120 }) },
  { weight: 2, arbitrary: fc.integer({ min: 121, max: 1500 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1501, max: 5000 }) },
);

/** The default budget (18) half the time, else any budget from 6 (the smallest that guarantees 3 probers) to 60. */
export const budget = fc.oneof(fc.constant(DEFAULT_MAX_PEERS), fc.integer({ min: 6, max: 60 }));

export function clusterArbitrary(counts: fc.Arbitrary<number> = nodeCount, budgets: fc.Arbitrary<number> = budget): fc.Arbitrary<Cluster> {
  return fc
    .tuple(
      counts,
      fc.integer({ min: 1, max: 50 }),
      fc.constantFrom(0, 0.5, 1, 2, 4),
      fc.integer({ min: 0, max: NAMINGS.length - 1 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      budgets,
    )
    .map(([count, zones, skew, naming, salt, maxPeers]) => buildCluster(count, zones, skew, naming, salt, maxPeers));
}
