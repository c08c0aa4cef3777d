// `kconmon demo`: a local mesh of N agent processes on 127.0.0.x sharing one port, like the nodes of a cluster, and a
// controller process that discovers them from a peers file and pushes the list to them — the same push path as in a
// cluster. Prints each agent's metrics URL, then a live results table every round. Loopback only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Peer } from '../discovery/peer.ts';
import { renderResultsTable, type AgentSnapshot } from './results-table.ts';
import type { AgentResults } from '../agent/results.ts';
import { startDemoResolver, type DemoResolver } from './demo-resolver.ts';
import { sleep } from '../util/sleep.ts';
import { findSharedPort } from '../util/shared-port.ts';
import { DEFAULT_MAX_PEERS, selectPeers } from '../topology/peer-selection.ts';

export interface DemoOptions {
  readonly agents: number;
  readonly zones: number;
  readonly durationSeconds: number | undefined;
  readonly dns: boolean;
  readonly intervalMs?: number;
  readonly out?: NodeJS.WritableStream;
}

interface DemoAgent extends DemoProcess {
  readonly peer: Peer;
}

const FIRST_HOST = 11;
const CONTROLLER_ADDRESS = '127.0.0.10';

export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const print = (text: string) => out.write(`${text}\n`);
  const intervalMs = options.intervalMs ?? 5000;
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-demo-'));
  const peers: Peer[] = Array.from({ length: options.agents }, (_, index) => ({
    name: `kconmon-agent-${index + 1}`,
    nodeName: `node-${index + 1}`,
    ip: `127.0.0.${FIRST_HOST + index}`,
    zone: `zone-${String.fromCharCode(97 + (index % options.zones))}`,
  }));
  const port = await findSharedPort([CONTROLLER_ADDRESS, ...peers.map((peer) => peer.ip)]);
  const peersFile = join(dir, 'peers.yaml');
  // The controller starts with no agents and lists them only once all are serving, as it lists only ready pods in a
  // cluster: no test ever hits an agent that is not up yet.
  await writeFile(peersFile, '[]\n');

  let resolver: DemoResolver | undefined;
  if (options.dns)
    resolver = await startDemoResolver({ address: '127.0.0.10', names: peers.map((peer) => ({ name: `${peer.nodeName}.kconmon.demo`, ip: peer.ip })) });

  const agents: DemoAgent[] = [];
  let controller: DemoProcess | undefined;
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    const all = [...agents, ...(controller ? [controller] : [])];
    for (const child of all) child.process.kill('SIGTERM');
    const patience = new AbortController();
    await Promise.race([Promise.all(all.map((child) => child.exited)), sleep(10_000, patience.signal)]);
    patience.abort();
    for (const child of all) child.process.kill('SIGKILL');
    await resolver?.close();
  };
  const onSignal = () => {
    print('\nstopping the demo…');
    // Interrupted: a normal end for an open-ended demo (0), a run that did not finish for a timed one (1).
    void stopAll().then(() => process.exit(options.durationSeconds === undefined ? 0 : 1));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const controllerConfig = join(dir, 'controller.yaml');
    await writeFile(controllerConfig, toYaml({ port, listenAddress: CONTROLLER_ADDRESS, logLevel: 'info', source: { peersFile } }));
    controller = spawnKconmon('controller', controllerConfig, join(dir, 'controller.log'), {});
    const controllerUrl = `http://${CONTROLLER_ADDRESS}:${port}`;
    for (const peer of peers) {
      const config = {
        port,
        listenAddress: peer.ip,
        logLevel: 'info',
        shutdownGracePeriod: 1500,
        udp: { interval: intervalMs },
        tcp: { interval: intervalMs, timeout: Math.min(1000, intervalMs / 2) },
        dns: resolver
          ? {
              enabled: true,
              interval: intervalMs,
              timeout: Math.min(1000, intervalMs / 2),
              targets: [{ host: `${peer.nodeName}.kconmon.demo`, resolvers: [resolver.server] }],
            }
          : { enabled: false },
        discovery: { controller: { urls: [controllerUrl] } },
      };
      const configFile = join(dir, `${peer.nodeName}.yaml`);
      await writeFile(configFile, toYaml(config));
      const env = { NODE_NAME: peer.nodeName, POD_NAME: peer.name, POD_IP: peer.ip };
      agents.push({ ...spawnKconmon('agent', configFile, join(dir, `${peer.nodeName}.log`), env), peer });
    }
    print(`kconmon demo: ${peers.length} agents in ${options.zones} zone(s) on port ${port}; logs and config in ${dir}`);
    print(`  controller        ${controllerUrl}/agents (discovers the agents from ${peersFile} and pushes the list)`);
    for (const peer of peers)
      print(`  ${peer.nodeName.padEnd(8)} ${peer.zone.padEnd(7)} metrics http://${peer.ip}:${port}/metrics  results http://${peer.ip}:${port}/results`);
    if (resolver) print(`  DNS resolver for the demo: ${resolver.server}`);

    await waitForHealthy([
      { name: 'controller', url: `${controllerUrl}/healthz`, child: controller },
      ...agents.map((agent) => ({ name: agent.peer.nodeName, url: `http://${agent.peer.ip}:${port}/healthz`, child: agent })),
    ]);
    await writeFile(peersFile, toYaml(peers));
    print(`all agents are up; the controller now lists them; first results within ${Math.ceil(intervalMs / 1000) + 2} s`);

    const startedAt = Date.now();
    const deadline = options.durationSeconds === undefined ? Number.POSITIVE_INFINITY : startedAt + options.durationSeconds * 1000;
    const interactive = 'isTTY' in out && (out as NodeJS.WriteStream).isTTY === true;
    while (!stopping && Date.now() < deadline) {
      await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
      if (stopping) break;
      const snapshots = await fetchSnapshots(peers, port);
      const elapsed = ((Date.now() - startedAt) / 1000).toFixed(0);
      if (interactive) out.write('\x1b[2J\x1b[H');
      print(`\n[${new Date().toISOString()}] round after ${elapsed} s — press Ctrl-C to stop`);
      print(renderResultsTable(snapshots));
      const crashed = agents.filter((agent) => agent.process.exitCode !== null);
      if (crashed.length > 0) {
        print(`agent(s) exited: ${crashed.map((agent) => agent.peer.nodeName).join(', ')} — see their logs in ${dir}`);
        return 1;
      }
    }

    const final = await fetchSnapshots(peers, port);
    await stopAll();
    const failures = final.flatMap((snapshot) =>
      snapshot.failures.map((failure) => `${snapshot.node} → ${failure.target} ${failure.test}: ${JSON.stringify(failure.summary)}`),
    );
    const pairsWithResults = final.reduce((count, snapshot) => count + snapshot.latest.filter((entry) => entry.test !== 'dns').length, 0);
    // Past probing.maxPeers + 1 agents each tests its selected peers only: the pairs the agents' own assignment holds.
    const assignment = selectPeers(
      peers.map((peer) => ({ name: peer.nodeName, zone: peer.zone })),
      { maxPeers: DEFAULT_MAX_PEERS },
    );
    const expected = [...assignment.targets.values()].reduce((count, targets) => count + targets.length, 0) * 2;
    print(`\ndemo finished: ${pairsWithResults}/${expected} pair results, ${failures.length} failed test(s)`);
    for (const failure of failures) print(`  FAIL ${failure}`);
    const passed = failures.length === 0 && pairsWithResults === expected;
    if (pairsWithResults < expected) print("  not every pair was tested: run longer (--duration) or check the agents' logs");
    if (passed) await rm(dir, { recursive: true, force: true });
    return passed ? 0 : 1;
  } finally {
    await stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface DemoProcess {
  readonly logFile: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Starts `kconmon <command> --config FILE` with the same Node and entry script as this process, logging to a file. */
function spawnKconmon(command: 'agent' | 'controller', configFile: string, logFile: string, env: Record<string, string>): DemoProcess {
  const script = process.argv[1];
  if (!script) throw new Error('demo: cannot find the kconmon entry script to start agents');
  const child = spawn(process.execPath, [...process.execArgv, script, command, '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { logFile, process: child, exited };
}

async function waitForHealthy(targets: readonly { name: string; url: string; child: DemoProcess }[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const target of targets) {
    for (;;) {
      if (target.child.process.exitCode !== null) {
        const log = await readFile(target.child.logFile, 'utf8').catch(() => '');
        throw new Error(
          `demo: ${target.name} exited with status ${target.child.process.exitCode} before it was ready:\n${log.trim().split('\n').slice(-5).join('\n')}`,
        );
      }
      try {
        const response = await fetch(target.url, { signal: AbortSignal.timeout(500) });
        if (response.ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`demo: ${target.name} did not become healthy within 20 s`);
      await sleep(100);
    }
  }
}

async function fetchSnapshots(peers: readonly Peer[], port: number): Promise<AgentSnapshot[]> {
  return Promise.all(
    peers.map(async (peer) => {
      try {
        const response = await fetch(`http://${peer.ip}:${port}/results`, { signal: AbortSignal.timeout(2000) });
        const body = (await response.json()) as AgentResults;
        return { node: peer.nodeName, zone: peer.zone, latest: body.latest, failures: body.failures };
      } catch {
        return { node: peer.nodeName, zone: peer.zone, latest: [], failures: [] };
      }
    }),
  );
}
