// Small system helpers for tests, e2e and benchmarks: run a command (errors carry its stderr), look at processes
// (child processes that log to a file are harness/logged-process.ts, bounded polling harness/wait.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(command: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(failure.stderr ?? '').trim() || failure.message}`);
  }
}

/** Runs a command, ignoring failure; returns whether it succeeded. */
export function tryRun(command: string, args: readonly string[], input?: string): boolean {
  return spawnSync(command, args, { input, stdio: ['pipe', 'ignore', 'ignore'], timeout: 30_000 }).status === 0;
}

/** True if a process with this id exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process, or undefined if it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}
