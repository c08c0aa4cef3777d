// A miniature Kubernetes cluster made of network namespaces, for end-to-end tests and manual exploration:
//
// - 6 nodes in 3 zones (node-1..6; zone-a,b,c), each a network namespace on a bridge in the host namespace
//   (bridge 198.18.0.1/24, node i at 198.18.0.(10+i)), no default route; a DNS server (unbound) in its own
//   namespace at 198.18.0.53 answering kubernetes.default.svc.cluster.local and never recursing;
// - the real kube-apiserver + etcd (harness/kube-cluster.ts, loopback, host namespace) holding a Node per
//   namespace (zone label) and an agent Pod per node (app=kconmon,component=agent, spec.nodeName, Running/Ready with
//   podIP = the namespace address);
// - the controller, a child process in the host namespace on 198.18.0.1:<port>, authenticated with a token of the
//   chart's controller ServiceAccount bound only by the chart's RBAC;
// - one agent process per namespace (`ip netns exec <ns> node src/cli.ts agent`), discovery from the controller,
//   DNS via the cluster resolver, time compressed 5× (1 s intervals instead of 5 s);
// - Prometheus (loopback, host namespace) scraping every agent and the controller every second, evaluating the
//   production alert rules time-scaled by the same factor (e2e/time-scale.ts) every second;
// - fault injection with nftables inside the nodes' namespaces (e2e/faults.ts), DNS outage by stopping unbound,
//   controller outage (stopped or killed), apiserver restart, node churn done the way Kubernetes does it, and a node
//   lost abruptly.
//
// Everything it creates is listed in a state file (e2e/state.ts) and removed by stop(), or by e2e/down.ts if the
// owner died. Traffic stays on loopback and the bridge.
import { peersOf, selectPeers } from '../src/topology/peer-selection.ts';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { startKubeCluster, type KubeCluster } from '../harness/kube-cluster.ts';
import { startPrometheus, type Prometheus } from '../harness/prometheus.ts';
import { freePort } from '../harness/ports.ts';
import { createBridge, createNamespace, HOST_ADDRESS, networkNames, removeBridge, removeNamespace, SUBNET, type NetworkNames } from './network.ts';
import { applyInNamespace, blackholeScript, egressScript, healScript, lossScript, oneWayScript, partitionScript } from './faults.ts';
import { CLUSTER_DNS_NAME, createDnsServer, type DnsServer } from './dns-server.ts';
import { generatedPodName, kubeObjects, podNameOf, type KubeObjects } from './kube.ts';
import { DEFAULT_STATE_FILE, forceTeardown, ownerAlive, readState, writeState, type ClusterState } from './state.ts';
import { startLoggedProcess, type LoggedProcess } from '../harness/logged-process.ts';
import { GiveUp, waitUntil } from '../harness/wait.ts';
import { scaleRuleFileText } from './time-scale.ts';
import type { AgentResults } from '../src/agent/results.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'src', 'cli.ts');
export const ALERT_RULES = join(REPO, 'deploy', 'prometheus', 'alerts.yaml');
const AGENT_PORT = 8080;
const DNS_ADDRESS = '198.18.0.53';
/** Production intervals are 5 s; the cluster runs `TIME_SCALE` times faster. */
export const TIME_SCALE = 5;

export interface ClusterOptions {
  /** Nodes (default 6) spread over zones (default 3) in consecutive groups: node-1,2 → zone-a, … */
  readonly nodes?: number;
  readonly zones?: number;
  /** UDP, TCP and DNS test interval of every agent (default 1000 ms: production's 5 s divided by TIME_SCALE). */
  readonly intervalMs?: number;
  /** Every agent's `probing.maxPeers` (default: the agent's default, 18: a full mesh for up to 19 nodes). */
  readonly maxPeers?: number;
  /** Interface/namespace name prefix (default kce2e). */
  readonly prefix?: string;
  readonly stateFile?: string;
  /** Parent of the run directory (configs, logs, rules); default the state file's directory. */
  readonly baseDir?: string;
  /** Lifetime of the controller's ServiceAccount token (default 24 h). */
  readonly tokenSeconds?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Keep the run directory (logs) after stop() (default false). */
  readonly keepDir?: boolean;
}

export interface ClusterNode {
  readonly name: string;
  readonly zone: string;
  readonly ip: string;
  readonly podName: string;
  readonly namespace: string;
  readonly hostLink: string;
  readonly configFile: string;
  /** `http://<ip>:8080` */
  readonly url: string;
  agent: LoggedProcess | undefined;
}

/** An agent's `GET /results` (the one contract of src/agent/results.ts). */
export type { AgentResults };

export interface RemovalReport {
  /** The agent's /metrics during its grace period, after it stopped probing: its final counters. */
  readonly finalMetrics: string;
  readonly sigtermAt: number;
  readonly exitedAt: number;
}

export interface Cluster {
  readonly dir: string;
  readonly stateFile: string;
  readonly intervalMs: number;
  /** The agents' `probing.maxPeers` when the cluster was started with one. */
  readonly maxPeers: number | undefined;
  readonly zones: readonly string[];
  readonly kube: KubeCluster;
  readonly objects: KubeObjects;
  readonly prometheus: Prometheus;
  readonly dns: DnsServer;
  readonly controllerUrl: string;
  readonly rulesFile: string;
  /** Current nodes, in order. */
  nodes(): ClusterNode[];
  node(name: string): ClusterNode;
  nodesIn(zone: string): ClusterNode[];
  /** Drops `percent` % of the packets entering the node (the host's excepted). */
  loss(nodeName: string, percent: number): void;
  /** The zone's nodes drop all traffic to and from the other zones' nodes (the host stays reachable). */
  partition(zone: string): void;
  /** The node drops everything in and out except to/from the host bridge address (so it is still scraped). */
  blackhole(nodeName: string): void;
  /** The node sends nothing of its own (probes, DNS queries) except to the host, but still answers others' probes. */
  blockEgress(nodeName: string): void;
  /** `from`'s probes to `to` fail; `to`'s probes to `from` still pass (`from` answers them). */
  blockOneWay(from: string, to: string): void;
  /** Removes every fault. */
  heal(): void;
  stopDns(): Promise<void>;
  startDns(): Promise<void>;
  stopController(): Promise<void>;
  /** `kill -9` of the controller: no goodbye to its agents, whose streams break. */
  killController(): Promise<void>;
  startController(): Promise<void>;
  controllerRunning(): boolean;
  restartApiServer(): Promise<void>;
  /**
   * Adds a node as Kubernetes does: Node, then the DaemonSet's pod (a new generated name) with its IP but not ready,
   * the agent started, then the pod becomes Ready. `index` gives the address 198.18.0.(10+index).
   */
  addNode(name: string, zone: string, index: number): Promise<ClusterNode>;
  /**
   * Removes a node as Kubernetes does: the pod is deleted gracefully (deletionTimestamp; the controller drops it),
   * the agent gets SIGTERM and keeps answering for its grace period, exits, the pod is finally deleted, then the
   * Node, then the namespace.
   */
  removeNode(name: string): Promise<RemovalReport>;
  /**
   * A node lost abruptly: its agent is killed (SIGKILL), its pod deleted at once, its Node deleted and its namespace
   * removed. Nothing is graceful, so its peers learn of it only from the controller, if one is running.
   */
  loseNode(name: string): Promise<void>;
  agentMetrics(nodeName: string): Promise<string>;
  agentResults(nodeName: string): Promise<AgentResults>;
  controllerMetrics(): Promise<string>;
  /** How to reach everything (for humans). */
  describe(): string[];
  /** Tears everything down; `keepDir` keeps the run directory (logs, configs) for a post-mortem. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

const letter = (index: number) => String.fromCharCode(97 + index);
const nodeAddress = (index: number) => `198.18.0.${10 + index}`;

async function fetchText(url: string, timeoutMs = 2000): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${body.slice(0, 200)}`);
  return body;
}

/** The value of an unlabelled metric in a text exposition. */
function metricValue(exposition: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(exposition);
  return match ? Number(match[1]) : undefined;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? (() => undefined);
  const nodeCount = options.nodes ?? 6;
  const zoneCount = options.zones ?? 3;
  const intervalMs = options.intervalMs ?? 1000;
  const stateFile = resolve(options.stateFile ?? DEFAULT_STATE_FILE);
  const names: NetworkNames = networkNames(options.prefix ?? 'kce2e');
  if (nodeCount < 2 || nodeCount > 40 || zoneCount < 1 || zoneCount > nodeCount) throw new Error('startCluster: 2–40 nodes, 1–nodes zones');

  // A previous cluster: refuse if its owner lives, clear its remains if it died.
  const previous = readState(stateFile);
  if (previous) {
    if (ownerAlive(previous))
      throw new Error(`an e2e cluster is already up (owner pid ${previous.owner.pid}, state ${stateFile}): stop it with npm run e2e:down`);
    log(`clearing the remains of a cluster whose owner (pid ${previous.owner.pid}) died:`);
    for (const line of await forceTeardown(stateFile, previous)) log(`  ${line}`);
  }

  const baseDir = resolve(options.baseDir ?? join(stateFile, '..'));
  mkdirSync(baseDir, { recursive: true });
  const dir = join(baseDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const zones = Array.from({ length: zoneCount }, (_, index) => `zone-${letter(index)}`);

  const state: ClusterState = {
    version: 1,
    status: 'starting',
    owner: { pid: process.pid, marker: process.argv[1] ?? process.execPath, startedAt: new Date().toISOString() },
    dir,
    bridge: names.bridge,
    namespaces: [],
    processes: [],
    dirs: [],
    foreignMarkers: [],
    endpoints: {},
    nodes: [],
    notes: [],
  };
  const save = () => writeState(stateFile, state);
  save();
  const track = (child: LoggedProcess, marker: string) => {
    state.processes = [...state.processes.filter((entry) => entry.name !== child.name), { name: child.name, pid: child.pid, marker }];
    save();
  };

  const nodes: ClusterNode[] = [];
  let kube: KubeCluster | undefined;
  let prometheus: Prometheus | undefined;
  let controller: LoggedProcess | undefined;
  let dns: DnsServer | undefined;
  let stopped = false;
  let kubeStarting: Promise<KubeCluster> | undefined;

  const childEnv = (extra: Record<string, string>) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    return env;
  };

  async function teardown(keepDir: boolean): Promise<void> {
    if (stopped) return;
    stopped = true;
    state.status = 'stopping';
    save();
    await Promise.all(nodes.map((node) => node.agent?.stop('SIGTERM', 3000)));
    await controller?.stop('SIGTERM', 5000);
    await prometheus?.stop().catch(() => undefined);
    await dns?.stop().catch(() => undefined);
    await kube?.stop().catch(() => undefined);
    for (const entry of state.namespaces) removeNamespace(entry.namespace, entry.hostLink);
    removeBridge(names.bridge);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
    rmSync(stateFile, { force: true });
  }

  try {
    // The control plane starts (slowly) while the network is built.
    log('starting etcd and kube-apiserver…');
    kubeStarting = startKubeCluster();
    kubeStarting.catch(() => undefined);

    log(`network: bridge ${names.bridge} ${HOST_ADDRESS}/24, ${nodeCount} node namespaces, DNS namespace`);
    createBridge(names.bridge);
    const dnsNet = createNamespace(names, 'dns', DNS_ADDRESS);
    state.namespaces.push(dnsNet);
    save();
    for (let index = 1; index <= nodeCount; index++) {
      const name = `node-${index}`;
      const zone = zones[Math.floor(((index - 1) * zoneCount) / nodeCount)]!;
      const ip = nodeAddress(index);
      const net = createNamespace(names, name, ip);
      state.namespaces.push(net);
      save();
      nodes.push({
        name,
        zone,
        ip,
        podName: podNameOf(name),
        namespace: net.namespace,
        hostLink: net.hostLink,
        configFile: join(dir, `agent-${name}.yaml`),
        url: `http://${ip}:${AGENT_PORT}`,
        agent: undefined,
      });
    }

    dns = createDnsServer({
      namespace: dnsNet.namespace,
      address: DNS_ADDRESS,
      subnet: SUBNET,
      dir,
      onStart: (child) => track(child, join(dir, 'unbound.conf')),
    });
    await dns.start();
    log(`DNS: unbound at ${DNS_ADDRESS} answers ${CLUSTER_DNS_NAME}`);

    kube = await kubeStarting;
    state.dirs.push(kube.tempDir);
    state.foreignMarkers.push(kube.tempDir);
    state.endpoints.apiserver = kube.server;
    save();
    const objects = kubeObjects(kube);
    const token = await objects.installChartRbac(options.tokenSeconds ?? 86_400);
    const controllerKubeconfig = join(dir, 'controller.kubeconfig');
    await kube.writeKubeconfig(token, controllerKubeconfig);
    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    await kube.writeKubeconfig(kube.adminToken, adminKubeconfig);
    state.endpoints.adminKubeconfig = adminKubeconfig;
    log(`kube-apiserver ${kube.server}; the controller's token is bound by the chart's RBAC only`);

    for (const node of nodes) {
      await objects.createNode(node.name, node.zone);
      await objects.createAgentPod(node.podName, node.name, node.ip);
    }

    // The controller, on the bridge address.
    const controllerPort = await freePort(HOST_ADDRESS);
    const controllerUrl = `http://${HOST_ADDRESS}:${controllerPort}`;
    const controllerConfig = join(dir, 'controller.yaml');
    writeFileSync(
      controllerConfig,
      toYaml({
        port: controllerPort,
        listenAddress: HOST_ADDRESS,
        logLevel: 'info',
        // Production's 5 s heartbeat and 500 ms–30 s informer backoff, compressed like the agents' intervals.
        heartbeatInterval: 5000 / TIME_SCALE,
        // One verdict window per probe round, the grace compressed like the rest.
        verdicts: { window: intervalMs, grace: 1000 / TIME_SCALE },
        source: { kubernetes: { namespace: 'kconmon', kubeconfig: controllerKubeconfig, restartBackoff: { min: 500 / TIME_SCALE, max: 30_000 / TIME_SCALE } } },
      }),
    );
    const startControllerProcess = async () => {
      const child = startLoggedProcess(
        'controller',
        process.execPath,
        [CLI, 'controller', '--config', controllerConfig],
        join(dir, 'controller.log'),
        childEnv({ POD_NAME: 'kconmon-controller', POD_NAMESPACE: 'kconmon' }),
      );
      controller = child;
      track(child, controllerConfig);
      await waitUntil(
        'the controller to be ready (discovery synced)',
        30_000,
        async (note) => {
          if (!child.running()) throw new GiveUp(`the controller exited (${child.describeExit()}):\n${child.logTail()}`);
          const response = await fetch(`${controllerUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
          note(`readyz ${response.status}`);
          return response.ok;
        },
        100,
      );
    };
    await startControllerProcess();
    state.endpoints.controller = controllerUrl;
    log(`controller ${controllerUrl}`);

    const agentConfig = (node: ClusterNode) => ({
      port: AGENT_PORT,
      listenAddress: node.ip,
      logLevel: 'info',
      // Production 5 s grace, compressed.
      shutdownGracePeriod: 5000 / TIME_SCALE,
      jitter: { min: 50, max: 200 },
      udp: { interval: intervalMs },
      // Timeouts must stay below the interval; production's 1 s would not.
      tcp: { interval: intervalMs, timeout: Math.round(intervalMs / 2) },
      dns: { interval: intervalMs, timeout: Math.round(intervalMs / 2), targets: [{ host: CLUSTER_DNS_NAME, resolvers: [DNS_ADDRESS] }] },
      ...(options.maxPeers === undefined ? {} : { probing: { maxPeers: options.maxPeers } }),
      discovery: { controller: { urls: [controllerUrl], reconnectMin: 250, reconnectMax: 10_000 / TIME_SCALE } },
    });

    const startAgentProcess = async (node: ClusterNode) => {
      writeFileSync(node.configFile, toYaml(agentConfig(node)));
      const child = startLoggedProcess(
        `agent ${node.name}`,
        'ip',
        ['netns', 'exec', node.namespace, process.execPath, CLI, 'agent', '--config', node.configFile],
        join(dir, `agent-${node.name}.log`),
        childEnv({ NODE_NAME: node.name, POD_NAME: node.podName, POD_IP: node.ip }),
      );
      node.agent = child;
      track(child, node.configFile);
      await waitUntil(
        `agent ${node.name} to serve /healthz`,
        20_000,
        async (note) => {
          if (!child.running()) throw new GiveUp(`agent ${node.name} exited (${child.describeExit()}):\n${child.logTail()}`);
          const response = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(1000) });
          note(`healthz ${response.status}`);
          return response.ok;
        },
        100,
      );
    };

    const agentResults = async (nodeName: string) => JSON.parse(await fetchText(`${findNode(nodeName).url}/results`)) as AgentResults;
    const findNode = (name: string) => {
      const node = nodes.find((candidate) => candidate.name === name);
      if (!node) throw new Error(`no node ${name} (nodes: ${nodes.map((candidate) => candidate.name).join(', ')})`);
      return node;
    };

    log('starting the agents…');
    await Promise.all(nodes.map((node) => startAgentProcess(node)));
    await waitUntil('every agent connected to the controller', 20_000, async (note) => {
      const connected = metricValue(await fetchText(`${controllerUrl}/metrics`), 'kconmon_controller_connected_agents');
      note(`connected_agents ${connected}`);
      return connected === nodes.length;
    });
    // The readiness probes pass: the controller now lists the agents as ready, and they start testing each other.
    for (const node of nodes) await objects.setPodReady(node.podName, node.ip, true);
    // Each agent's peer count for the current node list: every peer in a full mesh; past the budget, the peers the
    // assignment over every node gives it (as the agents compute it). One assignment per call: call it once per check.
    const expectedPeerCounts = (): Map<string, number> => {
      const budget = options.maxPeers;
      if (budget === undefined) return new Map(nodes.map((node) => [node.name, nodes.length - 1]));
      const assignment = selectPeers(
        nodes.map(({ name, zone }) => ({ name, zone })),
        { maxPeers: budget },
      );
      return new Map(nodes.map((node) => [node.name, peersOf(assignment, node.name).length]));
    };
    const initialCounts = expectedPeerCounts();
    const expectedCounts = nodes.map((node) => initialCounts.get(node.name));
    await waitUntil('every agent to probe all its peers', 20_000, async (note) => {
      const counts = await Promise.all(nodes.map(async (node) => (await agentResults(node.name)).peers));
      note(`peers per agent: ${counts.join(', ')} (expected ${expectedCounts.join(', ')})`);
      return nodes.every((_node, index) => counts[index] === expectedCounts[index]);
    });

    // Prometheus with the production alert rules, time-scaled.
    const rulesFile = join(dir, 'alerts.scaled.yaml');
    writeFileSync(rulesFile, scaleRuleFileText(readFileSync(ALERT_RULES, 'utf8'), TIME_SCALE, 'deploy/prometheus/alerts.yaml'));
    prometheus = await startPrometheus({
      jobs: [
        { job: 'kconmon', targets: nodes.map((node) => `${node.ip}:${AGENT_PORT}`) },
        // The controller gets its own job: in job "kconmon" its outage would read as an agent down (KconmonAgentDown).
        { job: 'kconmon-controller', targets: [`${HOST_ADDRESS}:${controllerPort}`] },
      ],
      ruleFiles: [rulesFile],
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    });
    state.dirs.push(prometheus.dir);
    state.foreignMarkers.push(prometheus.dir);
    state.endpoints.prometheus = prometheus.url;
    const prom = prometheus;
    await waitUntil('Prometheus to scrape every target', 20_000, async (note) => {
      const targets = (await prom.targets()).activeTargets;
      note(targets.map((target) => `${target.scrapeUrl} ${target.health}`).join(', '));
      return targets.length === nodes.length + 1 && targets.every((target) => target.health === 'up');
    });
    log(`Prometheus ${prometheus.url} (rules: ${rulesFile})`);

    const syncStateNodes = () => {
      state.nodes = nodes.map((node) => ({ name: node.name, zone: node.zone, ip: node.ip, namespace: node.namespace, metrics: `${node.url}/metrics` }));
      save();
    };
    syncStateNodes();
    state.notes = [
      `faults (nftables table inet kconmon_e2e_fault in a node's namespace) always spare ${HOST_ADDRESS}: Prometheus and the controller keep reaching every node`,
      `run commands in a node: ip netns exec ${names.namespace('node-1')} <command>`,
    ];
    state.status = 'ready';
    save();

    const kubeCluster = kube;
    const dnsServer = dns;
    const cluster: Cluster = {
      dir,
      stateFile,
      intervalMs,
      maxPeers: options.maxPeers,
      zones,
      kube: kubeCluster,
      objects,
      prometheus: prom,
      dns: dnsServer,
      controllerUrl,
      rulesFile,
      nodes: () => [...nodes],
      node: findNode,
      nodesIn: (zone) => nodes.filter((node) => node.zone === zone),
      loss(nodeName, percent) {
        applyInNamespace(findNode(nodeName).namespace, lossScript(percent));
      },
      partition(zone) {
        const inside = nodes.filter((node) => node.zone === zone);
        const outside = nodes.filter((node) => node.zone !== zone).map((node) => node.ip);
        if (inside.length === 0) throw new Error(`partition: no node in ${zone}`);
        for (const node of inside) applyInNamespace(node.namespace, partitionScript(outside));
      },
      blackhole(nodeName) {
        applyInNamespace(findNode(nodeName).namespace, blackholeScript());
      },
      blockEgress(nodeName) {
        applyInNamespace(findNode(nodeName).namespace, egressScript(AGENT_PORT));
      },
      blockOneWay(from, to) {
        applyInNamespace(findNode(from).namespace, oneWayScript(findNode(to).ip, AGENT_PORT));
      },
      heal() {
        for (const node of nodes) applyInNamespace(node.namespace, healScript());
      },
      stopDns: () => dnsServer.stop(),
      startDns: () => dnsServer.start(),
      async stopController() {
        await controller?.stop('SIGTERM', 10_000);
      },
      async killController() {
        await controller?.stop('SIGKILL', 1000);
      },
      async startController() {
        if (controller?.running()) throw new Error('the controller is running');
        await startControllerProcess();
      },
      controllerRunning: () => controller?.running() ?? false,
      restartApiServer: () => kubeCluster.restartApiServer(),
      async addNode(name, zone, index) {
        if (nodes.some((node) => node.name === name)) throw new Error(`node ${name} exists`);
        const ip = nodeAddress(index);
        await objects.createNode(name, zone);
        const net = createNamespace(names, name, ip);
        state.namespaces.push(net);
        save();
        const node: ClusterNode = {
          name,
          zone,
          ip,
          podName: generatedPodName(),
          namespace: net.namespace,
          hostLink: net.hostLink,
          configFile: join(dir, `agent-${name}.yaml`),
          url: `http://${ip}:${AGENT_PORT}`,
          agent: undefined,
        };
        nodes.push(node);
        await objects.createAgentPod(node.podName, name, ip);
        await startAgentProcess(node);
        const expected = expectedPeerCounts().get(name);
        await waitUntil(
          `agent ${name} to get its peer list from the controller`,
          15_000,
          async (note) => {
            const results = await agentResults(name);
            note(`${results.peers} peers (expected ${expected})`);
            return results.peers === expected;
          },
          100,
        );
        await objects.setPodReady(node.podName, ip, true);
        syncStateNodes();
        return node;
      },
      async removeNode(name) {
        const node = findNode(name);
        const agent = node.agent;
        if (!agent) throw new Error(`node ${name} has no agent`);
        await objects.deletePodGracefully(node.podName, 30);
        // The kubelet reacts to the deletionTimestamp: SIGTERM; the agent stops probing and answers for its grace.
        const sigtermAt = Date.now();
        agent.process.kill('SIGTERM');
        await new Promise((resolveWait) => setTimeout(resolveWait, 5000 / TIME_SCALE / 2));
        const finalMetrics = await fetchText(`${node.url}/metrics`);
        await waitUntil(`agent ${name} to exit after its grace period`, 10_000, () => !agent.running(), 50);
        const exitedAt = Date.now();
        await objects.finalDeletePod(node.podName);
        await objects.deleteNode(name);
        removeNamespace(node.namespace, node.hostLink);
        nodes.splice(nodes.indexOf(node), 1);
        state.namespaces = state.namespaces.filter((entry) => entry.namespace !== node.namespace);
        state.processes = state.processes.filter((entry) => entry.name !== agent.name);
        syncStateNodes();
        return { finalMetrics, sigtermAt, exitedAt };
      },
      async loseNode(name) {
        const node = findNode(name);
        const agent = node.agent;
        await agent?.stop('SIGKILL', 1000);
        await objects.finalDeletePod(node.podName);
        await objects.deleteNode(name);
        removeNamespace(node.namespace, node.hostLink);
        nodes.splice(nodes.indexOf(node), 1);
        state.namespaces = state.namespaces.filter((entry) => entry.namespace !== node.namespace);
        state.processes = state.processes.filter((entry) => entry.name !== agent?.name);
        syncStateNodes();
      },
      agentMetrics: (nodeName) => fetchText(`${findNode(nodeName).url}/metrics`),
      agentResults,
      controllerMetrics: () => fetchText(`${controllerUrl}/metrics`),
      describe() {
        return [
          `state file    ${stateFile}`,
          `run dir       ${dir} (configs, logs: agent-node-N.log, controller.log, unbound.log)`,
          `Prometheus    ${prom.url}  (alerts: ${prom.url}/alerts, rules time-scaled ÷${TIME_SCALE}: ${rulesFile})`,
          `controller    ${controllerUrl}/agents  ${controllerUrl}/metrics`,
          `apiserver     ${kubeCluster.server}  (admin kubeconfig ${adminKubeconfig})`,
          `DNS           ${DNS_ADDRESS}:53 (${CLUSTER_DNS_NAME})`,
          ...nodes.map((node) => `${node.name.padEnd(7)} ${node.zone}  ${node.url}/metrics  ${node.url}/results  (ip netns exec ${node.namespace} …)`),
          `faults        node e2e/fault.ts loss node-3 20 | partition zone-a | blackhole node-4 | egress node-3 | oneway node-2 node-5 | heal | show`,
          `              (nftables in the node's namespace; ${HOST_ADDRESS} — Prometheus, controller — stays reachable, so a black-holed node is still scraped)`,
        ];
      },
      stop: (stopOptions) => teardown(stopOptions?.keepDir ?? options.keepDir ?? false),
    };
    return cluster;
  } catch (error) {
    // The control plane may still be starting: wait for it so that it is stopped too.
    if (kube === undefined && kubeStarting !== undefined) kube = await kubeStarting.catch(() => undefined);
    await teardown(true).catch(() => undefined);
    if (error instanceof Error) error.message += `\n(logs kept in ${dir})`;
    throw error;
  }
}
