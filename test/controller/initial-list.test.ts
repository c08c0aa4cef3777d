// The streamed initial list: against the real kube-apiserver it delivers every object, trimmed, with a resource
// version to watch from; against an apiserver that refuses WatchList (an HTTP stand-in for an old one) it falls back to
// the plain LIST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { streamedList } from '../../src/controller/initial-list.ts';
import { slimNode, DEFAULT_ZONE_LABELS } from '../../src/controller/kube-agents.ts';
import { createLogger } from '../../src/log.ts';
import { findKubeBinaries, startKubeCluster } from '../harness/kube-cluster.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

const log = createLogger('silent');
const slim = (node: V1Node) => slimNode(node, DEFAULT_ZONE_LABELS);

test('real apiserver: every node arrives trimmed, with the list\'s resource version, in one request', async (t) => {
  if (!skipUnlessAvailable(t, findKubeBinaries().reason)) return;
  const cluster = await startKubeCluster();
  try {
    const kubeConfig = cluster.adminKubeConfig();
    const core = kubeConfig.makeApiClient(CoreV1Api);
    for (let index = 0; index < 25; index++) {
      await core.createNode({ body: { metadata: { name: `n${index}`, labels: { 'topology.kubernetes.io/zone': `z${index % 3}`, 'kubernetes.io/os': 'linux' } } } });
    }
    let fallbacks = 0;
    const list = await streamedList<V1Node>({ kubeConfig, path: '/api/v1/nodes', slim, fallback: async () => {
        fallbacks++;
        return core.listNode();
      }, log });
    assert.equal(fallbacks, 0, 'WatchList was used');
    assert.equal(list.items.length, 25);
    assert.ok(list.items.every((node) => Object.keys(node.metadata?.labels ?? {}).join() === 'topology.kubernetes.io/zone' && node.status === undefined));
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);
  } finally {
    await cluster.stop();
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
    response.end(JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '42' }, items: [{ metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'a', other: 'x' } }, status: { images: [] } }] }));
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
    assert.deepEqual(list.items.map((node) => ({ ...node.metadata })), [{ name: 'n1', labels: { 'topology.kubernetes.io/zone': 'a' } }]);
    assert.equal(list.metadata?.resourceVersion, '42');
    assert.ok(requests[0]?.includes('sendInitialEvents=true'), 'tried WatchList first');
    assert.ok(requests.some((url) => !url.includes('watch=true')), 'then listed');
  } finally {
    server.close();
  }
});
