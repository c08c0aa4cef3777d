// kconmon_agent_controller_connected against a real controller process: 0 before the agent's first snapshot, 1 while
// it holds a stream, 0 once the controller is killed with SIGKILL (the agent keeps probing its last list), 1 again
// when a controller returns; labelled with the agent's source and source_zone (relabelled when the controller gives
// its node's zone); agents with a peers file do not export it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNodes, testPeer } from '../helpers/agents.ts';
import { connectToController, createPeersFileController, startDiscoveringAgent } from '../helpers/controller-discovery.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition } from '../../harness/exposition.ts';
import type { Agent } from '../../src/agent/agent.ts';

async function connectedSeries(agent: Agent) {
  return parseExposition(await agent.registry.metrics()).filter((sample) => sample.name === 'kconmon_agent_controller_connected');
}

test('kconmon_agent_controller_connected follows the controller stream through a kill -9 and a restart', async () => {
  const self = testPeer(70, 'zone-a');
  const other = testPeer(71, 'zone-b');
  // The controller puts node-70 in zone-c: the gauge follows the agent's relabelled source_zone.
  const controller = await createPeersFileController([{ ...self, zone: 'zone-c' }, other], { heartbeatInterval: 200 });
  const agent = await startDiscoveringAgent(self, controller.url);
  let client: { close(): Promise<void> } | undefined;
  try {
    const before = (await connectedSeries(agent)).map(({ labels, value }) => ({ ...labels, value }));
    assert.deepEqual(before, [{ source: 'node-70', source_zone: 'zone-a', value: 0 }], 'exported at 0 before any controller is reached');
    const first = await controller.start();
    client = connectToController(agent, self, controller.url, { fixedZone: false, silenceTimeoutMs: 1000 });
    await waitUntil('the gauge to read 1', 10_000, async () => (await connectedSeries(agent))[0]?.value === 1);
    const relabelled = (await connectedSeries(agent)).map(({ labels }) => labels);
    assert.deepEqual(relabelled, [{ source: 'node-70', source_zone: 'zone-c' }], 'one series, with the zone the controller gave');
    assert.deepEqual(
      agent.peers().map((peer) => peer.nodeName),
      ['node-71'],
    );

    await first.kill();
    await waitUntil('the gauge to read 0 after the controller was killed', 10_000, async () => (await connectedSeries(agent))[0]?.value === 0);
    assert.deepEqual(
      agent.peers().map((peer) => peer.nodeName),
      ['node-71'],
      'the agent keeps probing its last list',
    );

    await controller.start();
    await waitUntil('the gauge to read 1 again once a controller is back', 15_000, async () => (await connectedSeries(agent))[0]?.value === 1);
  } finally {
    await client?.close();
    await agent.close();
    await controller.close();
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
