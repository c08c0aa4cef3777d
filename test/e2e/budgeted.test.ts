// End-to-end with a probing budget smaller than the cluster: the miniature cluster of e2e/cluster.ts (6 nodes in 3
// zones) with `probing.maxPeers: 3`, so every agent probes only its row of `selectPeers` (3 peers) and every node is
// probed by 3 agents. Each scenario (healthy, black hole, loss, partition, churn) asserts that exactly the selected
// pairs are tested, that the alerts (shares of a node's actual probers) still name the right node or zone pair, and
// that there is no false failure — also while a node joins and leaves and the assignment moves. The controller judges
// by the same assignment: no verdict when healthy, the black-holed node and the lossy node named by their verdicts.
//
// Never next to test/e2e/e2e.test.ts: both use the same bridge addresses (npm run test:e2e runs the files one at a
// time). Needs root, unbound, nftables, prometheus, kube binaries (npm run setup:tools); without them the suite is
// skipped with the reason.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, ClusterNode } from '../../e2e/cluster.ts';
import { clusterUnavailable } from '../../e2e/requirements.ts';
import { parseExposition } from '../../harness/exposition.ts';
import { waitUntil } from '../../harness/wait.ts';
import { peersOf, selectPeers, type PeerAssignment } from '../../src/topology/peer-selection.ts';
import {
  allResults,
  describeAlert,
  expectVerdicts,
  explainLoss,
  lossTally,
  now,
  packetCounts,
  pairKey,
  passedSeries,
  scenarioRunner,
  waitForPassedSeries,
  type Alert,
  type Observer,
} from './observe.ts';
import { startE2eCluster } from './start-cluster.ts';

const unavailable = clusterUnavailable();
const INTERVAL_MS = 1000;
const MAX_PEERS = 3;

let cluster: Cluster | undefined;
let prom: Observer;
const started = Date.now();
const say = (line: string) => console.log(`# ${line}`);

before(
  async () => {
    if (unavailable) return;
    const name = `budgeted cluster (probing.maxPeers ${MAX_PEERS})`;
    ({ cluster, prom } = await startE2eCluster({ name, startedAt: started, say, intervalMs: INTERVAL_MS, maxPeers: MAX_PEERS, tokenSeconds: 7200 }));
  },
  { timeout: 300_000 },
);

after(
  async () => {
    await cluster?.stop({ keepDir: process.env.KCONMON_E2E_KEEP === '1' });
  },
  { timeout: 120_000 },
);

const { scenario, settle } = scenarioRunner({ cluster: () => cluster, unavailable, say });

/** The assignment every agent computes from the current node list. */
const assignmentOf = (nodes: readonly ClusterNode[]): PeerAssignment =>
  selectPeers(
    nodes.map((node) => ({ name: node.name, zone: node.zone })),
    { maxPeers: MAX_PEERS },
  );

/** The selected ordered pairs, as `source>destination`. */
const selectedPairs = (nodes: readonly ClusterNode[]): string[] => {
  const assignment = assignmentOf(nodes);
  return nodes.flatMap((node) => peersOf(assignment, node.name).map((peer) => pairKey(node.name, peer))).sort();
};

scenario('budgeted healthy: exactly the selected pairs tested, agents export their probed, listed and expected counts, no failure', 120_000, async (c) => {
  const nodes = c.nodes();
  const assignment = assignmentOf(nodes);
  assert.equal(assignment.fullMesh, false, 'the budget is smaller than the cluster');
  const expected = selectedPairs(nodes);
  assert.ok(expected.length < nodes.length * (nodes.length - 1), 'fewer pairs than the full mesh');
  const keyOf = (labels: Record<string, string>) => pairKey(labels.source!, labels.destination!);
  const tested = (kind: string) => passedSeries(prom, kind, keyOf);
  await waitForPassedSeries(prom, 'every selected pair to pass UDP and TCP tests in Prometheus', expected, keyOf);
  await sleep(5000);
  for (const kind of ['udp', 'tcp'] as const) {
    assert.deepEqual(await tested(kind), expected, `${kind}: exactly the selected pairs`);
    const series = (await prom.vector(`kconmon_${kind}_results_total`)).map(({ labels }) => pairKey(labels.source!, labels.destination!));
    assert.deepEqual([...new Set(series)].sort(), expected, `${kind}: series exist for the selected pairs only`);
    assert.equal(await prom.total(`sum(kconmon_${kind}_results_total{result="fail"})`), 0, `${kind}: no failed test since start`);
  }
  for (const node of nodes) {
    const samples = parseExposition(await c.agentMetrics(node.name));
    const value = (name: string) => samples.find((sample) => sample.name === name)?.value;
    assert.equal(value('kconmon_agent_peers'), peersOf(assignment, node.name).length, `${node.name}: kconmon_agent_peers`);
    assert.equal(value('kconmon_agent_listed_peers'), nodes.length - 1, `${node.name}: kconmon_agent_listed_peers`);
    const probers = [...assignment.targets.values()].filter((row) => row.includes(node.name)).length;
    assert.equal(value('kconmon_agent_expected_probers'), probers, `${node.name}: kconmon_agent_expected_probers`);
  }
  const firing = (await prom.alerts()).filter((alert) => alert.state === 'firing');
  assert.deepEqual(firing.map(describeAlert), [], 'no alert fires');
  // The controller judges by the same bounded assignment: healthy, no verdict.
  await expectVerdicts(c, 'budgeted healthy', []);
  say(`budgeted healthy: ${expected.length} of ${nodes.length * (nodes.length - 1)} ordered pairs tested (maxPeers ${MAX_PEERS}), 0 failures, no verdict`);
});

scenario('budgeted black hole: the destination alert names the node from its 3 probers, no alert names any peer', 300_000, async (c) => {
  await settle('budgeted black hole', 60, () => true, ['udp', 'tcp', 'dns']);
  const target = c.node('node-4');
  const peers = c
    .nodes()
    .filter((node) => node !== target)
    .map((node) => node.name);
  c.blackhole(target.name);
  const violations = new Set<string>();
  await waitUntil(
    `KconmonDestinationUnreachable{destination=${target.name}} to fire`,
    150_000,
    async (note) => {
      const alerts: Alert[] = await prom.alerts();
      for (const alert of alerts) {
        if ([alert.labels.destination, alert.labels.source].some((node) => node !== undefined && peers.includes(node))) violations.add(describeAlert(alert));
      }
      note(alerts.map(describeAlert).join('; '));
      return alerts.some(
        (alert) => alert.state === 'firing' && alert.labels.alertname === 'KconmonDestinationUnreachable' && alert.labels.destination === target.name,
      );
    },
    1000,
  );
  assert.deepEqual([...violations], [], 'no alert names a peer as destination or source');
  say(`budgeted black hole: KconmonDestinationUnreachable{destination=${target.name}} fired; no alert named a peer`);
  // From its 3 probers only, the verdict names the node as a destination problem, and nothing else.
  const blackHoleStatus = await expectVerdicts(c, 'budgeted black hole', [`node:${target.name}`]);
  assert.equal(blackHoleStatus.verdicts[0]!.kind, 'node-destination');
  say(`budgeted black hole: verdict "${blackHoleStatus.verdicts[0]!.summary}"`);
});

scenario(
  'budgeted loss: 20 % of the packets into one node → its selected pairs lose 20 % ± 5, the others nothing, the loss alert names it',
  240_000,
  async (c) => {
    await settle('budgeted loss', 60, () => true, ['udp', 'tcp', 'dns']);
    const target = c.node('node-3');
    const percent = 20;
    c.loss(target.name, percent);
    await sleep(2500); // counts start one scrape after the fault: every test counted ran entirely under it
    const from = now();
    const start = await packetCounts(prom, from);
    const involves = (key: string) => key.split('>').includes(target.name);
    const tally = async (select: (key: string) => boolean) => lossTally(start, await packetCounts(prom, now() - 1), select);
    await waitUntil(
      'the loss alert naming the node, and ≥ 1024 packets measured on its selected pairs',
      150_000,
      async (note) => {
        const firing = (await prom.alerts()).some(
          (alert) => alert.state === 'firing' && alert.labels.alertname === 'KconmonDestinationUDPPacketLoss' && alert.labels.destination === target.name,
        );
        const measured = await tally(involves);
        note(`${measured.sent} packets; alert ${firing ? 'firing' : 'not firing yet'}`);
        return firing && measured.sent >= 1024;
      },
      1000,
    );
    const mine = await tally(involves);
    const others = await tally((key) => !involves(key));
    const loss = (100 * mine.lost) / mine.sent;
    assert.ok(Math.abs(loss - percent) <= 5, `loss ${loss.toFixed(2)} % within ${percent} ± 5 (${mine.lost} of ${mine.sent})`);
    if (others.lost > 0) say(`budgeted loss: ${await explainLoss(prom, from, now())}`);
    assert.equal(others.lost, 0, `selected pairs not involving ${target.name} lose nothing (${others.lost} of ${others.sent})`);
    const wrong = (await prom.alerts()).filter(
      (alert) => /UDPPacketLoss/.test(alert.labels.alertname ?? '') && (alert.labels.destination ?? alert.labels.source) !== target.name,
    );
    assert.deepEqual(wrong.map(describeAlert), [], 'no loss alert names another node');
    say(`budgeted loss: ${target.name}'s selected pairs lost ${loss.toFixed(2)} % of ${mine.sent} packets; others ${others.lost} of ${others.sent}`);
    const lossStatus = await expectVerdicts(c, 'budgeted loss', [`lossy-node:${target.name}`]);
    say(`budgeted loss: verdict "${lossStatus.verdicts[0]!.summary}"`);
  },
);

scenario('budgeted partition: failures only on selected pairs across the cut, the inter-zone alert names only zone pairs across it', 240_000, async (c) => {
  await settle('budgeted partition', 12, () => true, ['udp', 'tcp', 'dns']);
  const zone = 'zone-a';
  const zoneOf = new Map(c.nodes().map((node) => [node.name, node.zone]));
  const pairs = selectedPairs(c.nodes()).map((key) => key.split('>') as [string, string]);
  const crosses = ([a, b]: [string, string]) => (zoneOf.get(a) === zone) !== (zoneOf.get(b) === zone);
  const cut = pairs.filter(crosses);
  const clean = pairs.filter((pair) => !crosses(pair));
  assert.ok(cut.length > 0 && clean.length > 0);
  const faultAt = now();
  c.partition(zone);
  const expectedZonePairs = [...new Set(cut.map(([a, b]) => `${zoneOf.get(a)}>${zoneOf.get(b)}`))].sort();
  await waitUntil(
    'KconmonInterZoneTCPFailure to fire for every tested zone pair across the cut',
    120_000,
    async (note) => {
      const firing = (await prom.alerts()).filter((alert) => alert.labels.alertname === 'KconmonInterZoneTCPFailure' && alert.state === 'firing');
      const named = firing.map((alert) => `${alert.labels.source_zone}>${alert.labels.destination_zone}`).sort();
      note(named.join(', '));
      assert.deepEqual(
        named.filter((pair) => !expectedZonePairs.includes(pair)),
        [],
        'the inter-zone alert names only zone pairs across the cut',
      );
      return expectedZonePairs.every((pair) => named.includes(pair));
    },
    1000,
  );
  const window = Math.ceil(now() - faultAt);
  c.heal();
  const failing = new Map(
    (await prom.vector(`sum by (source, destination) (increase(kconmon_tcp_results_total{result="fail"}[${window}s]))`)).map(({ labels, value }) => [
      pairKey(labels.source!, labels.destination!),
      value,
    ]),
  );
  assert.deepEqual(
    clean.map(([a, b]) => pairKey(a, b)).filter((key) => (failing.get(key) ?? 0) > 0),
    [],
    'no failure on pairs that do not cross the cut',
  );
  assert.deepEqual(
    cut.map(([a, b]) => pairKey(a, b)).filter((key) => (failing.get(key) ?? 0) === 0),
    [],
    'failures on every selected pair across the cut',
  );
  say(`budgeted partition: ${cut.length} selected pairs across the cut failed, ${clean.length} others clean; alert for ${expectedZonePairs.join(', ')}`);
});

scenario('budgeted churn: a 7th node added and removed 3 times → the assignment moves, zero failed tests anywhere', 300_000, async (c) => {
  await settle('budgeted churn', 5, () => true, ['udp', 'tcp', 'dns']);
  const churnStart = now();
  const permanent = c.nodes();
  for (let cycle = 1; cycle <= 3; cycle++) {
    const node = await c.addNode('node-7', c.zones[(cycle - 1) % c.zones.length]!, 7);
    const expected = selectedPairs(c.nodes());
    await waitUntil(
      `cycle ${cycle}: every agent to probe its row of the 7-node assignment`,
      30_000,
      async (note) => {
        const results = await allResults(c);
        const probed = [...results].flatMap(([source, result]) =>
          result.latest.filter((entry) => entry.test === 'udp' && entry.passed).map((entry) => pairKey(source, entry.target)),
        );
        const unique = [...new Set(probed)].sort();
        note(`${unique.length} of ${expected.length} pairs passed; unexpected ${unique.filter((key) => !expected.includes(key)).join(', ')}`);
        return unique.join() === expected.join();
      },
      500,
    );
    assert.ok(
      expected.some((key) => key.includes(node.name)),
      `cycle ${cycle}: node-7 is in the assignment`,
    );
    await c.removeNode('node-7');
    for (const other of permanent) {
      const lines = (await c.agentMetrics(other.name)).split('\n').filter((line) => line.includes('destination="node-7"'));
      assert.deepEqual(lines, [], `cycle ${cycle}: ${other.name} has no series naming node-7`);
    }
  }
  await sleep(2500);
  const at = now();
  const window = Math.ceil(at - churnStart + 1);
  for (const kind of ['udp', 'tcp', 'dns'] as const) {
    const failures = await prom.vector(`increase(kconmon_${kind}_results_total{result="fail"}[${window}s]) > 0`, at);
    assert.deepEqual(
      failures.map(({ labels }) => `${labels.source}>${labels.destination ?? labels.host}`),
      [],
      `${kind}: no failed test during the churn`,
    );
  }
  say(`budgeted churn: 3 add/remove cycles; every agent probed its row of each assignment; 0 failed tests`);
});
