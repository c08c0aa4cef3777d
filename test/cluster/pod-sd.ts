// Debian's Prometheus is built without Kubernetes service discovery (no `kubernetes_sd_configs`), so the real-node
// suite stands in for it: it writes the targets and `__meta_kubernetes_pod_*` labels that `role: pod` discovery would
// produce (one target per container port, as Prometheus does) to a file_sd file, and the documented job's
// relabel_configs and metric_relabel_configs run unchanged on them.
import { writeFile, rename } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';

/** Prometheus's label-name sanitising of Kubernetes label keys (`app.kubernetes.io/name` → `app_kubernetes_io_name`). */
function sanitize(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** file_sd target groups equivalent to kubernetes_sd_configs `role: pod` for these pods (running ones with an IP). */
export function podRoleTargets(pods: readonly V1Pod[]): { targets: string[]; labels: Record<string, string> }[] {
  const groups: { targets: string[]; labels: Record<string, string> }[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || pod.status?.phase !== 'Running') continue;
    const podLabels: Record<string, string> = {
      __meta_kubernetes_namespace: pod.metadata?.namespace ?? '',
      __meta_kubernetes_pod_name: pod.metadata?.name ?? '',
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_node_name: pod.spec?.nodeName ?? '',
      __meta_kubernetes_pod_uid: pod.metadata?.uid ?? '',
      __meta_kubernetes_pod_phase: pod.status?.phase ?? '',
      __meta_kubernetes_pod_ready: String((pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')),
    };
    for (const [key, value] of Object.entries(pod.metadata?.labels ?? {})) {
      podLabels[`__meta_kubernetes_pod_label_${sanitize(key)}`] = value;
      podLabels[`__meta_kubernetes_pod_labelpresent_${sanitize(key)}`] = 'true';
    }
    for (const container of pod.spec?.containers ?? []) {
      const ports = container.ports ?? [];
      if (ports.length === 0) {
        groups.push({ targets: [ip], labels: { ...podLabels, __meta_kubernetes_pod_container_name: container.name } });
      }
      for (const port of ports) {
        groups.push({
          targets: [`${ip}:${port.containerPort}`],
          labels: {
            ...podLabels,
            __meta_kubernetes_pod_container_name: container.name,
            __meta_kubernetes_pod_container_port_name: port.name ?? '',
            __meta_kubernetes_pod_container_port_number: String(port.containerPort),
            __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP',
          },
        });
      }
    }
  }
  return groups;
}

/** Writes the target groups atomically (Prometheus watches the file and must never read half of it). */
export async function writeTargetsFile(file: string, pods: readonly V1Pod[]): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(podRoleTargets(pods), null, 1));
  await rename(`${file}.tmp`, file);
}
