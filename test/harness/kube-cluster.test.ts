// Proves the real-Kubernetes harness (harness/kube-cluster.ts):
// apiserver readiness, admin CRUD on Namespaces/Nodes/Pods incl. the Pod
// status subresource, ServiceAccount tokens under RBAC, watch, and restarts
// that keep etcd data. Skipped (or failed with KCONMON_REQUIRE_ALL=1) when the
// binaries from scripts/setup/go-tools.sh are missing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, VersionApi, Watch, type V1Node, type V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { findKubeBinaries, startKubeCluster, type KubeCluster } from '../../harness/kube-cluster.ts';
import { skipOption } from './require.ts';
import { waitUntil } from '../../harness/wait.ts';

const binaries = findKubeBinaries();
// Each test carries the skip option so skipped tests are counted as such.
const skip = skipOption(binaries.reason);

async function expectApiError(promise: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiException, `expected ApiException, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

describe('kube-cluster harness (etcd + kube-apiserver on loopback)', () => {
  let cluster: KubeCluster;
  let admin: CoreV1Api;
  const suffix = randomBytes(3).toString('hex');
  const namespace = `kh-${suffix}`;
  const nodeName = `kh-node-a-${suffix}`;

  before(async () => {
    if (skip) return;
    cluster = await startKubeCluster({ binaries: binaries.found });
    admin = cluster.adminKubeConfig().makeApiClient(CoreV1Api);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('serves /readyz on 127.0.0.1 with a verifiable serving cert', { skip }, async () => {
    assert.match(cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(cluster.etcdEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${cluster.server}/readyz`, {
      headers: { authorization: `Bearer ${cluster.adminToken}` },
    }).catch((err: unknown) => err);
    // Node's fetch does not trust our CA, so it must refuse: proves TLS is real.
    if (process.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0') {
      assert.ok(res instanceof Error, 'fetch without the CA should fail TLS verification');
    }
    const version = await cluster.adminKubeConfig().makeApiClient(VersionApi).getCode();
    assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
  });

  it('admin creates a Namespace, a labelled Node and a Pod bound to it, then marks it Running/Ready', { skip }, async () => {
    await admin.createNamespace({ body: { metadata: { name: namespace } } });

    const node: V1Node = {
      metadata: {
        name: nodeName,
        labels: { 'topology.kubernetes.io/zone': 'zone-a', 'kubernetes.io/hostname': nodeName },
      },
    };
    await admin.createNode({ body: node });
    const created = await admin.readNode({ name: nodeName });
    created.status = {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date() }],
      addresses: [{ type: 'InternalIP', address: '127.0.0.2' }],
    };
    await admin.replaceNodeStatus({ name: nodeName, body: created });

    const pod: V1Pod = {
      metadata: { name: 'agent-a', labels: { app: 'kconmon' } },
      spec: {
        nodeName,
        containers: [{ name: 'agent', image: 'kconmon.invalid/agent:test' }],
      },
    };
    await admin.createNamespacedPod({ namespace, body: pod });

    const current = await admin.readNamespacedPod({ namespace, name: 'agent-a' });
    assert.equal(current.spec?.nodeName, nodeName);
    assert.equal(current.status?.phase, 'Pending');
    current.status = {
      phase: 'Running',
      hostIP: '127.0.0.2',
      podIP: '127.0.0.2',
      podIPs: [{ ip: '127.0.0.2' }],
      startTime: new Date(),
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: new Date() },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: new Date() },
      ],
    };
    await admin.replaceNamespacedPodStatus({ namespace, name: 'agent-a', body: current });

    const running = await admin.readNamespacedPod({ namespace, name: 'agent-a' });
    assert.equal(running.status?.phase, 'Running');
    assert.equal(running.status?.podIP, '127.0.0.2');
    assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

    const nodes = await admin.listNode({ labelSelector: 'topology.kubernetes.io/zone=zone-a' });
    assert.deepEqual(
      nodes.items.map((n) => n.metadata?.name),
      [nodeName],
    );
    const readNode = await admin.readNode({ name: nodeName });
    assert.equal(readNode.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('watch delivers events (etcd watch works through the apiserver)', { skip }, async () => {
    const list = await admin.listNode();
    const rv = list.metadata?.resourceVersion;
    assert.ok(rv);
    const seen: string[] = [];
    let controller: AbortController | undefined;
    const done = new Promise<void>((resolve, reject) => {
      new Watch(cluster.adminKubeConfig())
        .watch(
          '/api/v1/nodes',
          { resourceVersion: rv },
          (phase: string, obj: V1Node) => {
            seen.push(`${phase} ${obj.metadata?.name}`);
            if (obj.metadata?.name === `kh-node-b-${suffix}`) resolve();
          },
          (err: unknown) => {
            if (err && (err as Error).name !== 'AbortError') reject(err as Error);
          },
        )
        .then((c) => {
          controller = c;
        }, reject);
    });
    await sleep(200);
    await admin.createNode({ body: { metadata: { name: `kh-node-b-${suffix}` } } });
    const timeout = new AbortController();
    try {
      await Promise.race([
        done,
        sleep(15_000, undefined, { signal: timeout.signal }).then(() => {
          throw new Error(`no watch event; saw ${JSON.stringify(seen)}`);
        }),
      ]);
    } finally {
      timeout.abort();
      controller?.abort();
    }
    assert.ok(seen.includes(`ADDED kh-node-b-${suffix}`), JSON.stringify(seen));
    await admin.deleteNode({ name: `kh-node-b-${suffix}` });
  });

  it('refuses an unknown token with 401', { skip }, async () => {
    const stranger = cluster.kubeConfigFor('not-a-valid-token').makeApiClient(CoreV1Api);
    await expectApiError(stranger.listNode(), 401);
  });

  it('ServiceAccount tokens are subject to RBAC: 403 without a binding, allowed after one', { skip }, async () => {
    const token = await cluster.createServiceAccountToken(namespace, 'node-viewer');
    const sa = cluster.kubeConfigFor(token).makeApiClient(CoreV1Api);
    await expectApiError(sa.listNode(), 403);

    const rbac = cluster.adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    const roleName = `kh-node-lister-${suffix}`;
    await rbac.createClusterRole({
      body: {
        metadata: { name: roleName },
        rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: roleName },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
        subjects: [{ kind: 'ServiceAccount', name: 'node-viewer', namespace }],
      },
    });
    // The RBAC authorizer reads bindings through an informer: allow it to catch up.
    const nodes = await waitUntil('the ServiceAccount to list nodes', 15_000, () => sa.listNode(), 200);
    assert.ok(nodes.items.some((n) => n.metadata?.name === nodeName));
    // Still nothing beyond the role.
    await expectApiError(sa.listNamespacedPod({ namespace }), 403);
  });

  it('writes a kubeconfig file that the client library can load', { skip }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kh-kubeconfig-'));
    try {
      const file = path.join(dir, 'config');
      await cluster.writeKubeconfig(cluster.adminToken, file);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const doc = YAML.parse(await readFile(file, 'utf8')) as { clusters: { cluster: { server: string } }[] };
      assert.equal(doc.clusters[0]?.cluster.server, cluster.server);
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      const ns = await kc.makeApiClient(CoreV1Api).readNamespace({ name: namespace });
      assert.equal(ns.metadata?.name, namespace);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('restartApiServer() keeps the data and existing ServiceAccount tokens stay valid', { skip }, async () => {
    const token = await cluster.createServiceAccountToken(namespace, 'node-viewer');
    const serverBefore = cluster.server;
    await cluster.restartApiServer();
    assert.equal(cluster.server, serverBefore);
    const node = await admin.readNode({ name: nodeName });
    assert.equal(node.metadata?.labels?.['topology.kubernetes.io/zone'], 'zone-a');
    const pod = await admin.readNamespacedPod({ namespace, name: 'agent-a' });
    assert.equal(pod.status?.phase, 'Running');
    const sa = cluster.kubeConfigFor(token).makeApiClient(CoreV1Api);
    const nodes = await waitUntil('the ServiceAccount to list nodes', 15_000, () => sa.listNode(), 200);
    assert.ok(nodes.items.some((n) => n.metadata?.name === nodeName));
  });

  it('stopApiServer() makes the API unreachable until startApiServer()', { skip }, async () => {
    await cluster.stopApiServer();
    await assert.rejects(admin.listNode());
    await cluster.startApiServer();
    const nodes = await admin.listNode();
    assert.ok(nodes.items.some((n) => n.metadata?.name === nodeName));
  });
});
