// The chart on real kubelet nodes (test/cluster/node.ts: two nodes in two zones, the second in its own network
// namespace): the image built from the Dockerfile (scripts/image/build.sh) is imported into each node's containerd,
// `helm install --wait` runs it with pullPolicy Never, and then: every pod is Ready, the privileged init container set
// the TCP sysctls in each agent pod's network namespace, each agent reached the controller by its Service name, its
// metrics carry the node and zone of its Node object, its DNS test against the cluster DNS passes, the agents probe
// each other pod to pod across nodes and zones (UDP and TCP pass both ways), a Prometheus with Kubernetes discovery
// against the cluster's apiserver scrapes the agent and controller pods through the chart's PodMonitor (as the operator
// translates it) and the documented scrape config, the controllers list the agents, a rolling restart of both workloads
// brings new pods that the controllers find, whose DNS tests pass and across which no UDP or TCP test fails, a fault
// between the nodes (an nftables drop in one node's namespace) fails the UDP and TCP tests of both agents to each other
// only, which pass again once it heals, `helm uninstall` leaves no kconmon object, and tear-down leaves the host as it
// was — also when the test process exits without tearing down or is killed outright. Needs root and the components of
// scripts/setup (see node.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, PatchStrategy, PolicyV1Api, RbacAuthorizationV1Api, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { CHART_DIR, findManifest, helm, helmMissing, renderChart, REPO_ROOT } from '../chart/helm.ts';
import { skipOption } from '../harness/require.ts';
import { buildImage, imageBuildUnavailable } from '../helpers/image.ts';
import { startPrometheus, type Prometheus } from '../../harness/prometheus.ts';
import { findGoTool } from '../../harness/kube-cluster.ts';
import { earlierNode, hostFacts, pidsWithCommandLine, recoverAbandonedNode, run } from './host-state.ts';
import { scrapeConfigsFromPodMonitor, type DiscoveryAccess, type PodMonitorManifest } from './pod-monitor.ts';
import { realNodeUnavailable, startRealNode, waitFor, type NodeSpec, type RealNode } from './node.ts';

const NAMESPACE = 'kconmon';
const RELEASE = 'kconmon';
const CONTROLLER_URL_HOST = `${RELEASE}-controller.${NAMESPACE}.svc.cluster.local`;
const DNS_TARGET = 'kubernetes.default.svc.cluster.local';
/** Prometheus's namespace and the Role in the release's namespace that lets its discovery list and watch pods. */
const PROMETHEUS_NAMESPACE = 'monitoring';
const PROMETHEUS_ROLE = 'prometheus-pod-discovery';
/** The job of the documented plain-Prometheus scrape config, and the job label the PodMonitor's config sets. */
const DOCUMENTED_JOB = 'kconmon';
const POD_MONITOR_JOB = `${NAMESPACE}/${RELEASE}`;

/** Two nodes in two zones, each in its own network namespace. */
const NODES = [
  { name: 'kconmon-node-1', zone: 'zone-a' },
  { name: 'kconmon-node-2', zone: 'zone-b' },
] as const;
const CLEAN_HOST = { sysctls: [], nftTables: [], netns: [], mounts: [], cgroups: [], processes: [], links: [], paths: [], logLinks: [] };

/** scripts/image/node-images.sh: the pause and busybox images and their archives. */
function buildNodeImages(): Record<string, string> {
  const run = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/image/node-images.sh')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return Object.fromEntries(
    run.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

/** Debian's Prometheus has no Kubernetes discovery: scripts/setup/go-tools.sh builds upstream's with it. */
const PROMETHEUS_WITH_KUBERNETES = findGoTool('prometheus', 'KCONMON_K8S_PROMETHEUS');
const unavailable = realNodeUnavailable() ?? imageBuildUnavailable() ?? helmMissing ?? PROMETHEUS_WITH_KUBERNETES.reason;

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

async function get(url: string, token?: string): Promise<string> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(3_000) });
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

/**
 * Keeps every kconmon container log of the nodes while it runs (the kubelet deletes a pod's logs with the pod): the
 * restart checks print the agents' controller-stream lines from it when they fail.
 */
function keepPodLogs(podLogDirs: readonly string[]): { stop(): Map<string, string> } {
  const kept = new Map<string, string>();
  let stopped = false;
  const copy = () => {
    for (const dir of podLogDirs) {
      try {
        for (const pod of readdirSync(dir).filter((name) => name.startsWith(`${NAMESPACE}_`))) {
          for (const container of readdirSync(path.join(dir, pod))) {
            for (const file of readdirSync(path.join(dir, pod, container))) {
              kept.set(`${pod}/${container}/${file}`, readFileSync(path.join(dir, pod, container, file), 'utf8'));
            }
          }
        }
      } catch {
        // a pod (or the node) deleted while read: the last copies stay
      }
    }
  };
  copy();
  const timer = setInterval(copy, 200);
  timer.unref();
  return {
    stop() {
      if (!stopped) copy();
      stopped = true;
      clearInterval(timer);
      return kept;
    },
  };
}

describe('the chart on real kubelet nodes', { skip: skipOption(unavailable) }, () => {
  const suiteStarted = Date.now();
  let node: RealNode;
  let prometheus: Prometheus | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let version: string;
  /** The agent pod of each node, in NODES order. */
  let agents: V1Pod[] = [];
  let restartStarted = 0;
  /** The kconmon container logs kept from the rolling restart on (see keepPodLogs). */
  let restartLogs: { stop(): Map<string, string> } | undefined;
  /** The agents' controller-stream and peer-list lines and the controllers' start and stop since the restart: pod, time, message. */
  const agentStreamLines = (): string => {
    const lines: string[] = [];
    for (const [file, text] of restartLogs?.stop() ?? new Map<string, string>()) {
      const wanted = file.includes('/agent/') ? /controller|peers|added/ : file.includes('/controller/') ? /shutting down|listening/ : undefined;
      if (wanted === undefined) continue;
      for (const line of text.split('\n')) {
        const json = line.slice(line.indexOf('{'));
        if (!wanted.test(json)) continue;
        try {
          const entry = JSON.parse(json) as Record<string, unknown>;
          const { msg, time, url, error, added, removed } = entry;
          if (Date.parse(String(time)) < restartStarted) continue;
          lines.push(`${file.split('_')[1]} ${String(time).slice(11, 23)} ${msg} ${JSON.stringify({ url, error, added, removed })}`);
        } catch {
          // not a JSON log line
        }
      }
    }
    return lines.sort((a, b) => a.split(' ')[1]!.localeCompare(b.split(' ')[1]!)).join('\n');
  };

  const helmIn = (args: string[]) => {
    const helmHome = path.join(node.dir, 'helm');
    const result = helm([...args, '--kubeconfig', node.kubeconfigPath], { HELM_CACHE_HOME: helmHome, HELM_CONFIG_HOME: helmHome });
    assert.equal(result.status, 0, `helm ${args.join(' ')}:\n${result.stderr}\n${node.logs()}`);
    return result.stdout;
  };
  const pods = async () => (await core.listNamespacedPod({ namespace: NAMESPACE })).items;
  const podsOf = async (component: string) => (await pods()).filter((pod) => pod.metadata?.labels?.component === component);
  /** Agent pods in NODES order (one per node). */
  const agentsByNode = async () => {
    const found = await podsOf('agent');
    return NODES.map(({ name }) => {
      const pod = found.find((candidate) => candidate.spec?.nodeName === name);
      assert.ok(pod, `an agent pod on ${name}`);
      return pod;
    });
  };
  const containerLog = (pod: V1Pod, container: string): string => {
    const spec = node.nodes.find((candidate) => candidate.name === pod.spec?.nodeName);
    assert.ok(spec, `node of pod ${pod.metadata?.name}`);
    const dir = path.join(spec.podLogsDir, `${NAMESPACE}_${pod.metadata?.name}_${pod.metadata?.uid}`, container);
    return readdirSync(dir)
      .sort()
      .map((file) => readFileSync(path.join(dir, file), 'utf8'))
      .join('');
  };
  /** The agents found by the first test: one per node, or the test using them fails (never passes on none). */
  const theAgents = (): V1Pod[] => {
    assert.equal(agents.length, NODES.length, 'one agent pod per node (see the first test)');
    return agents;
  };
  const metricsOf = async (pod: V1Pod) => get(`http://${pod.status?.podIP}:8080/metrics`);

  before(async (t) => {
    const image = buildImage();
    version = image.image.split(':').at(-1) as string;
    const nodeImages = buildNodeImages();
    node = await startRealNode({
      nodes: NODES,
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
      'install',
      RELEASE,
      CHART_DIR,
      '--namespace',
      NAMESPACE,
      '--create-namespace',
      '--wait',
      '--timeout',
      '180s',
      '--set',
      'image.repository=localhost/kconmon',
      '--set',
      `image.tag=${version}`,
      '--set',
      'image.pullPolicy=Never',
      '--set',
      `tcpTweaks.image.repository=${busyboxRepository}`,
      '--set',
      `tcpTweaks.image.tag=${busyboxTag}`,
      '--set',
      'tcpTweaks.image.pullPolicy=Never',
    ]);
    t.diagnostic(`helm install --wait done at ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    restartLogs?.stop();
    await prometheus?.stop();
    await node?.stop();
  });

  it('runs every pod Ready: one agent per node, two controllers, all from the built image', async () => {
    // helm --wait counts a DaemonSet ready with maxUnavailable pods not Ready yet: wait for all of them.
    const all = await waitFor(
      'every kconmon pod Ready',
      60_000,
      async () => {
        const now = await pods();
        return now.length === 2 + NODES.length && now.every(isReady) ? now : undefined;
      },
      () => node.logs(),
    );
    assert.equal(all.filter((pod) => pod.metadata?.labels?.component === 'controller').length, 2);
    assert.equal(all.filter((pod) => pod.metadata?.labels?.component === 'agent').length, NODES.length);
    agents = await agentsByNode();
    for (const pod of all) {
      for (const status of pod.status?.containerStatuses ?? []) {
        assert.equal(status.image.replace(/^docker\.io\//, ''), `localhost/kconmon:${version}`);
      }
    }
  });

  it("the init container applied the sysctls it could, in each agent pod's network namespace", () => {
    for (const agent of theAgents()) {
      const init = agent.status?.initContainerStatuses?.find((s) => s.name === 'tcp-tweaks');
      assert.equal(init?.state?.terminated?.exitCode, 0);
      const log = containerLog(agent, 'tcp-tweaks');
      const summary = /tcp-tweaks: (\d+) applied, (\d+) skipped/.exec(log);
      assert.ok(summary, log);
      assert.ok(Number(summary[1]) >= 1, log);
      const set = [...log.matchAll(/tcp-tweaks: set (\S+) = (\S+)/g)].map((m) => [m[1] as string, m[2] as string] as const);
      assert.equal(set.length, Number(summary[1]));
      // Each value as the agent process sees it (its network namespace), and the host's own.
      const pid = agentPid(agent);
      for (const [name, value] of set) assert.equal(sysctlIn(pid, name), value, `${name} in ${agent.metadata?.name}`);
      const keepalive = set.find(([name]) => name === 'net.ipv4.tcp_keepalive_time');
      if (keepalive) assert.notEqual(readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim(), keepalive[1], 'the host keeps its own value');
    }
  });

  it('each agent reached the controller by its Service name and reports the node and zone of its Node object', async () => {
    for (const [index, agent] of theAgents().entries()) {
      const { name, zone } = NODES[index] as { name: string; zone: string };
      // An agent that started before the controllers were Ready connects on a later attempt.
      const connected = await waitFor(
        `${name}'s agent connected to a controller`,
        30_000,
        async () =>
          containerLog(agent, 'agent')
            .split('\n')
            .find((line) => line.includes('connected to controller')),
        () => containerLog(agent, 'agent').slice(-3000),
      );
      assert.ok(connected.includes(CONTROLLER_URL_HOST), connected);
      const info = await waitFor(`kconmon_agent_info of ${name} with zone ${zone}`, 30_000, async () =>
        samples(await metricsOf(agent), 'kconmon_agent_info').find((s) => s.labels.source_zone === zone),
      );
      assert.deepEqual(info.labels, { source: name, source_zone: zone, version });
    }
  });

  it("each agent's DNS test against the cluster DNS passes, through the cluster resolver only", async () => {
    for (const agent of theAgents()) {
      const results = await waitFor(`a passed DNS test on ${agent.spec?.nodeName}`, 30_000, async () => {
        const all = samples(await metricsOf(agent), 'kconmon_dns_results_total');
        return all.some((s) => s.labels.result === 'pass' && s.value > 0) ? all : undefined;
      });
      for (const sample of results) if (sample.labels.result === 'fail') assert.equal(sample.value, 0, JSON.stringify(sample));
      assert.ok(
        results.some((s) => s.labels.host === DNS_TARGET && s.labels.result === 'pass'),
        JSON.stringify(results),
      );
      const resolvConf = readFileSync(`/proc/${agentPid(agent)}/root/etc/resolv.conf`, 'utf8');
      assert.match(resolvConf, /^nameserver 198\.19\.128\.10$/m, 'the pod resolves through the cluster DNS only');
      assert.equal([...resolvConf.matchAll(/^nameserver /gm)].length, 1, resolvConf);
    }
  });

  it('the agents probe each other pod to pod across nodes and zones: UDP and TCP pass both ways', async () => {
    for (const [index, agent] of theAgents().entries()) {
      const source = NODES[index] as { name: string; zone: string };
      const peers = NODES.filter((other) => other.name !== source.name);
      const metrics = await waitFor(`${source.name} passed UDP and TCP tests to every peer`, 60_000, async () => {
        const text = await metricsOf(agent);
        const passedTo = (metric: string, peer: string) =>
          samples(text, metric).some((s) => s.labels.destination === peer && s.labels.result === 'pass' && s.value > 0);
        return peers.every((peer) => passedTo('kconmon_udp_results_total', peer.name) && passedTo('kconmon_tcp_results_total', peer.name)) ? text : undefined;
      });
      for (const metric of ['kconmon_udp_results_total', 'kconmon_tcp_results_total']) {
        const series = samples(metrics, metric);
        assert.deepEqual(new Set(series.map((s) => s.labels.destination)), new Set(peers.map((peer) => peer.name)), `${metric}: never itself`);
        for (const sample of series) {
          assert.equal(sample.labels.source_zone, source.zone);
          assert.equal(sample.labels.destination_zone, (NODES.find((n) => n.name === sample.labels.destination) as { zone: string }).zone);
          if (sample.labels.result === 'fail') assert.equal(sample.value, 0, `${metric} ${JSON.stringify(sample.labels)}`);
        }
      }
    }
  });

  /**
   * What Prometheus's pod discovery logs in with: a ServiceAccount of its own namespace whose token may list and watch
   * pods in the release's namespace and nothing else (what a namespaced PodMonitor needs), over TLS to the apiserver.
   */
  async function discoveryAccess(): Promise<DiscoveryAccess> {
    const rbac = node.kube.adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    const token = await node.kube.createServiceAccountToken(PROMETHEUS_NAMESPACE, 'prometheus');
    await rbac.createNamespacedRole({
      namespace: NAMESPACE,
      body: { metadata: { name: PROMETHEUS_ROLE }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NAMESPACE,
      body: {
        metadata: { name: PROMETHEUS_ROLE },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: PROMETHEUS_ROLE },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: PROMETHEUS_NAMESPACE }],
      },
    });
    const caFile = path.join(node.dir, 'prometheus-ca.crt');
    const tokenFile = path.join(node.dir, 'prometheus-token');
    writeFileSync(caFile, node.kube.caPem);
    writeFileSync(tokenFile, token, { mode: 0o600 });
    return { apiServer: node.kube.server, caFile, tokenFile };
  }

  it("Prometheus discovers the pods from the apiserver and scrapes them through the chart's PodMonitor and the documented job", async () => {
    const access = await discoveryAccess();
    // The PodMonitor as the chart renders it for this release, turned into the scrape config the Prometheus Operator
    // generates (pod-monitor.ts); only its 15 s interval is shortened for the test.
    const rendered = renderChart({ release: RELEASE, namespace: NAMESPACE, setJson: ['prometheus.podMonitor.enabled=true'] });
    const podMonitorJobs = scrapeConfigsFromPodMonitor(findManifest(rendered, 'PodMonitor') as unknown as PodMonitorManifest, access);
    assert.deepEqual(
      podMonitorJobs.map((job) => job.job_name),
      [`podMonitor/${NAMESPACE}/${RELEASE}/0`],
    );
    // The documented job as users copy it, with what a Prometheus outside the cluster adds: where the apiserver is.
    const documented = documentedScrapeConfig();
    assert.deepEqual(documented.kubernetes_sd_configs, [{ role: 'pod', namespaces: { names: [NAMESPACE] } }]);
    const documentedJob = {
      ...documented,
      kubernetes_sd_configs: [
        {
          role: 'pod',
          namespaces: { names: [NAMESPACE] },
          api_server: access.apiServer,
          tls_config: { ca_file: access.caFile },
          authorization: { credentials_file: access.tokenFile },
        },
      ],
    };
    prometheus = await startPrometheus({
      binary: PROMETHEUS_WITH_KUBERNETES.path as string,
      jobs: [],
      rawScrapeConfigs: [documentedJob, ...podMonitorJobs].map((job) => ({ ...job, scrape_interval: '1s', scrape_timeout: '1s' })),
    });
    const p = prometheus;
    const controllers = await podsOf('controller');
    const upCount = async (job: string) => ((await p.query(`up{job="${job}"} == 1`)).result as unknown[]).length;
    await waitFor(
      'every agent and controller pod up',
      30_000,
      async () =>
        (await upCount(POD_MONITOR_JOB)) === theAgents().length + controllers.length && (await upCount(DOCUMENTED_JOB)) === theAgents().length
          ? true
          : undefined,
      () => p.logTail(),
    );

    const targets = (await p.targets()).activeTargets;
    const scraped = (job: string) =>
      targets
        .filter((target) => target.labels.job === job)
        .map((target) => `${target.labels.pod} ${target.scrapeUrl}`)
        .sort();
    const urls = (pods: V1Pod[]) => pods.map((pod) => `${pod.metadata?.name} http://${pod.status?.podIP}:8080/metrics`).sort();
    assert.deepEqual(scraped(POD_MONITOR_JOB), urls([...theAgents(), ...controllers]), "the PodMonitor: every agent and controller pod's TCP port");
    assert.deepEqual(scraped(DOCUMENTED_JOB), urls(theAgents()), "the documented job: only the agent pods' TCP port (not the UDP echo port)");

    // Each agent's identity as its Node object gives it, under both jobs.
    const nodeOf = async (name: string) => (await core.readNode({ name })).metadata?.labels?.['topology.kubernetes.io/zone'];
    const expected: string[] = [];
    for (const agent of theAgents()) {
      const nodeName = agent.spec?.nodeName as string;
      for (const job of [DOCUMENTED_JOB, POD_MONITOR_JOB]) expected.push(`${job} ${agent.metadata?.name} ${nodeName} ${await nodeOf(nodeName)}`);
    }
    const info = (await p.query('kconmon_agent_info')).result as { metric: Record<string, string> }[];
    assert.deepEqual(info.map(({ metric }) => `${metric.job} ${metric.pod} ${metric.source} ${metric.source_zone}`).sort(), expected.sort());
    // The controllers' own metrics, through the PodMonitor: together they serve every agent's stream.
    const streams = await waitFor('the controllers count every agent stream', 15_000, async () => {
      const result = (await p.query(`sum(kconmon_controller_connected_agents{job="${POD_MONITOR_JOB}"})`)).result as { value: [number, string] }[];
      return Number(result[0]?.value[1]) === theAgents().length ? result : undefined;
    });
    assert.equal(streams.length, 1);
  });

  /** The agents' token from the Secret the chart created: the controller serves /agents only to its bearer. */
  async function agentToken(): Promise<string> {
    const secret = await core.readNamespacedSecret({ name: `${RELEASE}-token`, namespace: NAMESPACE });
    const encoded = secret.data?.token;
    assert.ok(encoded, `the Secret ${RELEASE}-token holds a token`);
    return Buffer.from(encoded, 'base64').toString('utf8');
  }

  it("each controller lists every agent with its node, zone and IP, to the bearer of the agents' token only", async () => {
    const token = await agentToken();
    const expected = theAgents()
      .map((agent, index) => ({ name: agent.metadata?.name, nodeName: NODES[index]?.name, ip: agent.status?.podIP, zone: NODES[index]?.zone }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    for (const controller of await podsOf('controller')) {
      await assert.rejects(get(`http://${controller.status?.podIP}:8080/agents`), /HTTP 401/, 'no token, no agent list');
      const listed = JSON.parse(await get(`http://${controller.status?.podIP}:8080/agents`, token)) as { name: string }[];
      assert.deepEqual(
        [...listed].sort((a, b) => a.name.localeCompare(b.name)),
        expected,
      );
    }
  });

  it('a rolling restart of both workloads: new pods Ready, found by the controllers, DNS tests never fail', async () => {
    // What `kubectl rollout restart daemonset,deployment` does: a new pod-template annotation on both at once.
    restartStarted = Date.now();
    restartLogs = keepPodLogs(node.nodes.map((spec) => spec.podLogsDir));
    const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
    const oldPods = new Set((await pods()).map((pod) => pod.metadata?.uid));
    const oldAgentNames = theAgents().map((agent) => agent.metadata?.name as string);
    const expectedPods = 2 + NODES.length;
    await apps.patchNamespacedDaemonSet({ name: `${RELEASE}-agent`, namespace: NAMESPACE, body: patch }, strategic);
    await apps.patchNamespacedDeployment({ name: `${RELEASE}-controller`, namespace: NAMESPACE, body: patch }, strategic);
    await waitFor(
      `both rollouts complete (${expectedPods} new pods Ready, no old pod left)`,
      180_000,
      async () => {
        const now = await pods();
        const fresh = now.filter((pod) => !oldPods.has(pod.metadata?.uid) && isReady(pod));
        return now.length === expectedPods && fresh.length === expectedPods ? true : undefined;
      },
      () => node.logs(),
    );
    agents = await agentsByNode();
    const expected = theAgents()
      .map((agent, index) => ({ name: agent.metadata?.name, nodeName: NODES[index]?.name, ip: agent.status?.podIP, zone: NODES[index]?.zone }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const token = await agentToken();
    for (const controller of await podsOf('controller')) {
      await waitFor(`${controller.metadata?.name} lists the new agents`, 30_000, async () => {
        const listed = JSON.parse(await get(`http://${controller.status?.podIP}:8080/agents`, token)) as { name: string }[];
        return JSON.stringify([...listed].sort((a, b) => a.name.localeCompare(b.name))) === JSON.stringify(expected) ? true : undefined;
      });
    }
    for (const agent of theAgents()) {
      await waitFor(`the new agent on ${agent.spec?.nodeName} passes DNS tests and knows its zone`, 60_000, async () => {
        const metrics = await metricsOf(agent);
        const passed = samples(metrics, 'kconmon_dns_results_total').some((s) => s.labels.result === 'pass' && s.value > 0);
        const zoned = samples(metrics, 'kconmon_agent_info').some((s) => s.labels.source_zone !== 'unknown');
        return passed && zoned ? true : undefined;
      });
    }
    // Over the whole run, as Prometheus saw every agent pod, old and new. A new agent's first passed DNS test reaches
    // Prometheus at its next scrape after /metrics showed it, so wait for that scrape (not for `up`, which an earlier
    // scrape already set) and name any pod that never showed one.
    const p = prometheus as Prometheus;
    const everyAgentPod = [...oldAgentNames, ...theAgents().map((agent) => agent.metadata?.name as string)].sort();
    const podsThatPassed = async () =>
      ((await p.query('count by (pod) (max_over_time(kconmon_dns_results_total{result="pass"}[15m]) > 0)')).result as { metric: { pod: string } }[])
        .map(({ metric }) => metric.pod)
        .sort();
    let seen: string[] = [];
    await waitFor(
      'Prometheus scraped a passed DNS test from every agent pod, old and new',
      30_000,
      async () => {
        seen = await podsThatPassed();
        return JSON.stringify(seen) === JSON.stringify(everyAgentPod) ? true : undefined;
      },
      () => `expected ${everyAgentPod.join(', ')}; Prometheus has ${seen.join(', ')}`,
    );
    const failed = await p.query('max by (pod, host) (max_over_time(kconmon_dns_results_total{result="fail"}[15m])) > 0');
    assert.deepEqual(failed.result, [], 'failed DNS tests over the run');
    assert.deepEqual(await podsThatPassed(), everyAgentPod, 'every agent pod, old and new, passed DNS tests');
  });

  // Both workloads rolled at once: each agent must keep a current peer list while its controller replica is replaced
  // (a stopping controller stays unready but serves its streams for shutdownGracePeriod, so agents reconnect only once
  // the Service routes them to a live replica) and while its peer is replaced (an agent is Ready only from its first list).
  it('no UDP or TCP test fails across that restart, and the new agents test each other again', async (t) => {
    try {
      const p = prometheus as Prometheus;
      for (const [index, agent] of theAgents().entries()) {
        const peers = NODES.filter((other) => other.name !== NODES[index]?.name).map((peer) => peer.name);
        await waitFor(`the new agent on ${agent.spec?.nodeName} passes UDP and TCP tests to every peer`, 60_000, async () => {
          const text = await metricsOf(agent);
          const passedTo = (metric: string, peer: string) =>
            samples(text, metric).some((s) => s.labels.destination === peer && s.labels.result === 'pass' && s.value > 0);
          return peers.every((peer) => passedTo('kconmon_udp_results_total', peer) && passedTo('kconmon_tcp_results_total', peer)) ? true : undefined;
        });
      }
      const window = `${Math.ceil((Date.now() - restartStarted) / 1000) + 30}s`;
      for (const metric of ['kconmon_udp_results_total', 'kconmon_tcp_results_total']) {
        const failed = await p.query(`max by (pod, source, destination) (max_over_time(${metric}{result="fail"}[${window}])) > 0`);
        if ((failed.result as unknown[]).length > 0) t.diagnostic(`${metric} failures: ${JSON.stringify(failed.result)}`);
        assert.deepEqual(failed.result, [], `${metric}: failed tests across the restart`);
      }
      // An agent whose controller stopped got its stream closed only after the Service stopped routing to that replica:
      // it reconnected at its first attempt, so no agent logged a refused or failed stream since the restart began.
      const lines = agentStreamLines();
      assert.doesNotMatch(lines, / controller stream failed; keeping the last agent list /, lines);
    } finally {
      t.diagnostic(`agents' controller streams and peer lists since the restart:\n${agentStreamLines()}`);
    }
  });

  type Counts = Record<string, number>;
  /**
   * An agent's UDP, TCP and DNS results so far, summed by kind and result (`udp fail`, `dns pass`, …), and what its
   * event-loop stalls left unmeasured (`udp unmeasured` packets, `tcp unmeasured` tests, `stalls`), for diagnosis.
   */
  const resultCounts = async (agent: V1Pod): Promise<Counts> => {
    const text = await metricsOf(agent);
    const total = (metric: string, result?: string) =>
      samples(text, metric)
        .filter((sample) => result === undefined || sample.labels.result === result)
        .reduce((sum, sample) => sum + sample.value, 0);
    const counts: Counts = {};
    for (const kind of ['udp', 'tcp', 'dns']) {
      for (const result of ['pass', 'fail']) counts[`${kind} ${result}`] = total(`kconmon_${kind}_results_total`, result);
    }
    counts['udp unmeasured'] = total('kconmon_udp_packets_unmeasured_total');
    counts['tcp unmeasured'] = total('kconmon_tcp_unmeasured_total');
    counts.stalls = total('kconmon_agent_event_loop_stalls_total');
    return counts;
  };
  /** Polls until every agent's counts satisfy `done(now, before)`; returns the counts then, in agent order. */
  const untilEveryAgent = async (what: string, before: Counts[], done: (now: Counts, then: Counts) => boolean) => {
    const agentsNow = theAgents();
    let last: Counts[] = [];
    return waitFor(
      what,
      120_000,
      async () => {
        last = await Promise.all(agentsNow.map(resultCounts));
        return last.every((counts, index) => done(counts, before[index] as Counts)) ? last : undefined;
      },
      () => `before: ${JSON.stringify(before)}\nlast: ${JSON.stringify(last)}`,
    );
  };

  it('a fault between the two nodes: both agents report UDP and TCP failures to each other (DNS unaffected), then pass again', async (t) => {
    // Pod-to-pod traffic between the nodes is forwarded by each node's namespace: cut it in the first one, both ways —
    // UDP dropped (lost packets), TCP refused with a reset (a failure the kernel reports, never left unmeasured by an
    // event-loop stall of a busy machine, as a timeout can be).
    const [first, second] = node.nodes as [NodeSpec, NodeSpec];
    const fault = [
      'table inet kconmon_fault {',
      '  chain forward {',
      '    type filter hook forward priority -10; policy accept;',
      `    ip saddr ${first.podCidr} ip daddr ${second.podCidr} meta l4proto tcp reject with tcp reset`,
      `    ip saddr ${second.podCidr} ip daddr ${first.podCidr} meta l4proto tcp reject with tcp reset`,
      `    ip saddr ${first.podCidr} ip daddr ${second.podCidr} drop`,
      `    ip saddr ${second.podCidr} ip daddr ${first.podCidr} drop`,
      '  }',
      '}',
    ].join('\n');
    const nftInFirst = (input: string) => run('ip', ['netns', 'exec', first.netns, 'nft', '-f', '-'], input);
    const healthy = await Promise.all(theAgents().map(resultCounts));
    const started = Date.now();
    const phase = (what: string, counts: Counts[]) =>
      t.diagnostic(`fault: ${what} at ${((Date.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(counts)}`);
    nftInFirst(fault);
    let healed = false;
    try {
      const failing = await untilEveryAgent(
        'both agents report failed UDP and TCP tests',
        healthy,
        (now, then) => now['udp fail']! > then['udp fail']! && now['tcp fail']! > then['tcp fail']!,
      );
      phase('both agents failing', failing);
      for (const [index, agent] of theAgents().entries()) {
        const text = await metricsOf(agent);
        const failedTo = ['udp', 'tcp'].flatMap((kind) =>
          samples(text, `kconmon_${kind}_results_total`)
            .filter((sample) => sample.labels.result === 'fail' && sample.value > 0)
            .map((sample) => sample.labels.destination),
        );
        const peer = NODES.find((other) => other.name !== agent.spec?.nodeName)?.name;
        assert.deepEqual([...new Set(failedTo)], [peer], `${agent.spec?.nodeName}: failures name the other node only`);
        assert.equal(failing[index]?.['dns fail'], healthy[index]?.['dns fail'], `${agent.spec?.nodeName}: DNS (the control plane's path) unaffected`);
      }
      run('ip', ['netns', 'exec', first.netns, 'nft', 'delete', 'table', 'inet', 'kconmon_fault']);
      healed = true;
      // A test in flight at the heal may still fail; once each kind passed again, every later test passes.
      const passing = await untilEveryAgent(
        'both agents pass UDP and TCP tests again',
        failing,
        (now, then) => now['udp pass']! > then['udp pass']! && now['tcp pass']! > then['tcp pass']!,
      );
      phase('healed, both passing', passing);
      const later = await untilEveryAgent(
        'another UDP and TCP test passed',
        passing,
        (now, then) => now['udp pass']! > then['udp pass']! && now['tcp pass']! > then['tcp pass']!,
      );
      phase('passing again', later);
      for (const [index, counts] of later.entries()) {
        for (const kind of ['udp fail', 'tcp fail', 'dns fail']) {
          assert.equal(counts[kind], passing[index]?.[kind], `${kind} after the heal, agent ${index + 1}`);
        }
      }
    } finally {
      if (!healed) run('ip', ['netns', 'exec', first.netns, 'nft', 'delete', 'table', 'inet', 'kconmon_fault']);
    }
  });

  it('helm uninstall leaves no kconmon object', async () => {
    helmIn(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout', '120s']);
    await waitFor('every kconmon pod gone', 60_000, async () => ((await pods()).length === 0 ? true : undefined));
    const kc = node.kube.adminKubeConfig();
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    const names = (items: { metadata?: { name?: string } }[]) => items.map((item) => item.metadata?.name ?? '');
    // The test's own grant to Prometheus (discoveryAccess), not the chart's.
    await rbac.deleteNamespacedRoleBinding({ name: PROMETHEUS_ROLE, namespace: NAMESPACE }).catch(() => undefined);
    await rbac.deleteNamespacedRole({ name: PROMETHEUS_ROLE, namespace: NAMESPACE }).catch(() => undefined);
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
      daemonSets: [],
      deployments: [],
      replicaSets: [],
      services: [],
      configMaps: [],
      serviceAccounts: [],
      secrets: [],
      pdbs: [],
      roles: [],
      roleBindings: [],
      clusterRoles: [],
      clusterRoleBindings: [],
    });
  });

  it('tear-down leaves the host as it was', async (t) => {
    await prometheus?.stop();
    prometheus = undefined;
    const leftovers = await node.stop();
    assert.deepEqual(leftovers, CLEAN_HOST);
    t.diagnostic(`real-node suite: ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s from image check to clean host`);
    console.log(`# real-node suite duration: ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s`);
  });
});

describe('real-node tear-down when the test process dies', { skip: skipOption(unavailable) }, () => {
  let nodeImages: Record<string, string>;
  before(() => {
    nodeImages = buildNodeImages();
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
    const ready = new Promise<void>((resolve) => child.stdout?.on('data', () => output.includes('READY') && resolve()));
    const timeout = sleep(120_000, undefined, { ref: false }).then(() => 'timeout');
    const outcome = await Promise.race([ready.then(() => 'ready'), exited.then(() => 'exited'), timeout]);
    assert.equal(outcome, 'ready', `the child node never ran its pod (${outcome}):\n${output}`);
    return { child, exited };
  }

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
    // Its own processes die with it (parent-death signal), its containers do not.
    await waitFor("the killed run's components gone", 10_000, async () => (earlierNode()?.active === false ? true : undefined));
    assert.deepEqual(recoverAbandonedNode(), CLEAN_HOST);
    assert.deepEqual(hostFacts(), before);
  });
});
