// The controller against a real kube-apiserver (and etcd), authenticated with a ServiceAccount token bound only to
// the RBAC the Helm chart ships; real agents on loopback fed by it. Asserts what connected agents receive for each
// API change, that the token can do nothing else, and recovery from apiserver and controller restarts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, CoreV1Api, KubernetesObjectApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { findKubeBinaries, startKubeCluster, type KubeCluster } from '../../harness/kube-cluster.ts';
import { skipUnlessAvailable } from '../harness/require.ts';
import { helmUnavailable, renderedRbac } from '../helpers/chart-render.ts';
import { startController, type Controller } from '../../src/controller/controller.ts';
import { parseControllerConfig } from '../../src/config/load.ts';
import { startControllerClient, type AgentSetUpdate, type ControllerClient } from '../../src/discovery/controller-client.ts';
import { connectAgentToController } from '../../src/discovery/controller-discovery.ts';
import { createLogger } from '../../src/log.ts';
import { startTestNodes, type TestNode } from '../helpers/agents.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition } from '../../harness/exposition.ts';

const NAMESPACE = 'kconmon';
const unavailable = findKubeBinaries().reason ?? helmUnavailable();
const log = createLogger('silent');

let cluster: KubeCluster | undefined;
let core: CoreV1Api;
let controllerKubeConfig: KubeConfig;
let controller: Controller | undefined;
let controllerPort = 0;
let watcher: { client: ControllerClient; updates: AgentSetUpdate[] } | undefined;

async function startTestController(port = 0): Promise<Controller> {
  const config = parseControllerConfig(
    { listenAddress: '127.0.0.1', logLevel: 'silent', heartbeatInterval: 500, source: { kubernetes: { namespace: NAMESPACE, restartBackoff: { min: 100, max: 1000 } } } },
    'test',
  );
  const started = await startController({ config, log, kubeConfig: controllerKubeConfig, port, processMetrics: false, env: {} });
  await started.synced;
  return started;
}

function watch(nodeName: string): { client: ControllerClient; updates: AgentSetUpdate[] } {
  const updates: AgentSetUpdate[] = [];
  const client = startControllerClient({
    urls: [`http://127.0.0.1:${controllerPort}`],
    nodeName,
    podName: `agent-${nodeName}`,
    reconnect: { min: 50, max: 500 },
    silenceTimeoutMs: 3000,
    log,
    onUpdate: (update) => updates.push(update),
  });
  return { client, updates };
}

const last = () => watcher!.updates.at(-1);
const entryOf = (name: string) => last()?.agents.find((entry) => entry.name === name);

async function createNode(name: string, zone: string | undefined, legacyZone?: string) {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name };
  if (zone) labels['topology.kubernetes.io/zone'] = zone;
  if (legacyZone) labels['failure-domain.beta.kubernetes.io/zone'] = legacyZone;
  await core.createNode({ body: { metadata: { name, labels } } });
}

async function createAgentPod(name: string, nodeName: string, ip: string, ready = true): Promise<void> {
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: { metadata: { name, labels: { app: 'kconmon', component: 'agent' } }, spec: { nodeName, containers: [{ name: 'agent', image: 'kconmon:test' }] } },
  });
  await setPodStatus(name, ip, ready);
}

async function setPodStatus(name: string, ip: string, ready: boolean): Promise<void> {
  const pod = await core.readNamespacedPod({ name, namespace: NAMESPACE });
  const now = new Date();
  pod.status = {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
  };
  await core.replaceNamespacedPodStatus({ name, namespace: NAMESPACE, body: pod as V1Pod });
}

/** Applies an API change and waits until the connected agent's list satisfies `done`; returns the delay. */
async function expectPushed(what: string, change: () => Promise<unknown>, done: () => boolean): Promise<number> {
  const startedAt = performance.now();
  await change();
  await waitUntil(what, 10_000, done);
  const ms = performance.now() - startedAt;
  console.log(`# ${what}: reached the agent ${ms.toFixed(0)} ms after the API call`);
  return ms;
}

before(async () => {
  if (unavailable) return;
  cluster = await startKubeCluster();
  const admin = cluster.adminKubeConfig();
  core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const rbac = renderedRbac(NAMESPACE);
  for (const object of rbac) await objects.create(object);
  const controllerAccount = rbac.find((object) => object.kind === 'ServiceAccount' && /controller/.test(object.metadata?.name ?? ''));
  assert.ok(controllerAccount, 'the chart renders a controller ServiceAccount');
  const token = await cluster.createServiceAccountToken(NAMESPACE, controllerAccount.metadata!.name!);
  controllerKubeConfig = cluster.kubeConfigFor(token);
});

after(async () => {
  await watcher?.client.close();
  await controller?.stop();
  await cluster?.stop();
});

test('the controller\'s token (chart RBAC) may read nodes and agent pods, and nothing else', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const api = controllerKubeConfig.makeApiClient(CoreV1Api);
  await api.listNode();
  await api.listNamespacedPod({ namespace: NAMESPACE });
  const forbidden: [string, () => Promise<unknown>][] = [
    ['list pods in another namespace', () => api.listNamespacedPod({ namespace: 'default' })],
    ['list pods cluster-wide', () => api.listPodForAllNamespaces()],
    ['read secrets', () => api.listNamespacedSecret({ namespace: NAMESPACE })],
    ['read configmaps', () => api.listNamespacedConfigMap({ namespace: NAMESPACE })],
    ['create a pod', () => api.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } } })],
    ['patch a node', () => api.patchNode({ name: 'nope', body: { metadata: { labels: { a: 'b' } } } })],
    ['delete a pod', () => api.deleteNamespacedPod({ name: 'nope', namespace: NAMESPACE })],
    ['update pod status', () => api.replaceNamespacedPodStatus({ name: 'nope', namespace: NAMESPACE, body: { metadata: { name: 'nope' } } })],
    ['list services', () => api.listNamespacedService({ namespace: NAMESPACE })],
  ];
  for (const [what, call] of forbidden) {
    await assert.rejects(call, (error: unknown) => error instanceof ApiException && error.code === 403, `${what} must be forbidden`);
  }
});

test('add: ready agent pods on labelled nodes reach the connected agent with their zones', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  controller = await startTestController();
  controllerPort = controller.port;
  watcher = watch('node-1');
  await waitUntil('the first snapshot', 5000, () => watcher!.updates.length > 0);
  assert.deepEqual(last()?.agents, []);
  await createNode('node-1', 'zone-a');
  await createNode('node-2', undefined, 'zone-legacy');
  await createNode('node-3', undefined);
  await expectPushed('add', async () => {
    await createAgentPod('agent-node-1', 'node-1', '127.0.0.61');
    await createAgentPod('agent-node-2', 'node-2', '127.0.0.62');
    await createAgentPod('agent-node-3', 'node-3', '127.0.0.63');
  }, () => last()?.agents.length === 3);
  assert.deepEqual(
    [...last()!.agents].sort((a, b) => a.name.localeCompare(b.name)),
    [
      { name: 'agent-node-1', nodeName: 'node-1', ip: '127.0.0.61', zone: 'zone-a', ready: true },
      { name: 'agent-node-2', nodeName: 'node-2', ip: '127.0.0.62', zone: 'zone-legacy', ready: true },
      { name: 'agent-node-3', nodeName: 'node-3', ip: '127.0.0.63', zone: 'unknown', ready: true },
    ],
  );
  assert.equal(last()?.zone, 'zone-a', 'the agent is told its own zone');
  const agents = (await (await fetch(`http://127.0.0.1:${controllerPort}/agents`)).json()) as { name: string }[];
  assert.deepEqual(agents.map((agent) => agent.name).sort(), ['agent-node-1', 'agent-node-2', 'agent-node-3']);
});

test('zone label change: the agent on that node moves zone', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  await expectPushed('zone label change', () => core.patchNode({ name: 'node-3', body: [{ op: 'add', path: '/metadata/labels/topology.kubernetes.io~1zone', value: 'zone-c' }] }), () => entryOf('agent-node-3')?.zone === 'zone-c');
  await expectPushed('own zone change', () => core.patchNode({ name: 'node-1', body: [{ op: 'replace', path: '/metadata/labels/topology.kubernetes.io~1zone', value: 'zone-b' }] }), () => last()?.zone === 'zone-b');
});

test('pod IP change: the new address replaces the old', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  await expectPushed('pod IP change', () => setPodStatus('agent-node-2', '127.0.0.72', true), () => entryOf('agent-node-2')?.ip === '127.0.0.72');
});

test('pod NotReady: listed but not a probe target; Ready again restores it', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  await expectPushed('pod NotReady', () => setPodStatus('agent-node-2', '127.0.0.72', false), () => entryOf('agent-node-2')?.ready === false);
  await expectPushed('pod Ready', () => setPodStatus('agent-node-2', '127.0.0.72', true), () => entryOf('agent-node-2')?.ready === true);
});

test('two agent pods on one node (a surge rollout): only the newest Ready one is a probe target, both are listed', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const surge = 'agent-node-3-surge';
  await expectPushed('surge pod created, not ready yet', () => createAgentPod(surge, 'node-3', '127.0.0.83', false), () => entryOf(surge)?.ready === false);
  assert.equal(entryOf('agent-node-3')?.ready, true, 'the old pod stays the probe target until the new one is Ready');
  await expectPushed('surge pod Ready', () => setPodStatus(surge, '127.0.0.83', true), () => entryOf(surge)?.ready === true);
  assert.equal(entryOf('agent-node-3')?.ready, false, 'the old pod is listed (the echo answers it) but no probe target any more');
  assert.equal(last()?.agents.filter((entry) => entry.nodeName === 'node-3' && entry.ready).length, 1, 'one probe target on node-3');
  const deleteOld = () => core.deleteNamespacedPod({ name: 'agent-node-3', namespace: NAMESPACE, gracePeriodSeconds: 0 });
  await expectPushed('old pod deleted', deleteOld, () => entryOf('agent-node-3') === undefined);
  assert.equal(entryOf(surge)?.ready, true);
});

test('pod terminating: dropped at once, while the pod object still exists', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  await expectPushed('pod terminating', () => core.deleteNamespacedPod({ name: 'agent-node-2', namespace: NAMESPACE, gracePeriodSeconds: 300 }), () => entryOf('agent-node-2') === undefined);
  const pod = await core.readNamespacedPod({ name: 'agent-node-2', namespace: NAMESPACE });
  assert.ok(pod.metadata?.deletionTimestamp, 'the pod is terminating, not gone');
});

test('node deleted: its agent is dropped', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  await expectPushed('node deleted', () => core.deleteNode({ name: 'node-3' }), () => entryOf('agent-node-3-surge') === undefined);
  assert.deepEqual(last()?.agents.map((entry) => entry.name), ['agent-node-1']);
});

test('kube-apiserver restart: the controller recovers with no lost state and no flap, then sees new changes', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  await createNode('node-4', 'zone-b');
  await expectPushed('add before restart', () => createAgentPod('agent-node-4', 'node-4', '127.0.0.64'), () => entryOf('agent-node-4') !== undefined);
  const before = watcher!.updates.length;
  const listBefore = JSON.stringify(last()?.agents);
  await cluster!.restartApiServer();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.ok(watcher!.updates.slice(before).every((update) => JSON.stringify(update.agents) === listBefore), 'no update changed the list during the restart');
  assert.ok(watcher!.client.connected(), 'the agent stayed connected to the controller');
  await expectPushed('change after apiserver restart', () => setPodStatus('agent-node-4', '127.0.0.74', true), () => entryOf('agent-node-4')?.ip === '127.0.0.74');
  const restarts = parseExposition(await controller!.registry.metrics()).filter((s) => s.name === 'kconmon_controller_informer_restarts_total');
  console.log(`# informer restarts during the apiserver restart: ${restarts.map((s) => `${s.labels.resource}=${s.value}`).join(', ')}`);
});

test('controller restart: agents keep probing with their last list, then resync', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  // Two real agents on the loopback addresses their pods report.
  await setPodStatus('agent-node-4', '127.0.0.64', true);
  await waitUntil('agent-node-4 back on 127.0.0.64', 5000, () => entryOf('agent-node-4')?.ip === '127.0.0.64');
  const nodes: TestNode[] = await startTestNodes(
    [
      { name: 'agent-node-1', nodeName: 'node-1', ip: '127.0.0.61', zone: 'unknown' },
      { name: 'agent-node-4', nodeName: 'node-4', ip: '127.0.0.64', zone: 'unknown' },
    ],
    { udp: { interval: 300, timeout: 100, packetSpacing: 5 }, tcp: { interval: 300, timeout: 200 }, jitter: { min: 0, max: 20 } },
  );
  const clients = nodes.map((node) =>
    connectAgentToController(node.agent, { urls: [`http://127.0.0.1:${controllerPort}`], nodeName: node.peer.nodeName, podName: node.peer.name, reconnect: { min: 50, max: 500 }, fixedZone: false, log }),
  );
  const udpPasses = async (node: TestNode) =>
    parseExposition(await node.agent.registry.metrics()).filter((s) => s.name === 'kconmon_udp_results_total' && s.labels.result === 'pass').reduce((sum, s) => sum + s.value, 0);
  const udpFails = async (node: TestNode) =>
    parseExposition(await node.agent.registry.metrics()).filter((s) => s.name === 'kconmon_udp_results_total' && s.labels.result === 'fail').reduce((sum, s) => sum + s.value, 0);
  try {
    await waitUntil('both agents probing each other', 10_000, async () => (await udpPasses(nodes[0]!)) > 0 && (await udpPasses(nodes[1]!)) > 0);
    assert.equal(nodes[0]!.agent.zone(), 'zone-b', 'agent on node-1 took its zone from the controller');
    assert.deepEqual(nodes[0]!.agent.peers().map((peer) => peer.nodeName), ['node-4']);
    await controller!.stop();
    const during = await udpPasses(nodes[0]!);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok((await udpPasses(nodes[0]!)) > during, 'still probing while the controller is down');
    assert.deepEqual(nodes[0]!.agent.peers().map((peer) => peer.nodeName), ['node-4'], 'with the last list');
    controller = await startTestController(controllerPort);
    await waitUntil('agents reconnected', 10_000, () => clients.every((client) => client.connected()));
    await expectPushed('change after controller restart', () => setPodStatus('agent-node-4', '127.0.0.64', false), () => nodes[0]!.agent.peers().length === 0);
    assert.equal(await udpFails(nodes[0]!), 0, 'no failed test through the whole restart');
  } finally {
    for (const client of clients) await client.close();
    await Promise.all(nodes.map((node) => node.agent.close()));
  }
});
