// Mapping Kubernetes objects to agent entries, and trimming cached objects without changing what discovery reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_ZONE_LABELS, nodeZone, podToEntry, slimNode, slimPod } from '../../src/controller/kube-agents.ts';

const pod = (overrides: Partial<V1Pod> = {}): V1Pod => ({
  metadata: { name: 'agent-1', resourceVersion: '7', labels: { app: 'kconmon' }, managedFields: [{ manager: 'kubelet', fieldsV1: { 'f:status': {} } }] },
  spec: { nodeName: 'node-1', containers: [{ name: 'agent', image: 'kconmon' }] },
  status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }], containerStatuses: [] },
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
  assert.deepEqual(podToEntry(pod({ status: { phase: 'Pending', podIP: '10.0.0.1' } }), zone), { entry: { name: 'agent-1', nodeName: 'node-1', ip: '10.0.0.1', zone: 'z', ready: false } });
  assert.deepEqual(podToEntry(pod({ metadata: { name: 'agent-1', deletionTimestamp: new Date() } }), zone), { skip: 'terminating' });
  assert.deepEqual(podToEntry(pod({ spec: { containers: [] } }), zone), { skip: 'not scheduled (no spec.nodeName)' });
  assert.deepEqual(podToEntry(pod({ status: { phase: 'Running' } }), zone), { skip: 'no status.podIP yet' });
  assert.deepEqual(podToEntry(pod({ status: { phase: 'Running', podIP: 'garbage' } }), zone), { skip: 'status.podIP "garbage" is not an IP address' });
});

test('slimming keeps exactly what discovery reads', () => {
  const full = pod();
  const before = podToEntry(full, () => 'z');
  slimPod(full);
  assert.deepEqual(podToEntry(full, () => 'z'), before);
  assert.equal(full.metadata?.managedFields, undefined);
  assert.equal(full.metadata?.resourceVersion, '7', 'the informer compares resourceVersions');
  assert.deepEqual(full.status, { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] });
  const node: V1Node = { metadata: { name: 'n', resourceVersion: '3', labels: { 'topology.kubernetes.io/zone': 'a', 'kubernetes.io/os': 'linux' } }, status: { images: [{ names: ['x'] }] } };
  slimNode(node, DEFAULT_ZONE_LABELS);
  assert.deepEqual(node, { metadata: { name: 'n', resourceVersion: '3', labels: { 'topology.kubernetes.io/zone': 'a' } } });
  assert.equal(nodeZone(node, DEFAULT_ZONE_LABELS), 'a');
});
