// The objects the benchmark puts in the API: N Nodes (zones spread over 3) and N agent Pods (one per node, Running and
// Ready with a pod IP), either realistic in size (the labels, status and images a kubelet-registered Node carries; the
// spec and status of a DaemonSet pod like the chart's agent) or minimal (only what the controller reads). Pod IPs are
// 127/8 literals: they are only data here, but nothing could ever leave the machine even if something used them.
import type { V1Node, V1Pod, V1PodCondition } from '@kubernetes/client-node';

export type ObjectShape = 'realistic' | 'minimal';

export const NAMESPACE = 'kconmon';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const ZONES = ['zone-a', 'zone-b', 'zone-c'] as const;
const AGENT_LABELS = { app: 'kconmon', component: 'agent' } as const;

const nodeName = (index: number) => `node-${index}`;
const podName = (index: number) => `agent-${index}`;
export const zoneOf = (index: number) => ZONES[index % ZONES.length]!;

/** 127.10.0.1 … (250 per /24): unique for up to 62,500 pods. */
function podIp(index: number): string {
  return `127.${10 + Math.floor(index / 62_500)}.${Math.floor((index % 62_500) / 250)}.${(index % 250) + 1}`;
}

/** 127.20.x.y: the node's "InternalIP" (data only). */
function nodeIp(index: number): string {
  return `127.20.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

const IMAGES = Array.from({ length: 30 }, (_, index) => ({
  names: [
    `registry.example.com/team-${index % 7}/service-${index}@sha256:${(index * 2654435761).toString(16).padStart(8, '0').repeat(8)}`,
    `registry.example.com/team-${index % 7}/service-${index}:v1.${index}.0`,
  ],
  sizeBytes: 10_000_000 + index * 1_234_567,
}));

export function nodeObject(index: number, shape: ObjectShape): V1Node {
  const name = nodeName(index);
  const zone = zoneOf(index);
  if (shape === 'minimal') return { metadata: { name, labels: { 'kubernetes.io/hostname': name, [ZONE_LABEL]: zone } } };
  const now = new Date();
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': 'm6i.2xlarge',
        'beta.kubernetes.io/os': 'linux',
        'failure-domain.beta.kubernetes.io/region': 'region-1',
        'failure-domain.beta.kubernetes.io/zone': zone,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'm6i.2xlarge',
        'topology.kubernetes.io/region': 'region-1',
        [ZONE_LABEL]: zone,
        'node-pool': `pool-${index % 5}`,
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'csi.volume.kubernetes.io/nodeid': JSON.stringify({ 'ebs.csi.aws.com': `i-${index.toString(16).padStart(17, '0')}` }),
      },
    },
    spec: {
      podCIDR: `10.${Math.floor(index / 256) % 256}.${index % 256}.0/24`,
      podCIDRs: [`10.${Math.floor(index / 256) % 256}.${index % 256}.0/24`],
      providerID: `aws:///${zone}/i-${index.toString(16).padStart(17, '0')}`,
    },
    status: {
      capacity: { cpu: '8', 'ephemeral-storage': '104845292Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '32386544Ki', pods: '110' },
      allocatable: { cpu: '7910m', 'ephemeral-storage': '95551679124', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '31369712Ki', pods: '110' },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: nodeIp(index) },
        { type: 'Hostname', address: `${name}.region-1.compute.internal` },
        { type: 'InternalDNS', address: `${name}.region-1.compute.internal` },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: index.toString(16).padStart(32, '0'),
        systemUUID: `ec2${index.toString(16).padStart(29, '0')}`,
        bootID: `b00${index.toString(16).padStart(29, '0')}`,
        kernelVersion: '6.1.0-1.amzn2023.x86_64',
        osImage: 'Amazon Linux 2023',
        containerRuntimeVersion: 'containerd://1.7.20',
        kubeletVersion: 'v1.33.0',
        kubeProxyVersion: 'v1.33.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      images: IMAGES,
    },
  };
}

export function podObject(index: number, shape: ObjectShape): V1Pod {
  const name = podName(index);
  const node = nodeName(index);
  const container = { name: 'agent', image: 'ghcr.io/example/kconmon:1.0.0' };
  if (shape === 'minimal') return { metadata: { name, labels: { ...AGENT_LABELS } }, spec: { nodeName: node, containers: [container] } };
  return {
    metadata: {
      name,
      labels: {
        ...AGENT_LABELS,
        'app.kubernetes.io/instance': 'kconmon',
        'app.kubernetes.io/name': 'kconmon',
        'controller-revision-hash': '7d9f8c6b5d',
        'pod-template-generation': '1',
      },
      annotations: { 'checksum/config': 'c0ffee'.repeat(10), 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          name: 'kconmon-agent',
          uid: '6f1c1f9e-1c1e-4a4e-9d7e-3a2b1c0d9e8f',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      nodeName: node,
      serviceAccountName: 'kconmon-agent',
      priorityClassName: 'system-node-critical',
      terminationGracePeriodSeconds: 30,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] },
        },
      },
      tolerations: [
        { operator: 'Exists' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
      ],
      containers: [
        {
          ...container,
          args: ['agent', '--config', '/etc/kconmon/agent.yaml'],
          env: [
            { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
          ],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'udp', containerPort: 8080, protocol: 'UDP' },
          ],
          readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            runAsUser: 65532,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/kconmon', readOnly: true },
            { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'kconmon-agent' } },
        {
          name: 'kube-api-access',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
    },
  };
}

/** The status a kubelet would report for a running agent (sent through the status subresource). */
export function podStatus(index: number, shape: ObjectShape, ready: boolean): NonNullable<V1Pod['status']> {
  const ip = podIp(index);
  const now = new Date();
  const conditions = podConditions(ready, now);
  if (shape === 'minimal') return { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions };
  return {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    hostIP: nodeIp(index),
    hostIPs: [{ ip: nodeIp(index) }],
    qosClass: 'Burstable',
    startTime: now,
    conditions,
    containerStatuses: [
      {
        name: 'agent',
        image: 'ghcr.io/example/kconmon:1.0.0',
        imageID: `ghcr.io/example/kconmon@sha256:${'ab12'.repeat(16)}`,
        containerID: `containerd://${index.toString(16).padStart(64, '0')}`,
        ready,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      },
    ],
  };
}

export function podConditions(ready: boolean, now = new Date()): V1PodCondition[] {
  const status = ready ? 'True' : 'False';
  return [
    { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: now },
    { type: 'Initialized', status: 'True', lastTransitionTime: now },
    { type: 'Ready', status, lastTransitionTime: now },
    { type: 'ContainersReady', status, lastTransitionTime: now },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
  ];
}
