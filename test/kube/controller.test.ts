// The controller against a real kube-apiserver (and etcd), authenticated with a ServiceAccount token bound only to
// the RBAC the Helm chart ships; real agents on loopback fed by it. Asserts what connected agents receive for each
// API change, that the token can do nothing else, and recovery from apiserver and controller restarts.
//
// Every test stands alone (any one runs by itself with --test-name-pattern): it gets a namespace, a chart release
// (cluster-scoped RBAC names) and node names of its own on the run's shared apiserver (harness/shared-kube.ts), and
// creates the objects it needs. The apiserver-restart test starts an apiserver of its own.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubernetesObjectApi, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { findKubeBinaries, startKubeCluster, type KubeApi } from '../../harness/kube-cluster.ts';
import { holdSharedKubeApi } from '../helpers/shared-kube-hooks.ts';
import { skipUnlessAvailable } from '../harness/require.ts';
import { helmMissing, renderedRbac } from '../../harness/helm.ts';
import { startController, type Controller } from '../../src/controller/controller.ts';
import { parseControllerConfig } from '../../src/config/load.ts';
import { startControllerClient, type AgentSetUpdate, type ControllerClient } from '../../src/discovery/controller-client.ts';
import { connectAgentToController } from '../../src/discovery/controller-discovery.ts';
import { createLogger } from '../../src/log.ts';
import { startTestNodes, type TestNode } from '../helpers/agents.ts';
import { parseExposition, sampleSum } from '../../harness/exposition.ts';
import { waitUntil } from '../../harness/wait.ts';

const unavailable = findKubeBinaries().reason ?? helmMissing;
const log = createLogger('silent');

const kubeApi = holdSharedKubeApi(unavailable);

/** An agent pod to create: on node `node` (a number, see Fixture.node), with its IP, zone label and readiness. */
interface AgentSpec {
  readonly node: number;
  readonly ip: string;
  readonly zone?: string;
  readonly legacyZone?: string;
  readonly ready?: boolean;
}

interface Watcher {
  readonly client: ControllerClient;
  readonly updates: AgentSetUpdate[];
  last(): AgentSetUpdate | undefined;
  entryOf(name: string): AgentSetUpdate['agents'][number] | undefined;
}

interface Fixture {
  readonly namespace: string;
  readonly core: CoreV1Api;
  /** The controller's kubeconfig: its ServiceAccount's token, bound to the chart's RBAC only. */
  readonly controllerKubeConfig: KubeConfig;
  /** This test's name for node `n` (nodes are cluster-scoped: each test has its own). */
  node(n: number): string;
  createNode(n: number, zone?: string, legacyZone?: string): Promise<void>;
  createAgentPod(name: string, n: number, ip: string, ready?: boolean): Promise<void>;
  setPodStatus(name: string, ip: string, ready: boolean): Promise<void>;
  startController(port?: number): Promise<Controller>;
  /** A controller client for node `n`, as an agent there would connect. */
  watch(n: number, port: number): Watcher;
  /** Starts a controller and a watcher for node 1, creates `agents` (pod `agent-node-<n>`), waits until all are pushed. */
  startWithAgents(agents: readonly AgentSpec[]): Promise<{ controller: Controller; watcher: Watcher }>;
}

/** Applies an API change and waits until `done` holds (the change reached the connected agent). */
async function expectPushed(what: string, change: () => Promise<unknown>, done: () => boolean): Promise<void> {
  await change();
  await waitUntil(what, 10_000, done);
}

async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 404)) throw error;
  }
}

/** A namespace, chart release and nodes of this test's own on `api`; everything it starts or creates goes in t.after. */
async function setUp(t: TestContext, api: KubeApi): Promise<Fixture> {
  const id = randomBytes(3).toString('hex');
  const namespace = `kc-${id}`;
  const admin = api.adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const nodes = new Set<string>();
  const controllers: Controller[] = [];
  const clients: ControllerClient[] = [];
  const clusterScoped: KubernetesObject[] = [];
  t.after(async () => {
    for (const client of clients) await client.close();
    for (const controller of controllers) await controller.stop();
    for (const name of nodes) await ignoreNotFound(() => core.deleteNode({ name }));
    for (const object of clusterScoped) await ignoreNotFound(() => objects.delete(object));
    // No controller-manager finalizes it: the namespace stays Terminating, its name is this test's alone.
    await ignoreNotFound(() => core.deleteNamespace({ name: namespace }));
  });

  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const rbac = renderedRbac(namespace, `kc-${id}`);
  for (const object of rbac) {
    await objects.create(object);
    if (object.kind?.startsWith('Cluster')) clusterScoped.push(object);
  }
  const controllerAccount = rbac.find((object) => object.kind === 'ServiceAccount' && /controller/.test(object.metadata?.name ?? ''));
  assert.ok(controllerAccount, 'the chart renders a controller ServiceAccount');
  const token = await api.createServiceAccountToken(namespace, controllerAccount.metadata!.name!);
  const controllerKubeConfig = api.kubeConfigFor(token);

  const node = (n: number) => `${namespace}-node-${n}`;
  const setPodStatus = async (name: string, ip: string, ready: boolean) => {
    const pod = await core.readNamespacedPod({ name, namespace });
    const conditions = [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date() }];
    pod.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions };
    await core.replaceNamespacedPodStatus({ name, namespace, body: pod as V1Pod });
  };
  const fixture: Fixture = {
    namespace,
    core,
    controllerKubeConfig,
    node,
    async createNode(n, zone, legacyZone) {
      const labels: Record<string, string> = { 'kubernetes.io/hostname': node(n) };
      if (zone) labels['topology.kubernetes.io/zone'] = zone;
      if (legacyZone) labels['failure-domain.beta.kubernetes.io/zone'] = legacyZone;
      await core.createNode({ body: { metadata: { name: node(n), labels } } });
      nodes.add(node(n));
    },
    async createAgentPod(name, n, ip, ready = true) {
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name, labels: { app: 'kconmon', component: 'agent' } },
          spec: { nodeName: node(n), containers: [{ name: 'agent', image: 'kconmon:test' }] },
        },
      });
      await setPodStatus(name, ip, ready);
    },
    setPodStatus,
    async startController(port = 0) {
      const config = parseControllerConfig(
        {
          listenAddress: '127.0.0.1',
          logLevel: 'silent',
          heartbeatInterval: 500,
          source: { kubernetes: { namespace, restartBackoff: { min: 100, max: 1000 } } },
        },
        'test',
      );
      const started = await startController({ config, log, kubeConfig: controllerKubeConfig, port, processMetrics: false, env: {} });
      let stopping: Promise<void> | undefined;
      const controller = { ...started, stop: () => (stopping ??= started.stop()) }; // the test may stop it before t.after
      controllers.push(controller);
      await controller.synced;
      return controller;
    },
    watch(n, port) {
      const updates: AgentSetUpdate[] = [];
      const client = startControllerClient({
        urls: [`http://127.0.0.1:${port}`],
        nodeName: node(n),
        podName: `agent-node-${n}`,
        reconnect: { min: 50, max: 500 },
        silenceTimeoutMs: 3000,
        log,
        onUpdate: (update) => updates.push(update),
      });
      clients.push(client);
      const last = () => updates.at(-1);
      return { client, updates, last, entryOf: (name) => last()?.agents.find((entry) => entry.name === name) };
    },
    async startWithAgents(agents) {
      const controller = await fixture.startController();
      const watcher = fixture.watch(1, controller.port);
      await waitUntil('the first snapshot', 5000, () => watcher.updates.length > 0);
      for (const agent of agents) await fixture.createNode(agent.node, agent.zone, agent.legacyZone);
      for (const agent of agents) await fixture.createAgentPod(`agent-node-${agent.node}`, agent.node, agent.ip, agent.ready ?? true);
      await waitUntil(`${agents.length} agents pushed`, 10_000, () => agents.every((agent) => watcher.entryOf(`agent-node-${agent.node}`)?.ip === agent.ip));
      return { controller, watcher };
    },
  };
  return fixture;
}

test("the controller's token (chart RBAC) may read nodes and agent pods, and nothing else", async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const api = f.controllerKubeConfig.makeApiClient(CoreV1Api);
  await api.listNode();
  await api.listNamespacedPod({ namespace: f.namespace });
  const podX = { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } };
  const forbidden: [string, () => Promise<unknown>][] = [
    ['list pods in another namespace', () => api.listNamespacedPod({ namespace: 'default' })],
    ['list pods cluster-wide', () => api.listPodForAllNamespaces()],
    ['read secrets', () => api.listNamespacedSecret({ namespace: f.namespace })],
    ['read configmaps', () => api.listNamespacedConfigMap({ namespace: f.namespace })],
    ['create a pod', () => api.createNamespacedPod({ namespace: f.namespace, body: podX })],
    ['patch a node', () => api.patchNode({ name: 'nope', body: { metadata: { labels: { a: 'b' } } } })],
    ['delete a pod', () => api.deleteNamespacedPod({ name: 'nope', namespace: f.namespace })],
    ['update pod status', () => api.replaceNamespacedPodStatus({ name: 'nope', namespace: f.namespace, body: { metadata: { name: 'nope' } } })],
    ['list services', () => api.listNamespacedService({ namespace: f.namespace })],
  ];
  for (const [what, call] of forbidden) {
    await assert.rejects(call, (error: unknown) => error instanceof ApiException && error.code === 403, `${what} must be forbidden`);
  }
});

test('add: ready agent pods on labelled nodes reach the connected agent with their zones', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const controller = await f.startController();
  const watcher = f.watch(1, controller.port);
  await waitUntil('the first snapshot', 5000, () => watcher.updates.length > 0);
  assert.deepEqual(watcher.last()?.agents, []);
  await f.createNode(1, 'zone-a');
  await f.createNode(2, undefined, 'zone-legacy');
  await f.createNode(3, undefined);
  await expectPushed(
    'add',
    async () => {
      await f.createAgentPod('agent-node-1', 1, '127.0.0.61');
      await f.createAgentPod('agent-node-2', 2, '127.0.0.62');
      await f.createAgentPod('agent-node-3', 3, '127.0.0.63');
    },
    () => watcher.last()?.agents.length === 3,
  );
  assert.deepEqual(
    [...watcher.last()!.agents].sort((a, b) => a.name.localeCompare(b.name)),
    [
      { name: 'agent-node-1', nodeName: f.node(1), ip: '127.0.0.61', zone: 'zone-a', ready: true },
      { name: 'agent-node-2', nodeName: f.node(2), ip: '127.0.0.62', zone: 'zone-legacy', ready: true },
      { name: 'agent-node-3', nodeName: f.node(3), ip: '127.0.0.63', zone: 'unknown', ready: true },
    ],
  );
  assert.equal(watcher.last()?.zone, 'zone-a', 'the agent is told its own zone');
  const agents = (await (await fetch(`http://127.0.0.1:${controller.port}/agents`)).json()) as { name: string }[];
  assert.deepEqual(agents.map((agent) => agent.name).sort(), ['agent-node-1', 'agent-node-2', 'agent-node-3']);
});

test('zone label change: the agent on that node moves zone', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const { watcher } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61', zone: 'zone-a' },
    { node: 3, ip: '127.0.0.63' },
  ]);
  assert.equal(watcher.entryOf('agent-node-3')?.zone, 'unknown');
  const addZone = [{ op: 'add', path: '/metadata/labels/topology.kubernetes.io~1zone', value: 'zone-c' }];
  await expectPushed(
    'zone label change',
    () => f.core.patchNode({ name: f.node(3), body: addZone }),
    () => watcher.entryOf('agent-node-3')?.zone === 'zone-c',
  );
  const replaceZone = [{ op: 'replace', path: '/metadata/labels/topology.kubernetes.io~1zone', value: 'zone-b' }];
  await expectPushed(
    'own zone change',
    () => f.core.patchNode({ name: f.node(1), body: replaceZone }),
    () => watcher.last()?.zone === 'zone-b',
  );
});

test('pod IP change: the new address replaces the old', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const { watcher } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61' },
    { node: 2, ip: '127.0.0.62' },
  ]);
  await expectPushed(
    'pod IP change',
    () => f.setPodStatus('agent-node-2', '127.0.0.72', true),
    () => watcher.entryOf('agent-node-2')?.ip === '127.0.0.72',
  );
});

test('pod NotReady: listed but not a probe target; Ready again restores it', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const { watcher } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61' },
    { node: 2, ip: '127.0.0.62' },
  ]);
  assert.equal(watcher.entryOf('agent-node-2')?.ready, true);
  await expectPushed(
    'pod NotReady',
    () => f.setPodStatus('agent-node-2', '127.0.0.62', false),
    () => watcher.entryOf('agent-node-2')?.ready === false,
  );
  await expectPushed(
    'pod Ready',
    () => f.setPodStatus('agent-node-2', '127.0.0.62', true),
    () => watcher.entryOf('agent-node-2')?.ready === true,
  );
});

test('two agent pods on one node (a surge rollout): only the newest Ready one is a probe target, both are listed', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const { watcher } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61' },
    { node: 3, ip: '127.0.0.63' },
  ]);
  const surge = 'agent-node-3-surge';
  await expectPushed(
    'surge pod created, not ready yet',
    () => f.createAgentPod(surge, 3, '127.0.0.83', false),
    () => watcher.entryOf(surge)?.ready === false,
  );
  assert.equal(watcher.entryOf('agent-node-3')?.ready, true, 'the old pod stays the probe target until the new one is Ready');
  await expectPushed(
    'surge pod Ready',
    () => f.setPodStatus(surge, '127.0.0.83', true),
    () => watcher.entryOf(surge)?.ready === true,
  );
  assert.equal(watcher.entryOf('agent-node-3')?.ready, false, 'the old pod is listed (the echo answers it) but no probe target any more');
  assert.equal(watcher.last()?.agents.filter((entry) => entry.nodeName === f.node(3) && entry.ready).length, 1, 'one probe target on the node');
  const deleteOld = () => f.core.deleteNamespacedPod({ name: 'agent-node-3', namespace: f.namespace, gracePeriodSeconds: 0 });
  await expectPushed('old pod deleted', deleteOld, () => watcher.entryOf('agent-node-3') === undefined);
  assert.equal(watcher.entryOf(surge)?.ready, true);
});

test('pod terminating: dropped at once, while the pod object still exists', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const { watcher } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61' },
    { node: 2, ip: '127.0.0.62' },
  ]);
  const terminate = () => f.core.deleteNamespacedPod({ name: 'agent-node-2', namespace: f.namespace, gracePeriodSeconds: 300 });
  await expectPushed('pod terminating', terminate, () => watcher.entryOf('agent-node-2') === undefined);
  const pod = await f.core.readNamespacedPod({ name: 'agent-node-2', namespace: f.namespace });
  assert.ok(pod.metadata?.deletionTimestamp, 'the pod is terminating, not gone');
});

test('node deleted: its agent is dropped', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const { watcher } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61' },
    { node: 3, ip: '127.0.0.63' },
  ]);
  await expectPushed(
    'node deleted',
    () => f.core.deleteNode({ name: f.node(3) }),
    () => watcher.entryOf('agent-node-3') === undefined,
  );
  assert.deepEqual(
    watcher.last()?.agents.map((entry) => entry.name),
    ['agent-node-1'],
  );
});

test('kube-apiserver restart: the controller recovers with no lost state and no flap, then sees new changes', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  // Restarting the apiserver would disturb every suite sharing the run's one: this test has its own.
  const cluster = await startKubeCluster();
  let f: Fixture;
  try {
    f = await setUp(t, cluster);
  } finally {
    t.after(() => cluster.stop()); // after the fixture's own clean-up, which still talks to it
  }
  const { controller, watcher } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61', zone: 'zone-a' },
    { node: 4, ip: '127.0.0.64', zone: 'zone-b' },
  ]);
  const before = watcher.updates.length;
  const listBefore = JSON.stringify(watcher.last()?.agents);
  await cluster.restartApiServer();
  await sleep(2000);
  assert.ok(
    watcher.updates.slice(before).every((update) => JSON.stringify(update.agents) === listBefore),
    'no update changed the list during the restart',
  );
  assert.ok(watcher.client.connected(), 'the agent stayed connected to the controller');
  const change = () => f.setPodStatus('agent-node-4', '127.0.0.74', true);
  await expectPushed('change after apiserver restart', change, () => watcher.entryOf('agent-node-4')?.ip === '127.0.0.74');
  const restarts = parseExposition(await controller.registry.metrics()).filter((s) => s.name === 'kconmon_controller_informer_restarts_total');
  console.log(`# informer restarts during the apiserver restart: ${restarts.map((s) => `${s.labels.resource}=${s.value}`).join(', ')}`);
});

test('controller restart: agents keep probing with their last list, then resync', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, kubeApi());
  const { controller } = await f.startWithAgents([
    { node: 1, ip: '127.0.0.61', zone: 'zone-b' },
    { node: 4, ip: '127.0.0.64', zone: 'zone-b' },
  ]);
  const port = controller.port;
  // Two real agents on the loopback addresses their pods report.
  const nodes: TestNode[] = await startTestNodes(
    [
      { name: 'agent-node-1', nodeName: f.node(1), ip: '127.0.0.61', zone: 'unknown' },
      { name: 'agent-node-4', nodeName: f.node(4), ip: '127.0.0.64', zone: 'unknown' },
    ],
    { udp: { interval: 300, timeout: 100, packetSpacing: 5 }, tcp: { interval: 300, timeout: 200 }, jitter: { min: 0, max: 20 } },
  );
  const clients = nodes.map((node) =>
    connectAgentToController(node.agent, {
      urls: [`http://127.0.0.1:${port}`],
      nodeName: node.peer.nodeName,
      podName: node.peer.name,
      reconnect: { min: 50, max: 500 },
      fixedZone: false,
      log,
    }),
  );
  const udpResults = async (node: TestNode, result: 'pass' | 'fail') =>
    sampleSum(parseExposition(await node.agent.registry.metrics()), 'kconmon_udp_results_total', { result });
  try {
    const bothProbing = async () => (await udpResults(nodes[0]!, 'pass')) > 0 && (await udpResults(nodes[1]!, 'pass')) > 0;
    await waitUntil('both agents probing each other', 10_000, bothProbing);
    assert.equal(nodes[0]!.agent.zone(), 'zone-b', 'the agent on node 1 took its zone from the controller');
    assert.deepEqual(
      nodes[0]!.agent.peers().map((peer) => peer.nodeName),
      [f.node(4)],
    );
    await controller.stop();
    const during = await udpResults(nodes[0]!, 'pass');
    await sleep(1500);
    assert.ok((await udpResults(nodes[0]!, 'pass')) > during, 'still probing while the controller is down');
    assert.deepEqual(
      nodes[0]!.agent.peers().map((peer) => peer.nodeName),
      [f.node(4)],
      'with the last list',
    );
    await f.startController(port);
    await waitUntil('agents reconnected', 10_000, () => clients.every((client) => client.connected()));
    const notReady = () => f.setPodStatus('agent-node-4', '127.0.0.64', false);
    await expectPushed('change after controller restart', notReady, () => nodes[0]!.agent.peers().length === 0);
    assert.equal(await udpResults(nodes[0]!, 'fail'), 0, 'no failed test through the whole restart');
  } finally {
    for (const client of clients) await client.close();
    await Promise.all(nodes.map((node) => node.agent.close()));
  }
});
