// The rendered chart against a real kube-apiserver (the run's shared one, harness/shared-kube.ts) with the Prometheus Operator CRDs
// (scripts/setup/prometheus-operator-crds.sh): every object is accepted by server-side dry-run apply (defaults,
// all-options, PodMonitor); a real `helm install` grants the controller exactly what it needs and the agents nothing
// (SubjectAccessReview); `helm upgrade` to every option and `helm uninstall` work; with enableTcpTweaks=false the
// pods meet the "restricted" Pod Security level, and the privileged tcp-tweaks container is refused there.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type KubernetesObject,
  type V1CustomResourceDefinition,
  type V1Pod,
} from '@kubernetes/client-node';
import YAML from 'yaml';
import { findKubeBinaries, type KubeApi } from '../../harness/kube-cluster.ts';
import { waitUntil } from '../../harness/wait.ts';
import { skipOption } from '../harness/require.ts';
import { holdSharedKubeApi } from '../helpers/shared-kube-hooks.ts';
import {
  ALL_OPTIONS,
  CHART_DIR,
  PODMONITOR,
  PROMETHEUS_OPERATOR_CRDS,
  TLS,
  byComponent,
  findManifest,
  helm,
  helmMissing,
  prometheusOperatorCrdsDir,
  prometheusOperatorCrdsMissing,
  renderChart,
  type Manifest,
} from './helm.ts';

const binaries = findKubeBinaries();
const unavailable = [binaries.reason, helmMissing, prometheusOperatorCrdsMissing()].filter(Boolean).join('; ') || undefined;
const skip = skipOption(unavailable);
const FIELD_MANAGER = 'kconmon-chart-test';

const kubeApi = holdSharedKubeApi(unavailable);

describe('chart on a real kube-apiserver', () => {
  let cluster: KubeApi;
  let objects: KubernetesObjectApi;
  let core: CoreV1Api;
  let helmHome: string;
  let kubeconfig: string;
  const suffix = randomBytes(3).toString('hex');

  async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await core.createNamespace({ body: { metadata: { name, labels } } });
  }

  function helmAt(args: string[]) {
    return helm([...args, '--kubeconfig', kubeconfig], {
      HELM_CACHE_HOME: path.join(helmHome, 'cache'),
      HELM_CONFIG_HOME: path.join(helmHome, 'config'),
      HELM_DATA_HOME: path.join(helmHome, 'data'),
    });
  }

  /** A raw JSON POST: the typed client's serializer drops the CRDs' x-kubernetes-* schema keys. */
  function post(urlPath: string, body: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = https.request(
        new URL(urlPath, cluster.server),
        { method: 'POST', ca: cluster.caPem, headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            // 409: already there (the shared apiserver of a run that installed them before).
            if ((status >= 200 && status < 300) || status === 409) resolve();
            else reject(new Error(`POST ${urlPath}: ${status} ${Buffer.concat(chunks).toString('utf8')}`));
          });
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify(body));
    });
  }

  async function installCrds(): Promise<void> {
    const api = cluster.adminKubeConfig().makeApiClient(ApiextensionsV1Api);
    const names: string[] = [];
    for (const file of PROMETHEUS_OPERATOR_CRDS) {
      for (const document of YAML.parseAllDocuments(readFileSync(path.join(prometheusOperatorCrdsDir(), file), 'utf8'))) {
        const crd = document.toJS() as V1CustomResourceDefinition | null;
        if (!crd) continue;
        await post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
        names.push(crd.metadata?.name as string);
      }
    }
    for (const name of names) {
      await waitUntil(
        `CRD ${name} established`,
        60_000,
        async () => {
          const crd = await api.readCustomResourceDefinition({ name });
          return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
        },
        200,
      );
    }
  }

  before(async () => {
    if (skip) return;
    cluster = kubeApi();
    const kc = cluster.adminKubeConfig();
    objects = KubernetesObjectApi.makeApiClient(kc);
    core = kc.makeApiClient(CoreV1Api);
    helmHome = await mkdtemp(path.join(os.tmpdir(), 'kconmon-helm-'));
    kubeconfig = path.join(helmHome, 'kubeconfig');
    await cluster.writeKubeconfig(cluster.adminToken, kubeconfig);
    await installCrds();
  });

  after(async () => {
    if (helmHome) await rm(helmHome, { recursive: true, force: true });
  });

  const dryRunCases = [
    { name: 'defaults', valuesFiles: [] as string[], kinds: 14 },
    { name: 'all-options', valuesFiles: [ALL_OPTIONS], kinds: 19 },
    { name: 'podmonitor', valuesFiles: [PODMONITOR], kinds: 15 },
    { name: 'tls', valuesFiles: [TLS], kinds: 20 },
  ];
  for (const { name, valuesFiles, kinds } of dryRunCases) {
    it(`${name}: every rendered object passes server-side dry-run apply`, { skip }, async () => {
      const namespace = `dry-${name}-${suffix}`;
      await createNamespace(namespace);
      const manifests = renderChart({ release: `dry-${name}`, namespace, valuesFiles });
      assert.equal(manifests.length, kinds, manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', '));
      for (const manifest of manifests) {
        try {
          const applied = await objects.patch(manifest as KubernetesObject, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
          assert.equal(applied.metadata?.name, manifest.metadata.name);
        } catch (error) {
          const body = error instanceof ApiException ? String(error.body) : String(error);
          assert.fail(`${manifest.kind}/${manifest.metadata.name} rejected: ${body}`);
        }
      }
      // The check has teeth: a broken copy is refused (CRD schema, core validation).
      if (name === 'all-options') {
        const monitor = structuredClone(findManifest(manifests, 'ServiceMonitor'));
        monitor.spec.endpoints[0].interval = '15 seconds';
        const daemonSet = structuredClone(findManifest(manifests, 'DaemonSet'));
        daemonSet.spec.template.spec.containers[0].ports[1].containerPort = 70000;
        for (const broken of [monitor, daemonSet]) {
          await assert.rejects(
            objects.patch(broken as KubernetesObject, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
            (error: unknown) => error instanceof ApiException && error.code === 422,
            `${broken.kind} should be refused`,
          );
        }
      }
      // Nothing was persisted.
      const list = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=kconmon' });
      assert.equal(list.items.length, 0);
    });
  }

  it("helm install: the controller may watch nodes and its namespace's pods, and nothing else; agents get nothing", { skip }, async () => {
    const namespace = `kconmon-${suffix}`;
    await createNamespace(namespace);
    const install = helmAt(['install', 'kconmon', CHART_DIR, '--namespace', namespace, '--set', 'controller.tls.enabled=true']);
    assert.equal(install.status, 0, install.stderr);
    assert.match(install.stdout, /curl -s -k -H "Authorization: Bearer \$TOKEN" https:\/\/127\.0\.0\.1:8080\/agents/, 'NOTES tell how to see /agents');

    // The token and the controller's certificate are generated once and kept by an upgrade (lookup).
    const secrets = async () =>
      Promise.all(['kconmon-token', 'kconmon-tls'].map(async (name) => JSON.stringify((await core.readNamespacedSecret({ name, namespace })).data)));
    const generated = await secrets();
    assert.match(Buffer.from(JSON.parse(generated[0]!).token as string, 'base64').toString(), /^[A-Za-z0-9]{48}$/);
    const sameValues = helmAt(['upgrade', 'kconmon', CHART_DIR, '--namespace', namespace, '--set', 'controller.tls.enabled=true']);
    assert.equal(sameValues.status, 0, sameValues.stderr);
    assert.deepEqual(await secrets(), generated, 'an upgrade keeps the token and the certificate');

    const apps = cluster.adminKubeConfig().makeApiClient(AppsV1Api);
    const daemonSet = await apps.readNamespacedDaemonSet({ name: 'kconmon-agent', namespace });
    assert.equal(daemonSet.spec?.template.spec?.serviceAccountName, 'kconmon-agent');
    await apps.readNamespacedDeployment({ name: 'kconmon-controller', namespace });

    const authz = cluster.adminKubeConfig().makeApiClient(AuthorizationV1Api);
    async function can(serviceAccount: string, verb: string, resource: string, inNamespace?: string): Promise<boolean> {
      const review = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${namespace}:${serviceAccount}`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
            resourceAttributes: { verb, resource, group: '', ...(inNamespace ? { namespace: inNamespace } : {}) },
          },
        },
      });
      return review.status?.allowed === true;
    }
    const controller = 'kconmon-controller';
    for (const verb of ['get', 'list', 'watch']) {
      assert.equal(await can(controller, verb, 'nodes'), true, `controller ${verb} nodes`);
      assert.equal(await can(controller, verb, 'pods', namespace), true, `controller ${verb} pods`);
    }
    assert.equal(await can(controller, 'list', 'pods', 'default'), false, 'pods of other namespaces');
    assert.equal(await can(controller, 'list', 'pods'), false, 'pods cluster-wide');
    for (const [verb, resource] of [
      ['update', 'nodes'],
      ['patch', 'nodes'],
      ['create', 'pods'],
      ['delete', 'pods'],
      ['get', 'secrets'],
      ['list', 'configmaps'],
      ['list', 'services'],
    ] as const) {
      assert.equal(await can(controller, verb, resource, namespace), false, `controller ${verb} ${resource}`);
    }
    for (const [verb, resource] of [
      ['list', 'pods'],
      ['get', 'pods'],
      ['list', 'nodes'],
      ['get', 'configmaps'],
      ['get', 'secrets'],
    ] as const) {
      assert.equal(await can('kconmon-agent', verb, resource, namespace), false, `agent ${verb} ${resource}`);
    }

    // No binding anywhere names the agent account.
    const rbac = cluster.adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    const bindings = [...(await rbac.listClusterRoleBinding()).items, ...(await rbac.listRoleBindingForAllNamespaces()).items];
    assert.ok(!bindings.some((b) => b.subjects?.some((s) => s.name === 'kconmon-agent' && s.namespace === namespace)));

    // Upgrade to every option (new names, operator resources), then uninstall: nothing of the release is left.
    const upgrade = helmAt(['upgrade', 'kconmon', CHART_DIR, '--namespace', namespace, '--values', ALL_OPTIONS]);
    assert.equal(upgrade.status, 0, upgrade.stderr);
    const monitor = await objects.read({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'kcm-all', namespace } });
    assert.equal(monitor.metadata?.name, 'kcm-all');
    await assert.rejects(apps.readNamespacedDaemonSet({ name: 'kconmon-agent', namespace }), (e: unknown) => e instanceof ApiException && e.code === 404);
    const uninstall = helmAt(['uninstall', 'kconmon', '--namespace', namespace]);
    assert.equal(uninstall.status, 0, uninstall.stderr);
    await assert.rejects(rbac.readClusterRole({ name: 'kcm-all-controller' }), (e: unknown) => e instanceof ApiException && e.code === 404);
  });

  it('with enableTcpTweaks=false the pods meet Pod Security "restricted"; the tcp-tweaks pod does not', { skip }, async () => {
    const namespace = `restricted-${suffix}`;
    await createNamespace(namespace, { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' });

    function podFrom(manifest: Manifest, name: string): V1Pod {
      return {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace, labels: manifest.spec.template.metadata.labels },
        spec: manifest.spec.template.spec,
      };
    }
    async function admitted(pod: V1Pod): Promise<string | undefined> {
      try {
        await core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' });
        return undefined;
      } catch (error) {
        if (error instanceof ApiException && error.code === 403) return (JSON.parse(String(error.body)) as { message: string }).message;
        throw error;
      }
    }

    const hardened = renderChart({ namespace, setJson: ['enableTcpTweaks=false'] });
    assert.equal(await admitted(podFrom(findManifest(hardened, 'DaemonSet'), 'agent')), undefined);
    assert.equal(await admitted(podFrom(findManifest(hardened, 'Deployment', byComponent('controller')), 'controller')), undefined);

    const tweaked = renderChart({ namespace });
    const refusal = await admitted(podFrom(findManifest(tweaked, 'DaemonSet'), 'agent-tweaked'));
    assert.ok(refusal, 'the privileged init container must be refused under "restricted"');
    assert.match(refusal, /violates PodSecurity "restricted:latest"/);
    assert.match(refusal, /container "tcp-tweaks" must not set securityContext\.privileged=true/);
    assert.doesNotMatch(refusal, /container "agent"/, 'only the init container may break the restricted level');
  });
});
