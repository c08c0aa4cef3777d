// `npm run e2e:up` (node e2e/up.ts [--state FILE] [--foreground]): starts the miniature cluster (e2e/cluster.ts) for
// manual exploration and prints how to reach Prometheus, the controller and the agents, and the state file.
//
// By default the cluster is owned by a detached supervisor process (this script with --supervise) and `up` returns
// once it is ready; `npm run e2e:down` stops it. With --foreground it runs in this terminal until Ctrl-C.
// Needs root, iproute2, nftables, unbound, prometheus and the kube binaries (npm run setup:tools).
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, type Cluster } from './cluster.ts';
import { DEFAULT_STATE_FILE, ownerAlive, readState } from './state.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterUnavailable } from './requirements.ts';

const SCRIPT = fileURLToPath(import.meta.url);

function argValue(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

async function supervise(stateFile: string, foreground: boolean): Promise<void> {
  const log = (line: string) => console.log(line);
  let cluster: Cluster | undefined;
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: tearing the cluster down…`);
    await cluster?.stop().catch((error: unknown) => log(`teardown error: ${(error as Error).message}`));
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  cluster = await startCluster({ stateFile, log });
  if (stopping) return;
  log('\nkconmon e2e cluster is up:');
  for (const line of cluster.describe()) log(`  ${line}`);
  log(`\nstop it with: npm run e2e:down${stateFile === DEFAULT_STATE_FILE ? '' : ` -- --state ${stateFile}`}${foreground ? ' (or Ctrl-C here)' : ''}`);
  // Stay alive: the cluster's processes die with this one.
  setInterval(() => undefined, 60_000);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const stateFile = argValue(args, '--state') ?? DEFAULT_STATE_FILE;
  if (args.includes('--supervise') || args.includes('--foreground')) {
    await supervise(stateFile, args.includes('--foreground'));
    return -1;
  }
  const missing = clusterUnavailable();
  if (missing) {
    console.error(missing);
    return 2;
  }
  const existing = readState(stateFile);
  if (existing && ownerAlive(existing)) {
    console.error(`a cluster is already up (owner pid ${existing.owner.pid}); see ${stateFile}, or npm run e2e:down`);
    return 1;
  }
  mkdirSync(dirname(stateFile), { recursive: true });
  const logFile = join(dirname(stateFile), 'up.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [SCRIPT, '--supervise', '--state', stateFile], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  console.log(`starting the cluster (supervisor pid ${child.pid}, log ${logFile})…`);
  const deadline = Date.now() + 300_000;
  let printed = 0;
  for (;;) {
    const text = readFileSync(logFile, 'utf8');
    const lines = text.split('\n');
    for (const line of lines.slice(printed, -1)) console.log(line);
    printed = Math.max(printed, lines.length - 1);
    if (child.exitCode !== null || (child.pid !== undefined && !isAlive(child.pid))) {
      console.error(`the supervisor exited before the cluster was up; see ${logFile}`);
      return 1;
    }
    if (/stop it with:/.test(text)) return 0;
    if (Date.now() > deadline) {
      console.error(`the cluster was not up within 300 s; see ${logFile}; npm run e2e:down cleans up`);
      return 1;
    }
    await sleep(250);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
