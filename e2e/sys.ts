// Small system helpers for the miniature cluster: run a command (errors carry its stderr), child processes that log
// to a file and die with their parent (bounded polling is harness/wait.ts).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

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

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  running(): boolean;
  describeExit(): string;
  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILL. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** The last lines of its log. */
  logTail(lines?: number): string;
}

/**
 * Starts a command with stdout and stderr appended to `logFile`. Under setpriv the kernel kills it when this process
 * dies in any way (SIGKILL included), so nothing outlives the cluster's owner.
 */
export function startChild(name: string, command: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Child {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    const guarded = existsSync('/usr/bin/setpriv');
    child = spawn(guarded ? '/usr/bin/setpriv' : command, guarded ? ['--pdeathsig', 'KILL', '--', command, ...args] : [...args], { stdio: ['ignore', fd, fd], env });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const logTail = (lines = 20) => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  return {
    name,
    pid,
    logFile,
    process: child,
    exited,
    running,
    describeExit: () => `exit code ${child.exitCode ?? 'none'}, signal ${child.signalCode ?? 'none'}`,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!running()) return;
      child.kill(signal);
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
    logTail,
  };
}
