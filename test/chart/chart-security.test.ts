// The chart's security wiring, rendered by the pinned helm: the agents' token Secret (created, or the user's) mounted
// into both components at the path both configs name; optional TLS with a generated CA and certificate valid for the
// controller Service, agents mounting only the CA and dialling https; the opt-in NetworkPolicies. Skipped (failed
// with KCONMON_REQUIRE_ALL=1) without helm.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseAgentConfig, parseControllerConfig } from '../../src/config/load.ts';
import { skipOption } from '../harness/require.ts';
import { byComponent, findManifest, helmMissing, renderChart, renderedConfig, type Manifest } from './helm.ts';

const skip = skipOption(helmMissing);
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests and parsed files, indexed freely by the assertions
type Json = any;

function podSpec(manifest: Manifest): Json {
  return manifest.spec.template.spec;
}

/** The file a container sees for a secret volume item: mountPath/item path, with the Secret and key behind it. */
function secretFiles(manifest: Manifest): Map<string, { secret: string; key: string }> {
  const files = new Map<string, { secret: string; key: string }>();
  const spec = podSpec(manifest);
  for (const mount of spec.containers[0].volumeMounts as Json[]) {
    const volume = (spec.volumes as Json[]).find((candidate) => candidate.name === mount.name);
    if (!volume?.secret) continue;
    for (const item of volume.secret.items as Json[]) files.set(`${mount.mountPath}/${item.path}`, { secret: volume.secret.secretName, key: item.key });
  }
  return files;
}

function decode(secret: Manifest, key: string): string {
  return Buffer.from(secret.data[key] as string, 'base64').toString('utf8');
}

describe("chart: the agents' token", () => {
  it('by default a generated token Secret is mounted into agents and controller at the file both configs name', { skip }, () => {
    const manifests = renderChart();
    const secret = findManifest(manifests, 'Secret', (m) => m.metadata.name === 'test-kconmon-token');
    assert.match(decode(secret, 'token'), /^[A-Za-z0-9]{48}$/);
    const agent = parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent');
    const controller = parseControllerConfig(renderedConfig(manifests, 'controller'), 'controller');
    const tokenFile = agent.discovery.controller?.tokenFile;
    assert.ok(tokenFile);
    assert.equal(controller.auth.tokenFile, tokenFile);
    for (const workload of [findManifest(manifests, 'DaemonSet'), findManifest(manifests, 'Deployment')]) {
      assert.deepEqual(secretFiles(workload).get(tokenFile), { secret: 'test-kconmon-token', key: 'token' }, workload.kind);
    }
    assert.equal(controller.tls, undefined);
    assert.equal(agent.discovery.controller?.caFile, undefined);
    assert.ok(!manifests.some((m) => m.kind === 'NetworkPolicy'), 'NetworkPolicy is opt-in');
  });

  it("auth.existingSecret: no Secret is created; both pods mount the user's key", { skip }, () => {
    const manifests = renderChart({ setJson: ['auth.existingSecret="my-token"', 'auth.existingSecretKey="kconmon-token"'] });
    assert.ok(!manifests.some((m) => m.kind === 'Secret'));
    const tokenFile = parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent').discovery.controller?.tokenFile as string;
    for (const workload of [findManifest(manifests, 'DaemonSet'), findManifest(manifests, 'Deployment')]) {
      assert.deepEqual(secretFiles(workload).get(tokenFile), { secret: 'my-token', key: 'kconmon-token' });
    }
  });

  it('auth.enabled=false: no Secret, no mount, no token in either config', { skip }, () => {
    const manifests = renderChart({ setJson: ['auth.enabled=false'] });
    assert.ok(!manifests.some((m) => m.kind === 'Secret'));
    assert.equal(parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent').discovery.controller?.tokenFile, undefined);
    assert.equal(parseControllerConfig(renderedConfig(manifests, 'controller'), 'controller').auth.tokenFile, undefined);
    assert.equal(secretFiles(findManifest(manifests, 'DaemonSet')).size, 0);
  });
});

describe('chart: controller TLS', () => {
  it('a generated CA and a certificate valid for the controller Service; agents mount only the CA and dial https', { skip }, () => {
    const manifests = renderChart({ setJson: ['controller.tls.enabled=true', 'prometheus.serviceMonitor.enabled=true'] });
    const secret = findManifest(manifests, 'Secret', (m) => m.metadata.name === 'test-kconmon-tls');
    assert.equal(secret.type, 'kubernetes.io/tls');
    const ca = new X509Certificate(decode(secret, 'ca.crt'));
    const cert = new X509Certificate(decode(secret, 'tls.crt'));
    assert.ok(cert.verify(ca.publicKey), 'the certificate is signed by the CA');
    assert.match(decode(secret, 'tls.key'), /-----BEGIN (RSA |EC )?PRIVATE KEY-----/);

    const agent = parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent');
    const url = new URL(agent.discovery.controller!.urls[0]!);
    assert.equal(url.protocol, 'https:');
    assert.equal(cert.checkHost(url.hostname), url.hostname, `the certificate is valid for ${url.hostname}`);
    const reportUrl = new URL(agent.discovery.controller!.reportUrls![0]!);
    assert.equal(reportUrl.protocol, 'https:');
    assert.equal(cert.checkHost(reportUrl.hostname), reportUrl.hostname, `the certificate is valid for ${reportUrl.hostname}`);
    const agentFiles = secretFiles(findManifest(manifests, 'DaemonSet'));
    assert.deepEqual(agentFiles.get(agent.discovery.controller!.caFile!), { secret: 'test-kconmon-tls', key: 'ca.crt' });
    assert.ok(![...agentFiles.values()].some((file) => file.key === 'tls.key'), "agents never get the controller's key");

    const controller = parseControllerConfig(renderedConfig(manifests, 'controller'), 'controller');
    const deployment = findManifest(manifests, 'Deployment');
    const controllerFiles = secretFiles(deployment);
    assert.deepEqual(controllerFiles.get(controller.tls!.certFile), { secret: 'test-kconmon-tls', key: 'tls.crt' });
    assert.deepEqual(controllerFiles.get(controller.tls!.keyFile), { secret: 'test-kconmon-tls', key: 'tls.key' });
    const container = podSpec(deployment).containers[0];
    assert.equal(container.readinessProbe.httpGet.scheme, 'HTTPS');
    assert.equal(container.livenessProbe.httpGet.scheme, 'HTTPS');

    // Prometheus scrapes the agents over http and the controller over https, verified against the CA.
    const agentsMonitor = findManifest(manifests, 'ServiceMonitor', (m) => m.metadata.name === 'test-kconmon');
    assert.deepEqual(agentsMonitor.spec.selector.matchExpressions[0].values, ['agent']);
    const controllerMonitor = findManifest(manifests, 'ServiceMonitor', (m) => m.metadata.name === 'test-kconmon-controller');
    assert.deepEqual(controllerMonitor.spec.selector.matchExpressions[0].values, ['controller']);
    const endpoint = controllerMonitor.spec.endpoints[0];
    assert.equal(endpoint.scheme, 'https');
    assert.deepEqual(endpoint.tlsConfig.ca, { secret: { name: 'test-kconmon-tls', key: 'ca.crt' } });
    assert.equal(cert.checkHost(endpoint.tlsConfig.serverName), endpoint.tlsConfig.serverName);
  });

  it("controller.tls.existingSecret: nothing generated; both pods mount the user's Secret", { skip }, () => {
    const manifests = renderChart({ setJson: ['controller.tls.enabled=true', 'controller.tls.existingSecret="my-tls"'] });
    assert.ok(!manifests.some((m) => m.kind === 'Secret' && m.type === 'kubernetes.io/tls'));
    const agent = parseAgentConfig(renderedConfig(manifests, 'agent'), 'agent');
    assert.equal(secretFiles(findManifest(manifests, 'DaemonSet')).get(agent.discovery.controller!.caFile!)?.secret, 'my-tls');
  });
});

describe('chart: NetworkPolicy (opt-in)', () => {
  it("agents' port open to agent pods (TCP and UDP) and Prometheus (TCP); the controller's to agents and Prometheus", { skip }, () => {
    const prometheus = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { app: 'prometheus' } },
    };
    const manifests = renderChart({ setJson: ['networkPolicy.enabled=true', `networkPolicy.prometheus=${JSON.stringify(prometheus)}`, 'config.port=9000'] });
    const daemonSet = findManifest(manifests, 'DaemonSet');
    const deployment = findManifest(manifests, 'Deployment');
    const agentPods = { matchLabels: { app: 'kconmon', component: 'agent', 'app.kubernetes.io/instance': 'test' } };

    const agentPolicy = findManifest(manifests, 'NetworkPolicy', byComponent('agent'));
    assert.deepEqual(agentPolicy.spec.podSelector, agentPods);
    assert.deepEqual(agentPolicy.spec.policyTypes, ['Ingress']);
    assert.deepEqual(agentPolicy.spec.ingress, [
      {
        from: [{ podSelector: agentPods }],
        ports: [
          { protocol: 'TCP', port: 9000 },
          { protocol: 'UDP', port: 9000 },
        ],
      },
      { from: [prometheus], ports: [{ protocol: 'TCP', port: 9000 }] },
    ]);
    for (const [key, value] of Object.entries(agentPods.matchLabels)) assert.equal(daemonSet.spec.template.metadata.labels[key], value);

    const controllerPolicy = findManifest(manifests, 'NetworkPolicy', byComponent('controller'));
    assert.deepEqual(controllerPolicy.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels);
    assert.deepEqual(controllerPolicy.spec.ingress, [{ from: [{ podSelector: agentPods }, prometheus], ports: [{ protocol: 'TCP', port: 8080 }] }]);
  });
});
