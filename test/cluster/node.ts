// A real Kubernetes cluster of one or more nodes on this machine for the real-node suite: the kube harness's etcd and
// kube-apiserver (harness/kube-cluster.ts), kube-controller-manager, kube-scheduler and CoreDNS (a host process
// serving the cluster domain from the apiserver with its kubernetes plugin, behind a kube-dns Service), and per node a
// kubelet, kube-proxy (nftables mode) and containerd (Debian's, own config, root and socket) with runc and the CNI
// bridge plugin. Each node runs in its own network namespace (kcnode<N>) with its own kubelet cgroup root
// (/kcnode<N>), so several kubelets share the machine and no kube-proxy rule ever touches the host's namespace (other
// suites running beside this one see none of it).
//
// Network and host safety: every address is in 198.18.0.0/15 — the control plane (apiserver, CoreDNS) 198.18.64.1 on
// a bridge created here (kconmon-br0), node N at 198.18.64.<N+1> on it, node N's pods 198.18.<64+N>.0/24 on a bridge
// in its namespace (no default route: pods route only the cluster's range 198.18.64.0/22 and the Service range),
// Services 198.19.128.0/24, cluster DNS 198.19.128.10; no masquerading, no forwarding by the host; pods resolve
// through the cluster DNS only (kubelet's resolvConf names it, CoreDNS has no forwarder). Images are imported from local archives; registry
// mirrors point at a closed port so nothing is ever pulled. The host's sysctls, nftables, namespaces, mounts, cgroups
// and processes are recorded first and restored on stop(), also when start-up fails or the process exits.
import { Resolver } from 'node:dns/promises';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import YAML from 'yaml';
import { findGoTool, startKubeCluster, type KubeCluster } from '../../harness/kube-cluster.ts';
import { fileTail, startLoggedProcess, type LoggedProcess } from '../../harness/logged-process.ts';
import { freePorts } from '../../harness/ports.ts';
import { createCgroupRoot, earlierNode, mountsUnder, recoverAbandonedNode, run, snapshotHost, type HostLeftovers, type HostSnapshot } from './host-state.ts';

export const BRIDGE = 'kconmon-br0';
/** The control plane's address (kube-apiserver, CoreDNS) on the node bridge. */
export const CONTROL_PLANE_IP = '198.18.64.1';
/** The node network and every pod of the cluster (one /24 per node). */
export const CLUSTER_CIDR = '198.18.64.0/22';
export const SERVICE_CIDR = '198.19.128.0/24';
const MAX_NODES = 3;
export const CLUSTER_DNS = '198.19.128.10';
const CLUSTER_DOMAIN = 'cluster.local';
const CONTAINERD_NAMESPACE = 'k8s.io';

const GO_TOOLS = ['kubelet', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'coredns'] as const;
const SYSTEM_BINARIES: Record<string, string> = {
  '/usr/bin/containerd': 'containerd',
  '/usr/bin/ctr': 'containerd',
  '/usr/sbin/runc': 'runc',
  '/usr/lib/cni/bridge': 'containernetworking-plugins',
  '/usr/lib/cni/host-local': 'containernetworking-plugins',
  '/usr/lib/cni/loopback': 'containernetworking-plugins',
  '/usr/sbin/nft': 'nftables',
  '/usr/bin/buildah': 'buildah',
  '/bin/busybox': 'busybox-static',
};

/** Why a real node cannot run here, or undefined when it can. */
export function realNodeUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a real kubelet node needs root';
  for (const [binary, pkg] of Object.entries(SYSTEM_BINARIES)) {
    if (!existsSync(binary)) return `${binary} not installed; install the Debian package ${pkg} (scripts/setup/system-packages.sh)`;
  }
  for (const tool of GO_TOOLS) {
    const found = findGoTool(tool);
    if (found.reason !== undefined) return found.reason;
  }
  if (!existsSync('/sys/fs/cgroup/memory') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'no cgroup filesystem at /sys/fs/cgroup';
  const earlier = earlierNode();
  if (earlier?.active) return `another real-node run is active (${earlier.nodeDir})`;
  if (!earlier && existsSync(`/sys/class/net/${BRIDGE}`)) return `${BRIDGE} exists but no real-node run owns it (ip link delete ${BRIDGE})`;
  return undefined;
}

export interface NodeImage {
  /** Name as the kubelet refers to it, e.g. localhost/kconmon:1.0.0. */
  readonly name: string;
  /** OCI archive written by buildah. */
  readonly archive: string;
}

export interface RealNodeOptions {
  /** The nodes (name and zone label); default one node, kconmon-node-1 in zone-a. At most 3. */
  readonly nodes?: readonly { name: string; zone: string }[];
  /** Images imported into every node's containerd (k8s.io namespace) before its kubelet starts. */
  readonly images: readonly NodeImage[];
  /** The sandbox image (must be among `images`). */
  readonly pauseImage: string;
  /** Progress lines (e.g. t.diagnostic). */
  readonly log?: (line: string) => void;
}

/** One node of the cluster. */
export interface NodeSpec {
  readonly name: string;
  readonly zone: string;
  /** 198.18.64.<N+1> */
  readonly ip: string;
  /** The node's pod subnet, its gateway (the pod bridge's address) and the bridge. */
  readonly podCidr: string;
  readonly podGateway: string;
  readonly podBridge: string;
  /** Network namespace, kcnode<N>. */
  readonly netns: string;
  /** The kubelet's cgroup root, /kcnode<N>. */
  readonly cgroupRoot: string;
  readonly dir: string;
  readonly containerdSocket: string;
  /** Directory of the containers' log files (<namespace>_<pod>_<uid>/<container>/<n>.log). */
  readonly podLogsDir: string;
}

function nodeSpecs(dir: string, nodes: readonly { name: string; zone: string }[]): NodeSpec[] {
  if (nodes.length < 1 || nodes.length > MAX_NODES) throw new Error(`1 to ${MAX_NODES} nodes, not ${nodes.length}`);
  return nodes.map(({ name, zone }, index) => {
    const nodeDir = path.join(dir, name);
    const n = index + 1;
    return {
      name,
      zone,
      ip: `198.18.64.${n + 1}`,
      podCidr: `198.18.${64 + n}.0/24`,
      podGateway: `198.18.${64 + n}.1`,
      podBridge: 'kcpods0',
      netns: `kcnode${n}`,
      cgroupRoot: `/kcnode${n}`,
      dir: nodeDir,
      containerdSocket: path.join(nodeDir, 'containerd', 'containerd.sock'),
      podLogsDir: path.join(nodeDir, 'pod-logs'),
    };
  });
}

export interface RealNode {
  readonly kube: KubeCluster;
  readonly dir: string;
  /** Admin kubeconfig file, for helm. */
  readonly kubeconfigPath: string;
  readonly nodes: readonly NodeSpec[];
  /** Component logs, for failure messages. */
  logs(): string;
  /** Stops everything and restores the host; returns what could not be restored (all empty when clean). */
  stop(): Promise<HostLeftovers>;
}

/** A records of `name` from one DNS server (no fallback to any other). */
export async function resolveA(server: string, name: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([server]);
  return resolver.resolve4(name);
}

function tool(name: string): string {
  const found = findGoTool(name);
  if (found.path === undefined) throw new Error(found.reason);
  return found.path;
}

/** Polls `probe` every 250 ms until it returns a value; fails with the last error and `diagnose()` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, diagnose: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms ${lastError}\n${diagnose()}`);
    await sleep(250);
  }
}

class LocalRealNode implements RealNode {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly nodes: readonly NodeSpec[];
  #kube: KubeCluster | undefined;
  #options: RealNodeOptions;
  #host: HostSnapshot;
  #processes: LoggedProcess[] = [];
  #stopped: Promise<HostLeftovers> | undefined;
  #onExit = (): void => {
    for (const proc of this.#processes) proc.killSync();
    this.#host.restore();
    this.#removeDir();
  };
  #onSignal = (signal: NodeJS.Signals): void => {
    this.#onExit();
    process.kill(process.pid, signal);
  };

  constructor(dir: string, options: RealNodeOptions) {
    this.dir = dir;
    this.#options = options;
    this.kubeconfigPath = path.join(dir, 'admin.kubeconfig');
    this.nodes = nodeSpecs(dir, options.nodes ?? [{ name: 'kconmon-node-1', zone: 'zone-a' }]);
    this.#host = snapshotHost({
      nodeDir: dir,
      links: [BRIDGE, ...this.nodes.map((node) => `${node.netns}-h`)],
      netns: this.nodes.map((node) => node.netns),
    });
    process.on('exit', this.#onExit);
    process.once('SIGINT', this.#onSignal);
    process.once('SIGTERM', this.#onSignal);
  }

  /** Removes the node's directory, never while anything is still mounted below it (rm would follow into it). */
  #removeDir(): void {
    if (process.env.KCONMON_KEEP_NODE_TMP === '1' || mountsUnder(this.dir).length > 0) return;
    rmSync(this.dir, { recursive: true, force: true });
  }

  get kube(): KubeCluster {
    if (!this.#kube) throw new Error('the control plane is not started');
    return this.#kube;
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }

  /** Starts a process logging to <dir>/<name>.log; with `node`, in that node's network namespace and directory. */
  #spawn(name: string, bin: string, args: string[], node?: NodeSpec): LoggedProcess {
    const logPath = path.join(node?.dir ?? this.dir, `${name}.log`);
    const proc = node
      ? startLoggedProcess(`${name}@${node.name}`, '/usr/bin/nsenter', [`--net=/run/netns/${node.netns}`, '--', bin, ...args], logPath)
      : startLoggedProcess(name, bin, args, logPath);
    this.#processes.push(proc);
    return proc;
  }

  logs(): string {
    const perNode = this.nodes.flatMap((node) => ['containerd', 'kubelet', 'kube-proxy'].map((name) => path.join(node.dir, `${name}.log`)));
    const shared = ['kube-controller-manager', 'kube-scheduler', 'coredns'].map((name) => path.join(this.dir, `${name}.log`));
    const parts = [...perNode, ...shared].map((file) => `--- ${path.relative(this.dir, file)}:\n${fileTail(file, 25)}`);
    if (this.#kube) parts.push(`--- kube-apiserver:\n${fileTail(this.#kube.apiServerLogPath, 15)}`);
    return parts.join('\n');
  }

  async start(): Promise<void> {
    const started = Date.now();
    this.#createNetwork();

    this.#kube = await startKubeCluster({ address: CONTROL_PLANE_IP, serviceClusterIpRange: SERVICE_CIDR, serviceAccountAdmission: true });
    // If this process dies without stop(), the exit hook or the next run's recovery removes the control plane's data.
    if (process.env.KCONMON_KEEP_KUBE_TMP !== '1') this.#host.addDirectory(this.#kube.tempDir);
    await this.#kube.writeKubeconfig(this.#kube.adminToken, this.kubeconfigPath);
    await writeFile(path.join(this.dir, 'ca.crt'), this.#kube.caPem);
    this.#log(`control plane up (${Date.now() - started} ms)`);

    for (const node of this.nodes) await this.#startContainerd(node);
    this.#log(`containerd up, images imported (${Date.now() - started} ms)`);
    await this.#startControllers();
    await this.#startClusterDns();
    for (const node of this.nodes) await this.#startKubelet(node);
    this.#log(`${this.nodes.map((node) => node.name).join(', ')} Ready (${Date.now() - started} ms)`);
    for (const node of this.nodes) await this.#startKubeProxy(node);
    this.#log(`kube-proxy up (${Date.now() - started} ms)`);
  }

  /**
   * The node bridge with the control plane's address; per node a namespace joined to it by a veth (the node's address),
   * its pod bridge, forwarding, and routes to every other node's pods through that node (from the host too, so tests
   * and Prometheus reach the pods; the host forwards nothing).
   */
  #createNetwork(): void {
    // Fixed (locally administered) MAC addresses: a bridge whose address is not set takes its ports' lowest and
    // changes it as pods come and go, leaving every neighbour's ARP entry for the gateway stale for seconds (lost packets).
    run('ip', ['link', 'add', BRIDGE, 'address', '02:c6:12:40:00:01', 'type', 'bridge']);
    run('ip', ['addr', 'add', `${CONTROL_PLANE_IP}/24`, 'dev', BRIDGE]);
    run('ip', ['link', 'set', BRIDGE, 'up']);
    for (const node of this.nodes) {
      const inNode = (...args: string[]) => run('ip', ['-n', node.netns, ...args]);
      run('ip', ['netns', 'add', node.netns]);
      run('ip', ['link', 'add', `${node.netns}-h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns]);
      run('ip', ['link', 'set', `${node.netns}-h`, 'master', BRIDGE, 'up']);
      inNode('link', 'set', 'lo', 'up');
      inNode('addr', 'add', `${node.ip}/24`, 'dev', 'eth0');
      inNode('link', 'set', 'eth0', 'up');
      inNode('link', 'add', node.podBridge, 'address', `02:c6:12:${(64 + Number(node.netns.slice(6))).toString(16)}:00:01`, 'type', 'bridge');
      inNode('addr', 'add', `${node.podGateway}/24`, 'dev', node.podBridge);
      inNode('link', 'set', node.podBridge, 'up');
      run('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      // Service traffic between pods on one bridge is DNATed: bridged frames must see the namespace's nftables.
      spawnSync('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
    }
    for (const node of this.nodes) {
      // The node's own processes (kubelet probes, nslookup) reach Services like pods do: kube-proxy DNATs them.
      run('ip', ['-n', node.netns, 'route', 'add', SERVICE_CIDR, 'via', CONTROL_PLANE_IP]);
    }
    for (const target of this.nodes) {
      run('ip', ['route', 'add', target.podCidr, 'via', target.ip]);
      for (const node of this.nodes) if (node !== target) run('ip', ['-n', node.netns, 'route', 'add', target.podCidr, 'via', target.ip]);
    }
  }

  async #startContainerd(node: NodeSpec): Promise<void> {
    const root = path.join(node.dir, 'containerd');
    const cniConfDir = path.join(node.dir, 'cni', 'net.d');
    await mkdir(root, { recursive: true });
    await mkdir(cniConfDir, { recursive: true });
    // Pods: host-local addresses on the node's pod bridge; routes only to the cluster's pods and the Service range.
    const [firstHost, lastHost] = [node.podCidr.replace(/0\/24$/, '10'), node.podCidr.replace(/0\/24$/, '250')];
    await writeFile(
      path.join(cniConfDir, '10-kconmon.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'kconmon-node',
        plugins: [
          {
            type: 'bridge',
            bridge: node.podBridge,
            isGateway: false,
            isDefaultGateway: false,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              dataDir: path.join(node.dir, 'cni', 'ipam'),
              ranges: [[{ subnet: node.podCidr, rangeStart: firstHost, rangeEnd: lastHost, gateway: node.podGateway }]],
              routes: [
                { dst: CLUSTER_CIDR, gw: node.podGateway },
                { dst: SERVICE_CIDR, gw: node.podGateway },
              ],
            },
          },
          { type: 'loopback' },
        ],
      }),
    );
    const closedRegistry = ['http://127.0.0.1:1'];
    const config = [
      'version = 2',
      `root = ${JSON.stringify(path.join(root, 'root'))}`,
      `state = ${JSON.stringify(path.join(root, 'state'))}`,
      'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",',
      '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
      '[grpc]',
      `  address = ${JSON.stringify(node.containerdSocket)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(`${node.containerdSocket}.ttrpc`)}`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = ${JSON.stringify(this.#options.pauseImage)}`,
      // No CAP_SYS_RESOURCE here: containerd may not lower containers' oom_score_adj below its own.
      '  restrict_oom_score_adj = true',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '  enable_selinux = false',
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    snapshotter = "overlayfs"',
      '    default_runtime_name = "runc"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '      runtime_type = "io.containerd.runc.v2"',
      '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      '        BinaryName = "/usr/sbin/runc"',
      `        Root = ${JSON.stringify(path.join(root, 'runc'))}`,
      '        SystemdCgroup = false',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      '    bin_dir = "/usr/lib/cni"',
      `    conf_dir = ${JSON.stringify(cniConfDir)}`,
      '  [plugins."io.containerd.grpc.v1.cri".registry.mirrors]',
      ...['docker.io', 'registry.k8s.io', 'quay.io', 'ghcr.io', 'localhost'].flatMap((registry) => [
        `    [plugins."io.containerd.grpc.v1.cri".registry.mirrors.${JSON.stringify(registry)}]`,
        `      endpoint = ${JSON.stringify(closedRegistry)}`,
      ]),
      '',
    ].join('\n');
    const configPath = path.join(root, 'config.toml');
    await writeFile(configPath, config);
    const proc = this.#spawn('containerd', '/usr/bin/containerd', ['--config', configPath, '--log-level', 'warn'], node);
    await waitFor(
      `containerd of ${node.name}`,
      30_000,
      async () => {
        if (!proc.running()) throw new Error(`containerd exited (${proc.describeExit()})`);
        run('ctr', ['--address', node.containerdSocket, 'version']);
        return true;
      },
      () => fileTail(proc.logFile),
    );
    for (const image of this.#options.images) {
      const repository = image.name.replace(/:[^:/]+$/, '');
      run('ctr', ['--address', node.containerdSocket, '-n', CONTAINERD_NAMESPACE, 'images', 'import', '--base-name', repository, image.archive]);
      const listed = run('ctr', ['--address', node.containerdSocket, '-n', CONTAINERD_NAMESPACE, 'images', 'ls', '-q']);
      if (!listed.split('\n').includes(image.name)) throw new Error(`ctr import of ${image.archive} did not create ${image.name}:\n${listed}`);
    }
  }

  async #startControllers(): Promise<void> {
    const [kcmPort, schedulerPort] = (await freePorts(2)) as [number, number];
    this.#spawn('kube-controller-manager', tool('kube-controller-manager'), [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--authentication-kubeconfig=${this.kubeconfigPath}`,
      `--authorization-kubeconfig=${this.kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--service-account-private-key-file=${this.kube.serviceAccountKeyPath}`,
      `--root-ca-file=${path.join(this.dir, 'ca.crt')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller',
      '--v=1',
    ]);
    this.#spawn('kube-scheduler', tool('kube-scheduler'), [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--authentication-kubeconfig=${this.kubeconfigPath}`,
      `--authorization-kubeconfig=${this.kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      '--leader-elect=false',
      '--v=1',
    ]);
  }

  async #startClusterDns(): Promise<void> {
    const core = this.kube.adminKubeConfig().makeApiClient(CoreV1Api);
    const discovery = this.kube.adminKubeConfig().makeApiClient(DiscoveryV1Api);
    // kube-dns: a Service without selector whose endpoint is CoreDNS on the node's address.
    await core.createNamespacedService({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          clusterIP: CLUSTER_DNS,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          ],
        },
      },
    });
    await discovery.createNamespacedEndpointSlice({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'kube-dns-host', labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'kconmon-test' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [CONTROL_PLANE_IP], conditions: { ready: true } }],
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    });
    const corefile = path.join(this.dir, 'Corefile');
    // No forward plugin: names outside the cluster domain get no answer from the machine's resolver.
    await writeFile(
      corefile,
      [
        `${CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {`,
        `  bind ${CONTROL_PLANE_IP}`,
        '  errors',
        `  kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
        `    kubeconfig ${this.kubeconfigPath} kconmon-test`,
        '    pods insecure',
        '    fallthrough in-addr.arpa ip6.arpa',
        '  }',
        '  cache 5',
        '}',
        '.:53 {',
        `  bind ${CONTROL_PLANE_IP}`,
        '  errors',
        '}',
        '',
      ].join('\n'),
    );
    const proc = this.#spawn('coredns', tool('coredns'), ['-conf', corefile]);
    await waitFor(
      'CoreDNS',
      30_000,
      async () => {
        if (!proc.running()) throw new Error(`coredns exited (${proc.describeExit()})`);
        return (await resolveA(CONTROL_PLANE_IP, `kubernetes.default.svc.${CLUSTER_DOMAIN}`)).includes('198.19.128.1') ? true : undefined;
      },
      () => fileTail(proc.logFile),
    );
  }

  async #startKubelet(node: NodeSpec): Promise<void> {
    const kubeletDir = path.join(node.dir, 'kubelet');
    await mkdir(kubeletDir, { recursive: true });
    await mkdir(node.podLogsDir, { recursive: true });
    createCgroupRoot(node.cgroupRoot);
    // The pods' resolver: the cluster DNS only (dnsPolicy Default pods too), never the machine's.
    const resolvConf = path.join(this.dir, 'resolv.conf');
    await writeFile(resolvConf, `nameserver ${CLUSTER_DNS}\n`);
    const [kubeletPort, healthzPort] = (await freePorts(2)) as [number, number];
    const config = {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // This VM: cgroup v1 hybrid, driven through cgroupfs.
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: node.cgroupRoot,
      address: node.ip,
      port: kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
      authorization: { mode: 'Webhook' },
      clusterDNS: [CLUSTER_DNS],
      clusterDomain: CLUSTER_DOMAIN,
      resolvConf,
      containerRuntimeEndpoint: `unix://${node.containerdSocket}`,
      podLogsDir: node.podLogsDir,
      failSwapOn: false,
      makeIPTablesUtilChains: false,
      protectKernelDefaults: false,
      serializeImagePulls: false,
      // A shared build machine's disk and memory must not evict the pods under test.
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      nodeStatusUpdateFrequency: '2s',
      syncFrequency: '5s',
      fileCheckFrequency: '5s',
      maxPods: 30,
    };
    const configPath = path.join(kubeletDir, 'config.yaml');
    await writeFile(configPath, YAML.stringify(config));
    const proc = this.#spawn(
      'kubelet',
      tool('kubelet'),
      [
        `--config=${configPath}`,
        `--kubeconfig=${this.kubeconfigPath}`,
        `--root-dir=${kubeletDir}`,
        `--cert-dir=${path.join(kubeletDir, 'pki')}`,
        `--hostname-override=${node.name}`,
        `--node-ip=${node.ip}`,
        `--node-labels=topology.kubernetes.io/zone=${node.zone}`,
        '--v=1',
      ],
      node,
    );
    const core = this.kube.adminKubeConfig().makeApiClient(CoreV1Api);
    await waitFor(
      `node ${node.name}`,
      120_000,
      async () => {
        if (!proc.running()) throw new Error(`kubelet of ${node.name} exited (${proc.describeExit()})`);
        const object = await core.readNode({ name: node.name });
        return object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
      },
      () => this.logs(),
    );
    // The default ServiceAccount (from the controller-manager) is needed before any pod can be created.
    const defaultAccount = async () => ((await core.readNamespacedServiceAccount({ namespace: 'default', name: 'default' })) ? true : undefined);
    await waitFor('ServiceAccount default/default', 60_000, defaultAccount, () => this.logs());
  }

  async #startKubeProxy(node: NodeSpec): Promise<void> {
    const [metricsPort, healthzPort] = (await freePorts(2)) as [number, number];
    const config = {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'nftables',
      clientConnection: { kubeconfig: this.kubeconfigPath },
      hostnameOverride: node.name,
      bindAddress: node.ip,
      clusterCIDR: CLUSTER_CIDR,
      healthzBindAddress: `127.0.0.1:${healthzPort}`,
      metricsBindAddress: `127.0.0.1:${metricsPort}`,
      nodePortAddresses: [`${node.ip}/32`],
      // Leave the host's conntrack settings alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    };
    const configPath = path.join(node.dir, 'kube-proxy.yaml');
    await writeFile(configPath, YAML.stringify(config));
    const proc = this.#spawn('kube-proxy', tool('kube-proxy'), [`--config=${configPath}`, '--v=1'], node);
    const inNode = (command: string, ...args: string[]) => run('nsenter', [`--net=/run/netns/${node.netns}`, command, ...args]);
    await waitFor(
      'kube-proxy',
      60_000,
      async () => {
        if (!proc.running()) throw new Error(`kube-proxy of ${node.name} exited (${proc.describeExit()})`);
        // Ready once the kube-dns Service is programmed.
        return inNode('nft', 'list', 'table', 'ip', 'kube-proxy').includes(CLUSTER_DNS) ? true : undefined;
      },
      () => fileTail(proc.logFile),
    );
    // From the node's namespace, as a pod's query goes: through the Service to CoreDNS (busybox's nslookup).
    const answer = await waitFor(
      `DNS through the kube-dns Service on ${node.name}`,
      30_000,
      async () => {
        const output = inNode('/bin/busybox', 'nslookup', `kubernetes.default.svc.${CLUSTER_DOMAIN}`, CLUSTER_DNS);
        return /Address: 198\.19\.128\.1$/m.test(output) ? output : undefined;
      },
      () => fileTail(proc.logFile),
    );
    this.#log(`${node.name}: kubernetes.default resolves through the kube-dns Service (${answer.split('\n').filter(Boolean).at(-1)})`);
  }

  stop(): Promise<HostLeftovers> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<HostLeftovers> {
    try {
      // Everything but containerd; then each node's containers through containerd, while it still runs.
      for (const proc of [...this.#processes].reverse()) if (!proc.name.startsWith('containerd')) await proc.stop('SIGTERM', 5_000);
      for (const node of this.nodes) {
        if (!this.#processes.some((p) => p.name === `containerd@${node.name}` && p.running())) continue;
        const ctr = (...args: string[]) => run('ctr', ['--address', node.containerdSocket, '-n', CONTAINERD_NAMESPACE, ...args]);
        for (const id of ctr('tasks', 'ls', '-q').split('\n').filter(Boolean)) {
          try {
            ctr('tasks', 'kill', '--signal', 'SIGKILL', id);
          } catch {
            // already stopped
          }
        }
        await sleep(500);
        for (const id of ctr('tasks', 'ls', '-q').split('\n').filter(Boolean)) {
          try {
            ctr('tasks', 'delete', '--force', id);
          } catch {
            // gone
          }
        }
      }
      for (const proc of this.#processes) await proc.stop('SIGTERM', 5_000);
    } catch (error) {
      this.#log(`stop: ${(error as Error).message}`);
    } finally {
      for (const proc of this.#processes) proc.killSync();
      await this.#kube?.stop().catch(() => undefined);
    }
    const leftovers = this.#host.restore();
    process.off('exit', this.#onExit);
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
    this.#removeDir();
    return leftovers;
  }
}

/** Starts the node (see the header); on failure everything started is stopped and the host restored. */
export async function startRealNode(options: RealNodeOptions): Promise<RealNode> {
  const recovered = recoverAbandonedNode();
  if (recovered) options.log?.(`restored the host after an earlier run that was killed: left ${JSON.stringify(recovered)}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kconmon-node-'));
  const node = new LocalRealNode(dir, options);
  try {
    await node.start();
    return node;
  } catch (error) {
    const logs = node.logs();
    const leftovers = await node.stop();
    const left = Object.entries(leftovers).filter(([, list]) => (list as unknown[]).length > 0);
    throw new Error(`${(error as Error).message}\n${logs}${left.length > 0 ? `\nleft on the host: ${JSON.stringify(Object.fromEntries(left))}` : ''}`);
  }
}
