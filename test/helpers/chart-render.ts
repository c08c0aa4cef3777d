// The chart's RBAC objects as helm renders them (test/chart/helm.ts), so the controller's tests run with exactly
// what the chart ships.
import type { KubernetesObject } from '@kubernetes/client-node';
import { helmMissing, renderChart } from '../chart/helm.ts';

export function helmUnavailable(): string | undefined {
  return helmMissing;
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** The chart's RBAC for a release in a namespace (a release name of its own keeps its cluster-scoped names apart). */
export function renderedRbac(namespace = 'kconmon', release = 'kconmon'): KubernetesObject[] {
  return renderChart({ release, namespace }).filter((object) => RBAC_KINDS.has(object.kind)) as KubernetesObject[];
}
