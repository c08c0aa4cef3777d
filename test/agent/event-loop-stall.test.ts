// An agent process stopped (SIGSTOP) and resumed (SIGCONT) while it probes a peer over a clean path: its stalls are
// detected, and the packets and tests they overlapped are counted unmeasured — never lost, late or failed. A separate
// pinger on the same path shows the path itself lost nothing. Real agent processes, real sockets, loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgentProcessGroup } from '../helpers/agent-processes.ts';
import { sampleSum } from '../../harness/exposition.ts';
import { waitUntil } from '../../harness/wait.ts';
import { createUdpPinger } from '../../src/probes/udp-pinger.ts';
import { probeUdp } from '../../src/probes/udp.ts';
import type { Peer } from '../../src/discovery/peer.ts';

const prober: Peer = { name: 'agent-p', nodeName: 'node-p', ip: '127.0.71.31', zone: 'zone-a' };
const peer: Peer = { name: 'agent-q', nodeName: 'node-q', ip: '127.0.71.32', zone: 'zone-b' };
const control = '127.0.71.33';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('an agent stopped for 1 s while probing records no lost packet, no late echo and no failed test', async () => {
  const group = await createAgentProcessGroup([prober.ip, peer.ip, control]);
  const pinger = await createUdpPinger({ bindAddress: control });
  try {
    // The peer only answers (echo for anyone, /readiness).
    const peerAgent = await group.start(peer, [peer], { udp: { enabled: false, echoFrom: 'any' }, tcp: { enabled: false } });
    const agent = await group.start(prober, [prober, peer], {
      udp: { interval: 900, timeout: 400, packets: 10, packetSpacing: 50 },
      tcp: { interval: 900, timeout: 500 },
      jitter: { min: 0, max: 20 },
    });
    const pair = { source: prober.nodeName, destination: peer.nodeName };
    const results = async (name: string) => sampleSum(await agent.metrics(), name, pair);
    await waitUntil('a first UDP result', 15_000, async () => (await results('kconmon_udp_results_total')) > 0);

    // The control pinger probes the same path all along, from the test process, which is never stopped.
    let controlSent = 0;
    let controlLost = 0;
    let stopping = false;
    const controlLoop = (async () => {
      while (!stopping) {
        const result = await probeUdp(pinger, { ip: peer.ip, port: group.port }, { packets: 5, packetSize: 4, packetSpacingMs: 20, timeoutMs: 1000 });
        controlSent += result.sent;
        controlLost += result.lost;
      }
    })();
    // Loopback has no latency (and this kernel no netem): for the prober to have echoes in flight when it stops, the
    // peer pauses 300 ms first (a slow but lossless path: its echoes all come back, within the prober's timeout), then
    // the prober stops for 1 s while the peer resumes and answers into the prober's socket buffer. A resumed prober
    // starts its overdue test at once and sends for 450 ms, so from the second round on the peer's pause, 100 ms
    // after the resume, finds packets to hold; rounds repeat until a stop caught some.
    const caught = async () => {
      const now = await agent.metrics();
      const packets = (kind: string) => sampleSum(now, `kconmon_udp_packets_${kind}_total`, pair);
      return packets('unmeasured') + packets('sent') - packets('received') > 0;
    };
    for (let round = 0; round < 10 && !(await caught()); round++) {
      peerAgent.signal('SIGSTOP');
      await sleep(300);
      agent.signal('SIGSTOP');
      peerAgent.signal('SIGCONT');
      await sleep(1000);
      agent.signal('SIGCONT');
      await sleep(100);
    }
    stopping = true;
    await controlLoop;
    // Tests after the last resume have been recorded as well.
    const resultsNow = await results('kconmon_udp_results_total');
    await waitUntil('a UDP result after the last resume', 10_000, async () => (await results('kconmon_udp_results_total')) > resultsNow);

    const metrics = await agent.metrics();
    const value = (name: string, labels: Record<string, string> = {}) => sampleSum(metrics, name, { ...pair, ...labels });
    assert.ok(controlSent > 0 && controlLost === 0, `the path is clean: the control pinger lost ${controlLost} of ${controlSent}`);
    assert.equal(value('kconmon_udp_results_total', { result: 'fail' }), 0, 'no failed UDP test');
    assert.equal(value('kconmon_udp_packets_sent_total') - value('kconmon_udp_packets_received_total'), 0, 'no lost packet');
    assert.equal(value('kconmon_udp_packets_late_total'), 0, 'no echo of an unmeasured packet counted late');
    assert.equal(value('kconmon_tcp_results_total', { result: 'fail' }), 0, 'no failed TCP test');
    assert.ok(value('kconmon_udp_packets_unmeasured_total') > 0, 'the packets outstanding during the stops are unmeasured');
    assert.ok(sampleSum(metrics, 'kconmon_agent_event_loop_stalls_total') > 0, 'the stops were detected as stalls');
    const rtts = (le: string) => sampleSum(metrics, 'kconmon_udp_rtt_seconds_bucket', { source: prober.nodeName, le });
    assert.equal(rtts('0.25'), rtts('+Inf'), 'no RTT spanning a stop was reported');
    assert.ok(value('kconmon_udp_results_total', { result: 'pass' }) > 0);
  } finally {
    await pinger.close();
    await group.close();
  }
});
