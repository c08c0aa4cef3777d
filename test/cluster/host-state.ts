// What a real kubelet node changes on the host, recorded before it starts and put back after it stops: the sysctls
// kubelet, kube-proxy and the bridge set; nftables tables kube-proxy (and an iptables-nft kubelet) add; network
// namespaces the CRI creates; mounts under the node's directory; the kubepods cgroups; processes left in them.
// Everything here is synchronous so the same code runs from a process 'exit' hook.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Sysctls a node changes: kubelet's kernel tunables, kube-proxy's, and forwarding for the pod bridge. */
export const NODE_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.route_localnet',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
  'net.netfilter.nf_conntrack_tcp_be_liberal',
] as const;

const CGROUP_ROOT = '/sys/fs/cgroup';
const NETNS_DIR = '/run/netns';
const CONTAINER_LOGS_DIR = '/var/log/containers';
const SHIM_SOCKET_DIR = '/run/containerd/s';
const RECORD_FILE = '/run/kconmon-real-node.json';

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function sysctlPath(name: string): string {
  return path.join('/proc/sys', ...name.split('.'));
}

function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(sysctlPath(name), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function writeSysctl(name: string, value: string): void {
  writeFileSync(sysctlPath(name), `${value}\n`);
}

function nftTables(): string[] {
  const result = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  return result.status === 0
    ? result.stdout
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.startsWith('table '))
    : [];
}

function netnsNames(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

/** Mount points at or below `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined && (mountPoint === dir || mountPoint.startsWith(`${dir}/`)))
    .map((mountPoint) => mountPoint.replace(/\\040/g, ' '));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

/** cgroup v1 hierarchies (/sys/fs/cgroup/<controllers>), or the v2 root. */
function cgroupHierarchies(): string[] {
  if (existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))) return [CGROUP_ROOT];
  return safeReaddir(CGROUP_ROOT)
    .map((name) => path.join(CGROUP_ROOT, name))
    .filter((dir) => existsSync(path.join(dir, 'cgroup.procs')));
}

/** Every cgroup a kubelet of ours made or uses: `kubepods` at the root, the `kcnode<N>` roots of further nodes. */
export function kubepodsCgroups(): string[] {
  return cgroupHierarchies().flatMap((hierarchy) =>
    safeReaddir(hierarchy)
      .filter((name) => name === 'kubepods' || /^kcnode\d+$/.test(name))
      .map((name) => path.join(hierarchy, name)),
  );
}

/** Creates a kubelet cgroup root (`/kcnode<N>`) in every hierarchy; cpuset needs its CPUs and memory nodes set. */
export function createCgroupRoot(root: string): void {
  for (const hierarchy of cgroupHierarchies()) {
    const dir = path.join(hierarchy, root);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(path.join(dir, file))) writeFileSync(path.join(dir, file), readFileSync(path.join(hierarchy, file)));
    }
  }
}

function cgroupTree(dir: string): string[] {
  const dirs = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) dirs.push(...cgroupTree(path.join(dir, entry.name)));
  }
  return dirs;
}

/** PIDs in the kubepods cgroups (containers and their pause processes). */
export function kubepodsPids(): number[] {
  const pids = new Set<number>();
  for (const root of kubepodsCgroups()) {
    for (const dir of cgroupTree(root)) {
      try {
        for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (pid) pids.add(Number(pid));
      } catch {
        // gone meanwhile
      }
    }
  }
  return [...pids];
}

/** PIDs whose command line contains `needle` (e.g. the containerd shims of our containerd socket). */
export function pidsWithCommandLine(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) pids.push(Number(entry));
    } catch {
      // exited
    }
  }
  return pids;
}

function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface HostLeftovers {
  readonly sysctls: string[];
  readonly nftTables: string[];
  readonly netns: string[];
  readonly mounts: string[];
  readonly cgroups: string[];
  readonly processes: number[];
  readonly links: string[];
  readonly logLinks: string[];
  /** Fixed-path directories the node created (/var/log/containers, /run/containerd/s) still there. */
  readonly paths: string[];
}

export interface HostSnapshot {
  /** Puts the host back (idempotent, synchronous, never throws) and returns what could not be removed. */
  restore(): HostLeftovers;
  /** Another directory of the run (the control plane's): its processes are killed and it is removed on restore. */
  addDirectory(dir: string): void;
}

/**
 * Records the host's state. `nodeDir` is the node's own directory (mounts under it are undone), `socket` its
 * containerd socket (shims started for it are killed), `links` the interfaces it creates (deleted).
 */
export function snapshotHost(options: { nodeDir: string; links: readonly string[]; netns: readonly string[] }): HostSnapshot {
  const cgroupsBefore = kubepodsCgroups();
  if (cgroupsBefore.length > 0) throw new Error(`kubepods cgroups already exist (${cgroupsBefore.join(', ')}): is another kubelet running?`);
  const record: HostRecord = {
    nodeDir: options.nodeDir,
    links: [...options.links],
    ownNetns: [...options.netns],
    directories: [],
    sysctls: Object.fromEntries(
      NODE_SYSCTLS.flatMap((name) => {
        const value = readSysctl(name);
        return value === undefined ? [] : [[name, value]];
      }),
    ),
    nftTables: nftTables(),
    netns: netnsNames(),
    containerLogsDirExisted: existsSync(CONTAINER_LOGS_DIR),
    shimDirExisted: existsSync(path.dirname(SHIM_SOCKET_DIR)),
  };
  // Kept until the host is restored, so a run killed outright (SIGKILL: no exit hook) is undone by the next one.
  writeFileSync(RECORD_FILE, JSON.stringify(record));
  return {
    restore: () => restoreHost(record),
    addDirectory: (dir) => {
      record.directories.push(dir);
      writeFileSync(RECORD_FILE, JSON.stringify(record));
    },
  };
}

/** The record of an earlier real-node run: `active` while its containerd (which dies with its owner) still runs. */
export function earlierNode(): { active: boolean; nodeDir: string } | undefined {
  let record: HostRecord;
  try {
    record = JSON.parse(readFileSync(RECORD_FILE, 'utf8')) as HostRecord;
  } catch {
    return undefined;
  }
  // containerd's command line: --config <nodeDir>/<node>/containerd/config.toml (others use --config=...).
  return { active: pidsWithCommandLine(`--config ${record.nodeDir}/`).length > 0, nodeDir: record.nodeDir };
}

/**
 * Undoes a real-node run that died without restoring the host (killed outright: its record is still in /run), before
 * a new one starts. Returns what could not be restored, or undefined when there was nothing to undo.
 */
export function recoverAbandonedNode(): HostLeftovers | undefined {
  const earlier = earlierNode();
  if (!earlier) return undefined;
  if (earlier.active) throw new Error(`another real-node run is active (${earlier.nodeDir})`);
  const record = JSON.parse(readFileSync(RECORD_FILE, 'utf8')) as HostRecord;
  const leftovers = restoreHost(record);
  if (path.basename(record.nodeDir).startsWith('kconmon-node-') && mountsUnder(record.nodeDir).length === 0) {
    rmSync(record.nodeDir, { recursive: true, force: true });
  }
  return leftovers;
}

interface HostRecord {
  readonly nodeDir: string;
  readonly links: string[];
  /** Network namespaces the run creates (its nodes). */
  readonly ownNetns: string[];
  /** Other directories of the run (e.g. the control plane's data): processes using them are killed, they are removed. */
  readonly directories: string[];
  readonly sysctls: Record<string, string>;
  readonly nftTables: string[];
  readonly netns: string[];
  readonly containerLogsDirExisted: boolean;
  readonly shimDirExisted: boolean;
}

function restoreHost(record: HostRecord): HostLeftovers {
  const options = record;
  const sysctls = new Map(Object.entries(record.sysctls));
  const tablesBefore = new Set(record.nftTables);
  const netnsBefore = new Set(record.netns);
  const { containerLogsDirExisted, shimDirExisted } = record;
  // 1. Processes: container processes (kubepods cgroups) and the shims of our containerd.
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = [...kubepodsPids(), ...[options.nodeDir, ...(record.directories ?? [])].flatMap((dir) => pidsWithCommandLine(`${dir}/`))];
    if (pids.length === 0) break;
    killPids(pids);
    sleepSync(100);
  }
  // 2. Network namespaces the CRI created (their veths go with them), then our links.
  for (const name of netnsNames()) {
    if (!netnsBefore.has(name) && (name.startsWith('cni-') || options.ownNetns.includes(name))) spawnSync('ip', ['netns', 'delete', name]);
  }
  for (const link of options.links) {
    if (existsSync(`/sys/class/net/${link}`)) spawnSync('ip', ['link', 'delete', link]);
  }
  // 3. Mounts under the node's directory (volumes, overlay root filesystems, sandbox shm), deepest first.
  for (const mountPoint of mountsUnder(options.nodeDir)) {
    if (spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
  }
  // 4. The kubelet's symlinks in /var/log/containers (a fixed path) to our pod logs; the directory if it made it.
  for (const entry of safeReaddir(CONTAINER_LOGS_DIR)) {
    const link = path.join(CONTAINER_LOGS_DIR, entry);
    try {
      if (readlinkSync(link).startsWith(`${options.nodeDir}/`)) unlinkSync(link);
    } catch {
      // not a symlink
    }
  }
  if (!containerLogsDirExisted && safeReaddir(CONTAINER_LOGS_DIR).length === 0 && existsSync(CONTAINER_LOGS_DIR)) rmdirSync(CONTAINER_LOGS_DIR);
  // containerd's shim sockets are under a fixed path: /run/containerd, if it did not exist before, is all ours.
  if (!shimDirExisted && pidsWithCommandLine('containerd-shim').length === 0) rmSync(path.dirname(SHIM_SOCKET_DIR), { recursive: true, force: true });
  // 5. kubepods cgroups, leaves first.
  for (const root of kubepodsCgroups()) {
    for (const dir of cgroupTree(root).reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // reported below
      }
    }
  }
  // 6. nftables: tables that appeared while the node ran and belong to it (kube-proxy's; an iptables-nft
  // kubelet's tables holding only KUBE-* chains). Other tables are left alone: other tests may own them.
  for (const table of nftTables()) {
    if (tablesBefore.has(table)) continue;
    const [, family, name] = table.split(' ') as [string, string, string];
    let ours = name === 'kube-proxy';
    if (!ours) {
      const listing = spawnSync('nft', ['list', 'table', family, name], { encoding: 'utf8' }).stdout;
      const chains = [...listing.matchAll(/^\s*chain (\S+)/gm)].map((match) => match[1] as string);
      ours = chains.length > 0 && chains.every((chain) => chain.startsWith('KUBE-'));
    }
    if (ours) spawnSync('nft', ['delete', 'table', family, name]);
  }
  // 7. Sysctls.
  for (const [name, value] of sysctls) {
    if (readSysctl(name) !== value) {
      try {
        writeSysctl(name, value);
      } catch {
        // reported below
      }
    }
  }
  const leftovers: HostLeftovers = {
    sysctls: [...sysctls].filter(([name, value]) => readSysctl(name) !== value).map(([name, value]) => `${name}=${readSysctl(name)} (was ${value})`),
    nftTables: nftTables().filter((table) => !tablesBefore.has(table) && /kube/i.test(table)),
    netns: netnsNames().filter((name) => !netnsBefore.has(name) && (name.startsWith('cni-') || options.ownNetns.includes(name))),
    mounts: mountsUnder(options.nodeDir),
    cgroups: kubepodsCgroups(),
    processes: [...kubepodsPids(), ...pidsWithCommandLine(`${options.nodeDir}/`)],
    links: options.links.filter((link) => existsSync(`/sys/class/net/${link}`)),
    paths: [CONTAINER_LOGS_DIR, SHIM_SOCKET_DIR].filter((dir) => existsSync(dir) && !(dir === CONTAINER_LOGS_DIR ? containerLogsDirExisted : shimDirExisted)),
    logLinks: safeReaddir(CONTAINER_LOGS_DIR).filter((entry) => {
      try {
        return readlinkSync(path.join(CONTAINER_LOGS_DIR, entry)).startsWith(`${options.nodeDir}/`);
      } catch {
        return false;
      }
    }),
  };
  for (const dir of record.directories ?? []) if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  if (Object.values(leftovers).every((list) => (list as unknown[]).length === 0)) rmSync(RECORD_FILE, { force: true });
  return leftovers;
}

/** True if `dir` exists and is a directory. */
export function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Runs a command, throwing with its output on failure. */
export function run(command: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${failed.stderr || failed.stdout || failed.message}`);
  }
}

/**
 * What a real-node run changes, observed independently of any record (for tests comparing before and after): the
 * node sysctls, the CNI namespaces, kube nftables tables, kubepods cgroups, mounts of node directories, containerd
 * shims, the fixed paths, the run record, the node bridge.
 */
export function hostFacts(bridge = 'kconmon-br0'): Record<string, unknown> {
  return {
    sysctls: Object.fromEntries(NODE_SYSCTLS.map((name) => [name, readSysctl(name)])),
    cniNetns: netnsNames().filter((name) => name.startsWith('cni-')),
    kubeTables: nftTables().filter((table) => /kube/i.test(table)),
    kubepods: kubepodsCgroups(),
    nodeMounts: mountsUnder('/tmp').filter((mountPoint) => mountPoint.includes('/kconmon-node-')),
    shims: pidsWithCommandLine('containerd-shim'),
    paths: [CONTAINER_LOGS_DIR, path.dirname(SHIM_SOCKET_DIR), RECORD_FILE].filter((file) => existsSync(file)),
    bridge: existsSync(`/sys/class/net/${bridge}`),
  };
}
