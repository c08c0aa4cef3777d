// The benchmark's two child processes — the real controller (`node src/cli.ts controller`) and the simulated agents —
// each started through `bash -c 'ulimit -n 65536; exec …'` (thousands of sockets) under `setpriv --pdeathsig KILL` (they
// die with the benchmark, however it ends), in the benchmark's child group (harness/child-group.ts), which ends them.
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseExposition, sampleValue } from '../../harness/exposition.ts';
import { freePort } from '../../harness/ports.ts';
import { GiveUp, waitUntil } from '../../harness/wait.ts';
import { isRunning, type ChildGroup } from '../../harness/child-group.ts';
import { fileTail } from '../../harness/logged-process.ts';

export function launch(group: ChildGroup, argv: readonly string[], options: { logPath?: string; ipc?: boolean; env?: NodeJS.ProcessEnv }): ChildProcess {
  const guard = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--'] : [];
  const fd = options.logPath ? openSync(options.logPath, 'a') : undefined;
  try {
    const output = fd ?? 'inherit';
    return group.spawn('bash', ['-c', 'ulimit -n 65536 2>/dev/null || true; exec "$@"', 'bash', ...guard, ...argv], {
      stdio: options.ipc ? ['ignore', output, output, 'ipc'] : ['ignore', output, output],
      serialization: 'json',
      env: options.env ?? process.env,
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function get(port: number, path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`timeout GET ${path}`)));
    request.on('error', reject);
  });
}

export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly logPath: string;
  /** Resolves once /readyz answers 200 (discovery synced); rejects if the process exits or after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void>;
  /** Selected samples of /metrics (name → value, first series). */
  metrics(names: readonly string[]): Promise<Record<string, number>>;
  /** The controller's "pushed" log lines: version → wall-clock ms of the push (the log's ms timestamp). */
  pushTimes(): Map<number, number>;
  tailLog(lines?: number): string;
}

export interface ControllerLaunch {
  readonly group: ChildGroup;
  readonly dir: string;
  readonly label: string;
  readonly cliEntry: string;
  readonly nodeBinary: string;
  readonly nodeFlags: readonly string[];
  readonly kubeconfigPath: string;
  readonly namespace: string;
}

export async function startControllerProcess(launchOptions: ControllerLaunch): Promise<ControllerProcess> {
  const port = await freePort();
  const configPath = join(launchOptions.dir, `controller-${launchOptions.label}.json`);
  const logPath = join(launchOptions.dir, `controller-${launchOptions.label}.log`);
  const config = {
    port,
    listenAddress: '127.0.0.1',
    logLevel: 'info',
    source: { kubernetes: { namespace: launchOptions.namespace, kubeconfig: launchOptions.kubeconfigPath } },
  };
  await writeFile(configPath, JSON.stringify(config, null, 2));
  // No KUBERNETES_SERVICE_HOST / KUBECONFIG leaking in: the config names the kubeconfig.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', POD_NAME: 'kconmon-controller-bench' };
  const child = launch(
    launchOptions.group,
    [launchOptions.nodeBinary, ...launchOptions.nodeFlags, launchOptions.cliEntry, 'controller', '--config', configPath],
    { logPath, env },
  );
  if (child.pid === undefined) throw new Error('the controller did not start');
  const pid = child.pid;
  const tailLog = (lines = 30) => fileTail(logPath, lines);
  return {
    child,
    pid,
    port,
    logPath,
    async waitReady(timeoutMs) {
      await waitUntil(
        'the controller to be ready',
        timeoutMs,
        async (note) => {
          if (!isRunning(child)) throw new GiveUp(`the controller exited (code ${child.exitCode}, signal ${child.signalCode}); its log:\n${tailLog()}`);
          note(`its log:\n${tailLog()}`);
          return (await get(port, '/readyz', 2000)).status === 200;
        },
        50,
      );
    },
    async metrics(names) {
      const { body } = await get(port, '/metrics', 10_000);
      const scrape = parseExposition(body);
      return Object.fromEntries(names.filter((name) => scrape.some((sample) => sample.name === name)).map((name) => [name, sampleValue(scrape, name)]));
    },
    pushTimes() {
      const pushes = new Map<number, number>();
      let text = '';
      try {
        text = readFileSync(logPath, 'utf8');
      } catch {
        return pushes;
      }
      for (const line of text.split('\n')) {
        if (!line.includes('pushed to connected agents')) continue;
        try {
          const entry = JSON.parse(line) as { version?: number; time?: string | number };
          const at = typeof entry.time === 'number' ? entry.time : Date.parse(entry.time ?? '');
          if (typeof entry.version === 'number' && Number.isFinite(at)) pushes.set(entry.version, at);
        } catch {
          // a partial line
        }
      }
      return pushes;
    },
    tailLog,
  };
}

export interface AgentsProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Sends a message and resolves with the first reply of type `reply`. */
  request<T>(message: object, reply: string, timeoutMs: number): Promise<T>;
  close(): Promise<void>;
}

export async function startAgentsProcess(group: ChildGroup, script: string, nodeBinary: string, logPath: string): Promise<AgentsProcess> {
  const child = launch(group, [nodeBinary, '--max-old-space-size=4096', script], { ipc: true, logPath });
  if (child.pid === undefined) throw new Error('the simulated agents did not start');
  const request = <T>(message: object | undefined, reply: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (received: { type?: string }) => {
        if (received.type !== reply) return;
        cleanup();
        resolve(received as T);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`the simulated agents exited (code ${child.exitCode}, signal ${child.signalCode}); see ${logPath}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no "${reply}" from the simulated agents within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (message) child.send(message);
    });
  await request(undefined, 'ready', 30_000);
  return {
    child,
    pid: child.pid,
    request: (message, reply, timeoutMs) => request(message, reply, timeoutMs),
    async close() {
      if (isRunning(child) && child.connected) child.send({ type: 'close' });
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(5000)]);
      await group.stop(child, 1000);
    },
  };
}
