// Pure mapping from Kubernetes objects to agent entries: a node's zone from its labels (first label present wins),
// an agent pod's entry — listed only with a node and an IP and not terminating; ready only when Running and Ready —
// and one probed identity per node: of several agent pods on one node, only the newest Ready one is probed.
import { isIP } from 'node:net';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { AgentEntry } from '../protocol/agent-stream.ts';

export { DEFAULT_ZONE_LABELS } from '../config/controller-schema.ts';

export function nodeZone(node: V1Node | undefined, zoneLabels: readonly string[]): string {
  const labels = node?.metadata?.labels ?? {};
  for (const label of zoneLabels) {
    const value = labels[label];
    if (value) return value;
  }
  return 'unknown';
}

export type PodVerdict = { readonly entry: AgentEntry } | { readonly skip: string };

/**
 * An agent pod's entry, or why it is not one. Terminating pods are dropped at once: their peers stop testing them
 * before they stop answering (the agent keeps answering through its shutdown grace period).
 */
export function podToEntry(pod: V1Pod, zoneOfNode: (nodeName: string) => string): PodVerdict {
  const name = pod.metadata?.name;
  if (!name) return { skip: 'pod without metadata.name' };
  if (pod.metadata?.deletionTimestamp) return { skip: 'terminating' };
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) return { skip: 'not scheduled (no spec.nodeName)' };
  const ip = pod.status?.podIP;
  if (!ip) return { skip: 'no status.podIP yet' };
  if (isIP(ip) === 0) return { skip: `status.podIP "${ip}" is not an IP address` };
  const phase = pod.status?.phase;
  const readyCondition = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
  const ready = phase === 'Running' && readyCondition?.status === 'True';
  return { entry: { name, nodeName, ip, zone: zoneOfNode(nodeName), ready } };
}

/** A pod's creation time in ms since the epoch (-Infinity if unknown: it loses every tie of age). */
export function podCreatedAt(pod: V1Pod): number {
  const created = pod.metadata?.creationTimestamp as Date | string | undefined;
  const time = created === undefined ? Number.NaN : new Date(created).getTime();
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
}

export interface AgentCandidate {
  readonly entry: AgentEntry;
  /** Creation time of the agent's pod (podCreatedAt). */
  readonly createdAt: number;
}

/**
 * One probed identity per node. Two agent pods on one node (a rolling update with maxSurge) would otherwise be probed
 * under one `destination`, their results mixed. Of a node's Ready pods only the newest stays `ready` (ties: the
 * greater name, so every replica of the controller decides alike); the others stay listed, not ready, so the echo
 * still answers them. Order is kept.
 */
export function onePerNode(candidates: readonly AgentCandidate[]): AgentEntry[] {
  const chosen = new Map<string, AgentCandidate>();
  for (const candidate of candidates) {
    if (!candidate.entry.ready) continue;
    const best = chosen.get(candidate.entry.nodeName);
    if (!best || newer(candidate, best)) chosen.set(candidate.entry.nodeName, candidate);
  }
  return candidates.map((candidate) =>
    candidate.entry.ready && chosen.get(candidate.entry.nodeName) !== candidate ? { ...candidate.entry, ready: false } : candidate.entry,
  );
}

function newer(a: AgentCandidate, b: AgentCandidate): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  return a.entry.name > b.entry.name;
}

/**
 * Trims a cached Node to what discovery reads (name, resourceVersion, the zone labels). Informer caches hold every
 * object for the controller's lifetime; a kubelet-registered Node (status, images, managed fields) is tens of KB.
 */
export function slimNode(node: V1Node, zoneLabels: readonly string[]): void {
  const metadata = node.metadata;
  if (metadata) {
    const labels = metadata.labels ?? {};
    metadata.labels = Object.fromEntries(zoneLabels.filter((label) => labels[label] !== undefined).map((label) => [label, labels[label]!]));
    delete metadata.annotations;
    delete metadata.managedFields;
    delete metadata.ownerReferences;
  }
  delete node.spec;
  delete node.status;
}

/** Trims a cached agent Pod to what discovery reads: name, creation, deletion, node, phase, IP and the Ready condition. */
export function slimPod(pod: V1Pod): void {
  const metadata = pod.metadata;
  if (metadata) {
    delete metadata.labels;
    delete metadata.annotations;
    delete metadata.managedFields;
    delete metadata.ownerReferences;
  }
  const nodeName = pod.spec?.nodeName;
  pod.spec = { containers: [], ...(nodeName !== undefined ? { nodeName } : {}) };
  const status = pod.status;
  if (status) {
    const ready = status.conditions?.find((condition) => condition.type === 'Ready');
    pod.status = {
      ...(status.phase !== undefined ? { phase: status.phase } : {}),
      ...(status.podIP !== undefined ? { podIP: status.podIP } : {}),
      ...(ready ? { conditions: [{ type: 'Ready', status: ready.status }] } : {}),
    };
  }
}
