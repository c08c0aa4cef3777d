// Bounded, topology-aware peer selection: which peers each agent probes when the cluster outgrows a full mesh.
// Pure and deterministic: the same node list (in any order) and settings give the same assignment in every agent.
// Design, properties and their exact conditions: docs/design/peer-selection.md.
import { avalanche, stableHash } from './stable-hash.ts';

export interface TopologyNode {
  readonly name: string;
  readonly zone: string;
}

export interface PeerSelectionSettings {
  /** `probing.maxPeers`: the most peers one agent probes. A cluster whose N − 1 peers fit is a full mesh. */
  readonly maxPeers: number;
  /** Probers every node gets from its own zone's ring (default 2; fewer in a zone of fewer nodes). */
  readonly sameZoneProbers?: number;
  /**
   * Probers every node gets in all (its in-degree; default max(3, ⌊maxPeers / 3⌋), never above maxPeers or N − 1).
   * The mean out-degree equals it; the rest of the budget absorbs the uneven loads of hashing.
   */
  readonly probersPerNode?: number;
  /** Mixed into every hash: another seed gives another, equally valid, assignment. */
  readonly seed?: string;
}

/** Default `probing.maxPeers` (justified in docs/design/peer-selection.md). */
export const DEFAULT_MAX_PEERS = 18;
const DEFAULT_SAME_ZONE_PROBERS = 2;

export interface PeerAssignment {
  readonly fullMesh: boolean;
  readonly maxPeers: number;
  /** The in-degree target actually used (after the caps). */
  readonly probersPerNode: number;
  readonly sameZoneProbers: number;
  /** Each node's targets, sorted by name; every node of the input has an entry. */
  readonly targets: ReadonlyMap<string, readonly string[]>;
  /** Probes placed past an agent with no budget left onto the next one on the ring (0 where the stability bound is proven). */
  readonly spilled: number;
  /** Probes no agent of any zone had budget for: nodes left below the in-degree target. */
  readonly unfilled: number;
}

/**
 * The in-degree target for a budget: a third of it (at least 3, at most the budget). The mean out-degree equals it;
 * the other two thirds absorb hashing's uneven loads, so an agent rarely reaches the budget (docs/design/peer-selection.md).
 */
function defaultProbersPerNode(maxPeers: number): number {
  return Math.min(maxPeers, Math.max(3, Math.floor(maxPeers / 3)));
}

/** The peers `name` probes in `assignment` (empty for a name it does not hold). */
export function peersOf(assignment: PeerAssignment, name: string): readonly string[] {
  return assignment.targets.get(name) ?? [];
}

/** Computes every node's targets. Throws a RangeError for bad settings or a duplicate node name. */
export function selectPeers(nodes: readonly TopologyNode[], settings: PeerSelectionSettings): PeerAssignment {
  const { maxPeers } = settings;
  requireInt('maxPeers', maxPeers, 1);
  const seed = settings.seed ?? '';
  const count = nodes.length;
  if (count >= OWNER_SPAN) throw new RangeError(`at most ${OWNER_SPAN - 1} nodes (got ${count})`);
  const targetDegree = Math.min(settings.probersPerNode ?? defaultProbersPerNode(maxPeers), Math.max(count - 1, 0));
  if (settings.probersPerNode !== undefined) {
    requireInt('probersPerNode', settings.probersPerNode, 1);
    if (settings.probersPerNode > maxPeers) throw new RangeError(`probersPerNode (${settings.probersPerNode}) must be ≤ maxPeers (${maxPeers})`);
  }
  if (settings.sameZoneProbers !== undefined) requireInt('sameZoneProbers', settings.sameZoneProbers, 0);
  const sameZoneProbers = Math.min(settings.sameZoneProbers ?? DEFAULT_SAME_ZONE_PROBERS, targetDegree);

  // Canonical order: by ring position, then name. Every later loop runs in this order, so input order never matters.
  const position = new Map<string, number>();
  for (const node of nodes) {
    if (position.has(node.name)) throw new RangeError(`duplicate node name "${node.name}"`);
    position.set(node.name, stableHash(`${seed}\u0000${node.name}`));
  }
  const ordered = nodes
    .map((node) => ({ node, at: position.get(node.name)! }))
    .sort((a, b) => a.at - b.at || compare(a.node.name, b.node.name))
    .map((entry) => entry.node);
  const base = { maxPeers, probersPerNode: targetDegree, sameZoneProbers };

  if (count - 1 <= maxPeers) {
    const sortedNames = ordered.map((node) => node.name).sort(compare);
    const targets = new Map(sortedNames.map((name) => [name, sortedNames.filter((other) => other !== name)] as const));
    return { ...base, fullMesh: true, targets, spilled: 0, unfilled: 0 };
  }

  // Zone rings: each zone's nodes in canonical order; a node's successors on its ring follow it.
  const zoneNames = [...new Set(ordered.map((node) => node.zone))].sort(compare);
  const zoneIndexOf = new Map(zoneNames.map((zone, index) => [zone, index] as const));
  const zoneOf = new Int32Array(count);
  const rings: number[][] = zoneNames.map(() => []);
  const ringIndexOf = new Int32Array(count);
  ordered.forEach((node, index) => {
    const zone = zoneIndexOf.get(node.zone)!;
    zoneOf[index] = zone;
    ringIndexOf[index] = rings[zone]!.length;
    rings[zone]!.push(index);
  });

  const targets: number[][] = ordered.map(() => []);
  const probers: number[][] = ordered.map(() => []);
  const link = (prober: number, target: number) => {
    targets[prober]!.push(target);
    probers[target]!.push(prober);
  };

  // 1. Same zone: every node probes its next k nodes on its zone's ring, so each is probed by its k predecessors.
  for (const ring of rings) {
    const k = Math.min(sameZoneProbers, ring.length - 1);
    for (let at = 0; at < ring.length; at++) {
      for (let step = 1; step <= k; step++) link(ring[at]!, ring[(at + step) % ring.length]!);
    }
  }

  // 2. The rest of each node's in-degree, one prober per zone in turn: the zones it represents its zone towards first,
  //    then the other zones in its own weighted rendezvous order, its own zone last (rendezvousOrders); within a zone,
  //    the next agent on that zone's point ring after the node's position that does not probe it yet and still has
  //    budget. Turn by turn across all nodes, so the first prober from each zone is served before any extra.
  const capacity = new Int32Array(count);
  for (let index = 0; index < count; index++) capacity[index] = maxPeers - targets[index]!.length;
  const need = new Int32Array(count);
  for (let index = 0; index < count; index++) need[index] = Math.max(0, targetDegree - probers[index]!.length);
  const zoneHash = zoneNames.map((zone) => stableHash(`${seed}\u0000zone\u0000${zone}`));
  const zoneCount = zoneNames.length;
  const positions = Uint32Array.from(ordered, (node) => position.get(node.name)!);
  const zoneOrder = rendezvousOrders(positions, zoneOf, zoneHash, rings, need);
  const pointRings = rings.map((ring) => virtualRing(ring, ordered, seed));
  /** Per (node, zone): the next point to try on that zone's ring, and how many were tried (a full lap ends the walk). */
  const cursor = new Int32Array(count * zoneCount).fill(-1);
  const walked = new Int32Array(count * zoneCount);
  let spilled = 0;

  const pick = (target: number, zone: number): boolean => {
    const ring = pointRings[zone]!;
    const slot = target * zoneCount + zone;
    let at = cursor[slot]!;
    if (at < 0) at = successorPoint(ring.points, positions[target]!);
    let passedFull = false;
    while (walked[slot]! < ring.owners.length) {
      const candidate = ring.owners[at]!;
      at = (at + 1) % ring.owners.length;
      walked[slot]!++;
      if (candidate === target || probers[target]!.includes(candidate)) continue;
      if (capacity[candidate]! <= 0) {
        passedFull = true;
        continue;
      }
      link(candidate, target);
      capacity[candidate]!--;
      need[target]!--;
      if (passedFull) spilled++;
      cursor[slot] = at;
      return true;
    }
    cursor[slot] = at;
    return false;
  };

  for (;;) {
    let progressed = false;
    for (let turn = 0; turn < zoneCount; turn++) {
      for (let target = 0; target < count; target++) {
        if (need[target]! > 0 && pick(target, zoneOrder.zoneAt(target, turn))) progressed = true;
      }
    }
    if (!progressed) break;
  }

  let unfilled = 0;
  for (let index = 0; index < count; index++) unfilled += need[index]!;
  const names = ordered.map((node) => node.name);
  const result = new Map<string, readonly string[]>();
  for (const name of [...names].sort(compare)) result.set(name, []);
  targets.forEach((list, index) => {
    result.set(names[index]!, list.map((target) => names[target]!).sort(compare));
  });
  return { ...base, fullMesh: false, targets: result, spilled, unfilled };
}

interface ZoneOrders {
  /** The zone of `node`'s turn `turn` (0 … zones − 1; the last is its own zone). */
  zoneAt(node: number, turn: number): number;
}

/**
 * Per node (row of `zones` entries): the zones it is probed from, in order — its own zone last, the other zones by
 * weighted rendezvous (score −ln(u) / size for u the hash of node and zone), so a zone is asked in proportion to its
 * size and to its budget. For each ordered zone pair (X, Y) one node of Y — the highest hash for X that still has room —
 * represents Y towards X and takes X first, so every zone pair is probed even where nodes are probed from only some
 * zones; a join or leave moves a representative only when the node is (or becomes) that highest one.
 */
function rendezvousOrders(
  positions: Uint32Array,
  zoneOf: Int32Array,
  zoneHash: readonly number[],
  rings: readonly (readonly number[])[],
  need: Int32Array,
): ZoneOrders {
  const zones = zoneHash.length;
  const count = positions.length;
  const hashOf = (node: number, zone: number) => mix(positions[node]!, zoneHash[zone]!);
  const forced = new Uint8Array(count * zones);
  const forcedCount = new Int32Array(count);
  for (let destination = 0; destination < zones; destination++) {
    const ring = rings[destination]!;
    for (let source = 0; source < zones; source++) {
      if (source === destination) continue;
      let chosen = -1;
      let best = -1;
      for (const node of ring) {
        const hash = hashOf(node, source);
        if (hash > best && forcedCount[node]! < need[node]!) {
          best = hash;
          chosen = node;
        }
      }
      if (chosen < 0) continue; // the zone's nodes have fewer slots than there are zones
      forced[chosen * zones + source] = 1;
      forcedCount[chosen]!++;
    }
  }
  // Most nodes need fewer zones than there are (a few probers, many zones): their row is computed up to what they
  // need by selection, and completed by a full sort only if a walk comes back empty and a later turn is reached.
  const order = new Int32Array(count * zones);
  const known = new Int32Array(count);
  const score = new Float64Array(zones);
  const others: number[] = [];
  const before = (a: number, b: number) => score[a]! < score[b]! || (score[a] === score[b] && a < b);
  const scoreRow = (node: number) => {
    const own = zoneOf[node]!;
    others.length = 0;
    for (let zone = 0; zone < zones; zone++) {
      if (zone === own) continue;
      const unit = (hashOf(node, zone) + 0.5) / 4294967296;
      score[zone] = (forced[node * zones + zone] ? -1e9 : 0) - Math.log(unit) / rings[zone]!.length;
      others.push(zone);
    }
  };
  const complete = (node: number) => {
    scoreRow(node);
    others.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    for (let index = 0; index < others.length; index++) order[node * zones + index] = others[index]!;
    known[node] = zones - 1;
  };
  for (let node = 0; node < count; node++) {
    order[node * zones + zones - 1] = zoneOf[node]!;
    const wanted = Math.min(zones - 1, need[node]!);
    if (wanted * 4 >= zones - 1) {
      complete(node);
      continue;
    }
    scoreRow(node);
    // Insertion selection of the `wanted` first zones, in the same order as the full sort.
    const row = node * zones;
    let size = 0;
    for (const zone of others) {
      if (size === wanted && !before(zone, order[row + size - 1]!)) continue;
      let at = size === wanted ? size - 1 : size++;
      while (at > 0 && before(zone, order[row + at - 1]!)) {
        order[row + at] = order[row + at - 1]!;
        at--;
      }
      order[row + at] = zone;
    }
    known[node] = wanted;
  }
  return {
    zoneAt(node: number, turn: number): number {
      if (turn >= known[node]! && turn < zones - 1) complete(node);
      return order[node * zones + turn]!;
    },
  };
}

/** Points per agent on a zone's ring for the cross-zone walk: more points, more even loads (Poisson-like, not geometric). */
const POINTS_PER_AGENT = 16;
/** Nodes per cluster the packed point keys allow (2^21). */
const OWNER_SPAN = 2 ** 21;

interface PointRing {
  /** Ring positions, ascending. */
  readonly points: Uint32Array;
  /** The agent (canonical index) owning each point. */
  readonly owners: Int32Array;
}

function virtualRing(ring: readonly number[], ordered: readonly TopologyNode[], seed: string): PointRing {
  // One double per point: position × 2^21 + owner (exact below 2^53), sorted natively.
  const keys = new Float64Array(ring.length * POINTS_PER_AGENT);
  let used = 0;
  for (const owner of ring) {
    const base = stableHash(`${seed}\u0000point\u0000${ordered[owner]!.name}`);
    for (let replica = 0; replica < POINTS_PER_AGENT; replica++) keys[used++] = mix(base, replica + 1) * OWNER_SPAN + owner;
  }
  keys.sort();
  const points = new Uint32Array(keys.length);
  const owners = new Int32Array(keys.length);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const point = Math.floor(key / OWNER_SPAN);
    points[index] = point;
    owners[index] = key - point * OWNER_SPAN;
  }
  return { points, owners };
}

/** The index of the first point after `position` (wrapping). */
function successorPoint(points: Uint32Array, position: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (points[middle]! <= position) low = middle + 1;
    else high = middle;
  }
  return low % points.length;
}

/** Combines two 32-bit hashes into a rendezvous weight (murmur3 finaliser of their mix). */
function mix(a: number, b: number): number {
  return avalanche((a ^ Math.imul(b, 0x9e3779b1)) >>> 0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function requireInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min} (got ${value})`);
}
