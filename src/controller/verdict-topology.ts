// The node set the verdict engine judges, from the controller's agent set: every node with an agent, `terminating`
// when no agent on it is ready (its pod is terminating, or being replaced in a rolling update) — its pairs prove
// nothing and nobody is blamed on it. Which node probes which comes from `assignment`: every node probes every other
// while the ready agents fit the probing budget, else the rows of `selectPeers` that the agents themselves compute.
import type { AgentEntry } from '../protocol/agent-stream.ts';
import { selectPeers } from '../topology/peer-selection.ts';
import type { NodeState, Topology } from '../verdicts/types.ts';

export type ProbeAssignment = (nodes: readonly NodeState[]) => ReadonlyMap<string, ReadonlySet<string>> | undefined;

/** Full mesh: every node probes every other. */
const ALL_TO_ALL: ProbeAssignment = () => undefined;

export function topologyOf(entries: readonly AgentEntry[], assignment: ProbeAssignment = ALL_TO_ALL): Topology {
  const byNode = new Map<string, { zone: string; ready: boolean }>();
  for (const entry of entries) {
    const known = byNode.get(entry.nodeName);
    if (known === undefined) byNode.set(entry.nodeName, { zone: entry.zone, ready: entry.ready });
    else if (entry.ready && !known.ready) byNode.set(entry.nodeName, { zone: entry.zone, ready: true });
  }
  const nodes: NodeState[] = [...byNode].map(([name, { zone, ready }]) => ({ name, zone, terminating: !ready }));
  const probes = assignment(nodes);
  return probes === undefined ? { nodes } : { nodes, probes };
}

/**
 * Bounded probing, as every agent computes it (src/agent/peer-selector.ts): over the nodes with a ready agent, a full
 * mesh while the others fit `maxPeers`, else `selectPeers`' rows. Recomputed only when that node set changes.
 */
export function boundedAssignment(maxPeers: number): ProbeAssignment {
  let memo: { key: string; probes: ReadonlyMap<string, ReadonlySet<string>> } | undefined;
  return (nodes) => {
    const ready = nodes.filter((node) => !node.terminating).map(({ name, zone }) => ({ name, zone }));
    if (ready.length - 1 <= maxPeers) return undefined;
    const key = ready
      .map((node) => `${node.name}\u0000${node.zone}`)
      .sort()
      .join('\n');
    if (memo?.key !== key) {
      const { targets } = selectPeers(ready, { maxPeers });
      memo = { key, probes: new Map([...targets].map(([source, row]) => [source, new Set(row)])) };
    }
    return memo.probes;
  };
}
