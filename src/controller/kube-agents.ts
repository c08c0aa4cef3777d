// Pure mapping from Kubernetes objects to agent entries: a node's zone from its labels (first label present wins),
// and an agent pod's entry — listed only with a node and an IP and not terminating; ready only when Running and Ready.
import { isIP } from 'node:net';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { AgentEntry } from '../protocol/agent-stream.ts';

export const DEFAULT_ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'] as const;

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
