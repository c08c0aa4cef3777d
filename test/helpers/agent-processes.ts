// Real agents as child processes (`node src/cli.ts agent`) on 127.0.0.x sharing one port, each given a peers file:
// for tests that stop an agent (SIGSTOP/SIGCONT) or need its event loop apart from the test's. Loopback only. Every
// child exits when the test process goes away (bench/agent/agent-guard.mjs), and after two minutes at most.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentConfigInput } from '../../src/config/schema.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import type { AgentResults } from '../../src/agent/results.ts';
import { findSharedPort } from '../../src/util/shared-port.ts';
import { parseExposition, type Sample } from '../../harness/exposition.ts';
import { GiveUp, waitUntil } from '../../harness/wait.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const GUARD = fileURLToPath(new URL('../../bench/agent/agent-guard.mjs', import.meta.url));
const DEADLINE_MS = 120_000;

export interface AgentProcess {
  readonly peer: Peer;
  readonly port: number;
  readonly child: ChildProcess;
  /** The agent's /metrics, parsed. */
  metrics(): Promise<Sample[]>;
  /** The agent's /results. */
  results(): Promise<AgentResults>;
  /** Rewrites the agent's peers file (the agent applies it once the file has been left alone for a moment). */
  setPeers(peers: readonly Peer[]): Promise<void>;
  /** Sends a signal (SIGSTOP, SIGCONT…) to the agent process. */
  signal(signal: NodeJS.Signals): void;
  /** Output of the agent so far (for failure messages). */
  output(): string;
}

export interface AgentProcessGroup {
  readonly port: number;
  /** Starts one agent on `peer.ip` with `peers` as its peer list; resolves once /healthz answers. */
  start(peer: Peer, peers: readonly Peer[], overrides?: AgentConfigInput): Promise<AgentProcess>;
  /** Kills every agent (SIGKILL works on stopped processes too) and removes their files. */
  close(): Promise<void>;
}

/** A port free on every given address, and a place for agents on them. */
export async function createAgentProcessGroup(addresses: readonly string[]): Promise<AgentProcessGroup> {
  const port = await findSharedPort(addresses);
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-agents-'));
  const children: ChildProcess[] = [];
  return {
    port,
    async start(peer, peers, overrides = {}) {
      const peersFile = join(dir, `${peer.nodeName}.peers.json`);
      const configFile = join(dir, `${peer.nodeName}.yaml`);
      await writeFile(peersFile, JSON.stringify(peers));
      const config = {
        port,
        listenAddress: peer.ip,
        logLevel: 'warn',
        shutdownGracePeriod: 0,
        dns: { enabled: false },
        discovery: { peersFile, newPeerDelay: 0 },
        ...overrides,
      };
      await writeFile(configFile, JSON.stringify(config)); // JSON is YAML
      const child = spawn(process.execPath, ['--import', GUARD, CLI, 'agent', '--config', configFile], {
        env: {
          ...process.env,
          ...{ NODE_NAME: peer.nodeName, POD_NAME: peer.name, POD_IP: peer.ip, ZONE: peer.zone },
          KCONMON_BENCH_DEADLINE_MS: String(DEADLINE_MS),
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      children.push(child);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const base = `http://${peer.ip}:${port}`;
      await waitUntil(
        `agent ${peer.nodeName} to be healthy`,
        20_000,
        async (note) => {
          if (child.exitCode !== null || child.signalCode !== null) throw new GiveUp(`agent ${peer.nodeName} exited before it was healthy:\n${output}`);
          note(`output so far:\n${output}`);
          return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
        },
        50,
      );
      return {
        peer,
        port,
        child,
        async metrics() {
          const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
          if (!response.ok) throw new Error(`${peer.nodeName} /metrics: HTTP ${response.status}`);
          return parseExposition(await response.text());
        },
        async results() {
          const response = await fetch(`${base}/results`, { signal: AbortSignal.timeout(5000) });
          if (!response.ok) throw new Error(`${peer.nodeName} /results: HTTP ${response.status}`);
          return (await response.json()) as AgentResults;
        },
        setPeers: (next) => writeFile(peersFile, JSON.stringify(next)),
        signal(signal) {
          child.kill(signal);
        },
        output: () => output,
      };
    },
    async close() {
      await Promise.all(
        children.map((child) => {
          if (child.exitCode !== null || child.signalCode !== null) return undefined;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          return exited;
        }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}
