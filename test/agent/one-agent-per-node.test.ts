// One probed identity per node, with real agents on loopback: when a node's agent is replaced by a new pod with a new
// IP (a rolling update with maxSurge), the node's series stay and its counters continue — the pre-created
// result="fail" series never disappear — and only the new agent is probed from then on; two agents listed on one
// node are never probed together under one destination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNodes, testPeer } from '../helpers/agents.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition, sampleSum } from '../../harness/exposition.ts';
import type { Agent } from '../../src/agent/agent.ts';
import type { Peer } from '../../src/discovery/peer.ts';

const fastProbes = { udp: { interval: 400, timeout: 300, packetSpacing: 5 }, tcp: { interval: 400, timeout: 300 }, jitter: { min: 0, max: 50 } };

async function seriesTo(agent: Agent, nodeName: string): Promise<Map<string, number>> {
  const all = parseExposition(await agent.registry.metrics()).filter((sample) => sample.labels.destination === nodeName);
  return new Map(
    all.map((sample) => [
      `${sample.name}{${Object.entries(sample.labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(',')}}`,
      sample.value,
    ]),
  );
}

const value = (series: Map<string, number>, prefix: string) => [...series].filter(([key]) => key.startsWith(prefix)).reduce((sum, [, count]) => sum + count, 0);
const isCounter = (key: string) => /^[a-z_]+_total\{/.test(key);
const echoed = async (agent: Agent) => sampleSum(parseExposition(await agent.registry.metrics()), 'kconmon_udp_echo_requests_total', { result: 'echoed' });

test('a node whose agent is replaced by a new pod and IP keeps its series and counters; only the new IP is probed', async () => {
  const source = testPeer(60);
  const oldAgent: Peer = testPeer(61);
  // The DaemonSet's new pod on the same node: another name, another IP.
  const newAgent: Peer = { ...oldAgent, name: 'agent-61-surge', ip: testPeer(62).ip };
  const nodes = await startTestNodes([source, oldAgent, newAgent], fastProbes);
  const [prober, before, after] = nodes.map((node) => node.agent) as [Agent, Agent, Agent];
  try {
    // node-61's agents probe nothing; their echoes answer node-60.
    before.setPeers([], [source.ip]);
    after.setPeers([], [source.ip]);
    prober.setPeers([source, oldAgent], [newAgent.ip]);
    await waitUntil('UDP and TCP results for node-61 from its first agent', 10_000, async () => {
      const series = await seriesTo(prober, 'node-61');
      return value(series, 'kconmon_udp_results_total{') >= 2 && value(series, 'kconmon_tcp_results_total{') >= 2;
    });
    const oldEchoes = await echoed(before);
    assert.ok(oldEchoes > 0, 'the first agent was probed');

    // The controller now elects the new pod; the old one stays listed (not ready) until it terminates.
    const scrapeBefore = await seriesTo(prober, 'node-61');
    prober.setPeers([source, newAgent], [oldAgent.ip]);
    const scrapeAfter = await seriesTo(prober, 'node-61');
    for (const [key, count] of scrapeBefore) {
      assert.ok(scrapeAfter.has(key), `${key} still exported after the replacement`);
      if (isCounter(key)) assert.ok(scrapeAfter.get(key)! >= count, `${key} did not go down (${count} → ${scrapeAfter.get(key)})`);
    }
    for (const kind of ['udp', 'tcp']) {
      const failSeries = [...scrapeAfter.keys()].filter((key) => key.startsWith(`kconmon_${kind}_results_total{`) && key.includes('result=fail'));
      assert.equal(failSeries.length, 1, `${kind} result="fail" series kept`);
    }
    assert.deepEqual(
      prober.peers().map((peer) => peer.ip),
      [newAgent.ip],
      'one probe target for node-61: the new IP',
    );

    // The old pod goes away: any probe still sent to it would now fail.
    await before.close();
    prober.setPeers([source, newAgent]);
    const passedAtSwitch = { udp: value(scrapeAfter, 'kconmon_udp_results_total{'), tcp: value(scrapeAfter, 'kconmon_tcp_results_total{') };
    await waitUntil('three more UDP and TCP results for node-61, against the new agent', 10_000, async () => {
      const series = await seriesTo(prober, 'node-61');
      return value(series, 'kconmon_udp_results_total{') >= passedAtSwitch.udp + 3 && value(series, 'kconmon_tcp_results_total{') >= passedAtSwitch.tcp + 3;
    });
    const final = await seriesTo(prober, 'node-61');
    for (const [key, count] of scrapeAfter) {
      assert.ok(final.has(key), `${key} still exported`);
      if (isCounter(key)) assert.ok(final.get(key)! >= count, `${key} only grows (${count} → ${final.get(key)})`);
    }
    const failed = [...final].filter(([key]) => /^kconmon_(udp|tcp)_results_total\{/.test(key) && key.includes('result=fail'));
    assert.equal(failed.length, 2, 'the UDP and TCP result="fail" series');
    assert.deepEqual(
      failed.map(([, count]) => count),
      [0, 0],
      'no failed test: nothing probed the departed IP',
    );
    assert.ok((await echoed(after)) >= 3 * 5, 'the new agent answers the probes');
    const peerCount = parseExposition(await prober.registry.metrics()).find((sample) => sample.name === 'kconmon_agent_peers')?.value;
    assert.equal(peerCount, 1);
  } finally {
    await Promise.all([prober.close(), before.close(), after.close()]);
  }
});

test('two agents listed as probe targets on one node: one is probed, the one already probed is kept', async () => {
  const source = testPeer(63);
  const first: Peer = testPeer(64);
  const second: Peer = { ...first, name: 'agent-64-surge', ip: testPeer(65).ip };
  const nodes = await startTestNodes([source, first, second], fastProbes);
  const [prober, a, b] = nodes.map((node) => node.agent) as [Agent, Agent, Agent];
  try {
    a.setPeers([], [source.ip]);
    b.setPeers([], [source.ip]);
    prober.setPeers([source, first]);
    prober.setPeers([source, first, second]);
    assert.deepEqual(
      prober.peers().map((peer) => peer.ip),
      [first.ip],
      'the agent probed already stays the target',
    );
    prober.setPeers([source, second, first]);
    assert.deepEqual(
      prober.peers().map((peer) => peer.ip),
      [first.ip],
      'whatever the order',
    );
    prober.setPeers([source, second]);
    assert.deepEqual(
      prober.peers().map((peer) => peer.ip),
      [second.ip],
    );
    await waitUntil('UDP results for node-64', 10_000, async () => value(await seriesTo(prober, 'node-64'), 'kconmon_udp_results_total{') >= 2);
    const lossSeries = parseExposition(await prober.registry.metrics()).filter((sample) => sample.name === 'kconmon_udp_loss');
    const destinations = lossSeries.map((sample) => sample.labels.destination);
    assert.deepEqual(destinations, ['node-64'], 'one series per node');
  } finally {
    await Promise.all([prober.close(), a.close(), b.close()]);
  }
});
