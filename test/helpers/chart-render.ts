// The chart's RBAC objects as helm renders them (test/chart/helm.ts), so the controller's tests run with exactly
// what the chart ships.
import type { KubernetesObject } from '@kubernetes/client-node';
import { helmMissing, renderChart } from '../chart/helm.ts';

export function helmUnavailable(): string | undefined {
  return helmMissing;
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export function renderedRbac(namespace = 'kconmon'): KubernetesObject[] {
  return renderChart({ release: 'kconmon', namespace }).filter((object) => RBAC_KINDS.has(object.kind)) as KubernetesObject[];
}
