// kconmon_agent_controller_connected against a real controller process: 0 before the agent's first snapshot, 1 while
// it holds a stream, 0 once the controller is killed with SIGKILL (the agent keeps probing its last list), 1 again
// when a controller returns; labelled with the agent's source and source_zone (relabelled when the controller gives
// its node's zone); agents with a peers file do not export it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startTestNodes, testConfig, testPeer } from '../helpers/agents.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition } from '../../harness/exposition.ts';
import { freePort } from '../../harness/ports.ts';
import { startAgent, type Agent } from '../../src/agent/agent.ts';
import { connectAgentToController } from '../../src/discovery/controller-discovery.ts';
import { createLogger } from '../../src/log.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

function startControllerProcess(configFile: string): ChildProcess {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return spawn(process.execPath, [CLI, 'controller', '--config', configFile], { env, stdio: 'ignore' });
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false;
  }
}

async function connectedSeries(agent: Agent) {
  return parseExposition(await agent.registry.metrics()).filter((sample) => sample.name === 'kconmon_agent_controller_connected');
}

test('kconmon_agent_controller_connected follows the controller stream through a kill -9 and a restart', async () => {
  const self = testPeer(70, 'zone-a');
  const other = testPeer(71, 'zone-b');
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-connected-'));
  // The controller puts node-70 in zone-c: the gauge follows the agent's relabelled source_zone.
  await writeFile(join(dir, 'peers.yaml'), stringify([{ ...self, zone: 'zone-c' }, other]));
  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'controller.yaml');
  await writeFile(configFile, stringify({ port, listenAddress: '127.0.0.1', logLevel: 'silent', heartbeatInterval: 200, source: { peersFile: 'peers.yaml' } }));
  const children: ChildProcess[] = [];
  const start = () => {
    const child = startControllerProcess(configFile);
    children.push(child);
    return child;
  };
  const log = createLogger('silent');
  const agent = await startAgent({
    config: testConfig({
      listenAddress: self.ip,
      discovery: { controller: { urls: [url], reconnectMin: 20, reconnectMax: 200 }, newPeerDelay: 0 },
      udp: { interval: 60_000 },
      tcp: { interval: 60_000 },
    }),
    identity: { nodeName: self.nodeName, podName: self.name, ip: self.ip, zone: self.zone },
    log,
    version: 'test',
    port: 0,
    processMetrics: false,
  });
  let client: { close(): Promise<void> } | undefined;
  try {
    const before = (await connectedSeries(agent)).map(({ labels, value }) => ({ ...labels, value }));
    assert.deepEqual(before, [{ source: 'node-70', source_zone: 'zone-a', value: 0 }], 'exported at 0 before any controller is reached');
    const first = start();
    await waitUntil('the controller to be ready', 15_000, () => ready(url));
    const identity = { nodeName: self.nodeName, podName: self.name };
    client = connectAgentToController(agent, { urls: [url], ...identity, reconnect: { min: 20, max: 200 }, fixedZone: false, log, silenceTimeoutMs: 1000 });
    await waitUntil('the gauge to read 1', 10_000, async () => (await connectedSeries(agent))[0]?.value === 1);
    const relabelled = (await connectedSeries(agent)).map(({ labels }) => labels);
    assert.deepEqual(relabelled, [{ source: 'node-70', source_zone: 'zone-c' }], 'one series, with the zone the controller gave');
    assert.deepEqual(
      agent.peers().map((peer) => peer.nodeName),
      ['node-71'],
    );

    first.kill('SIGKILL');
    await waitUntil('the gauge to read 0 after the controller was killed', 10_000, async () => (await connectedSeries(agent))[0]?.value === 0);
    assert.deepEqual(
      agent.peers().map((peer) => peer.nodeName),
      ['node-71'],
      'the agent keeps probing its last list',
    );

    start();
    await waitUntil('the gauge to read 1 again once a controller is back', 15_000, async () => (await connectedSeries(agent))[0]?.value === 1);
  } finally {
    await client?.close();
    await agent.close();
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('agents with a peers file do not export kconmon_agent_controller_connected', async () => {
  const nodes = await startTestNodes([testPeer(72)]);
  try {
    assert.deepEqual(await connectedSeries(nodes[0]!.agent), []);
  } finally {
    await nodes[0]!.agent.close();
  }
});
