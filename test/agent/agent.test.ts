// Agents on loopback probing each other for real: series per ordered pair with zone labels and never a self pair,
// exposition accepted by promtool, peers removed mid-round leave no failure and no series, zone changes, the echo's
// source filter, the HTTP endpoints and the shutdown grace period.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { startTestNodes, testPeer, testConfig } from '../helpers/agents.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition } from '../../harness/exposition.ts';
import { startScriptedEcho } from '../helpers/scripted-echo.ts';
import { skipUnlessAvailable } from '../harness/require.ts';
import { startAgent } from '../../src/agent/agent.ts';
import { createLogger } from '../../src/log.ts';

// Short intervals keep the tests quick; timeouts stay generous so a loaded CI machine does not turn slowness into loss.
const fastProbes = { udp: { interval: 600, timeout: 400, packetSpacing: 5 }, tcp: { interval: 600, timeout: 500 }, jitter: { min: 0, max: 50 } };

async function metricsOf(agent: { registry: { metrics(): Promise<string> } }) {
  return parseExposition(await agent.registry.metrics());
}

test('three agents probe every other agent, never themselves, with node and zone labels', async () => {
  const peers = [testPeer(1, 'zone-a'), testPeer(2, 'zone-a'), testPeer(3, 'zone-b')];
  const nodes = await startTestNodes(peers, fastProbes);
  try {
    for (const node of nodes) node.agent.setPeers(peers);
    await waitUntil('a passed UDP and TCP test for every ordered pair', 10_000, async () => {
      for (const node of nodes) {
        const passes = (await metricsOf(node.agent)).filter((s) => /_(udp|tcp)_results_total$/.test(s.name) && s.labels.result === 'pass' && s.value > 0);
        if (passes.length < 4) return false;
      }
      return true;
    });
    const node1 = await metricsOf(nodes[0]!.agent);
    const destinations = new Set(
      node1.filter((s) => s.name === 'kconmon_udp_duration_milliseconds').map((s) => `${s.labels.destination}/${s.labels.destination_zone}`),
    );
    assert.deepEqual([...destinations].sort(), ['node-2/zone-a', 'node-3/zone-b']);
    assert.ok(
      node1.every((s) => s.labels.destination !== 'node-1'),
      'no self pair',
    );
    assert.ok(node1.filter((s) => s.labels.source !== undefined).every((s) => s.labels.source === 'node-1' && s.labels.source_zone === 'zone-a'));
    assert.equal(node1.find((s) => s.name === 'kconmon_agent_peers')?.value, 2);
    const fails = node1.filter((s) => /_results_total$/.test(s.name) && s.labels.result === 'fail');
    assert.ok(fails.length > 0 && fails.every((s) => s.value === 0), 'fail counters exist at zero');
    const loss = node1.filter((s) => s.name === 'kconmon_udp_loss');
    assert.ok(loss.length === 2 && loss.every((s) => s.value === 0));
    const rttBuckets = node1.filter((s) => s.name === 'kconmon_udp_rtt_seconds_bucket');
    assert.deepEqual(new Set(rttBuckets.map((s) => s.labels.destination_scope)), new Set(['same_zone', 'other_zone']), 'histograms by destination scope');
    assert.ok(
      rttBuckets.every((s) => s.labels.destination_zone === undefined),
      'histograms carry no destination zone',
    );
    assert.ok(
      rttBuckets.every((s) => s.labels.destination === undefined),
      'histograms carry no destination node',
    );
  } finally {
    await Promise.all(nodes.map((node) => node.agent.close()));
  }
});

test('the exposition passes promtool check metrics', async (t) => {
  const promtool = '/usr/bin/promtool';
  if (!skipUnlessAvailable(t, existsSync(promtool) ? undefined : 'promtool not installed (Debian package prometheus)')) return;
  const peers = [testPeer(4), testPeer(5, 'zone-b')];
  const nodes = await startTestNodes(peers, fastProbes);
  try {
    for (const node of nodes) node.agent.setPeers(peers);
    await waitUntil('a TCP result', 10_000, async () => (await metricsOf(nodes[0]!.agent)).some((s) => s.name === 'kconmon_tcp_duration_milliseconds'));
    const exposition = await nodes[0]!.agent.registry.metrics();
    const checked = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    const findings = `${checked.stdout}${checked.stderr}`.split('\n').filter((line) => line.trim() !== '');
    // The original kconmon's gauges keep their millisecond names (dashboards query them); promtool's unit lint on
    // those names is the only finding allowed. Status 3 = lint findings only; 1 would be an invalid exposition.
    const legacyUnit =
      /^kconmon_(tcp_connect|tcp_duration|udp_duration|udp_duration_variance|dns_duration)_milliseconds use base unit "seconds" instead of "milliseconds"$/;
    assert.ok(checked.status === 0 || checked.status === 3, `promtool exit ${checked.status}: ${findings.join('; ')}`);
    assert.deepEqual(
      findings.filter((line) => !legacyUnit.test(line)),
      [],
      'no finding beyond the legacy metric names',
    );
    assert.equal(checked.status === 0, findings.length === 0);
  } finally {
    await Promise.all(nodes.map((node) => node.agent.close()));
  }
});

test('a peer removed while its tests are in flight produces no failure and its series vanish at once', async () => {
  // The peer is a black hole (echo drops, TCP accepts but never answers), so every test to it is in flight for its
  // whole timeout: removing it then must discard those tests, not count them as failures.
  const self = testPeer(10);
  const hole = testPeer(11, 'zone-b');
  const nodes = await startTestNodes([self], {
    ...fastProbes,
    udp: { interval: 2000, timeout: 1500, packetSpacing: 5 },
    tcp: { interval: 2000, timeout: 1500 },
  });
  const agent = nodes[0]!.agent;
  const echo = await startScriptedEcho(() => ({ kind: 'drop' }), hole.ip);
  const sockets: net.Socket[] = [];
  const tcpHole = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => tcpHole.listen({ host: hole.ip, port: agent.port }, () => resolve()));
  // The black hole must sit on the agent's port number: re-point the echo there.
  await echo.close();
  const udpHole = dgram.createSocket('udp4');
  let datagrams = 0;
  udpHole.on('message', () => datagrams++);
  await new Promise<void>((resolve) => udpHole.bind({ address: hole.ip, port: agent.port }, () => resolve()));
  try {
    agent.setPeers([self, hole]);
    await waitUntil('UDP and TCP tests in flight to the peer', 10_000, () => datagrams > 0 && sockets.length > 0);
    assert.ok(
      (await metricsOf(agent)).some((s) => s.labels.destination === 'node-11'),
      'series exist while the peer is known',
    );
    // First runs are spread over the interval: a UDP test may have ended (failed) before the TCP one started. Only
    // what is in flight at the removal is judged.
    const failedBefore = agent.history.snapshot().failures.length;
    agent.setPeers([self]);
    assert.deepEqual(
      (await metricsOf(agent)).filter((s) => s.labels.destination === 'node-11'),
      [],
      'series removed at once',
    );
    await new Promise((resolve) => setTimeout(resolve, 1800)); // past every in-flight timeout
    const after = await metricsOf(agent);
    assert.deepEqual(
      after.filter((s) => s.labels.destination === 'node-11'),
      [],
      'no late result recreated a series',
    );
    assert.deepEqual(agent.history.snapshot().failures.slice(failedBefore), [], 'no failure recorded after the removal');
    assert.equal(after.find((s) => s.name === 'kconmon_agent_peers')?.value, 0);
  } finally {
    for (const socket of sockets) socket.destroy();
    tcpHole.close();
    udpHole.close();
    await agent.close();
  }
});

test("a zone change replaces the peer's series: old zone labels removed, new ones created", async () => {
  const peers = [testPeer(20), testPeer(21, 'zone-a')];
  const nodes = await startTestNodes(peers, fastProbes);
  try {
    nodes[0]!.agent.setPeers(peers);
    nodes[1]!.agent.setPeers(peers);
    const zoneOf21 = async () => new Set((await metricsOf(nodes[0]!.agent)).filter((s) => s.name === 'kconmon_udp_loss').map((s) => s.labels.destination_zone));
    await waitUntil('a result for node-21 in zone-a', 10_000, async () => (await zoneOf21()).has('zone-a'));
    const moved = [peers[0]!, { ...peers[1]!, zone: 'zone-c' }];
    nodes[0]!.agent.setPeers(moved);
    assert.equal((await metricsOf(nodes[0]!.agent)).filter((s) => s.labels.destination === 'node-21' && s.labels.destination_zone === 'zone-a').length, 0);
    await waitUntil('a result for node-21 in zone-c', 10_000, async () => (await zoneOf21()).has('zone-c'));
  } finally {
    await Promise.all(nodes.map((node) => node.agent.close()));
  }
});

test('the UDP echo answers peers only, byte for byte, never larger than the request', async () => {
  const self = testPeer(30);
  const friend = testPeer(31);
  const nodes = await startTestNodes([self], { udp: { interval: 60_000 }, tcp: { interval: 60_000 } });
  const agent = nodes[0]!.agent;
  agent.setPeers([self, friend]);
  const ask = async (from: string, payload: Buffer) => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: from, port: 0 }, () => resolve()));
    try {
      return await new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 300);
        socket.once('message', (message) => {
          clearTimeout(timer);
          resolve(message);
        });
        socket.send(payload, agent.port, self.ip);
      });
    } finally {
      socket.close();
    }
  };
  try {
    const payload = Buffer.from('0123456789abcdef');
    assert.deepEqual(await ask(friend.ip, payload), payload, 'a peer is echoed');
    assert.equal(await ask('127.0.0.199', payload), undefined, 'a stranger is not');
    assert.equal(await ask(friend.ip, Buffer.alloc(1473)), undefined, 'oversized datagrams are not echoed');
    const counts = (await metricsOf(agent)).filter((s) => s.name === 'kconmon_udp_echo_requests_total');
    assert.deepEqual(Object.fromEntries(counts.map((s) => [s.labels.result, s.value])), { echoed: 1, refused_source: 1, refused_size: 1 });
  } finally {
    await agent.close();
  }
});

test('HTTP: /readiness closes the connection, /healthz, /readyz after the first peer list, /results, 404 and 405', async () => {
  const self = testPeer(40);
  const nodes = await startTestNodes([self]);
  const agent = nodes[0]!.agent;
  const get = (path: string, method = 'GET') =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const request = http.request({ host: self.ip, port: agent.port, path, method, agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      });
      request.on('error', reject);
      request.end();
    });
  try {
    const readiness = await get('/readiness');
    assert.equal(readiness.status, 200);
    assert.equal(readiness.headers.connection, 'close');
    assert.equal((await get('/healthz')).status, 200);
    // Regression (issue 13's real-node rollout): an agent without a peer list refuses every peer's echo, so it must not
    // be Ready (the controller lists only Ready agents as probe targets) until its first list arrives.
    const early = await get('/readyz');
    assert.equal(early.status, 503);
    assert.match(early.body, /no peer list yet/);
    agent.setPeers([]);
    assert.equal((await get('/readyz')).status, 200, 'ready from the first list on, even an empty one');
    const results = JSON.parse((await get('/results')).body) as { node: string; latest: unknown[] };
    assert.equal(results.node, 'node-40');
    assert.deepEqual(results.latest, []);
    assert.equal((await get('/nope')).status, 404);
    const post = await get('/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  } finally {
    await agent.close();
  }
});

test('shutdown: probing stops at once, yet echo and /readiness answer peers through the grace period', async () => {
  const self = testPeer(50);
  const other = testPeer(51);
  const agent = await startAgent({
    config: testConfig({ listenAddress: self.ip, shutdownGracePeriod: 600, ...fastProbes }),
    identity: { nodeName: self.nodeName, podName: self.name, ip: self.ip, zone: self.zone },
    log: createLogger('silent'),
    version: 'test',
    port: 0,
    processMetrics: false,
  });
  agent.setPeers([self, other]);
  const shutdown = agent.shutdown();
  const startedAt = performance.now();
  try {
    const readiness = await fetch(`http://${self.ip}:${agent.port}/readiness`);
    assert.equal(readiness.status, 200, 'peers still get /readiness');
    assert.equal((await fetch(`http://${self.ip}:${agent.port}/healthz`)).status, 503, '/healthz reports stopping');
    assert.equal((await fetch(`http://${self.ip}:${agent.port}/readyz`)).status, 503, '/readyz reports stopping');
    assert.deepEqual(agent.peers(), [], 'no peer is probed any more');
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: other.ip, port: 0 }, () => resolve()));
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 300);
      socket.once('message', (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      socket.send(Buffer.from('ping'), agent.port, self.ip);
    });
    socket.close();
    assert.equal(reply?.toString(), 'ping', 'the echo still answers a peer');
  } finally {
    await shutdown;
  }
  assert.ok(performance.now() - startedAt >= 550, 'closed only after the grace period');
  await assert.rejects(fetch(`http://${self.ip}:${agent.port}/readiness`), 'closed after the grace period');
});
