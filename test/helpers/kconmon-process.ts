// Runs `kconmon agent|controller --config FILE` as a real child process (src/cli.ts under Node 24), keeping its output
// for assertions and stopping it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface KconmonProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function startKconmon(command: 'agent' | 'controller', configFile: string, env: NodeJS.ProcessEnv = {}): KconmonProcess {
  const child = spawn(process.execPath, [CLI, command, '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KCONMON_CONFIG: undefined, ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
