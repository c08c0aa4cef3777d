// The benchmark's child processes: every one is registered here as it starts, and `stopAll` ends them (SIGTERM, then
// SIGKILL after a grace period). `killNow` is the synchronous last resort for process exit paths.
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ChildGroup {
  /** Starts a TypeScript helper with an IPC channel (Node 24 running the file directly). */
  fork(script: string, args: readonly string[]): ChildProcess;
  spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  /** Ends one child: SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(child: ChildProcess, graceMs?: number): Promise<void>;
  stopAll(graceMs?: number): Promise<void>;
  killNow(): void;
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
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      children.delete(child);
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([exited, killed]);
    clearTimeout(timer);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
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
      for (const child of children) child.kill('SIGKILL');
      children.clear();
    },
  };
}
