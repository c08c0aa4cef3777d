// What the probe table makes true for every kind, against real sockets and real agent processes: DNS probing goes
// through the probe scheduler, so an agent stopping aborts a DNS query in flight (a resolver that never answers) and
// records nothing of it; a peer that leaves the peers file loses, at once, its series and its /results entries of
// every kind that probes peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent } from '../../src/agent/agent.ts';
import { PROBE_TABLE } from '../../src/agent/probe-table.ts';
import { createLogger } from '../../src/log.ts';
import { parseExposition as samples, sampleSum as sumOf } from '../../harness/exposition.ts';
import { waitUntil } from '../../harness/wait.ts';
import { testConfig, testPeer } from '../helpers/agents.ts';
import { createAgentProcessGroup } from '../helpers/agent-processes.ts';
import { startSilentResolver, TEST_ZONE } from '../helpers/test-resolvers.ts';

// Without an abortable DNS probe, stopping waits out the query's 60 s deadline: beyond this test's timeout.
test('stopping the agent aborts a DNS query in flight: it stops, and no DNS result is recorded', { timeout: 20_000 }, async () => {
  const silent = await startSilentResolver();
  const self = testPeer(70);
  const agent = await startAgent({
    config: testConfig({
      listenAddress: self.ip,
      udp: { enabled: false },
      tcp: { enabled: false },
      dns: { enabled: true, interval: 120_000, timeout: 60_000, targets: [{ host: TEST_ZONE.pass, label: 'silent', resolvers: [silent.server] }] },
    }),
    identity: { nodeName: self.nodeName, podName: self.name, ip: self.ip, zone: self.zone },
    log: createLogger('silent'),
    version: 'test',
    port: 0,
    processMetrics: false,
  });
  try {
    agent.setPeers([]);
    await silent.firstQuery(); // the DNS probe is in flight, and the resolver will never answer it
    await agent.shutdown();
    const dns = samples(await agent.registry.metrics()).filter((sample) => sample.labels.host === 'silent');
    assert.equal(sumOf(dns, 'kconmon_dns_results_total'), 0, 'no DNS result counted');
    assert.deepEqual(
      dns.filter((sample) => sample.name === 'kconmon_dns_duration_milliseconds'),
      [],
      'no DNS duration set',
    );
    const { latest, failures } = agent.history.snapshot();
    assert.deepEqual(
      [...latest, ...failures].filter((entry) => entry.test === 'dns'),
      [],
      'no DNS result in /results',
    );
  } finally {
    await agent.close();
    await silent.close();
  }
});

test('a peer that leaves the peers file loses its series and /results entries of every peer kind at once', { timeout: 60_000 }, async () => {
  const [a, b, c] = [testPeer(71), testPeer(72, 'zone-b'), testPeer(73)];
  const group = await createAgentProcessGroup([a.ip, b.ip, c.ip]);
  const fast = { udp: { interval: 500, timeout: 300, packetSpacing: 5 }, tcp: { interval: 500, timeout: 400 }, jitter: { min: 0, max: 50 } };
  // Every kind of the table that probes peers and is on in this configuration (each kind's config section is its name).
  const config = testConfig(fast);
  const peerKinds = PROBE_TABLE.filter((entry) => entry.targets.followsPeers && config[entry.name].enabled).map((entry) => entry.name);
  assert.ok(peerKinds.length > 0);
  try {
    const peers = [a, b, c];
    const [agentA] = [await group.start(a, peers, fast), await group.start(b, peers, fast), await group.start(c, peers, fast)];
    const tested = async (destination: string) => {
      const { latest } = await agentA!.results();
      return peerKinds.every((kind) => latest.some((entry) => entry.test === kind && entry.target === destination));
    };
    await waitUntil('a result of every peer kind from A to B and C', 20_000, async () => (await tested(b.nodeName)) && (await tested(c.nodeName)));
    const before = await agentA!.metrics();
    for (const kind of peerKinds) {
      const named = before.filter((sample) => sample.name.startsWith(`kconmon_${kind}_`) && sample.labels.destination === b.nodeName);
      assert.ok(named.length > 0, `${kind}: series naming B exist before it leaves`);
    }

    await agentA!.setPeers([a, c]);
    // The peer gauge drops in the same step that removes B's series and entries.
    await waitUntil('A to apply its new peers file', 20_000, async () => sumOf(await agentA!.metrics(), 'kconmon_agent_peers') === 1);
    const after = await agentA!.metrics();
    assert.deepEqual(
      after.filter((sample) => sample.labels.destination === b.nodeName),
      [],
      'no series names B',
    );
    const results = await agentA!.results();
    assert.deepEqual(
      [...results.latest].filter((entry) => entry.target === b.nodeName),
      [],
      'no latest result names B',
    );
    assert.equal(results.peers, 1);
    for (const kind of peerKinds) {
      assert.ok(
        after.some((sample) => sample.name.startsWith(`kconmon_${kind}_`) && sample.labels.destination === c.nodeName),
        `${kind}: C still has series`,
      );
    }
  } finally {
    await group.close();
  }
});
