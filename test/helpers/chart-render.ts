// Renders the Helm chart with the real helm binary and returns its objects, so tests run with exactly what the
// chart ships (RBAC, ServiceAccounts, config).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import { findGoTool } from '../harness/kube-cluster.ts';

export const CHART_DIR = fileURLToPath(new URL('../../charts/kconmon', import.meta.url));

export function helmUnavailable(): string | undefined {
  return findGoTool('helm', 'KCONMON_HELM').reason;
}

export function renderChart(options: { release?: string; namespace?: string; values?: string[]; set?: string[] } = {}): KubernetesObject[] {
  const helm = findGoTool('helm', 'KCONMON_HELM');
  if (!helm.path) throw new Error(helm.reason);
  const args = ['template', options.release ?? 'kconmon', CHART_DIR, '--namespace', options.namespace ?? 'kconmon'];
  for (const file of options.values ?? []) args.push('--values', file);
  for (const value of options.set ?? []) args.push('--set', value);
  const output = execFileSync(helm.path, args, { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: '/tmp/kconmon-helm-cache', HELM_CONFIG_HOME: '/tmp/kconmon-helm-config', HELM_DATA_HOME: '/tmp/kconmon-helm-data' } });
  return parseAllDocuments(output)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null && typeof object === 'object' && 'kind' in object);
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export function renderedRbac(namespace = 'kconmon'): KubernetesObject[] {
  return renderChart({ namespace }).filter((object) => RBAC_KINDS.has(object.kind ?? ''));
}
