// Mapping Kubernetes objects to agent entries, and trimming cached objects without changing what discovery reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_ZONE_LABELS, nodeZone, onePerNode, podCreatedAt, podToEntry, slimNode, slimPod } from '../../src/controller/kube-agents.ts';
import type { AgentEntry } from '../../src/protocol/agent-stream.ts';

const pod = (overrides: Partial<V1Pod> = {}): V1Pod => ({
  metadata: { name: 'agent-1', resourceVersion: '7', labels: { app: 'kconmon' }, managedFields: [{ manager: 'kubelet', fieldsV1: { 'f:status': {} } }] },
  spec: { nodeName: 'node-1', containers: [{ name: 'agent', image: 'kconmon' }] },
  status: {
    phase: 'Running',
    podIP: '10.0.0.1',
    conditions: [
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'True' },
    ],
    containerStatuses: [],
  },
  ...overrides,
});

test('zone: first label present wins; unknown without any', () => {
  const node: V1Node = { metadata: { name: 'n', labels: { 'failure-domain.beta.kubernetes.io/zone': 'old', 'topology.kubernetes.io/zone': 'new' } } };
  assert.equal(nodeZone(node, DEFAULT_ZONE_LABELS), 'new');
  assert.equal(nodeZone({ metadata: { name: 'n', labels: { 'failure-domain.beta.kubernetes.io/zone': 'old' } } }, DEFAULT_ZONE_LABELS), 'old');
  assert.equal(nodeZone({ metadata: { name: 'n' } }, DEFAULT_ZONE_LABELS), 'unknown');
});

test('a pod is an agent with a node, an IP and no deletion; ready only when Running and Ready', () => {
  const zone = () => 'z';
  assert.deepEqual(podToEntry(pod(), zone), { entry: { name: 'agent-1', nodeName: 'node-1', ip: '10.0.0.1', zone: 'z', ready: true } });
  assert.deepEqual(podToEntry(pod({ status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'False' }] } }), zone), {
    entry: { name: 'agent-1', nodeName: 'node-1', ip: '10.0.0.1', zone: 'z', ready: false },
  });
  assert.deepEqual(podToEntry(pod({ status: { phase: 'Pending', podIP: '10.0.0.1' } }), zone), {
    entry: { name: 'agent-1', nodeName: 'node-1', ip: '10.0.0.1', zone: 'z', ready: false },
  });
  assert.deepEqual(podToEntry(pod({ metadata: { name: 'agent-1', deletionTimestamp: new Date() } }), zone), { skip: 'terminating' });
  assert.deepEqual(podToEntry(pod({ spec: { containers: [] } }), zone), { skip: 'not scheduled (no spec.nodeName)' });
  assert.deepEqual(podToEntry(pod({ status: { phase: 'Running' } }), zone), { skip: 'no status.podIP yet' });
  assert.deepEqual(podToEntry(pod({ status: { phase: 'Running', podIP: 'garbage' } }), zone), { skip: 'status.podIP "garbage" is not an IP address' });
});

test('slimming keeps exactly what discovery reads', () => {
  const full = pod();
  const before = podToEntry(full, () => 'z');
  slimPod(full);
  assert.deepEqual(
    podToEntry(full, () => 'z'),
    before,
  );
  assert.equal(full.metadata?.managedFields, undefined);
  assert.equal(full.metadata?.resourceVersion, '7', 'the informer compares resourceVersions');
  assert.deepEqual(full.status, { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] });
  const node: V1Node = {
    metadata: { name: 'n', resourceVersion: '3', labels: { 'topology.kubernetes.io/zone': 'a', 'kubernetes.io/os': 'linux' } },
    status: { images: [{ names: ['x'] }] },
  };
  slimNode(node, DEFAULT_ZONE_LABELS);
  assert.deepEqual(node, { metadata: { name: 'n', resourceVersion: '3', labels: { 'topology.kubernetes.io/zone': 'a' } } });
  assert.equal(nodeZone(node, DEFAULT_ZONE_LABELS), 'a');
});

const entry = (name: string, nodeName: string, ready: boolean): AgentEntry => ({ name, nodeName, ip: `10.0.0.${name.length}`, zone: 'z', ready });
const readyOf = (entries: readonly AgentEntry[]) => Object.fromEntries(entries.map((item) => [item.name, item.ready]));

test('one probed agent per node: the newest Ready pod wins; the others stay listed, not ready', () => {
  // A rolling update with maxSurge on node-2: the old pod (older) and the new one (newer), both Ready.
  const old = { entry: entry('agent-old', 'node-2', true), createdAt: 1000 };
  const surge = { entry: entry('agent-new', 'node-2', true), createdAt: 2000 };
  const other = { entry: entry('agent-1', 'node-1', true), createdAt: 500 };
  assert.deepEqual(readyOf(onePerNode([old, other, surge])), { 'agent-old': false, 'agent-1': true, 'agent-new': true });
  assert.deepEqual(readyOf(onePerNode([surge, other, old])), { 'agent-new': true, 'agent-1': true, 'agent-old': false }, 'order does not matter');
  assert.deepEqual(
    onePerNode([old, other, surge]).map((item) => item.name),
    ['agent-old', 'agent-1', 'agent-new'],
    'every pod stays listed, in order',
  );
  // The new pod is not Ready yet: the old one stays the probed one.
  const starting = { entry: entry('agent-new', 'node-2', false), createdAt: 2000 };
  assert.deepEqual(readyOf(onePerNode([old, starting])), { 'agent-old': true, 'agent-new': false });
  // Neither Ready: none is probed.
  assert.deepEqual(readyOf(onePerNode([{ ...old, entry: { ...old.entry, ready: false } }, starting])), { 'agent-old': false, 'agent-new': false });
  // Created in the same second: the greater name wins, whatever the order, so every controller replica agrees.
  const twinA = { entry: entry('agent-a', 'node-3', true), createdAt: 3000 };
  const twinB = { entry: entry('agent-b', 'node-3', true), createdAt: 3000 };
  assert.deepEqual(readyOf(onePerNode([twinA, twinB])), { 'agent-a': false, 'agent-b': true });
  assert.deepEqual(readyOf(onePerNode([twinB, twinA])), { 'agent-b': true, 'agent-a': false });
  // An unknown creation time loses to a known one.
  const unknown = { entry: entry('agent-z', 'node-3', true), createdAt: podCreatedAt(pod({ metadata: { name: 'agent-z' } })) };
  assert.deepEqual(readyOf(onePerNode([unknown, twinA])), { 'agent-z': false, 'agent-a': true });
});

test("creation time from a typed Date or the watch's raw string, kept by slimming", () => {
  assert.equal(podCreatedAt(pod({ metadata: { name: 'a', creationTimestamp: new Date('2026-01-01T00:00:01Z') } })), Date.parse('2026-01-01T00:00:01Z'));
  const raw = pod({ metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:02Z' as unknown as Date } });
  slimPod(raw);
  assert.equal(podCreatedAt(raw), Date.parse('2026-01-01T00:00:02Z'));
  assert.equal(podCreatedAt(pod({ metadata: { name: 'a', creationTimestamp: 'garbage' as unknown as Date } })), Number.NEGATIVE_INFINITY);
});
