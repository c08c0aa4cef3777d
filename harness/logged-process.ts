// A child process of the harness (etcd, kube-apiserver, the e2e controller and agents, unbound…): stdout and stderr
// appended to a log file, and under setpriv the kernel kills it when this process dies in any way (SIGKILL included),
// so nothing outlives its owner (owners without setpriv call killSync from their own exit handler).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface LoggedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  running(): boolean;
  describeExit(): string;
  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILL; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** SIGKILL now, for exit paths that cannot wait. */
  killSync(): void;
  /** The last lines of its log. */
  logTail(lines?: number): string;
}

/** The last `lines` lines of a file, or a line saying why there are none. */
export function fileTail(file: string, lines = 60): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(no log at ${file}: ${(error as Error).message})`;
  }
}

export function startLoggedProcess(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): LoggedProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    const guarded = existsSync('/usr/bin/setpriv');
    const argv = guarded ? ['--pdeathsig', 'KILL', '--', command, ...args] : [...args];
    child = spawn(guarded ? '/usr/bin/setpriv' : command, argv, { stdio: ['ignore', fd, fd], env });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  const running = () => child.exitCode === null && child.signalCode === null;
  const killSync = () => {
    if (running()) child.kill('SIGKILL');
  };
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
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
      const timer = setTimeout(killSync, graceMs);
      await exited;
      clearTimeout(timer);
    },
    killSync,
    logTail: (lines = 20) => fileTail(logFile, lines),
  };
}
