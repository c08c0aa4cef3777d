// Node verdicts as Kubernetes Events (controller `events.enabled`), against the run's shared kube-apiserver
// (harness/shared-kube.ts): controllers in this process with the Kubernetes source and a ServiceAccount token bound to
// the chart's RBAC, fed by simulated agents over real report streams (harness/reporting-agents.ts). With the chart's
// events RBAC: a black-holed node's verdict is a Warning Event on that Node naming the kind and the evidence; cleared,
// one Normal Event; raised again, the same Event counts 2 (never a second object); two replicas record one occurrence
// once. Without it: one clear log line however often the write fails, and the verdict is unaffected.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { ApiException, CoreV1Api, KubernetesObjectApi, type CoreV1Event, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseExposition, sampleSum } from '../../harness/exposition.ts';
import { helmMissing, renderedRbac } from '../../harness/helm.ts';
import { findKubeBinaries } from '../../harness/kube-cluster.ts';
import { startReportingAgents, type ReportingAgents } from '../../harness/reporting-agents.ts';
import { holdSharedKubeApi } from '../helpers/shared-kube-hooks.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseControllerConfig } from '../../src/config/load.ts';
import { startController, type Controller } from '../../src/controller/controller.ts';
import { eventName, eventReason, NODE_EVENTS_COMPONENT, NODE_EVENTS_NAMESPACE } from '../../src/controller/node-events.ts';
import type { StatusDocument } from '../../src/controller/verdict-status.ts';
import { createLogger } from '../../src/log.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

const unavailable = findKubeBinaries().reason ?? helmMissing;
const silent = createLogger('silent');
const WINDOW_MS = 500;
const NODES = [1, 2, 3, 4];

const kubeApi = holdSharedKubeApi(unavailable);

interface Fixture {
  readonly node: (n: number) => string;
  readonly admin: CoreV1Api;
  readonly controllerKubeConfig: KubeConfig;
  /** Log lines (JSON) of every controller started here. */
  readonly logLines: string[];
  startController(): Promise<Controller>;
  /** Simulated agents on the four nodes reporting to `controllers`; node 4 is black-holed while `faulty()`. */
  startAgents(controllers: readonly Controller[], faulty: () => boolean): ReportingAgents;
  /** The Events on node `n` written by kconmon. */
  eventsOn(n: number): Promise<CoreV1Event[]>;
}

async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 404)) throw error;
  }
}

/** A namespace, a chart release's RBAC (with the events Role if `eventsRbac`), four nodes with a Ready agent pod each. */
async function setUp(t: TestContext, eventsRbac: boolean): Promise<Fixture> {
  const api = kubeApi();
  const id = randomBytes(3).toString('hex');
  const namespace = `ke-${id}`;
  const adminConfig = api.adminKubeConfig();
  const admin = adminConfig.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(adminConfig);
  const controllers: Controller[] = [];
  const fleets: ReportingAgents[] = [];
  const created: KubernetesObject[] = [];
  const node = (n: number) => `${namespace}-node-${n}`;
  t.after(async () => {
    for (const fleet of fleets) await fleet.close();
    for (const controller of controllers) await controller.stop();
    for (const n of NODES) await ignoreNotFound(() => admin.deleteNode({ name: node(n) }));
    for (const object of created) if (object.metadata?.namespace !== namespace) await ignoreNotFound(() => objects.delete(object));
    const events = await admin.listNamespacedEvent({ namespace: NODE_EVENTS_NAMESPACE });
    for (const event of events.items) {
      if (event.involvedObject.name?.startsWith(`${namespace}-`))
        await ignoreNotFound(() => admin.deleteNamespacedEvent({ name: event.metadata!.name!, namespace: NODE_EVENTS_NAMESPACE }));
    }
    await ignoreNotFound(() => admin.deleteNamespace({ name: namespace }));
  });

  await admin.createNamespace({ body: { metadata: { name: namespace } } });
  const rbac = renderedRbac(namespace, namespace, eventsRbac ? ['controller.config.events.enabled=true'] : []);
  assert.equal(
    rbac.some((object) => object.metadata?.namespace === NODE_EVENTS_NAMESPACE),
    eventsRbac,
    'the events Role is rendered only when enabled',
  );
  for (const object of rbac) {
    await objects.create(object);
    created.push(object);
  }
  const account = rbac.find((object) => object.kind === 'ServiceAccount' && /controller/.test(object.metadata?.name ?? ''));
  assert.ok(account);
  const controllerKubeConfig = api.kubeConfigFor(await api.createServiceAccountToken(namespace, account.metadata!.name!));

  for (const n of NODES) {
    await admin.createNode({ body: { metadata: { name: node(n), labels: { 'topology.kubernetes.io/zone': 'zone-a' } } } });
    const name = `agent-node-${n}`;
    await admin.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { app: 'kconmon', component: 'agent' } },
        spec: { nodeName: node(n), containers: [{ name: 'agent', image: 'kconmon:test' }] },
      },
    });
    const pod = await admin.readNamespacedPod({ name, namespace });
    const ip = `127.0.0.${60 + n}`;
    pod.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date() }] };
    await admin.replaceNamespacedPodStatus({ name, namespace, body: pod });
  }

  const logLines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  return {
    node,
    admin,
    controllerKubeConfig,
    logLines,
    async startController() {
      const config = parseControllerConfig(
        {
          listenAddress: '127.0.0.1',
          heartbeatInterval: 500,
          source: { kubernetes: { namespace, restartBackoff: { min: 100, max: 1000 } } },
          verdicts: { window: WINDOW_MS, grace: 150 },
          events: { enabled: true, minInterval: 1000 },
        },
        'test',
      );
      const controller = await startController({ config, log, kubeConfig: controllerKubeConfig, port: 0, processMetrics: false, env: {} });
      controllers.push(controller);
      await controller.synced;
      await waitUntil('the four agents known to the controller', 10_000, async () => (await status(controller)).coverage.agents === NODES.length);
      return controller;
    },
    startAgents(targets, faulty) {
      const fleet = startReportingAgents({
        urls: targets.map((controller) => `http://127.0.0.1:${controller.port}`),
        agents: NODES.map((n) => ({ nodeName: node(n), podName: `agent-node-${n}`, peers: NODES.filter((m) => m !== n).map(node) })),
        probeIntervalMs: WINDOW_MS / 2,
        batchIntervalMs: 100,
        outcome: (source, destination) => !(faulty() && (source === node(4) || destination === node(4))),
        log: silent,
      });
      fleets.push(fleet);
      return fleet;
    },
    async eventsOn(n) {
      const list = await admin.listNamespacedEvent({
        namespace: NODE_EVENTS_NAMESPACE,
        fieldSelector: `involvedObject.kind=Node,involvedObject.name=${node(n)}`,
      });
      return list.items.filter((event) => event.source?.component === NODE_EVENTS_COMPONENT);
    },
  };
}

async function status(controller: Controller): Promise<StatusDocument> {
  const response = await fetch(`http://127.0.0.1:${controller.port}/api/v1/status`, { signal: AbortSignal.timeout(2000) });
  return (await response.json()) as StatusDocument;
}

async function nodeEventResults(controller: Controller, result: string): Promise<number> {
  return sampleSum(parseExposition(await controller.registry.metrics()), 'kconmon_verdict_node_events_total', { result });
}

const RAISED = eventReason('node-destination', false);
const CLEARED = eventReason('node-destination', true);

test('a node verdict raised is a Warning Event on its Node with the kind and evidence; cleared, a Normal one; raised again, the same Event counts 2', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, true);
  const controller = await f.startController();
  let faulty = false;
  f.startAgents([controller], () => faulty);
  await waitUntil('a healthy status', 20_000, async () => (await status(controller)).healthy === true);
  assert.deepEqual(await f.eventsOn(4), [], 'no verdict, no Event');

  faulty = true;
  const verdict = await waitUntil('the verdict on node 4', 20_000, async () => (await status(controller)).verdicts.find((v) => v.id === `node:${f.node(4)}`));
  assert.equal(verdict.kind, 'node-destination');
  const raised = await waitUntil('the Warning Event on node 4', 10_000, async () => (await f.eventsOn(4)).find((event) => event.reason === RAISED));
  const nodeObject = await f.admin.readNode({ name: f.node(4) });
  assert.deepEqual({ ...raised.involvedObject }, { apiVersion: 'v1', kind: 'Node', name: f.node(4), uid: nodeObject.metadata?.uid });
  assert.equal(raised.metadata?.name, eventName(f.node(4), RAISED));
  assert.equal(raised.type, 'Warning');
  assert.equal(raised.count, 1);
  assert.equal(raised.reportingInstance, controller.id);
  assert.match(raised.message ?? '', new RegExp(`^${f.node(4)} unreachable from 3 of 3 probers since \\d\\d:\\d\\d:\\d\\d \\(destination problem\\)`));
  for (const n of [1, 2, 3])
    assert.ok(raised.message?.includes(`${f.node(n)}→${f.node(4)}`), `the evidence names ${f.node(n)}→${f.node(4)}: ${raised.message}`);

  faulty = false;
  await waitUntil('the verdict cleared', 20_000, async () => (await status(controller)).verdicts.length === 0);
  const cleared = await waitUntil('the Normal Event on node 4', 10_000, async () => (await f.eventsOn(4)).find((event) => event.reason === CLEARED));
  assert.equal(cleared.type, 'Normal');
  assert.equal(cleared.count, 1);
  assert.match(cleared.message ?? '', new RegExp(`^cleared: ${f.node(4)} unreachable`));

  faulty = true;
  await waitUntil('the raised Event counting 2', 20_000, async () => (await f.eventsOn(4)).find((event) => event.reason === RAISED)?.count === 2);
  const events = await f.eventsOn(4);
  assert.deepEqual(events.map((event) => [event.reason, event.count]).sort(), [
    [RAISED, 2],
    [CLEARED, 1],
  ]);
  assert.deepEqual(await f.eventsOn(1), [], 'nobody else is blamed');
});

test('two replicas raising the same verdict record it once', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, true);
  const replicas = [await f.startController(), await f.startController()];
  let faulty = false;
  f.startAgents(replicas, () => faulty);
  for (const replica of replicas) await waitUntil('a healthy status', 20_000, async () => (await status(replica)).healthy === true);
  faulty = true;
  for (const replica of replicas) {
    await waitUntil('the verdict on node 4 at each replica', 20_000, async () => (await status(replica)).verdicts.some((v) => v.id === `node:${f.node(4)}`));
  }
  // Each replica has handled its occurrence: one wrote it, the other found it written (or lost the create race).
  await waitUntil('both replicas done with the occurrence', 10_000, async () => {
    const handled = await Promise.all(replicas.map(async (r) => (await nodeEventResults(r, 'written')) + (await nodeEventResults(r, 'folded'))));
    return handled.every((count) => count >= 1);
  });
  const results = await Promise.all(replicas.map((r) => nodeEventResults(r, 'written')));
  assert.deepEqual(results.sort(), [0, 1], 'exactly one replica wrote the Event');
  const events = await f.eventsOn(4);
  assert.deepEqual(
    events.map((event) => [event.reason, event.count]),
    [[RAISED, 1]],
  );
});

test('without the events RBAC: one clear log line however often the write fails, and the verdict stands', async (t) => {
  if (!skipUnlessAvailable(t, unavailable)) return;
  const f = await setUp(t, false);
  const controller = await f.startController();
  let faulty = false;
  f.startAgents([controller], () => faulty);
  await waitUntil('a healthy status', 20_000, async () => (await status(controller)).healthy === true);
  faulty = true;
  await waitUntil('the verdict on node 4', 20_000, async () => (await status(controller)).verdicts.some((v) => v.id === `node:${f.node(4)}`));
  // The write is retried after minInterval (the occurrence is kept): two failures, still one line.
  await waitUntil('two failed writes', 15_000, async () => (await nodeEventResults(controller, 'failed')) >= 2);
  const lines = f.logLines.filter((line) => line.includes('cannot write node events'));
  assert.equal(lines.length, 1, lines.join('\n'));
  const entry = JSON.parse(lines[0]!) as { msg: string; level: number };
  assert.match(entry.msg, /^cannot write node events: forbidden \(403\): the controller's account needs get, create and patch on events in namespace default/);
  assert.match(entry.msg, /verdicts are unaffected$/);
  assert.equal(entry.level, 40, 'a warning');
  const current = await status(controller);
  assert.equal(current.healthy, false);
  assert.deepEqual(
    current.verdicts.map((v) => v.id),
    [`node:${f.node(4)}`],
  );
  assert.deepEqual(await f.eventsOn(4), []);
});
