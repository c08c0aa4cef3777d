// The push path end to end without Kubernetes: a real controller (peers-file discovery) streaming to the real agent
// client over HTTP — snapshot, prompt changes, keeping the last list through outages, failover between replicas,
// bad messages, and the original's GET /agents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startController, type Controller } from '../../src/controller/controller.ts';
import { parseControllerConfig } from '../../src/config/load.ts';
import { startControllerClient, type AgentSetUpdate } from '../../src/discovery/controller-client.ts';
import { createLogger } from '../../src/log.ts';
import { waitUntil } from '../../harness/wait.ts';
import type { Peer } from '../../src/discovery/peer.ts';

const log = createLogger('silent');
const peer = (index: number, zone = 'zone-a'): Peer => ({ name: `agent-${index}`, nodeName: `node-${index}`, ip: `127.0.0.${index}`, zone });

async function startFileController(dir: string, peers: Peer[], port = 0): Promise<{ controller: Controller; file: string; url: string }> {
  const file = join(dir, 'peers.yaml');
  await writeFile(file, stringify(peers));
  const config = parseControllerConfig({ listenAddress: '127.0.0.1', logLevel: 'silent', heartbeatInterval: 200, source: { peersFile: file } }, 'test');
  const controller = await startController({ config, log, port, processMetrics: false });
  await controller.synced;
  return { controller, file, url: `http://127.0.0.1:${controller.port}` };
}

function collect(urls: string[], nodeName = 'node-1') {
  const updates: AgentSetUpdate[] = [];
  const client = startControllerClient({
    urls,
    nodeName,
    podName: `agent-${nodeName.slice(5)}`,
    reconnect: { min: 20, max: 200 },
    silenceTimeoutMs: 1000,
    log,
    onUpdate: (update) => updates.push(update),
  });
  return { updates, client, last: () => updates.at(-1) };
}

test('snapshot on connect, own zone included; a file change reaches the agent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-push-'));
  const { controller, file, url } = await startFileController(dir, [peer(1, 'zone-a'), peer(2, 'zone-b')]);
  const agent = collect([url]);
  try {
    await waitUntil('the snapshot', 3000, () => agent.updates.length > 0);
    assert.equal(agent.last()?.zone, 'zone-a');
    assert.deepEqual(
      agent.last()?.agents.map((entry) => entry.nodeName),
      ['node-1', 'node-2'],
    );
    assert.ok(agent.last()?.agents.every((entry) => entry.ready));
    await writeFile(file, stringify([peer(1, 'zone-c'), peer(3, 'zone-b')]));
    await waitUntil('the change', 3000, () => agent.last()?.agents.some((entry) => entry.nodeName === 'node-3') === true);
    assert.deepEqual(
      agent
        .last()
        ?.agents.map((entry) => entry.nodeName)
        .sort(),
      ['node-1', 'node-3'],
    );
    assert.equal(agent.last()?.zone, 'zone-c', "its own node's zone change is seen");
    const agents = (await (await fetch(`${url}/agents`)).json()) as unknown[];
    assert.deepEqual(agents, [
      { name: 'agent-1', nodeName: 'node-1', ip: '127.0.0.1', zone: 'zone-c' },
      { name: 'agent-3', nodeName: 'node-3', ip: '127.0.0.3', zone: 'zone-b' },
    ]);
    assert.equal((await fetch(`${url}/agent/agent-3`)).status, 200);
    assert.equal((await fetch(`${url}/agent/nope`)).status, 404);
    assert.equal((await fetch(`${url}/v1/watch`)).status, 400, 'the watch names a node');
  } finally {
    await agent.client.close();
    await controller.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('controller down: the agent keeps its last list, reconnects when it is back, and gets a fresh snapshot', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-push-'));
  let { controller, url } = await startFileController(dir, [peer(1), peer(2)]);
  const port = controller.port;
  const agent = collect([url]);
  try {
    await waitUntil('connection', 3000, () => agent.client.connected());
    const before = agent.updates.length;
    await controller.stop();
    await waitUntil('disconnection', 3000, () => !agent.client.connected());
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(agent.updates.length, before, 'no update while the controller is down: the last list stands');
    ({ controller } = await startFileController(dir, [peer(1), peer(2), peer(4)], port));
    await waitUntil('reconnection with the new list', 5000, () => agent.client.connected() && agent.last()?.agents.length === 3);
  } finally {
    await agent.client.close();
    await controller.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('two replicas: when the one in use stops, the agent fails over to the other', async () => {
  const dirA = await mkdtemp(join(tmpdir(), 'kconmon-push-'));
  const dirB = await mkdtemp(join(tmpdir(), 'kconmon-push-'));
  const a = await startFileController(dirA, [peer(1), peer(2)]);
  const b = await startFileController(dirB, [peer(1), peer(2)]);
  const agent = collect([a.url, b.url]);
  try {
    await waitUntil('connection', 3000, () => agent.client.connected());
    const first = agent.last()!.controller;
    const [inUse, other] = first === a.controller.id ? [a, b] : [b, a];
    assert.equal(inUse.controller.id, first);
    await inUse.controller.stop();
    await waitUntil('failover to the other replica', 5000, () => agent.client.connected() && agent.last()!.controller === other.controller.id);
    assert.deepEqual(
      agent.last()!.agents.map((entry) => entry.name),
      ['agent-1', 'agent-2'],
    );
  } finally {
    await agent.client.close();
    await Promise.all([a.controller.stop(), b.controller.stop()]);
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
});

test('a bad message or a version gap: the agent keeps its last good list and reconnects for a fresh snapshot', async () => {
  let connections = 0;
  const snapshot = (agents: unknown[]) =>
    `${JSON.stringify({ type: 'snapshot', version: 1, controller: 'fake', self: { nodeName: 'node-1', zone: 'z' }, agents })}\n`;
  const good = [{ name: 'agent-2', nodeName: 'node-2', ip: '127.0.0.2', zone: 'z', ready: true }];
  const server = http.createServer((_request, response) => {
    connections++;
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (connections === 1) {
      response.write(snapshot(good));
      response.write('{"type":"change","version":2,"upsert":[{"name":"agent-3","nodeName":"node-3","ip":"not-an-ip","zone":"z","ready":true}],"remove":[]}\n');
    } else if (connections === 2) {
      response.write(snapshot(good));
      response.write('{"type":"change","version":5,"upsert":[],"remove":["agent-2"]}\n');
    } else {
      response.write(snapshot([...good, { name: 'agent-4', nodeName: 'node-4', ip: '127.0.0.4', zone: 'z', ready: true }]));
    }
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const lines: string[] = [];
  const { pino } = await import('pino');
  const capture = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const updates: AgentSetUpdate[] = [];
  const client = startControllerClient({
    urls: [`http://127.0.0.1:${(server.address() as { port: number }).port}`],
    nodeName: 'node-1',
    podName: 'agent-1',
    reconnect: { min: 20, max: 100 },
    log: capture,
    onUpdate: (update) => updates.push(update),
  });
  try {
    await waitUntil('a third, good stream', 5000, () => connections >= 3 && updates.at(-1)?.agents.length === 2);
    // Neither the invalid change nor the gapped one was applied: each stream's list stayed the snapshot's.
    assert.deepEqual(
      updates.slice(0, 2).map((update) => update.agents.map((entry) => entry.name)),
      [['agent-2'], ['agent-2']],
    );
    const warnings = lines.join('\n');
    assert.match(warnings, /upsert\[0\]\.ip: must be an IPv4 or IPv6 address/);
    assert.match(warnings, /version gap: had 1, got change 5/);
  } finally {
    await client.close();
    server.closeAllConnections();
    server.close();
  }
});
