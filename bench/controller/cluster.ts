// The benchmark's Kubernetes side: a real etcd + kube-apiserver (harness/kube-cluster.ts) that audits every request of the
// controller's ServiceAccount (and nothing else), the RBAC the chart gives the controller (nodes get/list/watch
// cluster-wide, pods get/list/watch in its namespace), and bulk creation of Nodes and agent Pods with bounded
// concurrency. The changes the benchmark times are made here too.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiException, CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startKubeCluster, type KubeCluster } from '../../harness/kube-cluster.ts';
import { NAMESPACE, ZONE_LABEL, nodeObject, podConditions, podObject, podStatus, type ObjectShape } from './kube-objects.ts';

const CONTROLLER_ACCOUNT = 'kconmon-controller';
export const CONTROLLER_USER = `system:serviceaccount:${NAMESPACE}:${CONTROLLER_ACCOUNT}`;

export interface BenchCluster {
  readonly cluster: KubeCluster;
  readonly core: CoreV1Api;
  readonly auditLogPath: string;
  /** A kubeconfig file for the controller's ServiceAccount token. */
  readonly controllerKubeconfigPath: string;
  /** Objects created so far (indices 0 … count-1 exist). */
  count: number;
}

/** Audit policy: one event per stage for the controller's requests at Metadata level; nothing for anyone else. */
function auditPolicy(): string {
  return [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitStages: ["RequestReceived"]',
    'rules:',
    '  - level: Metadata',
    `    users: ["${CONTROLLER_USER}"]`,
    '  - level: None',
    '',
  ].join('\n');
}

export async function startBenchCluster(dir: string): Promise<BenchCluster> {
  const policyPath = join(dir, 'audit-policy.yaml');
  const auditLogPath = join(dir, 'audit.log');
  await writeFile(policyPath, auditPolicy());
  const cluster = await startKubeCluster({
    extraApiServerArgs: [
      // The bulk set-up runs as system:masters (exempt from priority and fairness); these only lift the global caps.
      '--max-requests-inflight=2000',
      '--max-mutating-requests-inflight=1000',
      `--audit-policy-file=${policyPath}`,
      `--audit-log-path=${auditLogPath}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
    ],
  });
  try {
    const admin = cluster.adminKubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    await createRbac(admin);
    const token = await cluster.createServiceAccountToken(NAMESPACE, CONTROLLER_ACCOUNT, 6 * 3600);
    const controllerKubeconfigPath = join(dir, 'controller.kubeconfig');
    await cluster.writeKubeconfig(token, controllerKubeconfigPath);
    return { cluster, core, auditLogPath, controllerKubeconfigPath, count: 0 };
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    throw error;
  }
}

async function createRbac(admin: KubeConfig): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await ignoreExists(() => core.createNamespace({ body: { metadata: { name: NAMESPACE } } }));
  await ignoreExists(() => core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: CONTROLLER_ACCOUNT } } }));
  const verbs = ['get', 'list', 'watch'];
  await rbac.createClusterRole({ body: { metadata: { name: CONTROLLER_ACCOUNT }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs }] } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: CONTROLLER_ACCOUNT },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CONTROLLER_ACCOUNT },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_ACCOUNT, namespace: NAMESPACE }],
    },
  });
  await rbac.createNamespacedRole({
    namespace: NAMESPACE,
    body: { metadata: { name: CONTROLLER_ACCOUNT }, rules: [{ apiGroups: [''], resources: ['pods'], verbs }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: NAMESPACE,
    body: {
      metadata: { name: CONTROLLER_ACCOUNT },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CONTROLLER_ACCOUNT },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_ACCOUNT, namespace: NAMESPACE }],
    },
  });
}

async function ignoreExists(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
}

/** Runs `task(i)` for i in [from, to) with at most `concurrency` in flight; the first failure stops the rest. */
async function forEachBounded(from: number, to: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = from;
  let failed = false;
  const worker = async () => {
    while (!failed && next < to) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(0, to - from)) }, worker));
}

export interface PopulateResult {
  readonly created: number;
  readonly seconds: number;
  /** API requests made (1 per Node; create + status per Pod). */
  readonly requests: number;
}

/** Grows the cluster to `target` Nodes and agent Pods (each pod Running, Ready, with an IP). */
export async function populate(
  bench: BenchCluster,
  target: number,
  shape: ObjectShape,
  concurrency: number,
  progress: (done: number) => void,
): Promise<PopulateResult> {
  const from = bench.count;
  const started = performance.now();
  let done = 0;
  await forEachBounded(from, target, concurrency, async (index) => {
    await bench.core.createNode({ body: nodeObject(index, shape) });
    await bench.core.createNamespacedPod({ namespace: NAMESPACE, body: podObject(index, shape) });
    await bench.core.patchNamespacedPodStatus({
      name: `agent-${index}`,
      namespace: NAMESPACE,
      body: [{ op: 'add', path: '/status', value: podStatus(index, shape, true) }],
    });
    done++;
    if (done % 500 === 0) progress(done);
  });
  bench.count = Math.max(bench.count, target);
  return { created: Math.max(0, target - from), seconds: (performance.now() - started) / 1000, requests: Math.max(0, target - from) * 3 };
}

export function setNodeZone(bench: BenchCluster, index: number, zone: string): Promise<unknown> {
  return bench.core.patchNode({ name: `node-${index}`, body: [{ op: 'replace', path: `/metadata/labels/${ZONE_LABEL.replace('/', '~1')}`, value: zone }] });
}

export function setPodReady(bench: BenchCluster, index: number, ready: boolean): Promise<unknown> {
  return bench.core.patchNamespacedPodStatus({
    name: `agent-${index}`,
    namespace: NAMESPACE,
    body: [{ op: 'replace', path: '/status/conditions', value: podConditions(ready) }],
  });
}

const CHURN_NAMESPACE = 'kconmon-churn';

export interface Churn {
  /** Stops after the current second's batch; resolves with the pods created (and deleted). */
  stop(): Promise<number>;
}

/**
 * Background pod churn in another namespace: `rate` pods created and deleted per second, as other workloads do in a
 * busy cluster. The controller never sees these pods (namespace and label selector), but they move the apiserver's pod
 * watch cache on, which is what makes a quiet agent-pod watch's resourceVersion expire.
 */
export async function startChurn(bench: BenchCluster, rate: number): Promise<Churn> {
  await ignoreExists(() => bench.core.createNamespace({ body: { metadata: { name: CHURN_NAMESPACE } } }));
  let stopped = false;
  let created = 0;
  const loop = (async () => {
    // Bounded by the benchmark's window: stop() ends it.
    while (!stopped) {
      const started = performance.now();
      await forEachBounded(0, rate, 16, async () => {
        const name = `churn-${created++}`;
        await bench.core.createNamespacedPod({
          namespace: CHURN_NAMESPACE,
          body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'example.invalid/none' }] } },
        });
        await bench.core.deleteNamespacedPod({ namespace: CHURN_NAMESPACE, name, gracePeriodSeconds: 0 });
      });
      const wait = 1000 - (performance.now() - started);
      if (wait > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return created;
    },
  };
}
