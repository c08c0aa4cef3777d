// Bounded probing against real agent processes and real sockets: with a peer list longer than `probing.maxPeers`, an
// agent probes exactly its row of `selectPeers` (counted at the peers: UDP datagrams and HTTP requests by source
// address), has per-pair series for those peers only, exports its listed and expected-prober counts, still answers
// the echo of a listed peer it does not probe, and moves its series as the assignment says when the list changes
// (from a peers file, and from a controller's snapshot and pushed changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { Peer } from '../../src/discovery/peer.ts';
import { peersOf, selectPeers } from '../../src/topology/peer-selection.ts';
import { parseExposition, type Sample, sampleSum } from '../../harness/exposition.ts';
import { waitUntil } from '../../harness/wait.ts';
import { testPeer } from '../helpers/agents.ts';
import { createAgentProcessGroup, type AgentProcess } from '../helpers/agent-processes.ts';
import { connectToController, createPeersFileController, startDiscoveringAgent } from '../helpers/controller-discovery.ts';
import { startScriptedEcho, type ScriptedEcho } from '../helpers/scripted-echo.ts';

const MAX_PEERS = 3;
const FAST = {
  udp: { interval: 500, timeout: 300, packetSpacing: 5 },
  tcp: { interval: 500, timeout: 400 },
  jitter: { min: 0, max: 50 },
  probing: { maxPeers: MAX_PEERS },
};

/** A listed "peer" that is no agent: it answers UDP echoes and HTTP, and counts both by source address. */
interface Recorder {
  readonly peer: Peer;
  datagramsFrom(address: string): number;
  requestsFrom(address: string): number;
  close(): Promise<void>;
}

async function startRecorder(peer: Peer, port: number): Promise<Recorder> {
  const echo: ScriptedEcho = await startScriptedEcho(() => ({ kind: 'echo' }), peer.ip, port);
  const requests: string[] = [];
  const http: Server = createServer((request, response) => {
    requests.push(request.socket.remoteAddress ?? '');
    response.end();
  });
  await new Promise<void>((resolve) => http.listen(port, peer.ip, resolve));
  return {
    peer,
    datagramsFrom: (address) => echo.senders.filter((sender) => sender.address === address).length,
    requestsFrom: (address) => requests.filter((source) => source === address).length,
    async close() {
      http.closeAllConnections();
      await Promise.all([echo.close(), new Promise((resolve) => http.close(resolve))]);
    },
  };
}

/** The nodes named by per-pair series (`destination`) of the agent's own scrape. */
function seriesDestinations(samples: readonly Sample[]): string[] {
  return [...new Set(samples.flatMap((sample) => (sample.labels.destination === undefined ? [] : [sample.labels.destination])))].sort();
}

const topology = (peers: readonly Peer[]) => peers.map((peer) => ({ name: peer.nodeName, zone: peer.zone }));

/** One datagram from `from` (an ephemeral port) to the agent's echo; resolves whether it was answered within 2 s. */
async function echoAnswers(from: string, to: string, port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind({ address: from, port: 0 }, resolve));
  try {
    const answered = new Promise<boolean>((resolve) => {
      socket.once('message', () => resolve(true));
      setTimeout(() => resolve(false), 2000);
    });
    socket.send(Buffer.from([1, 2, 3, 4]), port, to);
    return await answered;
  } finally {
    socket.close();
  }
}

test('past probing.maxPeers an agent probes exactly its selected peers, answers every listed one, and follows list changes', { timeout: 90_000 }, async () => {
  const agents = [testPeer(120, 'zone-a'), testPeer(121, 'zone-b')];
  const recorderPeers = [testPeer(122, 'zone-a'), testPeer(123, 'zone-b'), testPeer(124, 'zone-c'), testPeer(125, 'zone-c')];
  const extra = testPeer(126, 'zone-c');
  const stranger = testPeer(127, 'zone-c'); // never listed
  const peers = [...agents, ...recorderPeers];
  const group = await createAgentProcessGroup([...peers, extra, stranger].map((peer) => peer.ip));
  const recorders: Recorder[] = [];
  try {
    for (const peer of [...recorderPeers, extra]) recorders.push(await startRecorder(peer, group.port));
    const assignment = selectPeers(topology(peers), { maxPeers: MAX_PEERS });
    assert.equal(assignment.fullMesh, false);
    const running: AgentProcess[] = [];
    for (const agent of agents) running.push(await group.start(agent, peers, FAST));

    for (const agent of running) {
      const self = agent.peer;
      const selected = [...peersOf(assignment, self.nodeName)].sort();
      const selectedRecorders = recorders.filter((recorder) => selected.includes(recorder.peer.nodeName));
      const unselectedRecorders = recorders.filter((recorder) => !selected.includes(recorder.peer.nodeName) && recorder.peer !== extra);
      assert.ok(selectedRecorders.length > 0 && unselectedRecorders.length > 0, `${self.nodeName}: the assignment selects some recorders, not all`);

      // Two rounds of 5 datagrams and two HTTP tests at every selected peer: every probed peer has been probed by now.
      await waitUntil(`${self.nodeName} to probe its selected peers twice`, 30_000, (note) => {
        note(selectedRecorders.map((r) => `${r.peer.nodeName}: ${r.datagramsFrom(self.ip)} datagrams, ${r.requestsFrom(self.ip)} requests`).join('; '));
        return selectedRecorders.every((recorder) => recorder.datagramsFrom(self.ip) >= 10 && recorder.requestsFrom(self.ip) >= 2);
      });
      for (const recorder of unselectedRecorders) {
        assert.equal(recorder.datagramsFrom(self.ip), 0, `${self.nodeName} sent no datagram to unselected ${recorder.peer.nodeName}`);
        assert.equal(recorder.requestsFrom(self.ip), 0, `${self.nodeName} sent no HTTP test to unselected ${recorder.peer.nodeName}`);
      }
      const samples = await agent.metrics();
      assert.deepEqual(seriesDestinations(samples), selected, `${self.nodeName}: per-pair series exist for the selected peers only`);
      assert.equal(sampleSum(samples, 'kconmon_agent_peers'), selected.length);
      assert.equal(sampleSum(samples, 'kconmon_agent_listed_peers'), peers.length - 1);
      const probers = [...assignment.targets.values()].filter((row) => row.includes(self.nodeName)).length;
      assert.equal(sampleSum(samples, 'kconmon_agent_expected_probers'), probers);
      assert.equal((await agent.results()).peers, selected.length);
    }

    // The echo answers every listed agent, probed by this one or not; an unlisted source is refused.
    const [first] = running;
    const notProbedByFirst = recorderPeers.find((peer) => !peersOf(assignment, first!.peer.nodeName).includes(peer.nodeName))!;
    assert.equal(await echoAnswers(notProbedByFirst.ip, first!.peer.ip, group.port), true, `the echo answers listed, unselected ${notProbedByFirst.nodeName}`);
    assert.equal(await echoAnswers(stranger.ip, first!.peer.ip, group.port), false, 'the echo refuses an unlisted source');

    // A list change (one node joins or leaves) moves the series as the new assignment says.
    const changes = [[...peers, extra], ...recorderPeers.map((gone) => peers.filter((peer) => peer !== gone))];
    const before = [...peersOf(assignment, first!.peer.nodeName)].sort();
    const next = changes.find((list) => {
      const row = [...peersOf(selectPeers(topology(list), { maxPeers: MAX_PEERS }), first!.peer.nodeName)].sort();
      return row.join() !== before.join();
    });
    assert.ok(next, "some join or leave changes the first agent's selection");
    const after = [...peersOf(selectPeers(topology(next), { maxPeers: MAX_PEERS }), first!.peer.nodeName)].sort();
    await first!.setPeers(next);
    await waitUntil(`${first!.peer.nodeName} to probe its new selection`, 20_000, async (note) => {
      const destinations = seriesDestinations(await first!.metrics());
      note(`series name ${destinations.join(', ')}; expected ${after.join(', ')}`);
      return destinations.join() === after.join();
    });
    const samples = await first!.metrics();
    assert.equal(sampleSum(samples, 'kconmon_agent_peers'), after.length);
    assert.equal(sampleSum(samples, 'kconmon_agent_listed_peers'), next.length - 1);
    const gained = recorders.filter((recorder) => after.includes(recorder.peer.nodeName) && !before.includes(recorder.peer.nodeName));
    const counts = new Map(gained.map((recorder) => [recorder, recorder.datagramsFrom(first!.peer.ip)]));
    await waitUntil('newly selected peers to receive probes', 20_000, () =>
      gained.every((recorder) => recorder.datagramsFrom(first!.peer.ip) > counts.get(recorder)! && recorder.requestsFrom(first!.peer.ip) > 0),
    );
  } finally {
    await group.close();
    await Promise.all(recorders.map((recorder) => recorder.close()));
  }
});

test('with controller discovery the agent selects from the snapshot and from every change the controller pushes', { timeout: 60_000 }, async () => {
  const self = testPeer(130, 'zone-a');
  const others = [testPeer(131, 'zone-a'), testPeer(132, 'zone-b'), testPeer(133, 'zone-b'), testPeer(134, 'zone-c'), testPeer(135, 'zone-c')];
  const listed = [self, ...others];
  const controller = await createPeersFileController(listed);
  const agent = await startDiscoveringAgent(self, controller.url, { probing: { maxPeers: MAX_PEERS } });
  let client: { close(): Promise<void> } | undefined;
  const rowOf = (list: readonly Peer[]) => [...peersOf(selectPeers(topology(list), { maxPeers: MAX_PEERS }), self.nodeName)].sort();
  const probed = () =>
    agent
      .peers()
      .map((peer) => peer.nodeName)
      .sort()
      .join();
  try {
    await controller.start();
    client = connectToController(agent, self, controller.url, { fixedZone: true });
    const first = rowOf(listed);
    assert.ok(first.length < others.length, 'the budget selects fewer peers than listed');
    await waitUntil('the agent to probe its row of the snapshot', 15_000, (note) => {
      note(`probing ${probed()}; expected ${first.join()}`);
      return probed() === first.join();
    });
    // A change pushed by the controller: a listed node whose departure changes this agent's row leaves.
    const next = others.map((gone) => listed.filter((peer) => peer !== gone)).find((list) => rowOf(list).join() !== first.join());
    assert.ok(next, "some node's departure changes the agent's row");
    await controller.setPeers(next);
    await waitUntil("the agent to probe its row of the controller's change", 20_000, (note) => {
      note(`probing ${probed()}; expected ${rowOf(next).join()}`);
      return probed() === rowOf(next).join();
    });
    const samples = parseExposition(await agent.registry.metrics());
    assert.equal(sampleSum(samples, 'kconmon_agent_listed_peers'), next.length - 1);
    assert.equal(sampleSum(samples, 'kconmon_agent_peers'), rowOf(next).length);
  } finally {
    await client?.close();
    await agent.close();
    await controller.close();
  }
});
