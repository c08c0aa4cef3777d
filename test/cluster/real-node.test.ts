// The chart on a real kubelet node (test/cluster/node.ts): the image built from the Dockerfile (scripts/image/build.sh)
// is imported into containerd, `helm install --wait` runs it with pullPolicy Never, and then: every pod is Ready, the
// privileged init container set the TCP sysctls in the agent pod's network namespace, the agent reached the controller
// by its Service name, the agent's metrics carry the node and zone from the Node object, its DNS test against the
// cluster DNS passes, Prometheus scrapes the agent pod through the documented scrape config (kubernetes_sd), the
// controller lists the agent, a rolling restart of both workloads fails no test, `helm uninstall` leaves no kconmon
// object, and tear-down leaves the host as it was. Needs root and the components of scripts/setup (see node.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, PatchStrategy, PolicyV1Api, RbacAuthorizationV1Api, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { CHART_DIR, helm, helmMissing, REPO_ROOT } from '../chart/helm.ts';
import { skipOption } from '../harness/require.ts';
import { buildImage, imageBuildUnavailable } from '../helpers/image.ts';
import { prometheusUnavailable, startPrometheus, type Prometheus } from '../helpers/prometheus.ts';
import { earlierNode, hostFacts, pidsWithCommandLine, recoverAbandonedNode } from './host-state.ts';
import { writeTargetsFile } from './pod-sd.ts';
import { NODE_NAME, NODE_ZONE, realNodeUnavailable, startRealNode, type RealNode } from './node.ts';

const NAMESPACE = 'kconmon';
const RELEASE = 'kconmon';
const CONTROLLER_URL_HOST = `${RELEASE}-controller.${NAMESPACE}.svc.cluster.local`;
const DNS_TARGET = 'kubernetes.default.svc.cluster.local';

const unavailable = realNodeUnavailable() ?? imageBuildUnavailable() ?? helmMissing ?? prometheusUnavailable();

/** Polls `probe` every 500 ms until it returns a value; fails with the last error and `context()` after `timeoutMs`. */
async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) assert.fail(`${what} (not within ${timeoutMs} ms) ${last}\n${context()}`);
    await sleep(500);
  }
}

/** Samples of one metric in a Prometheus text exposition: labels → value. */
function samples(exposition: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    found.push({ labels: labels as Record<string, string>, value: Number(match[3]) });
  }
  return found;
}

async function get(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.text();
}

/** The plain-Prometheus scrape config documented in docs/deployment.md, as users copy it. */
function documentedScrapeConfig(): Record<string, unknown> {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs/deployment.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Plain Prometheus'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'docs/deployment.md has a plain-Prometheus scrape config');
  const jobs = YAML.parse(block[1] as string) as Record<string, unknown>[];
  assert.equal(jobs.length, 1);
  return jobs[0] as Record<string, unknown>;
}

/** The PID of the agent process of `pod` (cgroupfs driver: its cgroup path names pod<uid>). */
function agentPid(pod: V1Pod): number {
  const uid = pod.metadata?.uid as string;
  const pids = pidsWithCommandLine('bin/kconmon.js agent').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`pod${uid}`);
    } catch {
      return false;
    }
  });
  assert.equal(pids.length, 1, `one agent process in pod ${uid}: ${pids.join(', ')}`);
  return pids[0] as number;
}

/** Reads a /proc/sys file as a process sees it: in its network namespace (the host's cat, the host's /proc mount). */
function sysctlIn(pid: number, name: string): string {
  return execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'cat', `/proc/sys/${name.replace(/\./g, '/')}`], { encoding: 'utf8' }).trim();
}

function isReady(pod: V1Pod): boolean {
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return pod.status?.phase === 'Running' && pod.metadata?.deletionTimestamp === undefined && ready;
}

describe('the chart on a real kubelet node', { skip: skipOption(unavailable) }, () => {
  const suiteStarted = Date.now();
  let node: RealNode;
  let prometheus: Prometheus | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let version: string;
  let agentPod: V1Pod;
  let setSysctls: [string, string][] = [];

  const helmIn = (args: string[]) => {
    const helmHome = path.join(node.dir, 'helm');
    const result = helm([...args, '--kubeconfig', node.kubeconfigPath], { HELM_CACHE_HOME: helmHome, HELM_CONFIG_HOME: helmHome });
    assert.equal(result.status, 0, `helm ${args.join(' ')}:\n${result.stderr}\n${node.logs()}`);
    return result.stdout;
  };
  const targetsFile = () => path.join(node.dir, 'kconmon-pods.json');
  const pods = async () => (await core.listNamespacedPod({ namespace: NAMESPACE })).items;
  const podsOf = async (component: string) => (await pods()).filter((pod) => pod.metadata?.labels?.component === component);
  const containerLog = (pod: V1Pod, container: string): string => {
    const dir = path.join(node.podLogsDir, `${NAMESPACE}_${pod.metadata?.name}_${pod.metadata?.uid}`, container);
    return readdirSync(dir)
      .sort()
      .map((file) => readFileSync(path.join(dir, file), 'utf8'))
      .join('');
  };

  before(async (t) => {
    const image = buildImage();
    version = image.image.split(':').at(-1) as string;
    const nodeImagesRun = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/image/node-images.sh')], { encoding: 'utf8' });
    assert.equal(nodeImagesRun.status, 0, nodeImagesRun.stderr);
    const nodeImages = Object.fromEntries(nodeImagesRun.stdout.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
    node = await startRealNode({
      images: [
        { name: image.image, archive: image.archive },
        { name: nodeImages.pause_image as string, archive: nodeImages.pause_archive as string },
        { name: nodeImages.busybox_image as string, archive: nodeImages.busybox_archive as string },
      ],
      pauseImage: nodeImages.pause_image as string,
      log: (line) => t.diagnostic(line),
    });
    const kc = node.kube.adminKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    const [busyboxRepository, busyboxTag] = (nodeImages.busybox_image as string).split(':') as [string, string];
    helmIn([
      'install', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--create-namespace', '--wait', '--timeout', '180s',
      '--set', 'image.repository=localhost/kconmon', '--set', `image.tag=${version}`, '--set', 'image.pullPolicy=Never',
      '--set', `tcpTweaks.image.repository=${busyboxRepository}`, '--set', `tcpTweaks.image.tag=${busyboxTag}`,
      '--set', 'tcpTweaks.image.pullPolicy=Never',
    ]);
    t.diagnostic(`helm install --wait done at ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    await prometheus?.stop();
    await node?.stop();
  });

  it('runs every pod Ready: one agent on the node, two controllers', async () => {
    const all = await pods();
    assert.deepEqual(all.filter((pod) => !isReady(pod)).map((pod) => pod.metadata?.name), []);
    const agents = all.filter((pod) => pod.metadata?.labels?.component === 'agent');
    const controllers = all.filter((pod) => pod.metadata?.labels?.component === 'controller');
    assert.equal(agents.length, 1);
    assert.equal(controllers.length, 2);
    agentPod = agents[0] as V1Pod;
    assert.equal(agentPod.spec?.nodeName, NODE_NAME);
    for (const pod of all) {
      for (const status of pod.status?.containerStatuses ?? []) {
        assert.equal(status.image.replace(/^docker\.io\//, ''), `localhost/kconmon:${version}`);
      }
    }
  });

  it("the init container applied the sysctls it could, in the agent pod's network namespace", () => {
    const init = agentPod.status?.initContainerStatuses?.find((s) => s.name === 'tcp-tweaks');
    assert.equal(init?.state?.terminated?.exitCode, 0);
    const log = containerLog(agentPod, 'tcp-tweaks');
    const summary = /tcp-tweaks: (\d+) applied, (\d+) skipped/.exec(log);
    assert.ok(summary, log);
    assert.ok(Number(summary[1]) >= 1, log);
    setSysctls = [...log.matchAll(/tcp-tweaks: set (\S+) = (\S+)/g)].map((m) => [m[1] as string, m[2] as string]);
    assert.equal(setSysctls.length, Number(summary[1]));
    // Each value as the agent process sees it (its network namespace), and the host's own.
    const pid = agentPid(agentPod);
    for (const [name, value] of setSysctls) assert.equal(sysctlIn(pid, name), value, `${name} in the pod`);
    const keepalive = setSysctls.find(([name]) => name === 'net.ipv4.tcp_keepalive_time');
    if (keepalive) assert.notEqual(readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim(), keepalive[1], 'the host keeps its own value');
  });

  it('the agent reached the controller by its Service name and reports the node and zone of the Node object', async () => {
    const log = containerLog(agentPod, 'agent');
    const connected = log.split('\n').find((line) => line.includes('connected to controller'));
    assert.ok(connected, log.slice(-3000));
    assert.ok(connected.includes(CONTROLLER_URL_HOST), connected);
    const podIp = agentPod.status?.podIP as string;
    const info = await eventually(`kconmon_agent_info with zone ${NODE_ZONE}`, 30_000, async () => {
      const found = samples(await get(`http://${podIp}:8080/metrics`), 'kconmon_agent_info').find((s) => s.labels.source_zone === NODE_ZONE);
      return found;
    });
    assert.deepEqual(info.labels, { source: NODE_NAME, source_zone: NODE_ZONE, version });
  });

  it('its DNS test against the cluster DNS passes', async () => {
    const podIp = agentPod.status?.podIP as string;
    const results = await eventually('a passed DNS test', 30_000, async () => {
      const all = samples(await get(`http://${podIp}:8080/metrics`), 'kconmon_dns_results_total');
      return all.some((s) => s.labels.result === 'pass' && s.value > 0) ? all : undefined;
    });
    for (const sample of results) if (sample.labels.result === 'fail') assert.equal(sample.value, 0, JSON.stringify(sample));
    const resolvConf = readFileSync(`/proc/${agentPid(agentPod)}/root/etc/resolv.conf`, 'utf8');
    assert.match(resolvConf, /^nameserver 198\.19\.128\.10$/m, 'the pod resolves through the cluster DNS only');
    assert.equal([...resolvConf.matchAll(/^nameserver /gm)].length, 1, resolvConf);
    assert.ok(results.some((s) => s.labels.host === DNS_TARGET && s.labels.result === 'pass'), JSON.stringify(results));
  });

  it('Prometheus scrapes the agent pod through the documented scrape config', async () => {
    const job = documentedScrapeConfig();
    // The documented job discovers pods with kubernetes_sd_configs (role: pod) in the release's namespace; Debian's
    // Prometheus lacks that discovery, so the same targets and meta labels come from a file (pod-sd.ts).
    assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'pod', namespaces: { names: [NAMESPACE] } }]);
    const { kubernetes_sd_configs: _discovery, ...rest } = job;
    await writeTargetsFile(targetsFile(), await pods());
    prometheus = await startPrometheus({
      jobs: [],
      rawScrapeConfigs: [{ ...rest, scrape_interval: '1s', file_sd_configs: [{ files: [targetsFile()], refresh_interval: '1s' }] }],
    });
    const agentName = agentPod.metadata?.name as string;
    await eventually(`up{job="kconmon", pod="${agentName}"} == 1`, 30_000, async () => {
      const result = await (prometheus as Prometheus).query(`up{job="kconmon", pod="${agentName}"} == 1`);
      return (result.result as unknown[]).length === 1 ? true : undefined;
    }, () => (prometheus as Prometheus).logTail());
    const info = await (prometheus as Prometheus).query(`kconmon_agent_info{pod="${agentName}"}`);
    assert.equal((info.result as { metric: Record<string, string> }[])[0]?.metric.source, NODE_NAME);
    const targets = await (prometheus as Prometheus).targets();
    assert.deepEqual(
      targets.activeTargets.map((target) => `${target.labels.pod} ${target.scrapeUrl}`),
      [`${agentName} http://${agentPod.status?.podIP}:8080/metrics`],
      "only the agent pod's TCP port is kept (not the controllers, not the UDP echo port)",
    );
  });

  it('the controller lists the agent with its node, zone and IP', async () => {
    for (const controller of await podsOf('controller')) {
      const listed = JSON.parse(await get(`http://${controller.status?.podIP}:8080/agents`)) as { name: string; nodeName: string; ip: string; zone: string }[];
      assert.deepEqual(listed, [{ name: agentPod.metadata?.name, nodeName: NODE_NAME, ip: agentPod.status?.podIP, zone: NODE_ZONE }]);
    }
  });

  it('a rolling restart of both workloads fails no test', async () => {
    const restartedAt = new Date().toISOString();
    const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } } };
    const oldPods = new Set((await pods()).map((pod) => pod.metadata?.uid));
    // What `kubectl rollout restart` does: a new pod-template annotation.
    const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    await apps.patchNamespacedDaemonSet({ name: `${RELEASE}-agent`, namespace: NAMESPACE, body: patch }, strategic);
    await apps.patchNamespacedDeployment({ name: `${RELEASE}-controller`, namespace: NAMESPACE, body: patch }, strategic);
    await eventually('both rollouts complete (3 new pods Ready, no old pod left)', 180_000, async () => {
      const now = await pods();
      const fresh = now.filter((pod) => !oldPods.has(pod.metadata?.uid) && isReady(pod));
      return now.length === 3 && fresh.length === 3 ? true : undefined;
    }, () => node.logs());
    agentPod = (await podsOf('agent'))[0] as V1Pod;
    await writeTargetsFile(targetsFile(), await pods());
    const podIp = agentPod.status?.podIP as string;
    await eventually('the new agent passes a DNS test and knows its zone again', 30_000, async () => {
      const metrics = await get(`http://${podIp}:8080/metrics`);
      const passed = samples(metrics, 'kconmon_dns_results_total').some((s) => s.labels.result === 'pass' && s.value > 0);
      const zoned = samples(metrics, 'kconmon_agent_info').some((s) => s.labels.source_zone === NODE_ZONE);
      return passed && zoned ? true : undefined;
    });
    // Over the whole run, as Prometheus saw both agent pods: tests passed, none failed.
    const p = prometheus as Prometheus;
    await eventually('Prometheus scraped the new agent', 30_000, async () =>
      ((await p.query(`up{job="kconmon", pod="${agentPod.metadata?.name}"} == 1`)).result as unknown[]).length === 1 ? true : undefined,
    );
    const failed = await p.query('sum(max_over_time({__name__=~"kconmon_(udp|tcp|dns)_results_total", result="fail"}[15m]))');
    const failedValue = (failed.result as { value: [number, string] }[])[0]?.value[1] ?? '0';
    assert.equal(Number(failedValue), 0, 'failed tests over the run');
    const passedPods = await p.query('count(count by (pod) (max_over_time(kconmon_dns_results_total{result="pass"}[15m]) > 0))');
    assert.equal(Number((passedPods.result as { value: [number, string] }[])[0]?.value[1]), 2, 'both agent pods passed DNS tests');
  });

  it('helm uninstall leaves no kconmon object', async () => {
    helmIn(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout', '120s']);
    await eventually('every kconmon pod gone', 60_000, async () => ((await pods()).length === 0 ? true : undefined));
    const kc = node.kube.adminKubeConfig();
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    const names = (items: { metadata?: { name?: string } }[]) => items.map((item) => item.metadata?.name ?? '');
    const leftovers = {
      daemonSets: names((await apps.listNamespacedDaemonSet({ namespace: NAMESPACE })).items),
      deployments: names((await apps.listNamespacedDeployment({ namespace: NAMESPACE })).items),
      replicaSets: names((await apps.listNamespacedReplicaSet({ namespace: NAMESPACE })).items),
      services: names((await core.listNamespacedService({ namespace: NAMESPACE })).items),
      configMaps: names((await core.listNamespacedConfigMap({ namespace: NAMESPACE })).items).filter((name) => name !== 'kube-root-ca.crt'),
      serviceAccounts: names((await core.listNamespacedServiceAccount({ namespace: NAMESPACE })).items).filter((name) => name !== 'default'),
      secrets: names((await core.listNamespacedSecret({ namespace: NAMESPACE })).items),
      pdbs: names((await policy.listNamespacedPodDisruptionBudget({ namespace: NAMESPACE })).items),
      roles: names((await rbac.listNamespacedRole({ namespace: NAMESPACE })).items),
      roleBindings: names((await rbac.listNamespacedRoleBinding({ namespace: NAMESPACE })).items),
      clusterRoles: names((await rbac.listClusterRole()).items).filter((name) => name.includes('kconmon')),
      clusterRoleBindings: names((await rbac.listClusterRoleBinding()).items).filter((name) => name.includes('kconmon')),
    };
    assert.deepEqual(leftovers, {
      daemonSets: [], deployments: [], replicaSets: [], services: [], configMaps: [], serviceAccounts: [], secrets: [], pdbs: [],
      roles: [], roleBindings: [], clusterRoles: [], clusterRoleBindings: [],
    });
  });

  it('tear-down leaves the host as it was', async (t) => {
    await prometheus?.stop();
    prometheus = undefined;
    const leftovers = await node.stop();
    assert.deepEqual(leftovers, { sysctls: [], nftTables: [], netns: [], mounts: [], cgroups: [], processes: [], links: [], logLinks: [], paths: [] });
    t.diagnostic(`real-node suite: ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s from image check to clean host`);
    console.log(`# real-node suite duration: ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s`);
  });
});

describe('real-node tear-down when the test process dies', { skip: skipOption(unavailable) }, () => {
  let nodeImages: Record<string, string>;
  before(() => {
    const run = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/image/node-images.sh')], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    nodeImages = Object.fromEntries(run.stdout.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
  });

  /** Starts node-child.ts in `mode`, resolves once its pod runs (READY), with what the host holds at that moment. */
  async function startChild(mode: 'exit' | 'wait'): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
    const child = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'test/cluster/node-child.ts'),
        mode,
        `${nodeImages.pause_image}=${nodeImages.pause_archive}`,
        `${nodeImages.busybox_image}=${nodeImages.busybox_archive}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually('the child node runs its pod', 120_000, async () => {
      if (child.exitCode !== null && !output.includes('READY')) throw new Error(`child exited ${child.exitCode}:\n${output}`);
      return output.includes('READY') ? true : undefined;
    });
    return { child, exited };
  }

  const clean = { sysctls: [], nftTables: [], netns: [], mounts: [], cgroups: [], processes: [], links: [], logLinks: [], paths: [] };

  it('process exit without stop(): the exit hook restores the host', async () => {
    const before = hostFacts();
    const { exited } = await startChild('exit');
    assert.equal(await exited, 1);
    assert.deepEqual(hostFacts(), before);
    assert.equal(earlierNode(), undefined, 'nothing left to recover');
  });

  it('SIGKILL (no hook runs): the next run restores the host first', async () => {
    const before = hostFacts();
    const { child, exited } = await startChild('wait');
    child.kill('SIGKILL');
    await exited;
    const during = hostFacts();
    assert.notDeepEqual(during, before, 'the killed run left its bridge, namespaces, cgroups and sysctls');
    assert.equal(earlierNode()?.active, false);
    assert.deepEqual(recoverAbandonedNode(), clean);
    assert.deepEqual(hostFacts(), before);
  });
});

