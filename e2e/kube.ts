// The cluster's Kubernetes objects, written the way Kubernetes components would write them (there is no kubelet,
// scheduler or controller-manager): Nodes with zone labels, agent Pods bound to a node whose status (IP, phase,
// Ready) is set through the status subresource, graceful deletion (deletionTimestamp) then the final delete.
import { ApiException, CoreV1Api, KubernetesObjectApi, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { KubeCluster } from '../harness/kube-cluster.ts';
import { renderedRbac } from '../harness/helm.ts';

const NAMESPACE = 'kconmon';
const AGENT_LABELS = { app: 'kconmon', component: 'agent' } as const;
const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** The pods of the initial nodes are named after their node; churned nodes get DaemonSet-like random suffixes. */
export function podNameOf(nodeName: string): string {
  return `kconmon-agent-${nodeName}`;
}

/** A DaemonSet-style generated pod name (`kconmon-agent-` + 5 random characters), new for every pod. */
export function generatedPodName(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return `kconmon-agent-${Array.from({ length: 5 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('')}`;
}

export interface KubeObjects {
  readonly core: CoreV1Api;
  /** Applies the chart's RBAC and returns a token of the chart's controller ServiceAccount. */
  installChartRbac(tokenSeconds: number): Promise<string>;
  createNode(name: string, zone: string): Promise<void>;
  deleteNode(name: string): Promise<void>;
  /** An agent pod bound to the node, with its IP and not ready yet (sandbox up, container starting). */
  createAgentPod(podName: string, nodeName: string, ip: string): Promise<void>;
  /** The readiness probe passed: Running and Ready. */
  setPodReady(podName: string, ip: string, ready: boolean): Promise<void>;
  /** `kubectl delete pod` with a grace period: the pod gets a deletionTimestamp and stays until finalDeletePod(). */
  deletePodGracefully(podName: string, graceSeconds: number): Promise<void>;
  /** What the kubelet does once the container has exited: delete with grace period 0. */
  finalDeletePod(podName: string): Promise<void>;
}

function ignoreStatus(code: number) {
  return (error: unknown) => {
    if (!(error instanceof ApiException && error.code === code)) throw error;
  };
}

export function kubeObjects(cluster: KubeCluster): KubeObjects {
  const admin = cluster.adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);

  async function writeStatus(podName: string, status: V1Pod['status']): Promise<void> {
    const pod = await core.readNamespacedPod({ name: podName, namespace: NAMESPACE });
    pod.status = status;
    await core.replaceNamespacedPodStatus({ name: podName, namespace: NAMESPACE, body: pod });
  }

  return {
    core,
    async installChartRbac(tokenSeconds) {
      await core.createNamespace({ body: { metadata: { name: NAMESPACE } } }).catch(ignoreStatus(409));
      const objects = KubernetesObjectApi.makeApiClient(admin);
      const rbac: KubernetesObject[] = renderedRbac(NAMESPACE);
      for (const object of rbac) await objects.create(object);
      const account = rbac.find((object) => object.kind === 'ServiceAccount' && /controller/.test(object.metadata?.name ?? ''));
      if (!account?.metadata?.name) throw new Error('the chart renders no controller ServiceAccount');
      return cluster.createServiceAccountToken(NAMESPACE, account.metadata.name, tokenSeconds);
    },
    async createNode(name, zone) {
      await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name, [ZONE_LABEL]: zone } } } });
    },
    async deleteNode(name) {
      await core.deleteNode({ name }).catch(ignoreStatus(404));
    },
    async createAgentPod(podName, nodeName, ip) {
      await core.createNamespacedPod({
        namespace: NAMESPACE,
        body: {
          metadata: { name: podName, labels: { ...AGENT_LABELS } },
          spec: { nodeName, terminationGracePeriodSeconds: 30, containers: [{ name: 'agent', image: 'kconmon:e2e' }] },
        },
      });
      const now = new Date();
      await writeStatus(podName, {
        phase: 'Pending',
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: ip,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
        ],
      });
    },
    async setPodReady(podName, ip, ready) {
      const now = new Date();
      await writeStatus(podName, {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: ip,
        startTime: now,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
        ],
      });
    },
    async deletePodGracefully(podName, graceSeconds) {
      await core.deleteNamespacedPod({ name: podName, namespace: NAMESPACE, gracePeriodSeconds: graceSeconds });
    },
    async finalDeletePod(podName) {
      await core.deleteNamespacedPod({ name: podName, namespace: NAMESPACE, gracePeriodSeconds: 0 }).catch(ignoreStatus(404));
    },
  };
}
