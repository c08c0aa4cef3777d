// The node set the verdict engine judges, from the controller's agent set: every node with an agent, `terminating`
// when no agent on it is ready (its pod is terminating, or being replaced in a rolling update) — its pairs prove
// nothing and nobody is blamed on it. Which node probes which comes from `assignment`: undefined today (every agent
// probes every other); bounded peer selection plugs its source → destinations map in here.
import type { AgentEntry } from '../protocol/agent-stream.ts';
import type { NodeState, Topology } from '../verdicts/types.ts';

export type ProbeAssignment = (nodes: readonly NodeState[]) => ReadonlyMap<string, ReadonlySet<string>> | undefined;

/** Full mesh: every node probes every other. */
export const ALL_TO_ALL: ProbeAssignment = () => undefined;

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
