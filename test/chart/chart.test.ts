// The Helm chart (charts/kconmon), rendered by the pinned helm: lint --strict, the values schema (generated from
// src/config, test/generate; every bad-values fixture rejected with its message), the rendered config files accepted by the
// real config schemas, exact RBAC, and the agent/controller pod specs users rely on (the original's labels,
// tolerations, ndots:1, node exclusion, TCP sysctls) plus the hardening. Skipped (failed with KCONMON_REQUIRE_ALL=1)
// without helm from scripts/setup/go-tools.sh.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseAgentConfig, parseControllerConfig } from '../../src/config/load.ts';
import { skipOption } from '../harness/require.ts';
import {
  ALL_OPTIONS,
  CHART_DIR,
  ORIGINAL_SYSCTLS,
  PODMONITOR,
  badFixtures,
  byComponent,
  expectedMessages,
  findManifest,
  helm,
  helmMissing,
  renderChart,
  renderChartError,
  renderedConfig,
  type Manifest,
} from './helm.ts';

const skip = skipOption(helmMissing);

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests and parsed files, indexed freely by the assertions
type Json = any;

function podSpec(manifest: Manifest): Json {
  return manifest.spec.template.spec;
}

function container(manifest: Manifest, name: string): Json {
  const found = (podSpec(manifest).containers as Json[]).find((c) => c.name === name);
  assert.ok(found, `${manifest.kind} ${manifest.metadata.name} has no container ${name}`);
  return found;
}

/** Kubernetes node affinity semantics: terms are ORed, a term's expressions ANDed. */
function nodeAllowed(affinity: Json, labels: Record<string, string>): boolean {
  const terms: Json[] | undefined = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some((term) =>
    (term.matchExpressions as Json[]).every((expression) => {
      const value = labels[expression.key as string];
      switch (expression.operator) {
        case 'In':
          return value !== undefined && (expression.values as string[]).includes(value);
        case 'NotIn':
          return value === undefined || !(expression.values as string[]).includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          throw new Error(`operator ${expression.operator} not modelled`);
      }
    }),
  );
}

/** An equality-based label selector ("a=b,c=d") as pairs. */
function selectorPairs(selector: string): [string, string][] {
  return selector.split(',').map((pair) => {
    const [key, value] = pair.split('=');
    return [key as string, value as string];
  });
}

function selects(pairs: [string, string][], labels: Record<string, string> | undefined): boolean {
  return pairs.every(([key, value]) => labels?.[key] === value);
}

/** matchLabels + matchExpressions (In only) of a ServiceMonitor/PodMonitor selector. */
function labelSelectorMatches(selector: Json, labels: Record<string, string> | undefined): boolean {
  const matchLabels = Object.entries((selector.matchLabels ?? {}) as Record<string, string>);
  const expressions = (selector.matchExpressions ?? []) as Json[];
  return (
    matchLabels.every(([key, value]) => labels?.[key] === value) &&
    expressions.every((expression) => {
      assert.equal(expression.operator, 'In');
      return (expression.values as string[]).includes(labels?.[expression.key as string] as string);
    })
  );
}

describe('chart: lint and render', () => {
  it('helm lint --strict passes with the default values', { skip }, () => {
    const result = helm(['lint', '--strict', CHART_DIR]);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  });

  it('helm lint --strict passes with every option set (all-options.yaml) and with the PodMonitor', { skip }, () => {
    for (const file of [ALL_OPTIONS, PODMONITOR]) {
      const result = helm(['lint', '--strict', CHART_DIR, '--values', file]);
      assert.equal(result.status, 0, `${path.basename(file)}:\n${result.stdout}\n${result.stderr}`);
    }
  });

  it('renders exactly the core objects by default (no operator resources, no agent Service)', { skip }, () => {
    const kinds = renderChart()
      .map((m) => `${m.kind}/${m.metadata.name}`)
      .sort();
    assert.deepEqual(kinds, [
      'ClusterRole/test-kconmon-controller',
      'ClusterRoleBinding/test-kconmon-controller',
      'ConfigMap/test-kconmon-agent',
      'ConfigMap/test-kconmon-controller',
      'DaemonSet/test-kconmon-agent',
      'Deployment/test-kconmon-controller',
      'PodDisruptionBudget/test-kconmon-controller',
      'Role/test-kconmon-controller',
      'RoleBinding/test-kconmon-controller',
      'Secret/test-kconmon-token',
      'Service/test-kconmon-controller',
      'Service/test-kconmon-controllers',
      'ServiceAccount/test-kconmon-agent',
      'ServiceAccount/test-kconmon-controller',
    ]);
  });

  it('renders the optional objects with all-options.yaml', { skip }, () => {
    const kinds = new Set(renderChart({ valuesFiles: [ALL_OPTIONS] }).map((m) => `${m.kind}/${m.metadata.name}`));
    for (const expected of ['ServiceMonitor/kcm-all', 'PrometheusRule/kcm-all', 'ConfigMap/kcm-all-dashboard', 'Service/kcm-all-agent']) {
      assert.ok(kinds.has(expected), `missing ${expected}`);
    }
    assert.ok(!kinds.has('PodMonitor/kcm-all'));
    const podMonitor = renderChart({ valuesFiles: [PODMONITOR] });
    findManifest(podMonitor, 'PodMonitor');
    assert.equal(podMonitor.filter((m) => m.kind === 'ServiceMonitor' || (m.kind === 'Service' && byComponent('agent')(m))).length, 0);
  });

  it('keeps every generated name within 63 characters for a long release name', { skip }, () => {
    const release = 'a-very-long-release-name-that-goes-on-and-on-and-on-x';
    assert.equal(release.length, 53); // Helm's maximum
    const manifests = renderChart({ release });
    for (const manifest of manifests) assert.ok(manifest.metadata.name.length <= 63, manifest.metadata.name);
    const daemonSet = findManifest(manifests, 'DaemonSet');
    assert.ok(daemonSet.metadata.name.endsWith('-agent'));
  });
});

describe('chart: values schema and rules', () => {
  for (const file of badFixtures()) {
    it(`rejects ${path.basename(file)} with its message`, { skip }, () => {
      const expects = expectedMessages(file);
      assert.ok(expects.length > 0, `${file} has no "# expect:" line`);
      const stderr = renderChartError({ valuesFiles: [file] });
      for (const message of expects) assert.ok(stderr.includes(message), `expected "${message}" in:\n${stderr}`);
      // helm lint reports schema violations (template `fail`s are only logged in lint mode, by Helm's design).
      if (stderr.includes("values don't meet the specifications of the schema")) {
        const lint = helm(['lint', '--strict', CHART_DIR, '--values', file]);
        assert.notEqual(lint.status, 0);
      }
    });
  }

  it('the chart defaults equal the agent defaults (values.yaml spells them out)', { skip }, () => {
    const config = renderedConfig(renderChart(), 'agent') as Json;
    const parsed = parseAgentConfig(config, 'rendered');
    const tokenFile = '/var/run/secrets/kconmon/auth/token';
    const { urls, reportUrls } = config.discovery.controller;
    const defaults = parseAgentConfig({ discovery: { controller: { urls, reportUrls, tokenFile } } }, 'defaults');
    assert.deepEqual(parsed, defaults);
    const controller = parseControllerConfig(renderedConfig(renderChart(), 'controller'), 'rendered');
    const controllerDefaults = parseControllerConfig(
      {
        // The one deliberate difference: in Kubernetes a stopping replica waits for the Service to stop routing agents
        // to it (docs/configuration.md); outside it (a peers file, the demo) there is nothing to wait for.
        shutdownGracePeriod: 5000,
        auth: { tokenFile },
        source: { kubernetes: { namespace: 'monitoring', agentSelector: 'app=kconmon,component=agent,app.kubernetes.io/instance=test' } },
      },
      'defaults',
    );
    assert.deepEqual(controller, controllerDefaults);
  });
});

describe('chart: rendered configuration files pass the real config schemas', () => {
  const cases = [
    { name: 'defaults', valuesFiles: [] as string[], url: 'http://test-kconmon-controller.monitoring.svc.cluster.local:8080' },
    { name: 'all-options', valuesFiles: [ALL_OPTIONS], url: 'http://kcm-all-controller.monitoring.svc.k8s.example:80' },
    { name: 'podmonitor', valuesFiles: [PODMONITOR], url: 'http://test-kconmon-controller.monitoring.svc.cluster.local:8080' },
  ];
  const reportUrl = (url: string) => url.replace('-controller.', '-controllers.');
  for (const { name, valuesFiles, url } of cases) {
    it(`${name}: agent and controller configs parse, and agree with the pods, Service and each other`, { skip }, () => {
      const manifests = renderChart({ valuesFiles });
      const agent = parseAgentConfig(renderedConfig(manifests, 'agent'), `${name} agent ConfigMap`);
      const controller = parseControllerConfig(renderedConfig(manifests, 'controller'), `${name} controller ConfigMap`);

      // Agents dial the controller Service by its fully qualified name, on its port.
      assert.deepEqual(agent.discovery.controller?.urls, [url]);
      assert.equal(agent.discovery.peersFile, undefined);
      const service = findManifest(manifests, 'Service', byComponent('controller'));
      assert.equal(new URL(url).hostname.split('.')[0], service.metadata.name);
      assert.equal(Number(new URL(url).port || 80), service.spec.ports[0].port);
      assert.equal(service.spec.ports[0].targetPort, 'http');

      // Agents report to every replica: through the headless Service over all controller pods, Ready or not, on the
      // same port (docs/design/verdicts.md, "Two replicas, one answer").
      assert.deepEqual(agent.discovery.controller?.reportUrls, [reportUrl(url)]);
      const headless = findManifest(manifests, 'Service', (m) => m.metadata.name === new URL(reportUrl(url)).hostname.split('.')[0]);
      assert.equal(headless.spec.clusterIP, 'None');
      assert.equal(headless.spec.publishNotReadyAddresses, true);
      assert.deepEqual(headless.spec.ports, [{ name: 'http', port: Number(new URL(url).port || 80), targetPort: 'http', protocol: 'TCP' }]);
      assert.ok(selects(Object.entries(headless.spec.selector as Record<string, string>), findManifest(manifests, 'Deployment').spec.template.metadata.labels));
      assert.ok(!selects(Object.entries(headless.spec.selector as Record<string, string>), findManifest(manifests, 'DaemonSet').spec.template.metadata.labels));
      assert.deepEqual(service.spec.selector, headless.spec.selector, 'both Services select the same pods');
      // Never scraped twice: the ServiceMonitor (when rendered) selects the ClusterIP Service only.
      for (const monitor of manifests.filter((m) => m.kind === 'ServiceMonitor')) {
        assert.ok(!labelSelectorMatches(monitor.spec.selector, headless.metadata.labels), `${monitor.metadata.name} must not select ${headless.metadata.name}`);
      }

      // The agent container declares the configured port for TCP and UDP.
      const daemonSet = findManifest(manifests, 'DaemonSet');
      const ports = container(daemonSet, 'agent').ports as Json[];
      assert.deepEqual(
        ports.map((p) => [p.name, p.containerPort, p.protocol]),
        [
          ['http', agent.port, 'TCP'],
          ['udp-echo', agent.port, 'UDP'],
        ],
      );

      // The controller listens where its container port and Service point.
      const deployment = findManifest(manifests, 'Deployment');
      assert.deepEqual(
        (container(deployment, 'controller').ports as Json[]).map((p) => [p.name, p.containerPort]),
        [['http', controller.port]],
      );
      assert.equal(controller.metricsPrefix, agent.metricsPrefix);

      // The controller watches this release's namespace and selects exactly the agent pods.
      const kube = controller.source.kubernetes;
      assert.ok(kube);
      assert.equal(kube.namespace, 'monitoring');
      const pairs = selectorPairs(kube.agentSelector);
      assert.ok(selects(pairs, daemonSet.spec.template.metadata.labels), 'selector must match the agent pods');
      assert.ok(!selects(pairs, deployment.spec.template.metadata.labels), 'selector must not match the controller pods');
      assert.ok(selects(pairs, { ...daemonSet.spec.template.metadata.labels }), 'DaemonSet labels');

      // Shutdown grace fits in the pod's termination grace period.
      assert.ok(podSpec(daemonSet).terminationGracePeriodSeconds * 1000 > agent.shutdownGracePeriod);
    });
  }

  it('all-options: the values reach the agent and controller configs unchanged', { skip }, () => {
    const manifests = renderChart({ valuesFiles: [ALL_OPTIONS] });
    const values = YAML.parse(readFileSync(ALL_OPTIONS, 'utf8')) as Json;
    const agent = parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent');
    const expected = structuredClone(values.config);
    expected.discovery.controller.urls = ['http://kcm-all-controller.monitoring.svc.k8s.example:80'];
    expected.discovery.controller.reportUrls = ['http://kcm-all-controllers.monitoring.svc.k8s.example:80'];
    expected.discovery.controller.tokenFile = '/var/run/secrets/kconmon/auth/token';
    assert.deepEqual(renderedConfig(manifests, 'agent'), expected);
    assert.equal(agent.udp.packetSize, 1400);
    assert.equal(agent.udp.echoFrom, 'any');
    const controller = parseControllerConfig(renderedConfig(manifests, 'controller'), 'controller');
    assert.deepEqual(controller.source.kubernetes?.zoneLabels, ['example.com/zone', 'topology.kubernetes.io/zone']);
    assert.deepEqual(controller.source.kubernetes?.restartBackoff, { min: 200, max: 10000 });
    assert.equal(controller.heartbeatInterval, 2000);
    assert.equal(controller.listenAddress, '::');
    assert.equal(controller.logLevel, 'debug');
  });

  it('an explicit controller URL list is kept', { skip }, () => {
    const manifests = renderChart({ setJson: ['config.discovery.controller.urls=["http://10.0.0.1:8080","https://kconmon.example:443"]'] });
    const agent = parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent');
    assert.deepEqual(agent.discovery.controller?.urls, ['http://10.0.0.1:8080', 'https://kconmon.example:443']);
    assert.equal(agent.discovery.controller?.reportUrls, undefined, 'the agents report to the URLs given');
  });

  it('an explicit report URL list is kept', { skip }, () => {
    const manifests = renderChart({ setJson: ['config.discovery.controller.reportUrls=["http://controllers.example:8080"]'] });
    const agent = parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent');
    assert.deepEqual(agent.discovery.controller?.reportUrls, ['http://controllers.example:8080']);
    assert.deepEqual(agent.discovery.controller?.urls, ['http://test-kconmon-controller.monitoring.svc.cluster.local:8080']);
  });
});

describe('chart: RBAC is exactly nodes and pods get/list/watch, for the controller only', () => {
  for (const [name, valuesFiles] of [
    ['defaults', []],
    ['all-options', [ALL_OPTIONS]],
  ] as const) {
    it(name, { skip }, () => {
      const manifests = renderChart({ valuesFiles: [...valuesFiles] });
      const roles = manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role');
      assert.deepEqual(
        roles.map((r) => [r.kind, r.rules]),
        [
          ['ClusterRole', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }]],
          ['Role', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]],
        ],
      );
      assert.equal(findManifest(manifests, 'Role').metadata.namespace, 'monitoring');
      const controllerSa = findManifest(manifests, 'ServiceAccount', byComponent('controller'));
      const agentSa = findManifest(manifests, 'ServiceAccount', byComponent('agent'));
      const bindings = manifests.filter((m) => m.kind === 'ClusterRoleBinding' || m.kind === 'RoleBinding');
      assert.deepEqual(
        bindings.map((b) => [b.kind, b.roleRef.kind, b.roleRef.name === roles.find((r) => r.kind === b.roleRef.kind)?.metadata.name, b.subjects]),
        [
          ['ClusterRoleBinding', 'ClusterRole', true, [{ kind: 'ServiceAccount', name: controllerSa.metadata.name, namespace: 'monitoring' }]],
          ['RoleBinding', 'Role', true, [{ kind: 'ServiceAccount', name: controllerSa.metadata.name, namespace: 'monitoring' }]],
        ],
      );
      for (const binding of bindings) {
        assert.ok(!(binding.subjects as Json[]).some((s) => s.name === agentSa.metadata.name), 'the agent account must not be bound');
      }
      // Only the controller gets a token; it runs as the controller account and the agents as theirs.
      assert.equal(agentSa.automountServiceAccountToken, false);
      const daemonSet = findManifest(manifests, 'DaemonSet');
      assert.equal(podSpec(daemonSet).automountServiceAccountToken, false);
      assert.equal(podSpec(daemonSet).serviceAccountName, agentSa.metadata.name);
      const deployment = findManifest(manifests, 'Deployment');
      assert.equal(podSpec(deployment).automountServiceAccountToken, true);
      assert.equal(podSpec(deployment).serviceAccountName, controllerSa.metadata.name);
    });
  }

  it('controller.config.events.enabled=true adds only get/create/patch on events in namespace default, for the controller', { skip }, () => {
    const manifests = renderChart({ setJson: ['controller.config.events.enabled=true'] });
    const controller = parseControllerConfig(renderedConfig(manifests, 'controller'), 'controller');
    assert.deepEqual(controller.events, { enabled: true, minInterval: 60000 });
    const roles = manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role');
    assert.deepEqual(
      roles.map((r) => [r.kind, r.metadata.namespace, r.rules]),
      [
        ['ClusterRole', undefined, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }]],
        ['Role', 'monitoring', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]],
        ['Role', 'default', [{ apiGroups: [''], resources: ['events'], verbs: ['get', 'create', 'patch'] }]],
      ],
    );
    const eventsRole = roles.find((r) => r.metadata.namespace === 'default');
    const binding = findManifest(manifests, 'RoleBinding', (m) => m.metadata.namespace === 'default');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: eventsRole?.metadata.name });
    const controllerSa = findManifest(manifests, 'ServiceAccount', byComponent('controller'));
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: controllerSa.metadata.name, namespace: 'monitoring' }]);
    // Off (the default): the controller config says so, and no events permission exists (the test above: exactly two roles).
    assert.equal(parseControllerConfig(renderedConfig(renderChart(), 'controller'), 'controller').events.enabled, false);
    assert.equal(
      renderChart({ setJson: ['controller.config.events.enabled=true', 'rbac.create=false'] }).filter((m) => m.apiVersion.startsWith('rbac.')).length,
      0,
    );
  });

  it('rbac.create=false renders no RBAC object', { skip }, () => {
    const manifests = renderChart({ setJson: ['rbac.create=false'] });
    assert.deepEqual(
      manifests.filter((m) => m.apiVersion.startsWith('rbac.')),
      [],
    );
  });
});

describe('chart: agent DaemonSet', () => {
  it('keeps what the original users relied on: labels, tolerations, ndots:1, no Istio sidecar, TCP sysctls', { skip }, () => {
    const daemonSet = findManifest(renderChart(), 'DaemonSet');
    const template = daemonSet.spec.template;
    assert.equal(template.metadata.labels.app, 'kconmon');
    assert.equal(template.metadata.labels.component, 'agent');
    assert.equal(daemonSet.spec.selector.matchLabels.app, 'kconmon');
    assert.equal(daemonSet.spec.selector.matchLabels.component, 'agent');
    assert.deepEqual(podSpec(daemonSet).tolerations, [{ operator: 'Exists' }]);
    assert.deepEqual(podSpec(daemonSet).dnsConfig, { options: [{ name: 'ndots', value: '1' }] });
    assert.equal(podSpec(daemonSet).dnsPolicy, 'ClusterFirst');
    assert.equal(template.metadata.annotations['sidecar.istio.io/inject'], 'false');
    assert.equal(template.metadata.labels['sidecar.istio.io/inject'], 'false');
    assert.match(template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
    assert.deepEqual(daemonSet.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } });

    const [init, ...otherInits] = podSpec(daemonSet).initContainers as Json[];
    assert.equal(otherInits.length, 0);
    assert.equal(init.name, 'tcp-tweaks');
    assert.equal(init.image, 'busybox:1.37');
    assert.deepEqual(init.args, ORIGINAL_SYSCTLS);
    assert.deepEqual(init.command, ['sh', '-c', readFileSync(path.join(CHART_DIR, 'files/tune-sysctls.sh'), 'utf8'), 'tune-sysctls']);
    assert.equal(init.securityContext.privileged, true);
  });

  it('identity from the downward API, the zone left to the controller, readiness on /readyz, liveness on /healthz', { skip }, () => {
    const agent = container(findManifest(renderChart(), 'DaemonSet'), 'agent');
    assert.deepEqual(agent.args, ['agent', '--config', '/etc/kconmon/config.yaml']);
    assert.deepEqual(
      (agent.env as Json[]).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
      [
        ['NODE_NAME', 'spec.nodeName'],
        ['POD_NAME', 'metadata.name'],
        ['POD_IP', 'status.podIP'],
      ],
    );
    assert.deepEqual(agent.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(agent.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(agent.volumeMounts, [
      { name: 'config', mountPath: '/etc/kconmon', readOnly: true },
      { name: 'auth', mountPath: '/var/run/secrets/kconmon/auth', readOnly: true },
    ]);
  });

  it('runs hardened: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', { skip }, () => {
    const manifests = renderChart();
    for (const [kind, name] of [
      ['DaemonSet', 'agent'],
      ['Deployment', 'controller'],
    ] as const) {
      const workload = findManifest(manifests, kind);
      assert.deepEqual(podSpec(workload).securityContext, {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      assert.deepEqual(container(workload, name).securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it('enableTcpTweaks=false drops the privileged init container', { skip }, () => {
    const daemonSet = findManifest(renderChart({ setJson: ['enableTcpTweaks=false'] }), 'DaemonSet');
    assert.equal(podSpec(daemonSet).initContainers, undefined);
  });

  it('nodeAntiAffinity excludes every listed node (the original excluded only some)', { skip }, () => {
    const manifests = renderChart({
      setJson: [
        'agent.nodeAntiAffinity=[{"key":"kubernetes.io/hostname","value":"node-a"},{"key":"kubernetes.io/hostname","value":"node-b"},{"key":"pool","value":"edge"},{"key":"kubernetes.io/hostname","value":"node-a"}]',
      ],
    });
    const affinity = podSpec(findManifest(manifests, 'DaemonSet')).affinity;
    const node = (hostname: string, pool = 'main') => ({ 'kubernetes.io/hostname': hostname, pool });
    assert.equal(nodeAllowed(affinity, node('node-a')), false);
    assert.equal(nodeAllowed(affinity, node('node-b')), false);
    assert.equal(nodeAllowed(affinity, node('node-c', 'edge')), false);
    assert.equal(nodeAllowed(affinity, node('node-c')), true);
    assert.equal(nodeAllowed(affinity, { 'kubernetes.io/hostname': 'node-d' }), true);
    // One term, one NotIn per key (a repeated node listed once).
    assert.deepEqual(affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [
      {
        matchExpressions: [
          { key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-a', 'node-b'] },
          { key: 'pool', operator: 'NotIn', values: ['edge'] },
        ],
      },
    ]);
    assert.equal(podSpec(findManifest(renderChart(), 'DaemonSet')).affinity, undefined);
  });

  it('nodeAntiAffinity is ANDed into every term of a user affinity (all-options)', { skip }, () => {
    const affinity = podSpec(findManifest(renderChart({ valuesFiles: [ALL_OPTIONS] }), 'DaemonSet')).affinity;
    assert.equal(nodeAllowed(affinity, { 'kubernetes.io/hostname': 'node-a', 'kubernetes.io/arch': 'amd64' }), false);
    assert.equal(nodeAllowed(affinity, { 'kubernetes.io/hostname': 'node-b', 'example.com/legacy': '' }), false);
    assert.equal(nodeAllowed(affinity, { 'kubernetes.io/hostname': 'node-c', 'kubernetes.io/arch': 'arm64', 'node-role.kubernetes.io/edge': 'true' }), false);
    assert.equal(nodeAllowed(affinity, { 'kubernetes.io/hostname': 'node-c', 'kubernetes.io/arch': 'arm64' }), true);
    assert.equal(nodeAllowed(affinity, { 'kubernetes.io/hostname': 'node-c', 'kubernetes.io/arch': 's390x' }), false);
  });

  it('all-options: tolerations, sysctls, image digest, extra env and probe timings are applied', { skip }, () => {
    const daemonSet = findManifest(renderChart({ valuesFiles: [ALL_OPTIONS] }), 'DaemonSet');
    const spec = podSpec(daemonSet);
    assert.deepEqual(spec.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'network', effect: 'NoSchedule' }]);
    assert.deepEqual(spec.initContainers[0].args, ['net.core.somaxconn=1024', 'net.ipv4.ip_local_port_range=1024 65000']);
    assert.equal(spec.initContainers[0].image, 'registry.example.com/library/busybox:1.36.1');
    const agent = container(daemonSet, 'agent');
    assert.equal(agent.image, 'registry.example.com/net/kconmon@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    assert.deepEqual(agent.env.at(-1), { name: 'UV_THREADPOOL_SIZE', value: '2' });
    assert.equal(agent.readinessProbe.periodSeconds, 3);
    assert.equal(spec.priorityClassName, 'system-node-critical');
    assert.equal(spec.securityContext.fsGroup, 1000);
    assert.equal(spec.securityContext.runAsNonRoot, true, 'podSecurityContext values merge with the defaults');
    assert.equal(daemonSet.spec.template.metadata.annotations['sidecar.istio.io/inject'], undefined);
    assert.equal(daemonSet.spec.template.metadata.labels.team, 'netops');
    assert.deepEqual(daemonSet.spec.updateStrategy.rollingUpdate, { maxUnavailable: '100%' });
  });

  it('a pod label cannot override the selector labels', { skip }, () => {
    const daemonSet = findManifest(renderChart({ setJson: ['agent.podLabels={"app":"other","component":"x","extra":"y"}'] }), 'DaemonSet');
    assert.equal(daemonSet.spec.template.metadata.labels.app, 'kconmon');
    assert.equal(daemonSet.spec.template.metadata.labels.component, 'agent');
    assert.equal(daemonSet.spec.template.metadata.labels.extra, 'y');
  });
});

describe('chart: controller', () => {
  it('2 replicas spread over nodes, a policy/v1 budget of minAvailable 1, probes on /readyz and /healthz', { skip }, () => {
    const manifests = renderChart();
    const deployment = findManifest(manifests, 'Deployment');
    assert.equal(deployment.spec.replicas, 2);
    const preferred = podSpec(deployment).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    assert.equal(preferred[0].podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(preferred[0].podAffinityTerm.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
    const pdb = findManifest(manifests, 'PodDisruptionBudget');
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    const controller = container(deployment, 'controller');
    assert.deepEqual(controller.args, ['controller', '--config', '/etc/kconmon/config.yaml']);
    assert.deepEqual(controller.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(controller.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(
      (controller.env as Json[]).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
      [
        ['POD_NAME', 'metadata.name'],
        ['POD_NAMESPACE', 'metadata.namespace'],
      ],
    );
  });

  it('one replica gets no PodDisruptionBudget (it would block node drains)', { skip }, () => {
    const manifests = renderChart({ setJson: ['controller.replicas=1'] });
    assert.equal(manifests.filter((m) => m.kind === 'PodDisruptionBudget').length, 0);
  });
});

describe('chart: Prometheus Operator resources and the Grafana dashboard', () => {
  const alertsFile = YAML.parse(readFileSync(path.join(CHART_DIR, 'files/alerts.yaml'), 'utf8')) as Json;

  it('the ServiceMonitor selects the agent and controller Services by a port they expose', { skip }, () => {
    const manifests = renderChart({ valuesFiles: [ALL_OPTIONS] });
    const monitor = findManifest(manifests, 'ServiceMonitor');
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['monitoring'] });
    assert.equal(monitor.metadata.labels?.release, 'prometheus');
    const selected = manifests.filter((m) => m.kind === 'Service' && labelSelectorMatches(monitor.spec.selector, m.metadata.labels));
    assert.deepEqual(selected.map((s) => s.metadata.labels?.component).sort(), ['agent', 'controller']);
    for (const service of selected) assert.ok((service.spec.ports as Json[]).some((p) => p.name === monitor.spec.endpoints[0].port));
    const agentService = findManifest(manifests, 'Service', byComponent('agent'));
    assert.equal(agentService.spec.clusterIP, 'None');
    assert.deepEqual(agentService.spec.selector, findManifest(manifests, 'DaemonSet').spec.selector.matchLabels);
  });

  it('the PodMonitor selects the agent pods (not the controller) on their http port', { skip }, () => {
    const manifests = renderChart({ valuesFiles: [PODMONITOR] });
    const monitor = findManifest(manifests, 'PodMonitor');
    const daemonSet = findManifest(manifests, 'DaemonSet');
    const deployment = findManifest(manifests, 'Deployment');
    assert.ok(labelSelectorMatches(monitor.spec.selector, daemonSet.spec.template.metadata.labels));
    assert.ok(!labelSelectorMatches(monitor.spec.selector, deployment.spec.template.metadata.labels));
    assert.equal(monitor.spec.podMetricsEndpoints[0].port, 'http');
    assert.equal(monitor.spec.podMetricsEndpoints[0].path, '/metrics');
  });

  it('the PrometheusRule carries files/alerts.yaml unchanged by default', { skip }, () => {
    const rule = findManifest(renderChart({ setJson: ['prometheus.rule.enabled=true'] }), 'PrometheusRule');
    assert.deepEqual(rule.spec.groups, alertsFile.groups);
  });

  it('per-alert overrides: exprReplace (thresholds), for, severity, labels, enabled', { skip }, () => {
    const rules = (alertsFile.groups as Json[]).flatMap((g) => g.rules as Json[]);
    const alerts = rules.filter((r) => r.alert);
    const comparison = /(?:>=|<=|>|<) [0-9]+(?:\.[0-9]+)?/;
    const target = alerts.find((r) => comparison.test(String(r.expr)));
    assert.ok(target, 'files/alerts.yaml should have an alert comparing to a number');
    const from = (comparison.exec(String(target.expr)) as RegExpExecArray)[0];
    const overrides: Record<string, Json> = {
      [target.alert]: { exprReplace: [{ from, to: '> 42.5' }], for: '7m', severity: 'critical', labels: { team: 'net' } },
    };
    const other = alerts.find((r) => r.alert !== target.alert);
    if (other) overrides[other.alert] = { enabled: false };
    const manifests = renderChart({ setJson: ['prometheus.rule.enabled=true', `prometheus.rule.alerts=${JSON.stringify(overrides)}`] });
    const rendered = (findManifest(manifests, 'PrometheusRule').spec.groups as Json[]).flatMap((g) => g.rules as Json[]);
    const changed = rendered.find((r) => r.alert === target.alert);
    assert.equal(changed.expr, String(target.expr).replaceAll(from, '> 42.5'));
    assert.equal(changed.for, '7m');
    assert.equal(changed.labels.severity, 'critical');
    assert.equal(changed.labels.team, 'net');
    assert.deepEqual(changed.annotations, target.annotations);
    if (other)
      assert.equal(
        rendered.find((r) => r.alert === other.alert),
        undefined,
      );
    assert.equal(rendered.length, rules.length - (other ? 1 : 0));

    // A replacement whose text is not in the expression fails the release, naming the alert.
    const stale = renderChartError({
      setJson: [
        'prometheus.rule.enabled=true',
        `prometheus.rule.alerts=${JSON.stringify({ [target.alert]: { exprReplace: [{ from: '> 123456789', to: '> 1' }] } })}`,
      ],
    });
    assert.match(stale, new RegExp(`prometheus\\.rule\\.alerts\\.${target.alert}\\.exprReplace\\[0\\]: "> 123456789" does not occur`));
  });

  it('a metrics prefix renames the metrics in the alerts and the dashboard', { skip }, () => {
    const manifests = renderChart({ setJson: ['config.metricsPrefix="netmon"', 'prometheus.rule.enabled=true', 'grafana.dashboard.enabled=true'] });
    const exprs = (findManifest(manifests, 'PrometheusRule').spec.groups as Json[]).flatMap((g) => (g.rules as Json[]).map((r) => String(r.expr)));
    assert.ok(exprs.some((e) => e.includes('netmon_')));
    assert.ok(exprs.every((e) => !/\bkconmon_/.test(e)));
    const dashboard = findManifest(manifests, 'ConfigMap', (m) => m.metadata.name.endsWith('-dashboard'));
    assert.ok(!/\bkconmon_/.test(dashboard.data['kconmon.json'] as string));
    assert.ok((dashboard.data['kconmon.json'] as string).includes('netmon_'));
  });

  it('the dashboard ConfigMap carries files/kconmon.json for the Grafana sidecar', { skip }, () => {
    const manifests = renderChart({ setJson: ['grafana.dashboard.enabled=true', 'grafana.dashboard.namespace="grafana"'] });
    const dashboard = findManifest(manifests, 'ConfigMap', (m) => m.metadata.name.endsWith('-dashboard'));
    assert.equal(dashboard.metadata.labels?.grafana_dashboard, '1');
    assert.equal(dashboard.metadata.namespace, 'grafana');
    assert.equal(dashboard.data['kconmon.json'], readFileSync(path.join(CHART_DIR, 'files/kconmon.json'), 'utf8').replace(/\n$/, ''));
    JSON.parse(dashboard.data['kconmon.json'] as string);
  });
});
