// A benchmark's child processes: every one is registered here as it starts, and `stopAll` ends them (SIGTERM, then
// SIGKILL after a grace period). `killNow` is the synchronous last resort for process exit paths. One group per run,
// created by the benchmark's entry point and passed to whatever starts a child.
import { rmSync } from 'node:fs';
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ChildGroup {
  /** Starts a TypeScript helper with an IPC channel (Node 24 running the file directly). */
  fork(script: string, args: readonly string[]): ChildProcess;
  spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  /** Ends one child: SIGTERM, SIGKILL after `graceMs`; resolves once it has exited (or 5 s after the SIGKILL). */
  stop(child: ChildProcess, graceMs?: number): Promise<void>;
  stopAll(graceMs?: number): Promise<void>;
  killNow(): void;
}

/** True until the child has exited (or never started). */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

/** Whether `exited` settles within `ms`; the timer is cleared either way (nothing keeps the process alive). */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([exited.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createChildGroup(): ChildGroup {
  const children = new Set<ChildProcess>();

  function track(child: ChildProcess): ChildProcess {
    children.add(child);
    child.once('exit', () => children.delete(child));
    // An 'error' (spawn failure) must not crash the benchmark before its cleanup runs.
    child.on('error', () => children.delete(child));
    return child;
  }

  async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
    if (!isRunning(child)) {
      children.delete(child);
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    if (!(await exitsWithin(exited, graceMs))) {
      child.kill('SIGKILL');
      await exitsWithin(exited, 5000);
    }
    children.delete(child);
  }

  return {
    fork: (script, args) =>
      track(fork(script, [...args], { execPath: process.execPath, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' })),
    spawn: (command, args, options) => track(spawn(command, [...args], options)),
    stop,
    stopAll: async (graceMs) => {
      await Promise.all([...children].map((child) => stop(child, graceMs)));
    },
    killNow() {
      for (const child of children) if (isRunning(child)) child.kill('SIGKILL');
      children.clear();
    },
  };
}

/**
 * A benchmark's exit paths: its children are killed when the process exits, and Ctrl-C or SIGTERM runs `cleanup`
 * (by default: stop the children) before exiting with status 130.
 */
export function stopChildrenOnExit(group: ChildGroup, what: string, cleanup: () => Promise<void> = () => group.stopAll(1000)): void {
  process.on('exit', () => group.killNow());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping ${what}`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** A cleanup for `stopChildrenOnExit`: stop the children, then remove the run's temporary directories. */
export function stopAndRemove(group: ChildGroup, tempDirs: ReadonlySet<string>): () => Promise<void> {
  return async () => {
    await group.stopAll(1000);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * A benchmark's time budget: once `budgetSeconds` have passed, says so on stderr, kills every child at once, runs
 * `beforeExit` (stopping what is not a child, e.g. a cluster) and exits 1. Clear the returned timer when done.
 */
export function exitAfterBudget(
  group: ChildGroup,
  name: string,
  budgetSeconds: number,
  beforeExit: () => Promise<unknown> = () => Promise.resolve(),
): NodeJS.Timeout {
  return setTimeout(() => {
    console.error(`${name}: over its ${budgetSeconds.toFixed(0)} s budget; killing everything`);
    group.killNow();
    void beforeExit().finally(() => process.exit(1));
  }, budgetSeconds * 1000);
}
