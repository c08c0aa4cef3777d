// Figures of a peer assignment: out- and in-degrees, same-zone probers, zone coverage and zone pairs. Used by
// `kconmon plan` and by the property tests, so both read an assignment the same way.
import type { PeerAssignment, TopologyNode } from './peer-selection.ts';
import { destinationScopes } from './series-model.ts';

export interface AssignmentStats {
  readonly nodes: number;
  readonly zones: number;
  readonly pairs: number;
  readonly outDegree: { readonly min: number; readonly max: number; readonly mean: number };
  readonly inDegree: { readonly min: number; readonly max: number; readonly mean: number };
  /** Nodes probed from every other zone that has agents. */
  readonly nodesCoveredFromAllZones: number;
  /** Nodes probed by at least min(2, own zone size − 1) agents of their own zone. */
  readonly nodesWithSameZoneProbers: number;
  /** Ordered zone pairs (source zone, destination zone; same zone included when it has ≥ 2 nodes) with at least one probe. */
  readonly zonePairsCovered: number;
  readonly zonePairsPossible: number;
  /** Each node's destination scopes (same zone, other zones: 0 to 2), summed over the cluster (histograms scale with it). */
  readonly destinationScopesTotal: number;
}

/** Per node: its probers (in-list), for tests that look at one node. */
export function probersByNode(assignment: PeerAssignment): Map<string, string[]> {
  const probers = new Map<string, string[]>();
  for (const name of assignment.targets.keys()) probers.set(name, []);
  for (const [source, list] of assignment.targets) for (const target of list) probers.get(target)!.push(source);
  return probers;
}

export function assignmentStats(nodes: readonly TopologyNode[], assignment: PeerAssignment): AssignmentStats {
  const zoneOf = new Map(nodes.map((node) => [node.name, node.zone] as const));
  const zoneSize = new Map<string, number>();
  for (const node of nodes) zoneSize.set(node.zone, (zoneSize.get(node.zone) ?? 0) + 1);
  const zones = zoneSize.size;
  const probers = probersByNode(assignment);
  const outDegrees = [...assignment.targets.values()].map((list) => list.length);
  const inDegrees = [...probers.values()].map((list) => list.length);
  const pairs = outDegrees.reduce((sum, degree) => sum + degree, 0);

  let coveredFromAll = 0;
  let withSameZone = 0;
  for (const [name, list] of probers) {
    const zone = zoneOf.get(name)!;
    const proberZones = new Set(list.map((prober) => zoneOf.get(prober)!));
    const fromOwn = list.filter((prober) => zoneOf.get(prober) === zone).length;
    if (proberZones.size - (proberZones.has(zone) ? 1 : 0) === zones - 1) coveredFromAll++;
    if (fromOwn >= Math.min(2, zoneSize.get(zone)! - 1)) withSameZone++;
  }

  const zonePairs = new Set<string>();
  let destinationScopesTotal = 0;
  for (const [source, list] of assignment.targets) {
    const destinationZones = new Set(list.map((target) => zoneOf.get(target)!));
    destinationScopesTotal += destinationScopes(zoneOf.get(source)!, destinationZones);
    for (const zone of destinationZones) zonePairs.add(`${zoneOf.get(source)}\u0000${zone}`);
  }
  let zonePairsPossible = 0;
  for (const size of zoneSize.values()) zonePairsPossible += zones - 1 + (size >= 2 ? 1 : 0);

  return {
    nodes: nodes.length,
    zones,
    pairs,
    outDegree: summary(outDegrees),
    inDegree: summary(inDegrees),
    nodesCoveredFromAllZones: coveredFromAll,
    nodesWithSameZoneProbers: withSameZone,
    zonePairsCovered: zonePairs.size,
    zonePairsPossible,
    destinationScopesTotal,
  };
}

function summary(values: readonly number[]): { min: number; max: number; mean: number } {
  if (values.length === 0) return { min: 0, max: 0, mean: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  return { min, max, mean: sum / values.length };
}
