// Runs the real `kconmon` CLI (src/cli.ts) as a child process: to completion (a command that should exit), or as a
// long-running agent / controller whose exit code, RSS, output and HTTP endpoints tests can read.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createProcReader } from '../../harness/proc-stats.ts';
import { GiveUp, waitUntil } from '../../harness/wait.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const CLI = join(ROOT, 'src', 'cli.ts');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment of every run: no inherited KCONMON_CONFIG or POD_IP, a fixed NODE_NAME; `env` overrides. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { ...process.env, KCONMON_CONFIG: undefined, NODE_NAME: 'test-node', POD_IP: undefined, ...env };
}

/**
 * Runs `node src/cli.ts ...args` to completion (killed after 20 s: a command that should exit but keeps running fails),
 * with `input` written to its stdin (closed at once when none).
 */
export function runKconmon(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(NODE, [CLI, ...args], { cwd: ROOT, timeout: 20_000, env: childEnv(env) }, (error, stdout, stderr) => {
      const failed = error as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      resolve({
        code: failed ? (typeof failed.code === 'number' ? failed.code : null) : 0,
        signal: failed?.signal ?? null,
        stdout,
        stderr,
      });
    });
    child.stdin?.end(input ?? '');
  });
}

export interface KconmonProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  alive(): boolean;
  /** Resident set size in bytes, from /proc/PID/status (VmRSS). */
  rssBytes(): number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/** Starts `node src/cli.ts <command> --config FILE` and returns at once (see startKconmon to wait until it is healthy). */
export function spawnKconmon(command: 'agent' | 'controller', configFile: string, env: Record<string, string | undefined> = {}): KconmonProcess {
  const child = spawn(NODE, [CLI, command, '--config', configFile], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc = createProcReader();
  const end = async (signal: NodeJS.Signals) => {
    if (alive()) child.kill(signal);
    await exited;
  };
  return {
    child,
    pid: child.pid ?? -1,
    alive,
    rssBytes: () => proc.rss(child.pid ?? -1).total,
    output: () => output,
    exited,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/**
 * Starts `node src/cli.ts <command> --config FILE` and resolves once `healthUrl` answers 200 (rejects with the output
 * if the process exits or is not healthy within 20 s).
 */
export async function startKconmon(
  command: 'agent' | 'controller',
  configFile: string,
  healthUrl: string,
  env: Record<string, string | undefined> = {},
): Promise<KconmonProcess> {
  const handle = spawnKconmon(command, configFile, env);
  const { child } = handle;
  try {
    await waitUntil(`kconmon ${command} to be healthy`, 20_000, async (note) => {
      if (!handle.alive())
        throw new GiveUp(`kconmon ${command} exited (${child.signalCode ?? `status ${child.exitCode}`}) before it was healthy:\n${handle.output()}`);
      note(`output so far:\n${handle.output()}`);
      const response = await fetch(healthUrl, { signal: AbortSignal.timeout(1000) });
      await response.text();
      return response.ok;
    });
    return handle;
  } catch (error) {
    await handle.kill();
    throw error;
  }
}
