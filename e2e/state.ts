// The cluster's state file (default /tmp/kconmon-e2e/state.json): who owns the cluster, where everything is, and every
// piece that has to be removed — namespaces, links, the bridge, process ids with a marker of their command line (a
// reused pid is never killed), directories. Rewritten on every change, so `e2e/down.ts` can tear down a cluster whose
// owner died, and a new cluster can clear the remains of a crashed one.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandLine, processAlive } from '../harness/system.ts';
import { removeBridge, removeNamespace } from './network.ts';

export const DEFAULT_STATE_FILE = '/tmp/kconmon-e2e/state.json';

export interface StateProcess {
  readonly name: string;
  readonly pid: number;
  /** A string its command line must contain for it to be ours. */
  readonly marker: string;
}

export interface ClusterState {
  version: 1;
  status: 'starting' | 'ready' | 'stopping';
  owner: { pid: number; marker: string; startedAt: string };
  dir: string;
  bridge: string;
  namespaces: { namespace: string; hostLink: string }[];
  processes: StateProcess[];
  /** Directories owned by processes we do not spawn ourselves (Prometheus, kube harness), removed by `down`. */
  dirs: string[];
  /** Command-line markers of processes we do not spawn ourselves (Prometheus' config path, the kube temp dir). */
  foreignMarkers: string[];
  endpoints: Record<string, string>;
  nodes: { name: string; zone: string; ip: string; namespace: string; metrics: string }[];
  notes: string[];
}

export function writeState(file: string, state: ClusterState): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temp, file);
}

export function readState(file: string): ClusterState | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

/** True if the state's owner process is still running (and is the same process). */
export function ownerAlive(state: ClusterState): boolean {
  return processAlive(state.owner.pid) && (commandLine(state.owner.pid) ?? '').includes(state.owner.marker);
}

function killIfOurs(pid: number, marker: string): boolean {
  const line = commandLine(pid);
  if (line === undefined || !line.includes(marker)) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** Pids whose command line contains `marker` (for processes whose pid we never learnt, e.g. Prometheus). */
function pidsMatching(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if ((commandLine(pid) ?? '').includes(marker)) pids.push(pid);
  }
  return pids;
}

/**
 * Removes everything the state lists, without its owner's help: kills its processes (only those whose command line
 * still carries their marker), deletes namespaces, links and the bridge, removes directories and the state file.
 * Returns what it did, one line per action.
 */
export async function forceTeardown(file: string, state: ClusterState): Promise<string[]> {
  const done: string[] = [];
  for (const entry of state.processes) if (killIfOurs(entry.pid, entry.marker)) done.push(`killed ${entry.name} (pid ${entry.pid})`);
  for (const marker of state.foreignMarkers) {
    for (const pid of pidsMatching(marker)) if (killIfOurs(pid, marker)) done.push(`killed pid ${pid} (${marker})`);
  }
  await sleep(200);
  for (const { namespace, hostLink } of state.namespaces) {
    removeNamespace(namespace, hostLink);
    done.push(`removed namespace ${namespace}`);
  }
  removeBridge(state.bridge);
  done.push(`removed bridge ${state.bridge}`);
  for (const dir of [...state.dirs, state.dir]) {
    rmSync(dir, { recursive: true, force: true });
    done.push(`removed ${dir}`);
  }
  rmSync(file, { force: true });
  return done;
}
