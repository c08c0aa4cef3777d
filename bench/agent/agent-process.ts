// The agent under test as a separate child process (`node src/cli.ts agent`), configured like a DaemonSet pod at
// default settings except DNS (off) and the shutdown grace period (0, so runs end quickly), and its HTTP endpoints.
import { openSync, closeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { ChildGroup } from '../../harness/child-group.ts';
import type { AddressPlan } from './addresses.ts';
import { parseExposition as parseMetrics, type Scrape } from '../../harness/exposition.ts';
import { GiveUp, waitUntil } from '../../harness/wait.ts';
import { fileTail } from '../../harness/logged-process.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const GUARD = fileURLToPath(new URL('./agent-guard.mjs', import.meta.url));

export interface AgentProcessOptions {
  readonly group: ChildGroup;
  readonly dir: string;
  readonly plan: AddressPlan;
  readonly port: number;
  /** The agent exits by itself after this long, whatever happens to the benchmark. */
  readonly deadlineMs: number;
  /** Write a V8 CPU profile of the agent into this directory on exit. */
  readonly cpuProfileDir?: string | undefined;
  /** The CLI to run: src/cli.ts (default) or a compiled dist/cli.js. */
  readonly entry?: string | undefined;
  /** Extra Node flags for the agent (experiments such as --max-semi-space-size). */
  readonly nodeFlags?: readonly string[] | undefined;
  /** `probing.maxPeers`: default a full mesh of any N (the cost per probed peer); a number for the agent's selection. */
  readonly maxPeers?: number | undefined;
}

export interface TimedScrape {
  readonly scrape: Scrape;
  /** performance.now() at the middle of the request: when the counters were read, give or take half its latency. */
  readonly at: number;
  readonly bytes: number;
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  metrics(): Promise<TimedScrape>;
  results(): Promise<{ latest: Array<{ test: string; at: string; passed: boolean; summary: Record<string, unknown> }> }>;
  alive(): boolean;
  /** How the agent ended ("status 1", "SIGKILL"), if it did. */
  exit(): string;
  /** The end of the agent's log (stdout and stderr), for error messages. */
  logTail(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** The agent's own node, as its environment names it (NODE_NAME, ZONE). */
export const BENCH_AGENT_NODE = { name: 'bench-agent-node', zone: 'zone-a' } as const;

/** The peers file the agent gets: one synthetic peer per address, over 3 zones. */
export function syntheticPeerList(plan: AddressPlan): { name: string; nodeName: string; ip: string; zone: string }[] {
  return plan.peers.map((ip, index) => ({
    name: `synthetic-${index}`,
    nodeName: `synthetic-node-${index}`,
    ip,
    zone: `zone-${String.fromCharCode(97 + (index % 3))}`,
  }));
}

export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const { plan, port, dir } = options;
  const peersFile = join(dir, 'peers.json');
  const configFile = join(dir, 'agent.yaml');
  const logFile = join(dir, 'agent.log');
  await writeFile(peersFile, JSON.stringify(syntheticPeerList(plan)));
  // JSON is YAML: the config file as a user would write it, defaults left to the schema, except the probing budget:
  // the benchmark measures the cost per probed peer, so the agent probes all N (a full mesh), not its selected row,
  // unless the caller gives a budget (bench/agent/large-list.ts: the default budget with a 5,000-entry list).
  const config = {
    port,
    listenAddress: plan.agent,
    logLevel: 'warn',
    shutdownGracePeriod: 0,
    dns: { enabled: false },
    probing: { maxPeers: options.maxPeers ?? 100_000 },
    discovery: { peersFile: './peers.json' },
  };
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);

  const log = openSync(logFile, 'a');
  const nodeArgs = ['--import', GUARD, ...(options.nodeFlags ?? []), ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [])];
  let child: ChildProcess;
  try {
    child = options.group.spawn(process.execPath, [...nodeArgs, options.entry ?? CLI, 'agent', '--config', configFile], {
      env: {
        ...process.env,
        NODE_NAME: BENCH_AGENT_NODE.name,
        POD_NAME: 'bench-agent',
        POD_IP: plan.agent,
        ZONE: BENCH_AGENT_NODE.zone,
        KCONMON_BENCH_DEADLINE_MS: String(options.deadlineMs),
      },
      stdio: ['ignore', log, log, 'ipc'],
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('agent: failed to start');

  const base = `http://${plan.agent}:${port}`;
  const logTail = () => fileTail(logFile, 20);
  const alive = () => child.exitCode === null && child.signalCode === null;

  await waitUntil('the agent to be healthy', 20_000, async (note) => {
    if (!alive()) throw new GiveUp(`agent exited (${child.signalCode ?? `status ${child.exitCode}`}) before it was healthy:\n${logTail()}`);
    note(`its log:\n${logTail()}`);
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
    await response.text();
    return response.ok;
  });

  return {
    child,
    pid,
    alive,
    exit: () => child.signalCode ?? `status ${child.exitCode}`,
    logTail,
    stop: () => options.group.stop(child, 5000),
    async metrics() {
      const startedAt = performance.now();
      const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      if (!response.ok) throw new Error(`agent /metrics: HTTP ${response.status}`);
      return { scrape: parseMetrics(text), at: (startedAt + performance.now()) / 2, bytes: Buffer.byteLength(text) };
    },
    async results() {
      const response = await fetch(`${base}/results`, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`agent /results: HTTP ${response.status}`);
      return (await response.json()) as Awaited<ReturnType<AgentProcess['results']>>;
    },
  };
}
