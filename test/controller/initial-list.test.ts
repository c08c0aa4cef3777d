// The streamed initial list: against the real kube-apiserver it delivers every object, trimmed, with a resource
// version to watch from; against an apiserver that refuses WatchList (an HTTP stand-in for an old one) it falls back to
// the plain LIST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { streamedList } from '../../src/controller/initial-list.ts';
import { slimNode, DEFAULT_ZONE_LABELS } from '../../src/controller/kube-agents.ts';
import { createLogger } from '../../src/log.ts';
import { findKubeBinaries } from '../../harness/kube-cluster.ts';
import { acquireKubeApi } from '../../harness/shared-kube.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

const log = createLogger('silent');
const slim = (node: V1Node) => slimNode(node, DEFAULT_ZONE_LABELS);

test("real apiserver: every node arrives trimmed, with the list's resource version, in one request", async (t) => {
  if (!skipUnlessAvailable(t, findKubeBinaries().reason)) return;
  // The run's shared apiserver: these nodes carry a label of their own, and the list selects by it.
  const kube = await acquireKubeApi();
  const run = randomBytes(3).toString('hex');
  const labelSelector = `kconmon-test/initial-list=${run}`;
  const kubeConfig = kube.api.adminKubeConfig();
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const names = Array.from({ length: 25 }, (_, index) => `il-${run}-n${index}`);
  try {
    for (const [index, name] of names.entries()) {
      const labels = { 'topology.kubernetes.io/zone': `z${index % 3}`, 'kubernetes.io/os': 'linux', 'kconmon-test/initial-list': run };
      await core.createNode({ body: { metadata: { name, labels } } });
    }
    let fallbacks = 0;
    const fallback = async () => {
      fallbacks++;
      return core.listNode({ labelSelector });
    };
    const list = await streamedList<V1Node>({ kubeConfig, path: '/api/v1/nodes', labelSelector, slim, fallback, log });
    assert.equal(fallbacks, 0, 'WatchList was used');
    assert.deepEqual(list.items.map((node) => node.metadata?.name).sort(), [...names].sort());
    assert.ok(list.items.every((node) => Object.keys(node.metadata?.labels ?? {}).join() === 'topology.kubernetes.io/zone' && node.status === undefined));
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);
  } finally {
    for (const name of names) await core.deleteNode({ name }).catch(() => undefined);
    await kube.release();
  }
});

test('an apiserver without WatchList: the plain LIST is used, and trimmed', async () => {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    response.setHeader('content-type', 'application/json');
    if (request.url?.includes('watch=true')) {
      response.writeHead(422);
      response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'sendInitialEvents is forbidden', code: 422 }));
      return;
    }
    response.end(
      JSON.stringify({
        kind: 'NodeList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '42' },
        items: [{ metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'a', other: 'x' } }, status: { images: [] } }],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const list = await streamedList<V1Node>({ kubeConfig, path: '/api/v1/nodes', slim, fallback: () => core.listNode(), log, timeoutMs: 2000 });
    assert.deepEqual(
      list.items.map((node) => ({ ...node.metadata })),
      [{ name: 'n1', labels: { 'topology.kubernetes.io/zone': 'a' } }],
    );
    assert.equal(list.metadata?.resourceVersion, '42');
    assert.ok(requests[0]?.includes('sendInitialEvents=true'), 'tried WatchList first');
    assert.ok(
      requests.some((url) => !url.includes('watch=true')),
      'then listed',
    );
  } finally {
    server.close();
  }
});
